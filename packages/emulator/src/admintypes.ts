/**
 * Public types of the emulator's guild administration surface: roles (positions, managed roles) as a
 * guild admin or Discord itself changes them, the audit log of what the bot changed, the invites it made,
 * and the REST rate limits with their counters. {@link AdminApi} is the part of the `Emulator` interface
 * that drives them; each method has a control route and an `EmulatorControl` method of the same name.
 */
import type { APIRole } from "discord-api-types/v10";
import type { AuditEntry, AuditFilter } from "./audit";
import type { InviteRecord } from "./invites";
import type { RateLimitOptions, RateLimitReport, RateLimitSettings } from "./ratelimits";

export type { AuditChange, AuditEntry, AuditFilter } from "./audit";
export type { InviteRecord } from "./invites";
export type { BucketCount, RateLimitOptions, RateLimitReport, RateLimitSettings, RateLimitWindow } from "./ratelimits";

/** Role tags as Discord sends them (https://discord.com/developers/docs/topics/permissions#role-object-role-tags-structure). */
export interface RoleTagsInput {
  /** The bot the role belongs to. */
  bot_id?: string;
  /** The integration the role belongs to (Twitch, YouTube, ...). */
  integration_id?: string;
  /** The guild's booster role (value null, as Discord sends it). */
  premium_subscriber?: null;
  /** A linked role (value null). */
  guild_connections?: null;
  subscription_listing_id?: string;
  available_for_purchase?: null;
}

/** A role to create, or the fields of one to change (createRole / editRole). */
export interface RoleInput {
  /** 1-100 characters; default "new role". */
  name?: string;
  /** Permission bitfield as a decimal string; default "0". */
  permissions?: string;
  /** RGB colour 0..0xFFFFFF; default 0. */
  color?: number;
  hoist?: boolean;
  mentionable?: boolean;
  /** Where the role goes: 1 is just above @everyone (the default for a new role); beyond the top it goes to the top. */
  position?: number;
  /** Managed by an integration (no bot may grant or remove it); default: true when `tags` name a bot, integration, boosts or linked role. */
  managed?: boolean;
  tags?: RoleTagsInput;
}

/** One move of setRolePositions. */
export interface RolePosition {
  id: string;
  position: number;
}

/** The guild administration methods of `Emulator`. */
export interface AdminApi {
  /** The guild's roles from the bottom (@everyone, position 0) to the top. Throws 404 for an unknown guild. */
  roles(guildId: string): APIRole[];
  /**
   * Creates a role as a guild admin (or, with `managed`/`tags`, an integration) would: GUILD_ROLE_CREATE, and
   * GUILD_ROLE_UPDATE for the roles it pushes up. Throws 404 (guild), 400 naming the field, 400 at 250 roles.
   * https://discord.com/developers/docs/resources/guild#create-guild-role
   */
  createRole(guildId: string, input: RoleInput): APIRole;
  /** Changes a role (and with `position`, moves it): GUILD_ROLE_UPDATE for each role changed. Throws 404 (guild, role), 400 naming the field. */
  editRole(guildId: string, roleId: string, patch: RoleInput): APIRole;
  /** Deletes a role: it leaves every member, GUILD_ROLE_DELETE. Throws 404 (guild, role), 400 for @everyone. */
  deleteRole(guildId: string, roleId: string): void;
  /** Moves roles, in the order given (Modify Guild Role Positions); returns the roles bottom to top. Throws 404, 400. */
  setRolePositions(guildId: string, positions: RolePosition[]): APIRole[];
  /** What the bot changed through REST in a guild, oldest first, with the reasons it gave. Throws 404 for an unknown guild. */
  auditLog(guildId: string, filter?: AuditFilter): AuditEntry[];
  /** Every invite of a guild the bot made, expired and deleted ones included. Throws 404 for an unknown guild. */
  invites(guildId: string): InviteRecord[];
  /** The rate limits in force and the requests and 429s of every bucket since the last reset. */
  rateLimits(): RateLimitReport;
  /** Changes rate limits (anything left out stays); windows start afresh, counters stay. Throws 400 naming the field. */
  setRateLimits(options: RateLimitOptions): RateLimitSettings;
  /** Zeroes the rate limit counters and windows. */
  resetRateLimits(): void;
}
