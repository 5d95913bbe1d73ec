/**
 * The permission bits the planner checks, from Discord's permissions table
 * (https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags).
 * Written here rather than imported so that the planner depends on nothing but the snowflake
 * type; the values are fixed by Discord's API.
 */

/** Permission bits as bigints: ADMINISTRATOR (1 << 3) implies every other. */
export const PERMISSIONS = {
  ADMINISTRATOR: 1n << 3n,
  MANAGE_NICKNAMES: 1n << 27n,
  MANAGE_ROLES: 1n << 28n,
} as const;

/** True when the guild permission bitfield `permissions` grants `bit` (directly or through ADMINISTRATOR). */
export const hasPermission = (permissions: bigint, bit: bigint): boolean =>
  (permissions & PERMISSIONS.ADMINISTRATOR) !== 0n || (permissions & bit) === bit;
