import type { MemberSnapshot } from "@guildhall/api";
import { isSnowflake } from "@guildhall/discord/snowflake";
import type { APIGuildMember, APIRole } from "discord-api-types/v10";

/**
 * A gateway or REST guild member (https://discord.com/developers/docs/resources/guild#guild-member-object)
 * as the server's MemberSnapshot. Returns null when the payload has no user id (Discord omits
 * `user` only in MESSAGE_CREATE contexts, which never reach here). A guild-specific avatar
 * wins over the user's own.
 */
export const toMemberSnapshot = (member: Partial<APIGuildMember> | undefined): MemberSnapshot | null => {
  const user = member?.user;
  if (!user?.id || !isSnowflake(user.id)) return null;
  return {
    userId: user.id,
    username: (user.username ?? user.id).slice(0, 64) || user.id,
    globalName: user.global_name?.slice(0, 64) ?? null,
    nick: member?.nick?.slice(0, 64) ?? null,
    avatar: member?.avatar ?? user.avatar ?? null,
    roleIds: (member?.roles ?? []).filter(isSnowflake).slice(0, 250),
    joinedAt: member?.joined_at ?? null,
    isBot: user.bot === true,
    pending: member?.pending === true,
    premiumSince: member?.premium_since ?? null,
    communicationDisabledUntil: member?.communication_disabled_until ?? null,
  };
};

/** A role as the server's RoleSnapshot. */
export const toRoleSnapshot = (role: Pick<APIRole, "id" | "name" | "color" | "position" | "managed" | "permissions">) => ({
  id: role.id,
  name: role.name.slice(0, 100),
  color: role.color,
  position: role.position,
  managed: role.managed,
  permissions: role.permissions,
});
