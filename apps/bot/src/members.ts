import type { MemberSnapshot, MemberUpdate } from "@guildhall/api";
import { isSnowflake } from "@guildhall/discord/snowflake";
import type { APIGuildMember, APIRole } from "discord-api-types/v10";

/** A string cut to `max` UTF-16 code units; anything that is not a string is null. */
const text = (value: unknown, max: number): string | null => (typeof value === "string" ? value.slice(0, max) : null);

/** A role list as the server takes it: snowflakes only, at most 250 (Discord's limit). */
const roleIdsOf = (roles: unknown): string[] => (Array.isArray(roles) ? roles.filter(isSnowflake).slice(0, 250) : []);

/** The member's user id when the payload has a `user` with a valid snowflake `id`, else null. */
export const memberUserId = (member: unknown): string | null => {
  const user = (member as { user?: { id?: unknown } } | null | undefined)?.user;
  return isSnowflake(user?.id) ? user.id : null;
};

/**
 * A full guild member (https://discord.com/developers/docs/resources/guild#guild-member-object),
 * from GUILD_MEMBER_ADD, a GUILD_MEMBERS_CHUNK or a List Guild Members page, as the server's
 * MemberSnapshot: a field the payload leaves out takes Discord's default (no nick, no roles,
 * not pending...). Returns null when the payload has no `user` with a valid id: Discord omits
 * `user` only in MESSAGE_CREATE contexts, so such a member is invalid, and callers must say so
 * (a full sync that dropped it would mark that member left). A guild-specific avatar wins over
 * the user's own.
 */
export const toMemberSnapshot = (member: Partial<APIGuildMember> | undefined): MemberSnapshot | null => {
  const userId = memberUserId(member);
  if (!userId || !member?.user) return null;
  const user = member.user;
  return {
    userId,
    username: text(user.username, 64) || userId,
    globalName: text(user.global_name, 64),
    nick: text(member.nick, 64),
    avatar: text(member.avatar, 64) ?? text(user.avatar, 64),
    roleIds: roleIdsOf(member.roles),
    joinedAt: member.joined_at ?? null,
    isBot: user.bot === true,
    pending: member.pending === true,
    premiumSince: member.premium_since ?? null,
    communicationDisabledUntil: member.communication_disabled_until ?? null,
  };
};

/** True when `object` carries `key` (even as null): the line between "left out" and "cleared". */
const has = (object: object, key: string): boolean => Object.hasOwn(object, key) && (object as Record<string, unknown>)[key] !== undefined;

/**
 * A GUILD_MEMBER_UPDATE (https://discord.com/developers/docs/events/gateway-events#guild-member-update)
 * as the server's MemberUpdate: ONLY the fields the payload carries. Discord documents `nick`,
 * `premium_since`, `pending` and `communication_disabled_until` as optional there, and faulty
 * peers leave out more (`joined_at`, `avatar`, user fields); a field left out means
 * "unchanged" and is left out here too, so the server keeps what it stored, while a field
 * present as null means "cleared" and is sent as null. The avatar is sent only when the member
 * `avatar` is present: its own hash, or (null: no guild avatar) the user's when the user object
 * carries one. Returns null without a valid user id.
 */
export const toMemberUpdate = (data: Partial<APIGuildMember> | undefined): MemberUpdate | null => {
  const userId = memberUserId(data);
  if (!userId || !data?.user) return null;
  const user = data.user;
  const update: { -readonly [K in keyof MemberUpdate]: MemberUpdate[K] } = { userId };
  if (typeof user.username === "string" && user.username.length > 0) update.username = text(user.username, 64)!;
  if (has(user, "global_name")) update.globalName = text(user.global_name, 64);
  if (has(data, "nick")) update.nick = text(data.nick, 64);
  if (has(data, "avatar")) {
    const own = text(data.avatar, 64);
    if (own !== null) update.avatar = own;
    else if (has(user, "avatar")) update.avatar = text(user.avatar, 64);
  }
  if (has(data, "roles")) update.roleIds = roleIdsOf(data.roles);
  if (has(data, "joined_at")) update.joinedAt = data.joined_at ?? null;
  if (typeof user.bot === "boolean") update.isBot = user.bot;
  if (typeof data.pending === "boolean") update.pending = data.pending;
  if (has(data, "premium_since")) update.premiumSince = data.premium_since ?? null;
  if (has(data, "communication_disabled_until")) update.communicationDisabledUntil = data.communication_disabled_until ?? null;
  return update;
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
