import {
  type ChatInputCommandInteraction,
  MessageFlags,
  PermissionFlagsBits,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  SlashCommandBuilder,
} from "discord.js";
import type { BotContext } from "../context";
import type { SyncRunState } from "../memberSync";

/** `/sync_members [source]`: a full member sync, for admins. */
export const syncMembersCommand: RESTPostAPIChatInputApplicationCommandsJSONBody = new SlashCommandBuilder()
  .setName("sync_members")
  .setDescription("Sync every guild member into Guildhall (admins only)")
  .addStringOption((option) =>
    option
      .setName("source")
      .setDescription("Where to read members from (default: the gateway)")
      .addChoices({ name: "gateway (fast)", value: "gateway" }, { name: "REST paging", value: "rest" }),
  )
  .toJSON();

/** How often the deferred reply is edited with progress (ms). */
const PROGRESS_EVERY_MS = 1_000;

const describeRun = (run: SyncRunState): string => {
  if (run.status === "running") {
    return `Syncing members… ${run.chunksReceived}${run.chunkCount ? ` of ${run.chunkCount}` : ""} chunks, ${run.rowsReceived.toLocaleString("en")} members read.`;
  }
  const seconds = run.durationMs === null ? "" : ` in ${(run.durationMs / 1000).toFixed(1)} s`;
  if (run.status === "completed") {
    return (
      `Member sync done${seconds}: ${run.rowsReceived.toLocaleString("en")} members. ` +
      `Created ${run.created}, updated ${run.updated}, rejoined ${run.rejoined}, marked left ${run.markedLeft}, unchanged ${run.unchanged}.`
    );
  }
  if (run.status === "awaiting_confirmation") {
    return (
      `Member sync done${seconds}, but it would mark ${run.pendingLeft} of ${run.presentMembers ?? "?"} members left: ` +
      "more than this guild allows at once, so nobody was marked left yet. An admin can confirm or discard it in Guildhall (Members → Sync history)."
    );
  }
  return `Member sync ${run.status}${seconds}: ${run.reason ?? "no reason given"}. Nobody was marked left.`;
};

/**
 * Handles `/sync_members`: members with Manage Guild (or the guild's configured sync role) get
 * an ephemeral deferred reply that is edited with progress and then the counts; everyone else,
 * including a member whose interaction payload carries no `permissions`, gets an ephemeral
 * refusal. https://discord.com/developers/docs/interactions/receiving-and-responding
 */
export const handleSyncMembers = async (ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> => {
  if (!interaction.inGuild()) {
    await interaction.reply({ content: "Use this command in a guild.", flags: MessageFlags.Ephemeral });
    return;
  }
  const settings = await ctx.server.trpc.bot.guildSettings.query({ guildId: interaction.guildId }).catch(() => null);
  const roles = interaction.member.roles;
  const hasRole = settings?.syncAdminRoleId
    ? Array.isArray(roles)
      ? roles.includes(settings.syncAdminRoleId)
      : roles.cache.has(settings.syncAdminRoleId)
    : false;
  // discord.js gives null permissions when the interaction's member came without `permissions`
  // (a partial or faulty payload): that is no permission, never a crash.
  const canManageGuild = interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
  if (!canManageGuild && !hasRole) {
    await interaction.reply({
      content: "Only members with the Manage Guild permission (or the sync role) can run a member sync.",
      flags: MessageFlags.Ephemeral,
    });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  let lastEdit = 0;
  let edits = Promise.resolve();
  const edit = (content: string) => {
    edits = edits
      .then(() => interaction.editReply(content))
      .then(
        () => {},
        (error: unknown) =>
          ctx.log.warn(`could not edit the /sync_members reply: ${error instanceof Error ? error.message : String(error)}`),
      );
  };
  try {
    const run = await ctx.memberSync.run({
      guildId: interaction.guildId,
      trigger: "command",
      requestedBy: `discord:${interaction.user.id}`,
      source: interaction.options.getString("source") === "rest" ? "rest" : "gateway",
      onProgress: (progress) => {
        if (progress.status === "running" && Date.now() - lastEdit >= PROGRESS_EVERY_MS) {
          lastEdit = Date.now();
          edit(describeRun(progress));
        }
      },
    });
    edit(describeRun(run));
  } catch (error) {
    const conflict = error instanceof Error && /already running/i.test(error.message);
    edit(conflict ? "A member sync of this guild is already running." : "The member sync could not start; see the bot's log.");
    if (!conflict) ctx.log.error(`/sync_members failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  await edits;
};
