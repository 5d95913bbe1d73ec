/**
 * A guild's roles as Discord orders and changes them: positions (@everyone at 0; "roles with the same
 * position are sorted by id", the older one higher), a member's highest role, and creating, editing,
 * deleting and reordering roles, each change sent as GUILD_ROLE_CREATE / _UPDATE / _DELETE (GUILDS
 * sessions). Positions are kept contiguous (1..n above @everyone): a move renumbers the roles it passes,
 * and each role whose position changed gets its own GUILD_ROLE_UPDATE. Permission checks are not made
 * here (permissions.ts does, for REST); the control API changes roles as a guild admin would.
 * https://discord.com/developers/docs/topics/permissions#role-object
 */
import type { APIRole, APIRoleTags, RoleFlags } from "discord-api-types/v10";
import { GatewayDispatchEvents, GatewayIntentBits, RESTJSONErrorCodes } from "discord-api-types/v10";
import { DiscordHttpError } from "./discorderrors";
import { EmulatorError } from "./errors";
import type { GuildState } from "./guild";
import type { GuildDispatch } from "./guilds";
import { isSnowflake, newSnowflake } from "./snowflake";
import * as v from "./validate";

/** Discord's maximum number of roles in a guild (30005 beyond it). */
export const MAX_ROLES = 250;

/** The fields of a role to create or change, already checked. */
export interface RoleFields {
  name?: string;
  /** Permission bitfield as a decimal string. */
  permissions?: string;
  color?: number;
  hoist?: boolean;
  mentionable?: boolean;
  /** Where the role goes: 1 is just above @everyone; beyond the top it goes to the top. */
  position?: number;
  managed?: boolean;
  tags?: APIRoleTags;
}

/**
 * Compares two roles by hierarchy: > 0 when `a` is above `b`, < 0 below, 0 only for the same role. Equal
 * positions are ordered by id, the lower (older) id above, as Discord's clients and discord.js order them.
 */
export function compareRoles(a: APIRole, b: APIRole): number {
  if (a.position !== b.position) return a.position - b.position;
  const ia = BigInt(a.id);
  const ib = BigInt(b.id);
  return ia === ib ? 0 : ia < ib ? 1 : -1;
}

/** The highest role of member `userId` (@everyone when they hold none, or are not a member). */
export function highestRole(guild: GuildState, userId: string): APIRole {
  const everyone = guild.role(guild.id) as APIRole;
  const member = guild.member(userId);
  let top = everyone;
  for (const id of member?.roles ?? []) {
    const role = guild.role(id);
    if (role && compareRoles(role, top) > 0) top = role;
  }
  return top;
}

/** A guild's roles from the bottom (@everyone) to the top. */
export function rolesInOrder(guild: GuildState): APIRole[] {
  return [...guild.roles].sort(compareRoles);
}

/** Creates, edits, deletes and reorders roles, telling the gateway. One per emulator. */
export class GuildRoles {
  constructor(
    private readonly dispatch: GuildDispatch,
    private readonly log: (line: string) => void,
  ) {}

  /** The role, or 404 / 10011 Unknown Role (@everyone included: it is a role). */
  require(guild: GuildState, roleId: string): APIRole {
    const role = typeof roleId === "string" ? guild.role(roleId) : undefined;
    if (!role) throw new DiscordHttpError(404, RESTJSONErrorCodes.UnknownRole, "Unknown Role");
    return role;
  }

