import type { GatewayGuildCreateDispatchData } from "discord-api-types/v10";
import type { BotContext } from "../context";
import { toPresenceUpdate } from "../presence";

/**
 * GUILD_CREATE (on connect, and when the bot joins a guild): forward the presences it
 * carries, then re-request the presences of the users the server tracks, because for large
 * guilds Discord only includes online members, so someone who went offline while the bot
 * was away would otherwise stay "online".
 * https://discord.com/developers/docs/events/gateway-events#guild-create
 */
export const onGuildCreate = async (ctx: BotContext, data: GatewayGuildCreateDispatchData): Promise<void> => {
  if ("unavailable" in data && data.unavailable) return;
  const now = Date.now();
  for (const presence of data.presences ?? []) {
    const update = toPresenceUpdate(presence as never, now, data.id);
    if (update) ctx.forwarder.add(update);
  }
  try {
    const tracked = await ctx.server.trpc.bot.trackedUsers.query({ guildId: data.id });
    ctx.requestPresences(data.id, tracked);
  } catch (error) {
    ctx.log.warn(`could not fetch tracked users of guild ${data.id}: ${error instanceof Error ? error.message : String(error)}`);
  }
};
