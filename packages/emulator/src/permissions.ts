/**
 * Discord's permission and hierarchy checks for what the bot asks through REST, with Discord's error
 * codes: 50013 Missing Permissions (a permission the bot lacks, a role not strictly below the bot's
 * highest role, a member whose highest role is not below it, the guild owner's nickname), 50028 Invalid
 * Role (granting or removing a managed role or @everyone), 10011 Unknown Role.
 *
 * The rules (https://discord.com/developers/docs/topics/permissions#permission-hierarchy): a bot grants,
 * removes, edits and sorts only roles lower than its highest role (an EQUAL role, its highest itself, is
 * refused), grants only permissions it has, and edits nicknames only of members whose highest role is
 * lower than its own. ADMINISTRATOR gives every permission but does not lift the hierarchy; only the
 * guild owner stands above it. Managed roles (bots, boosts, integrations, linked roles) are given and
 * taken by Discord alone.
 */
import type { APIRole } from "discord-api-types/v10";
import { PermissionFlagsBits, RESTJSONErrorCodes } from "discord-api-types/v10";
import { DiscordHttpError } from "./discorderrors";
import type { GuildState } from "./guild";
import { compareRoles, highestRole } from "./roles";

const P = PermissionFlagsBits;

/** 403 / 50013 Missing Permissions. */
export const missingPermissions = (): DiscordHttpError =>
  new DiscordHttpError(403, RESTJSONErrorCodes.MissingPermissions, "Missing Permissions");
/** 400 / 50028 Invalid Role. */
export const invalidRole = (): DiscordHttpError => new DiscordHttpError(400, RESTJSONErrorCodes.InvalidRole, "Invalid Role");

/** A member's guild-level permissions as a bitfield (all of them for the owner and ADMINISTRATOR); 0 for a non-member. */
export function permissionsOf(guild: GuildState, userId: string): bigint {
  return BigInt(guild.permissions(userId) ?? "0");
}

/** Throws 403 / 50013 unless the bot has `permission` (ADMINISTRATOR and ownership imply every one). */
export function requireBotPermission(guild: GuildState, permission: bigint): void {
  if ((permissionsOf(guild, guild.botUserId) & permission) !== permission) throw missingPermissions();
}

/** True when the bot has `permission`. */
export function botHas(guild: GuildState, permission: bigint): boolean {
  return (permissionsOf(guild, guild.botUserId) & permission) === permission;
}

/** True when the bot owns the guild: the owner stands above the hierarchy. */
function botIsOwner(guild: GuildState): boolean {
  return guild.ownerId === guild.botUserId;
}

/** True when `role` is strictly below the bot's highest role (or the bot owns the guild). */
export function belowBot(guild: GuildState, role: APIRole): boolean {
  return botIsOwner(guild) || compareRoles(role, highestRole(guild, guild.botUserId)) < 0;
}

/**
 * The checks of granting or removing one role (Add / Remove Guild Member Role, and each role a member
 * PATCH adds or drops): MANAGE_ROLES (403 / 50013), not @everyone nor a managed role (400 / 50028),
 * strictly below the bot's highest role (403 / 50013). The role must exist (the caller checked: 10011).
 * https://discord.com/developers/docs/resources/guild#add-guild-member-role
 */
export function checkRoleGrant(guild: GuildState, role: APIRole): void {
  requireBotPermission(guild, P.ManageRoles);
  if (role.id === guild.id || role.managed) throw invalidRole();
  if (!belowBot(guild, role)) throw missingPermissions();
}

/**
 * The checks of a member PATCH's `roles`, the whole new list against the member's current one: every
 * role it adds or drops is checked as {@link checkRoleGrant}, except that a managed role added or dropped
 * is 403 / 50013 (as Discord answers a PATCH that leaves out a booster's role). Throws 404 / 10011 for
 * an id that is no role of the guild.
 * https://discord.com/developers/docs/resources/guild#modify-guild-member
 */
export function checkRoleList(guild: GuildState, current: ReadonlyArray<string>, next: ReadonlyArray<string>): void {
  for (const id of next) if (!guild.role(id)) throw new DiscordHttpError(404, RESTJSONErrorCodes.UnknownRole, "Unknown Role");
  const added = next.filter((id) => !current.includes(id));
  const dropped = current.filter((id) => !next.includes(id));
  if (added.length === 0 && dropped.length === 0) return;
  requireBotPermission(guild, P.ManageRoles);
  for (const id of [...added, ...dropped]) {
    const role = guild.role(id);
    // A role the member holds that no longer exists cannot be checked; dropping it is harmless.
    if (!role) continue;
    if (role.managed || !belowBot(guild, role)) throw missingPermissions();
  }
}

/**
 * The checks of changing member `userId`'s nickname: the bot itself needs CHANGE_NICKNAME (or
 * MANAGE_NICKNAMES); anyone else needs MANAGE_NICKNAMES, is not the guild owner, and has a highest role
 * strictly below the bot's. Each failure is 403 / 50013.
 * https://discord.com/developers/docs/resources/guild#modify-guild-member
 */
export function checkNickname(guild: GuildState, userId: string): void {
  if (userId === guild.botUserId) {
    if (!botHas(guild, P.ChangeNickname) && !botHas(guild, P.ManageNicknames)) throw missingPermissions();
    return;
  }
  requireBotPermission(guild, P.ManageNicknames);
  if (userId === guild.ownerId) throw missingPermissions();
  if (botIsOwner(guild)) return;
  if (compareRoles(highestRole(guild, userId), highestRole(guild, guild.botUserId)) >= 0) throw missingPermissions();
}

/**
 * The checks of creating, editing, deleting or moving a role: MANAGE_ROLES, a role (when given) strictly
 * below the bot's highest, and `permissions` (when given) only ones the bot has itself unless it holds
 * ADMINISTRATOR. Each failure is 403 / 50013.
 * https://discord.com/developers/docs/topics/permissions#permission-hierarchy
 */
export function checkRoleWrite(guild: GuildState, role: APIRole | null, permissions?: string): void {
  requireBotPermission(guild, P.ManageRoles);
  if (role && !belowBot(guild, role)) throw missingPermissions();
  if (permissions !== undefined && !botHas(guild, P.Administrator)) {
    const mine = permissionsOf(guild, guild.botUserId);
    if ((BigInt(permissions) & ~mine) !== 0n) throw missingPermissions();
  }
}

/**
 * The position a role may be moved to: strictly below the bot's highest role (its position, unless the
 * bot owns the guild). Throws 403 / 50013 otherwise.
 */
export function checkTargetPosition(guild: GuildState, position: number): void {
  if (botIsOwner(guild)) return;
  if (position >= highestRole(guild, guild.botUserId).position) throw missingPermissions();
}
