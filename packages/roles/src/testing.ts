/**
 * `@guildhall/roles/testing`: a deterministic synthetic guild for tests and benchmarks (no
 * randomness, no IO). Not used by production code.
 */
import { PERMISSIONS } from "./permissions";
import type { ActualMember, ActualRole, Authority, DesiredUser, Mapping, PlanInput, Snowflake } from "./types";

/** Options of {@link syntheticGuild}. */
export interface SyntheticGuildOptions {
  /** Members in the guild, each linked to one app user. */
  readonly members: number;
  /** Mappings, one group and one role each (group `g<k>` <-> role k). */
  readonly mappings: number;
  /** Every `driftEvery`-th member differs from the desired state (default 20: 5%); 0: nobody. */
  readonly driftEvery?: number;
  /** The authority of every mapping (default `app`, for which {@link SyntheticGuild.expected} is exact). */
  readonly authority?: Authority;
  readonly nicknameTemplate?: string | null;
}

/** A synthetic guild and, for `app` mappings, the changes a correct plan makes. */
export interface SyntheticGuild {
  readonly input: PlanInput;
  /** Per drifted member (Discord user id): the mapped roles to add and to remove (for `app` mappings). */
  readonly expected: ReadonlyMap<Snowflake, { readonly add: ReadonlyArray<Snowflake>; readonly remove: ReadonlyArray<Snowflake> }>;
}

const GUILD_ID = "1000000000000000000";
const ROLE_BASE = 1100000000000000000n;
const USER_BASE = 1200000000000000000n;

/** The role snowflake of mapping `k` (k < mappings), or of the unmapped roles after them. */
export const syntheticRoleId = (k: number): Snowflake => String(ROLE_BASE + BigInt(k));
/** The Discord user id of member `u`. */
export const syntheticUserId = (u: number): Snowflake => String(USER_BASE + BigInt(u));

/** Whether member `u` is in group `g`: about one member in eight per group, spread by a multiplicative hash. */
const inGroup = (u: number, g: number): boolean => (Math.imul(u + 1, 0x9e3779b1) ^ Math.imul(g + 1, 0x85ebca77)) >>> 29 === 0;

/**
 * A guild of `members` members and `mappings` mappings, each member linked to one app user.
 * Besides the mapped roles, every member holds two unmapped roles and every seventh a managed
 * role, so full role lists carry roles the plan must keep. Drifted members (every
 * `driftEvery`-th) have the role of mapping `u % mappings` flipped, and every third of them
 * also the next one, so some need one call and some a PATCH.
 */
export const syntheticGuild = (options: SyntheticGuildOptions): SyntheticGuild => {
  const { members: n, mappings: m } = options;
  const driftEvery = options.driftEvery ?? 20;
  const roleIds = Array.from({ length: m + 3 }, (_, k) => syntheticRoleId(k));
  const unmapped = [roleIds[m]!, roleIds[m + 1]!];
  const managed = roleIds[m + 2]!;
  const roles: ActualRole[] = [
    { id: GUILD_ID, position: 0, managed: false, name: "@everyone" },
    ...roleIds.map((id, k) => ({ id, position: k + 1, managed: k === m + 2, name: `role ${k}` })),
  ];
  const groupUsers: string[][] = Array.from({ length: m }, () => []);
  const users: DesiredUser[] = [];
  const members: ActualMember[] = [];
  const expected = new Map<Snowflake, { add: Snowflake[]; remove: Snowflake[] }>();
  for (let u = 0; u < n; u++) {
    const discordId = syntheticUserId(u);
    const appId = `user-${u}`;
    users.push({ id: appId, discordId, name: `User ${u}` });
    const drifted = driftEvery > 0 && m > 0 && u % driftEvery === 0;
    const flips = drifted ? (u % 3 === 0 && m > 1 ? [u % m, (u + 1) % m] : [u % m]) : [];
    const held: Snowflake[] = [...unmapped];
    if (u % 7 === 0) held.push(managed);
    const add: Snowflake[] = [];
    const remove: Snowflake[] = [];
    for (let g = 0; g < m; g++) {
      const wanted = inGroup(u, g);
      if (wanted) groupUsers[g]!.push(appId);
      const flipped = flips.includes(g);
      if (wanted !== flipped) held.push(roleIds[g]!);
      if (flipped) (wanted ? add : remove).push(roleIds[g]!);
    }
    if (drifted) expected.set(discordId, { add, remove });
    members.push({ userId: discordId, roleIds: held, nick: null, globalName: `Member ${u}`, username: `member${u}`, inGuild: true });
  }
  const mappings: Mapping[] = Array.from({ length: m }, (_, g) => ({
    id: `mapping-${g}`,
    groupId: `g${g}`,
    roleId: roleIds[g]!,
    authority: options.authority ?? "app",
  }));
  return {
    input: {
      desired: {
        groups: groupUsers.map((userIds, g) => ({ id: `g${g}`, name: `Group ${g}`, priority: g, userIds })),
        users,
        mappings,
        defaultAuthority: "app",
        nicknameTemplate: options.nicknameTemplate ?? null,
      },
      actual: {
        guildId: GUILD_ID,
        ownerId: syntheticUserId(n + 1),
        members,
        roles,
        bot: { highestPosition: m + 10, permissions: PERMISSIONS.MANAGE_ROLES | PERMISSIONS.MANAGE_NICKNAMES },
        suppressions: [],
        flagged: [],
      },
    },
    expected,
  };
};
