import type { GuildhallClient } from "@guildhall/api/client";
import { answerInteraction, type InteractionServices } from "@guildhall/api/interactions";
import { type DiscordRestClient, describeDiscordError, isDiscordError } from "@guildhall/discord";
import type { BotLogger } from "../log";

const describe = (error: unknown): string =>
  isDiscordError(error) ? describeDiscordError(error) : error instanceof Error ? error.message : String(error);

/**
 * The interaction handlers' services on the bot's side: settings and syncs through the tRPC API
 * (`bot.guildSettings`, `bot.requestMemberSync`, `roleMenus.choose`), response edits through the Discord port.
 */
export const botInteractionServices = (server: GuildhallClient, discord: DiscordRestClient, log: BotLogger): InteractionServices => ({
  guildSettings: (guildId) => server.trpc.bot.guildSettings.query({ guildId }),
  requestMemberSync: (request) => server.trpc.bot.requestMemberSync.mutate(request),
  chooseFromRoleMenu: (choice) => server.trpc.roleMenus.choose.mutate(choice),
  editOriginal: (applicationId, token, message) =>
    discord.run((d) => d.editOriginalResponse(applicationId, token, message as Parameters<typeof d.editOriginalResponse>[2])),
  log: (level, line) => (level === "Error" ? log.error(line) : level === "Warn" ? log.warn(line) : log.info(line)),
});

/**
 * INTERACTION_CREATE, from the client's `raw` event: the raw interaction goes to the same handlers
 * the server's HTTP endpoint runs (@guildhall/api/interactions), and their response is sent as the
 * interaction callback (`POST /interactions/{id}/{token}/callback`) through the Discord port.
 * A malformed interaction is logged and left unanswered (Discord shows it failed).
 * https://discord.com/developers/docs/interactions/receiving-and-responding#responding-to-an-interaction
 */
export const onInteractionCreate = async (
  raw: { readonly id?: unknown; readonly token?: unknown },
  services: InteractionServices,
  discord: DiscordRestClient,
  log: BotLogger,
): Promise<void> => {
  let response: Awaited<ReturnType<typeof answerInteraction>>;
  try {
    response = await answerInteraction(raw, services);
  } catch (error) {
    return log.warn(`interaction ${String(raw.id)} not answered: ${describe(error)}`);
  }
  const { id, token } = raw as { id: string; token: string };
  await discord
    .run((d) => d.interactionCallback(id, token, response))
    .catch((error: unknown) => log.warn(`could not answer interaction ${id}: ${describe(error)}`));
};
