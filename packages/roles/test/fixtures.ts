/**
 * Small builders for planner inputs: a guild with roles at known positions, a bot just above
 * them, and helpers to add members, users, groups and mappings by short names.
 */
import type {
  ActualMember,
  ActualRole,
  Authority,
  BlockedItem,
  BothTimestamps,
  DesiredGroup,
  DesiredUser,
  Mapping,
  Plan,
  PlanInput,
  Snowflake,
} from "../src";
import { PERMISSIONS } from "../src";

export const GUILD = "100000000000000001";
/** Role snowflakes by number. */
export const R = (n: number): Snowflake => String(200000000000000000n + BigInt(n));
/** Discord user snowflakes by number. */
export const D = (n: number): Snowflake => String(300000000000000000n + BigInt(n));

export const BOT_POSITION = 10;
export const ALL_BOT_PERMISSIONS = PERMISSIONS.MANAGE_ROLES | PERMISSIONS.MANAGE_NICKNAMES;

/** @everyone, R(1)..R(5) at positions 1..5 (plain), R(6) managed at 6, R(10) at the bot's position, R(11) above it. */
export const ROLES: ReadonlyArray<ActualRole> = [
  { id: GUILD, position: 0, managed: false, name: "@everyone" },
  ...[1, 2, 3, 4, 5].map((n) => ({ id: R(n), position: n, managed: false, name: `role ${n}` })),
  { id: R(6), position: 6, managed: true, name: "Server Booster" },
  { id: R(10), position: BOT_POSITION, managed: false, name: "equal to the bot" },
  { id: R(11), position: 11, managed: false, name: "above the bot" },
];

export const member = (n: number, roleIds: ReadonlyArray<Snowflake> = [], extra: Partial<ActualMember> = {}): ActualMember => ({
  userId: D(n),
  roleIds,
  nick: null,
  globalName: `Member ${n}`,
  username: `member${n}`,
  inGuild: true,
  ...extra,
});

export const user = (n: number, extra: Partial<DesiredUser> = {}): DesiredUser => ({ id: `u${n}`, discordId: D(n), name: null, ...extra });

export const group = (id: string, users: ReadonlyArray<number>, extra: Partial<DesiredGroup> = {}): DesiredGroup => ({
  id,
  name: id,
  userIds: users.map((n) => `u${n}`),
  ...extra,
});

export const mapping = (
  groupId: string,
  roleId: Snowflake,
  authority: Authority | null,
  extra: Partial<Mapping> & { stamps?: Record<number, Partial<BothTimestamps>> } = {},
): Mapping => {
  const { stamps, ...rest } = extra;
  const timestamps =
    stamps === undefined
      ? undefined
      : new Map(Object.entries(stamps).map(([n, s]) => [D(Number(n)), { app: s.app ?? null, discord: s.discord ?? null }]));
  return { id: `${groupId}->${roleId}`, groupId, roleId, authority, ...(timestamps ? { timestamps } : {}), ...rest };
};

export interface WorldSpec {
  readonly groups?: ReadonlyArray<DesiredGroup>;
  readonly users?: ReadonlyArray<DesiredUser>;
  readonly mappings?: ReadonlyArray<Mapping>;
  readonly members?: ReadonlyArray<ActualMember>;
  readonly roles?: ReadonlyArray<ActualRole>;
  readonly defaultAuthority?: Authority;
  readonly nicknameTemplate?: string | null;
  readonly ownerId?: Snowflake;
  readonly botPosition?: number;
  readonly botPermissions?: bigint;
  readonly suppressions?: ReadonlyArray<{ roleId: Snowflake; userId: Snowflake }>;
  readonly flagged?: ReadonlyArray<Snowflake>;
}

/** A planner input; users default to one linked user per member. The owner defaults to D(999). */
export const world = (spec: WorldSpec): PlanInput => {
  const members = spec.members ?? [];
  return {
    desired: {
      groups: spec.groups ?? [],
      users: spec.users ?? members.map((m) => user(Number(BigInt(m.userId) - 300000000000000000n))),
      mappings: spec.mappings ?? [],
      defaultAuthority: spec.defaultAuthority ?? "app",
      nicknameTemplate: spec.nicknameTemplate ?? null,
    },
    actual: {
      guildId: GUILD,
      ownerId: spec.ownerId ?? D(999),
      members,
      roles: spec.roles ?? ROLES,
      bot: { highestPosition: spec.botPosition ?? BOT_POSITION, permissions: spec.botPermissions ?? ALL_BOT_PERMISSIONS },
      suppressions: spec.suppressions ?? [],
      flagged: spec.flagged ?? [],
    },
  };
};

/** The member plan of Discord user D(n), if any. */
export const planOf = (plan: Plan, n: number) => plan.members.find((m) => m.userId === D(n));

/** The blocked items with a reason, stripped to what the tests compare. */
export const blockedWith = (plan: Plan, reason: string): ReadonlyArray<BlockedItem> => plan.blocked.filter((b) => b.reason === reason);

/** The group plan of a group id, as sorted app user ids. */
export const groupChanges = (plan: Plan, groupId: string) => {
  const g = plan.groups.find((x) => x.groupId === groupId);
  return { add: [...(g?.add ?? [])].sort(), remove: [...(g?.remove ?? [])].sort() };
};
