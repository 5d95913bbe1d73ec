import type { GatewayPresenceUpdateDispatchData } from "discord-api-types/v10";
import type { BotContext } from "../context";
import { toPresenceUpdate } from "../presence";

/**
 * PRESENCE_UPDATE: forward it to the server. Read from the raw dispatch, not discord.js's
 * presenceUpdate event, because the bot keeps no presence cache and a bounded user cache,
 * and discord.js drops presence updates for users it has not cached.
 * https://discord.com/developers/docs/events/gateway-events#presence-update
 */
export const onPresenceUpdate = (ctx: BotContext, data: GatewayPresenceUpdateDispatchData): void => {
  const update = toPresenceUpdate(data, Date.now());
  if (update) ctx.forwarder.add(update);
  else ctx.log.warn("ignored a PRESENCE_UPDATE without a valid user or guild id");
};
