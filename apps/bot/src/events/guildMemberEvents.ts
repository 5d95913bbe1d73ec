import type {
  GatewayGuildMemberAddDispatchData,
  GatewayGuildMemberRemoveDispatchData,
  GatewayGuildMemberUpdateDispatchData,
} from "discord-api-types/v10";
import type { BotContext } from "../context";
import { toMemberSnapshot, toMemberUpdate } from "../members";

/**
 * GUILD_MEMBER_ADD: forward the whole member, in order, for the server to apply at once (no
 * full sync needed). https://discord.com/developers/docs/events/gateway-events#guild-member-add
 */
export const onGuildMemberAdd = (ctx: BotContext, data: GatewayGuildMemberAddDispatchData): void => {
  const member = toMemberSnapshot(data);
  if (member) ctx.memberEvents.add({ type: "upsert", guildId: data.guild_id, member });
  else ctx.log.warn("ignored a GUILD_MEMBER_ADD without a valid user id");
};

/**
 * GUILD_MEMBER_UPDATE: forward only the fields the event carries, in order. Discord documents
 * several of them as optional, and an absent field means "unchanged": sending it as null would
 * wipe what the server stored (a role change must not clear the nickname or the join date).
 * https://discord.com/developers/docs/events/gateway-events#guild-member-update
 */
export const onGuildMemberUpdate = (ctx: BotContext, data: GatewayGuildMemberUpdateDispatchData): void => {
  const member = toMemberUpdate(data);
  if (member) ctx.memberEvents.add({ type: "upsert", guildId: data.guild_id, member });
  else ctx.log.warn("ignored a GUILD_MEMBER_UPDATE without a valid user id");
};

/** GUILD_MEMBER_REMOVE (left, kicked or banned). https://discord.com/developers/docs/events/gateway-events#guild-member-remove */
export const onGuildMemberRemove = (ctx: BotContext, data: GatewayGuildMemberRemoveDispatchData): void => {
  if (data.user?.id) ctx.memberEvents.add({ type: "remove", guildId: data.guild_id, userId: data.user.id });
};
