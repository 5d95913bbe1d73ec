/**
 * `/sync_members [source]`: a full member sync, for members with Manage Guild (or Administrator)
 * or the guild's configured sync role. Transport-agnostic (see ./registry.ts).
 * https://discord.com/developers/docs/interactions/application-commands
 */
import { ephemeral, type Interaction, type InteractionResponse } from "./payload";
import type { CommandContext, CommandHandler } from "./registry";

/** ADMINISTRATOR (1 << 3) and MANAGE_GUILD (1 << 5). https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags */
const ADMINISTRATOR = 1n << 3n;
const MANAGE_GUILD = 1n << 5n;

/** The command's definition (registered with Discord by the bot). */
export const SYNC_MEMBERS_COMMAND = {
  name: "sync_members",
  description: "Sync every guild member into Guildhall (admins only)",
  options: [
    {
      type: 3,
      name: "source",
      description: "Where to read members from (default: the gateway)",
      required: false,
      choices: [
        { name: "gateway (fast)", value: "gateway" },
        { name: "REST paging", value: "rest" },
      ],
    },
  ],
} as const;

/** The refusal a member without the permission or the role gets. */
export const SYNC_REFUSED = "Only members with the Manage Guild permission (or the sync role) can run a member sync.";

/**
 * True when the invoking member has Manage Guild or Administrator in `permissions` (the decimal bit
 * set the interaction carries), or holds `syncRoleId`. A member without `permissions` has none.
 */
export const maySync = (member: NonNullable<Interaction["member"]>, syncRoleId: string | null): boolean => {
  const bits = member.permissions === undefined ? 0n : BigInt(member.permissions);
  if ((bits & (ADMINISTRATOR | MANAGE_GUILD)) !== 0n) return true;
  return syncRoleId !== null && member.roles.includes(syncRoleId);
};

const run = async ({ interaction, data, services }: CommandContext): Promise<InteractionResponse> => {
  const guildId = interaction.guild_id;
  const member = interaction.member;
  if (guildId === undefined || member === undefined) return ephemeral("Use this command in a guild.");
  const settings = await services.guildSettings(guildId).catch((error: unknown) => {
    services.log(
      "Warn",
      `/sync_members: the settings of guild ${guildId} could not be read: ${error instanceof Error ? error.message : String(error)}`,
    );
    return null;
  });
  if (!maySync(member, settings?.syncAdminRoleId ?? null)) return ephemeral(SYNC_REFUSED);
  const source = data.options?.find((option) => option.name === "source")?.value === "rest" ? "rest" : "gateway";
  let queued: Awaited<ReturnType<typeof services.requestMemberSync>>;
  try {
    queued = await services.requestMemberSync({
      guildId,
      requestedBy: `discord:${member.user.id}`,
      source,
      followUp: { applicationId: interaction.application_id, token: interaction.token },
    });
  } catch (error) {
    services.log(
      "Error",
      `/sync_members: the sync of guild ${guildId} could not be queued: ${error instanceof Error ? error.message : String(error)}`,
    );
    return ephemeral("The member sync could not be queued; see Guildhall's log.");
  }
  if ("notLinked" in queued) return ephemeral("This guild is not linked to Guildhall, so there is nothing to sync it into.");
  return ephemeral("Member sync queued. This message shows its progress once the bot starts it (Guildhall: Members → Sync history).");
};

/** The /sync_members handler: permission check, then the sync queued as a bot command; an ephemeral answer at once. */
export const syncMembers: CommandHandler = { ephemeral: true, run };
