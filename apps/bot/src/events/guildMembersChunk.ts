import type { GatewayGuildMembersChunkDispatchData } from "discord-api-types/v10";
import type { BotContext } from "../context";
import { offlinePresence, toPresenceUpdate } from "../presence";

/**
 * GUILD_MEMBERS_CHUNK answering one of this bot's presence requests: forward each member's
 * presence; a member with no presence in the chunk is offline.
 * https://discord.com/developers/docs/events/gateway-events#guild-members-chunk
 */
export const onGuildMembersChunk = (ctx: BotContext, data: GatewayGuildMembersChunkDispatchData): void => {
  if (!data.nonce || !ctx.pendingNonces.has(data.nonce)) return;
  if (data.chunk_index === data.chunk_count - 1) ctx.pendingNonces.delete(data.nonce);
  const now = Date.now();
  const seen = new Set<string>();
  for (const presence of data.presences ?? []) {
    const update = toPresenceUpdate(presence as never, now, data.guild_id);
    if (update) {
      seen.add(update.userId);
      ctx.forwarder.add(update);
    }
  }
  for (const member of data.members) {
    const id = member.user?.id;
    if (id && !seen.has(id)) ctx.forwarder.add(offlinePresence(data.guild_id, id, now));
  }
};