  /**
   * Creates a role (default name "new role", no permissions, position 1) and dispatches GUILD_ROLE_CREATE,
   * then GUILD_ROLE_UPDATE for roles its position pushed up. Throws 400 / 30005 at 250 roles.
   * https://discord.com/developers/docs/resources/guild#create-guild-role
   */
  create(guild: GuildState, fields: RoleFields): APIRole {
    if (guild.roles.length >= MAX_ROLES)
      throw new DiscordHttpError(400, RESTJSONErrorCodes.MaximumNumberOfGuildRolesReached, "Maximum number of server roles reached (250)");
    const color = fields.color ?? 0;
    const role: APIRole = {
      id: newSnowflake(),
      name: fields.name ?? "new role",
      color,
      colors: { primary_color: color, secondary_color: null, tertiary_color: null },
      hoist: fields.hoist ?? false,
      icon: null,
      unicode_emoji: null,
      position: 0,
      permissions: fields.permissions ?? "0",
      managed: fields.managed ?? false,
      mentionable: fields.mentionable ?? false,
      flags: 0 as RoleFlags,
    };
    if (fields.tags) role.tags = { ...fields.tags };
    const order = rolesInOrder(guild).filter((r) => r.id !== guild.id);
    order.splice(clampIndex(fields.position ?? 1, order.length), 0, role);
    guild.roles.push(role);
    const moved = this.renumber(guild, order);
    this.dispatch(guild, GatewayDispatchEvents.GuildRoleCreate, { guild_id: guild.id, role }, GatewayIntentBits.Guilds);
    this.announce(
      guild,
      moved.filter((r) => r !== role),
    );
    this.log(`role ${role.id} "${role.name}" created in ${guild.id} at position ${role.position}`);
    return role;
  }

  /**
   * Changes a role's fields (and with `position`, moves it) and dispatches GUILD_ROLE_UPDATE for it and
   * for every role whose position changed. Throws 404 / 10011.
   * https://discord.com/developers/docs/resources/guild#modify-guild-role
   */
  edit(guild: GuildState, roleId: string, fields: RoleFields): APIRole {
    const role = this.require(guild, roleId);
    if (fields.name !== undefined) role.name = fields.name;
    if (fields.permissions !== undefined) role.permissions = fields.permissions;
    if (fields.color !== undefined) {
      role.color = fields.color;
      role.colors = { primary_color: fields.color, secondary_color: null, tertiary_color: null };
    }
    if (fields.hoist !== undefined) role.hoist = fields.hoist;
    if (fields.mentionable !== undefined) role.mentionable = fields.mentionable;
    if (fields.managed !== undefined) role.managed = fields.managed;
    if (fields.tags !== undefined) role.tags = { ...fields.tags };
    const moved =
      fields.position !== undefined && role.id !== guild.id ? this.place(guild, [{ id: role.id, position: fields.position }]) : [];
    this.announce(guild, [role, ...moved.filter((r) => r !== role)]);
    return role;
  }

  /**
   * Deletes a role: it leaves every member holding it, GUILD_ROLE_DELETE `{guild_id, role_id}` goes out,
   * and roles above it move down (GUILD_ROLE_UPDATE). Throws 404 / 10011; 400 / 50028 for @everyone.
   * https://discord.com/developers/docs/resources/guild#delete-guild-role
   */
  delete(guild: GuildState, roleId: string): APIRole {
    const role = this.require(guild, roleId);
    if (role.id === guild.id) throw new DiscordHttpError(400, RESTJSONErrorCodes.InvalidRole, "Invalid Role");
    guild.roles.splice(guild.roles.indexOf(role), 1);
    guild.dropRoleFromMembers(role.id);
    const moved = this.renumber(
      guild,
      rolesInOrder(guild).filter((r) => r.id !== guild.id),
    );
    this.dispatch(guild, GatewayDispatchEvents.GuildRoleDelete, { guild_id: guild.id, role_id: role.id }, GatewayIntentBits.Guilds);
    this.announce(guild, moved);
    this.log(`role ${role.id} "${role.name}" deleted in ${guild.id}`);
    return role;
  }

  /**
   * Moves roles to the given positions (Modify Guild Role Positions), applied in the order given; the
   * others keep their order. Returns the guild's roles, bottom to top. GUILD_ROLE_UPDATE for each role
   * whose position changed. Throws 404 / 10011, 400 / 50028 for @everyone.
   * https://discord.com/developers/docs/resources/guild#modify-guild-role-positions
   */
  move(guild: GuildState, positions: ReadonlyArray<{ id: string; position: number }>): APIRole[] {
    for (const p of positions) {
      this.require(guild, p.id);
      if (p.id === guild.id) throw new DiscordHttpError(400, RESTJSONErrorCodes.InvalidRole, "Invalid Role");
    }
    this.announce(guild, this.place(guild, positions));
    return rolesInOrder(guild);
  }

