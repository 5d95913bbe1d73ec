/**
 * The server's side of the interaction handlers: {@link InteractionServices} over the domain
 * services (the HTTP endpoint `POST /api/interactions` runs handlers in the server), and the one
 * effect that queues a member sync for an interaction, which the bot's `bot.requestMemberSync`
 * procedure runs too, so both transports queue the very same job. Not exported by
 * `@guildhall/api/interactions` (the bot must not load the database layer).
 */

import type { DatabaseError } from "@guildhall/db";
import type { DiscordRestClient } from "@guildhall/discord";
import { Bot, Directory, MemberSync, RoleMenus } from "@guildhall/sync";
import { Effect } from "effect";
import type { ApiRuntime } from "../trpc";
import type { InteractionServices, MemberSyncRequest } from "./registry";

/**
 * Queues the member sync an interaction asked for: a `members.sync` bot command with trigger
 * `command`, the request's `source` and `followUp` (the interaction the bot edits with progress).
 * A sync already waiting for the guild is that one (Bot.enqueue). Succeeds with `{commandId}` (a UUID),
 * or `{notLinked: true}` (nothing queued) for a guild not linked to Guildhall; fails with DatabaseError.
 */
export const queueInteractionSync = (
  request: MemberSyncRequest,
): Effect.Effect<{ readonly commandId: string } | { readonly notLinked: true }, DatabaseError, Bot | MemberSync> =>
  Effect.gen(function* () {
    yield* (yield* MemberSync).requireGuild(request.guildId);
    const command = yield* (yield* Bot).enqueue({
      kind: "members.sync",
      guildId: request.guildId,
      requestedBy: request.requestedBy,
      payload: { trigger: "command", source: request.source, followUp: request.followUp },
    });
    return { commandId: command.id };
  }).pipe(Effect.catchTag("GuildNotLinked", () => Effect.succeed({ notLinked: true as const })));

/**
 * The handlers' services for the server: guild settings from Directory, syncs queued by
 * {@link queueInteractionSync}, role menu choices made by RoleMenus, response edits through the Discord port (`discord`, whose calls
 * are authorized by the interaction token alone), logs through the runtime's logger.
 */
export const serverInteractionServices = (runtime: ApiRuntime, discord: DiscordRestClient): InteractionServices => ({
  guildSettings: (guildId) => runtime.runPromise(Directory.use((directory) => directory.settingsOf(guildId))),
  requestMemberSync: (request) => runtime.runPromise(queueInteractionSync(request)),
  chooseFromRoleMenu: (choice) => runtime.runPromise(RoleMenus.use((menus) => menus.choose(choice))),
  editOriginal: (applicationId, token, message) =>
    discord.run((d) =>
      d.editOriginalResponse(applicationId, token, {
        ...message,
        components: message.components as never,
        embeds: message.embeds as never,
      }),
    ),
  log: (level, line) => void runtime.runPromise(Effect.logWithLevel(level)(line)).catch(() => undefined),
});
