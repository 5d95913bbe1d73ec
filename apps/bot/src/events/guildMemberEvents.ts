import type {
  GatewayGuildMemberAddDispatchData,
  GatewayGuildMemberRemoveDispatchData,
  GatewayGuildMemberUpdateDispatchData,
} from "discord-api-types/v10";
import type { BotContext } from "../context";
import { toMemberSnapshot } from "../members";

/**
 * GUILD_MEMBER_ADD and GUILD_MEMBER_UPDATE: forward the member, in order, for the server to
 * apply at once (no full sync needed). https://discord.com/developers/docs/events/gateway-events#guild-member-add
 */
export const onGuildMemberUpsert = (
  ctx: BotContext,
  data: GatewayGuildMemberAddDispatchData | GatewayGuildMemberUpdateDispatchData,
): void => {
  const member = toMemberSnapshot(data as never);
  if (member) ctx.memberEvents.add({ type: "upsert", guildId: data.guild_id, member });
  else ctx.log.warn("ignored a member event without a valid user id");
};

/** GUILD_MEMBER_REMOVE (left, kicked or banned). https://discord.com/developers/docs/events/gateway-events#guild-member-remove */
export const onGuildMemberRemove = (ctx: BotContext, data: GatewayGuildMemberRemoveDispatchData): void => {
  if (data.user?.id) ctx.memberEvents.add({ type: "remove", guildId: data.guild_id, userId: data.user.id });
};