  /** Moves each role to its position in turn, renumbers; returns the roles whose position changed. */
  private place(guild: GuildState, positions: ReadonlyArray<{ id: string; position: number }>): APIRole[] {
    const order = rolesInOrder(guild).filter((r) => r.id !== guild.id);
    for (const p of positions) {
      const role = guild.role(p.id) as APIRole;
      order.splice(order.indexOf(role), 1);
      order.splice(clampIndex(p.position, order.length), 0, role);
    }
    return this.renumber(guild, order);
  }

  /** Gives `order` (bottom to top, @everyone excluded) positions 1..n; returns the roles whose position changed. */
  private renumber(guild: GuildState, order: APIRole[]): APIRole[] {
    const changed: APIRole[] = [];
    order.forEach((role, i) => {
      if (role.position !== i + 1) {
        role.position = i + 1;
        changed.push(role);
      }
    });
    const everyone = guild.role(guild.id);
    if (everyone) everyone.position = 0;
    return changed;
  }

  private announce(guild: GuildState, roles: ReadonlyArray<APIRole>): void {
    for (const role of roles)
      this.dispatch(guild, GatewayDispatchEvents.GuildRoleUpdate, { guild_id: guild.id, role }, GatewayIntentBits.Guilds);
  }
}

/** Position `position` (1 = just above @everyone) as an index into the order without @everyone. */
function clampIndex(position: number, length: number): number {
  return Math.max(0, Math.min(length, position - 1));
}

const TAG_IDS = ["bot_id", "integration_id", "subscription_listing_id"] as const;
const TAG_FLAGS = ["premium_subscriber", "guild_connections", "available_for_purchase"] as const;

/**
 * Checks a control API role input (RoleInput: name, permissions, color, hoist, mentionable, position,
 * managed, tags); throws EmulatorError 400 naming the field. `managed` defaults to true when `tags` name a
 * bot, an integration, the boosts or a linked role.
 */
export function roleInput(raw: unknown, what = "role"): RoleFields {
  const o = v.object(raw, what);
  v.onlyKeys(o, ["name", "permissions", "color", "hoist", "mentionable", "position", "managed", "tags"], what);
  const out: RoleFields = {};
  if (o.name !== undefined) out.name = v.str(o.name, "name", 1, 100);
  if (o.permissions !== undefined) {
    if (typeof o.permissions !== "string" || !/^[0-9]{1,20}$/.test(o.permissions))
      throw new EmulatorError(400, "permissions must be a permission bitfield as a decimal string");
    out.permissions = BigInt(o.permissions).toString();
  }
  if (o.color !== undefined) out.color = v.int(o.color, "color", 0, 0xffffff);
  if (o.hoist !== undefined) out.hoist = v.bool(o.hoist, "hoist");
  if (o.mentionable !== undefined) out.mentionable = v.bool(o.mentionable, "mentionable");
  if (o.position !== undefined) out.position = v.int(o.position, "position", 1, MAX_ROLES);
  if (o.tags !== undefined) {
    const t = v.object(o.tags, "tags");
    v.onlyKeys(t, [...TAG_IDS, ...TAG_FLAGS], "tags");
    const tags: Record<string, string | null> = {};
    for (const key of TAG_IDS) if (t[key] !== undefined) tags[key] = v.snowflake(t[key], `tags.${key}`);
    for (const key of TAG_FLAGS) {
      if (t[key] === undefined) continue;
      if (t[key] !== null) throw new EmulatorError(400, `tags.${key} must be null (Discord sends these flags as null)`);
      tags[key] = null;
    }
    out.tags = tags as APIRoleTags;
    out.managed = ["bot_id", "integration_id", "premium_subscriber", "guild_connections"].some((k) => k in tags);
  }
  if (o.managed !== undefined) out.managed = v.bool(o.managed, "managed");
  return out;
}

/** Checks setRolePositions input: an array of `{id, position}`; throws EmulatorError 400 naming the entry. */
export function rolePositions(raw: unknown): Array<{ id: string; position: number }> {
  if (!Array.isArray(raw)) throw new EmulatorError(400, "positions must be an array of {id, position}");
  return raw.map((item, i) => {
    const o = v.object(item, `positions[${i}]`);
    v.onlyKeys(o, ["id", "position"], `positions[${i}]`);
    if (!isSnowflake(o.id)) throw new EmulatorError(400, `positions[${i}].id must be a role snowflake`);
    return { id: o.id, position: v.int(o.position, `positions[${i}].position`, 1, MAX_ROLES) };
  });
}
