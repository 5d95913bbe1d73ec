import type { GatewayGuildDeleteDispatchData } from "discord-api-types/v10";
import type { BotContext } from "../context";

/**
 * GUILD_DELETE: without `unavailable` the bot was removed from the guild (kicked, or the guild
 * deleted); with `unavailable: true` it is only an outage and nothing is reported. A removal is
 * reported to the server (`bot.guildRemoved`), which marks the guild's integrations removed for
 * their admins to see. A failed report is logged: the integration then stays "active" until the
 * next removal or an admin deletes it.
 * https://discord.com/developers/docs/events/gateway-events#guild-delete
 */
export const onGuildDelete = async (ctx: BotContext, data: GatewayGuildDeleteDispatchData): Promise<void> => {
  if (data.unavailable === true) return;
  try {
    await ctx.server.trpc.bot.guildRemoved.mutate({ guildId: data.id });
    ctx.log.info(`removed from guild ${data.id}: reported to the server`);
  } catch (error) {
    ctx.log.warn(`could not report the removal from guild ${data.id}: ${error instanceof Error ? error.message : String(error)}`);
  }
};
