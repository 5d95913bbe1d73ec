/**
 * Property tests of the planner over small random guilds: every authority, blocked roles,
 * members who left, flagged members, suppressions, duplicate links, several mappings per role
 * and per group, and nickname templates.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ActualMember,
  type ActualRole,
  AUTHORITIES,
  type Authority,
  applyPlan,
  codePointLength,
  type DesiredGroup,
  type DesiredUser,
  effectiveAuthority,
  hasPermission,
  isEmptyPlan,
  type Mapping,
  PERMISSIONS,
  type Plan,
  type PlanInput,
  planReconciliation,
} from "../src";
import { D, GUILD, R } from "./fixtures";

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const ROLE_COUNT = 6;
const GROUP_IDS = ["g0", "g1", "g2", "g3"];
const USER_COUNT = 7;
/** Unmapped roles: a plain one and a managed one; no mapping ever names them. */
const UNMAPPED = R(90);
const UNMAPPED_MANAGED = R(91);
const TEMPLATES = [null, "{display_name} [{group}]", "{name}", "{username} ({group}) 🛡️ {display_name}", "[{group}]"];
const name = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom("Ada", "𝓐𝓭𝓪 𝓛𝓸𝓿𝓮𝓵𝓪𝓬𝓮 𝓚𝓲𝓷𝓰 𝓸𝓯 𝓛𝓸𝓿𝓮𝓵𝓪𝓬𝓮"),
);
const time = fc.option(fc.integer({ min: 0, max: 5 }), { nil: null });

interface Options {
  /** Every role plain and below the bot, full permissions, everyone in the guild, nothing flagged or suppressed. */
  readonly clean?: boolean;
  /** One mapping per role and per group (no sharing). */
  readonly oneToOne?: boolean;
}

const worldArb = ({ clean = false, oneToOne = false }: Options = {}): fc.Arbitrary<PlanInput> =>
  fc
    .record({
      roles: fc.array(
        fc.record({
          position: fc.integer({ min: 1, max: 9 }),
          managed: clean ? fc.constant(false) : fc.integer({ min: 0, max: 5 }).map((x) => x === 0),
          deleted: clean ? fc.constant(false) : fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
        }),
        { minLength: ROLE_COUNT, maxLength: ROLE_COUNT },
      ),
      botPosition: clean ? fc.constant(10) : fc.integer({ min: 0, max: 10 }).map((x) => (x < 4 ? x * 3 : 10)),
      permissions: clean
        ? fc.constant(PERMISSIONS.MANAGE_ROLES | PERMISSIONS.MANAGE_NICKNAMES)
        : fc.constantFrom(
            PERMISSIONS.MANAGE_ROLES | PERMISSIONS.MANAGE_NICKNAMES,
            PERMISSIONS.MANAGE_ROLES | PERMISSIONS.MANAGE_NICKNAMES,
            PERMISSIONS.ADMINISTRATOR,
            PERMISSIONS.MANAGE_ROLES,
            PERMISSIONS.MANAGE_NICKNAMES,
            0n,
          ),
      groups: fc.tuple(
        ...GROUP_IDS.map(() => fc.record({ users: fc.subarray([...Array(USER_COUNT).keys()]), priority: fc.integer({ min: 0, max: 3 }) })),
      ),
      users: fc.array(
        fc.record({
          discord: clean
            ? fc.integer({ min: 0, max: USER_COUNT - 1 })
            : fc.option(fc.integer({ min: 0, max: USER_COUNT + 1 }), { nil: null }),
          name: fc.option(name, { nil: null }),
        }),
        { minLength: USER_COUNT, maxLength: USER_COUNT },
      ),
      members: fc.array(
        fc.record({
          roles: fc.subarray([...Array(ROLE_COUNT).keys()].map(R).concat([UNMAPPED, UNMAPPED_MANAGED])),
          nick: fc.option(name, { nil: null }),
          globalName: fc.option(name, { nil: null }),
          username: name,
          present: clean ? fc.constant(true) : fc.integer({ min: 0, max: 7 }).map((x) => x !== 0),
          inGuild: clean ? fc.constant(true) : fc.integer({ min: 0, max: 7 }).map((x) => x !== 0),
        }),
        { minLength: USER_COUNT + 2, maxLength: USER_COUNT + 2 },
      ),
      mappings: oneToOne
        ? fc
            .tuple(
              fc.shuffledSubarray([...Array(ROLE_COUNT).keys()], { minLength: 1, maxLength: GROUP_IDS.length }),
              fc.array(fc.constantFrom(...AUTHORITIES), { minLength: GROUP_IDS.length, maxLength: GROUP_IDS.length }),
            )
            .map(([roles, auths]) => roles.map((role, j) => ({ group: j, role, authority: auths[j] as Authority | null, remember: false })))
        : fc.array(
            fc.record({
              group: fc.integer({ min: 0, max: GROUP_IDS.length }), // GROUP_IDS.length: a group that does not exist
              role: fc.integer({ min: -1, max: ROLE_COUNT - 1 }), // -1: @everyone
              authority: fc.option(fc.constantFrom(...AUTHORITIES), { nil: null }),
              remember: fc.boolean(),
            }),
            { maxLength: 7 },
          ),
      defaultAuthority: fc.constantFrom(...AUTHORITIES),
      stamps: fc.array(fc.record({ app: time, discord: time }), { minLength: USER_COUNT + 2, maxLength: USER_COUNT + 2 }),
      suppressed: clean
        ? fc.constant<Array<[number, number]>>([])
        : fc.array(fc.tuple(fc.integer({ min: 0, max: ROLE_COUNT - 1 }), fc.integer({ min: 0, max: USER_COUNT })), { maxLength: 8 }),
      flagged: clean ? fc.constant<number[]>([]) : fc.subarray([...Array(USER_COUNT + 2).keys()], { maxLength: 2 }),
      owner: fc.integer({ min: 0, max: USER_COUNT + 5 }),
      template: fc.constantFrom(...TEMPLATES),
    })
    .map((w): PlanInput => {
      const roles: ActualRole[] = [
        { id: GUILD, position: 0, managed: false },
        ...w.roles.map((r, i) => ({ id: R(i), ...r })),
        { id: UNMAPPED, position: 2, managed: false },
        { id: UNMAPPED_MANAGED, position: 3, managed: true },
      ];
      const groups: DesiredGroup[] = GROUP_IDS.map((id, j) => ({
        id,
        name: `Group ${j}`,
        priority: w.groups[j]!.priority,
        userIds: w.groups[j]!.users.map((u) => `u${u}`),
      }));
      const users: DesiredUser[] = w.users.map((u, i) => ({
        id: `u${i}`,
        discordId: u.discord === null ? null : D(u.discord),
        name: u.name,
      }));
      const members: ActualMember[] = w.members.flatMap((m, i) =>
        m.present
          ? [{ userId: D(i), roleIds: m.roles, nick: m.nick, globalName: m.globalName, username: m.username, inGuild: m.inGuild }]
          : [],
      );
      const timestamps = new Map(w.stamps.map((s, i) => [D(i), s]));
      const mappings: Mapping[] = w.mappings.map((m, k) => ({
        id: `m${k}`,
        groupId: GROUP_IDS[m.group] ?? "missing",
        roleId: m.role === -1 ? GUILD : R(m.role),
        authority: m.authority,
        onManualRemoval: m.remember ? "remember" : "restore",
        timestamps,
      }));
      return {
        desired: { groups, users, mappings, defaultAuthority: w.defaultAuthority, nicknameTemplate: w.template },
        actual: {
          guildId: GUILD,
          ownerId: D(w.owner),
          members,
          roles,
          bot: { highestPosition: w.botPosition, permissions: w.permissions },
          suppressions: w.suppressed.map(([r, u]) => ({ roleId: R(r), userId: D(u) })),
          flagged: w.flagged.map(D),
        },
      };
    });

const NOW = 1_000;
const RUNS = { numRuns: 300 };

/** The first user linked to each Discord id (the planner ignores later ones). */
const firstLinks = (input: PlanInput) => {
  const links = new Map<string, DesiredUser>();
  for (const u of input.desired.users) if (u.discordId !== null && !links.has(u.discordId)) links.set(u.discordId, u);
  return links;
};
const inGroup = (input: PlanInput, groupId: string, userId: string) =>
  [...(input.desired.groups.find((g) => g.id === groupId)?.userIds ?? [])].includes(userId);
const memberOf = (input: PlanInput, discordId: string) => input.actual.members.find((m) => m.userId === discordId);

describe("planner properties", () => {
  it("(1) applying a plan gives the desired state, for every authority", () => {
    fc.assert(
      fc.property(worldArb({ clean: true, oneToOne: true }), (input) => {
        const after = applyPlan(input, planReconciliation(input), NOW);
        for (const [discordId, user] of firstLinks(input)) {
          const before = memberOf(input, discordId);
          const now = memberOf(after, discordId);
          if (before === undefined || now === undefined) continue;
          for (const m of input.desired.mappings) {
            const authority = effectiveAuthority(m, input.desired.defaultAuthority);
            const g = inGroup(after, m.groupId, user.id);
            const h = now.roleIds.includes(m.roleId);
            if (authority === "add_only") {
              if (g) expect(h).toBe(true);
              else expect(h).toBe(before.roleIds.includes(m.roleId));
              expect(g).toBe(inGroup(input, m.groupId, user.id));
            } else {
              // app: the role matches the group; discord: the group matches the role; both: they agree.
              expect({ mapping: m.id, authority, g }).toEqual({ mapping: m.id, authority, g: h });
              if (authority === "app") expect(g).toBe(inGroup(input, m.groupId, user.id));
              if (authority === "discord") expect(h).toBe(before.roleIds.includes(m.roleId));
            }
          }
        }
      }),
      RUNS,
    );
  });

  it("(1) with shared roles and groups: wanted roles are held, discord-only groups hold exactly their roles' holders", () => {
    fc.assert(
      fc.property(worldArb({ clean: true }), (input) => {
        const plan = planReconciliation(input);
        if (plan.blocked.some((b) => b.reason === "unsettled")) return;
        const after = applyPlan(input, plan, NOW);
        const { desired } = after;
        const valid = desired.mappings.filter((m) => m.roleId !== GUILD && desired.groups.some((g) => g.id === m.groupId));
        for (const [discordId, user] of firstLinks(input)) {
          const now = memberOf(after, discordId)!;
          for (const m of valid) {
            const authority = effectiveAuthority(m, desired.defaultAuthority);
            if ((authority === "app" || authority === "add_only") && inGroup(after, m.groupId, user.id))
              expect(now.roleIds).toContain(m.roleId);
          }
          for (const group of desired.groups) {
            const onGroup = valid.filter((m) => m.groupId === group.id);
            if (onGroup.length === 0 || !onGroup.every((m) => effectiveAuthority(m, desired.defaultAuthority) === "discord")) continue;
            expect(inGroup(after, group.id, user.id)).toBe(onGroup.some((m) => now.roleIds.includes(m.roleId)));
          }
        }
      }),
      RUNS,
    );
  });

  it("(2) blocked items are never among the actions", () => {
    fc.assert(
      fc.property(worldArb(), (input) => {
        const plan = planReconciliation(input);
        const byUser = new Map(plan.members.map((m) => [m.userId, m]));
        for (const b of plan.blocked) {
          if (b.kind === "role") {
            const m = byUser.get(b.userId);
            expect(m?.add ?? []).not.toContain(b.roleId);
            expect(m?.remove ?? []).not.toContain(b.roleId);
          } else if (b.kind === "nick") {
            expect(byUser.get(b.userId)?.nick ?? null).toBeNull();
          } else if (b.kind === "group") {
            const g = plan.groups.find((x) => x.groupId === b.groupId);
            expect([...(g?.add ?? []), ...(g?.remove ?? [])]).not.toContain(b.appUserId);
          }
        }
        const flaggedOrGone = new Set(input.actual.flagged);
        for (const [id] of firstLinks(input)) if (memberOf(input, id)?.inGuild !== true) flaggedOrGone.add(id);
        for (const m of plan.members) expect(flaggedOrGone.has(m.userId)).toBe(false);
      }),
      RUNS,
    );
  });

  it("(3) unmapped and managed roles are never added or removed; only changeable mapped roles are", () => {
    fc.assert(
      fc.property(worldArb(), (input) => {
        const plan = planReconciliation(input);
        const { actual, desired } = input;
        const canManageRoles = hasPermission(actual.bot.permissions, PERMISSIONS.MANAGE_ROLES);
        const mapped = new Set(
          desired.mappings
            .filter((m) => effectiveAuthority(m, desired.defaultAuthority) !== "discord" && desired.groups.some((g) => g.id === m.groupId))
            .map((m) => m.roleId),
        );
        for (const m of plan.members) {
          for (const roleId of [...m.add, ...m.remove]) {
            const role = actual.roles.find((r) => r.id === roleId)!;
            expect(canManageRoles).toBe(true);
            expect(mapped.has(roleId)).toBe(true);
            expect(roleId).not.toBe(GUILD);
            expect(role.managed).toBe(false);
            expect(role.deleted).toBe(false);
            expect(role.position).toBeLessThan(actual.bot.highestPosition);
          }
          const before = memberOf(input, m.userId)!.roleIds;
          for (const roleId of before) if (!m.remove.includes(roleId)) expect(m.roles).toContain(roleId);
          expect(m.roles).toEqual([...before.filter((r) => !m.remove.includes(r)), ...m.add]);
          for (const roleId of m.add) expect(before).not.toContain(roleId);
          for (const roleId of m.remove) expect(before).toContain(roleId);
          expect(m.remove).not.toContain(UNMAPPED);
          expect(m.remove).not.toContain(UNMAPPED_MANAGED);
          // The action is the fewest calls: one role call for exactly one change, else one PATCH.
          const changes = m.add.length + m.remove.length + (m.nick === null ? 0 : 1);
          expect(changes).toBeGreaterThan(0);
          if (changes > 1)
            expect(m.action).toEqual(
              m.nick === null ? { kind: "patch", roles: m.roles } : { kind: "patch", roles: m.roles, nick: m.nick.after },
            );
          else expect(m.action.kind).not.toBe("patch");
        }
      }),
      RUNS,
    );
  });

  it("(4) a plan applied once leaves nothing to do: planning the result gives an empty plan", () => {
    fc.assert(
      fc.property(worldArb(), (input) => {
        const plan = planReconciliation(input);
        const again = planReconciliation(applyPlan(input, plan, NOW));
        expect({ members: again.members, groups: again.groups }).toEqual({ members: [], groups: [] });
        expect(isEmptyPlan(again)).toBe(true);
      }),
      RUNS,
    );
  });

  it("(5) nicknames are at most 32 characters of well-formed UTF-16", () => {
    fc.assert(
      fc.property(worldArb(), (input) => {
        const plan: Plan = planReconciliation(input);
        const nicks = [
          ...plan.members.map((m) => m.nick?.after ?? null),
          ...plan.blocked.flatMap((b) => (b.kind === "nick" ? [b.nick] : [])),
        ].filter((n): n is string => n !== null);
        for (const nick of nicks) {
          expect(codePointLength(nick)).toBeLessThanOrEqual(32);
          expect(nick.length).toBeGreaterThan(0);
          expect(LONE_SURROGATE.test(nick)).toBe(false);
        }
      }),
      RUNS,
    );
  });
});

describe("`both` authority: the newer change wins", () => {
  it("carries the side with the newer timestamp to the other, once, and the next plan is empty", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            inGroup: fc.boolean(),
            hasRole: fc.boolean(),
            app: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: null }),
            discord: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: null }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        (people) => {
          const role = R(3);
          const input: PlanInput = {
            desired: {
              groups: [{ id: "g", name: "g", userIds: people.flatMap((p, i) => (p.inGroup ? [`u${i}`] : [])) }],
              users: people.map((_, i) => ({ id: `u${i}`, discordId: D(i) })),
              mappings: [
                {
                  id: "m",
                  groupId: "g",
                  roleId: role,
                  authority: "both",
                  timestamps: new Map(people.map((p, i) => [D(i), { app: p.app, discord: p.discord }])),
                },
              ],
              defaultAuthority: "app",
              nicknameTemplate: null,
            },
            actual: {
              guildId: GUILD,
              ownerId: D(999),
              members: people.map((p, i) => ({
                userId: D(i),
                roleIds: p.hasRole ? [role] : [],
                nick: null,
                globalName: null,
                username: `m${i}`,
                inGuild: true,
              })),
              roles: [
                { id: GUILD, position: 0, managed: false },
                { id: role, position: 3, managed: false },
              ],
              bot: { highestPosition: 10, permissions: PERMISSIONS.MANAGE_ROLES },
              suppressions: [],
              flagged: [],
            },
          };
          const plan = planReconciliation(input);
          const after = applyPlan(input, plan, 20_000);
          people.forEach((p, i) => {
            const held = after.actual.members[i]!.roleIds.includes(role);
            const member = [...(after.desired.groups[0]!.userIds as Iterable<string>)].includes(`u${i}`);
            // The sides agree afterwards, and only the older side moved.
            expect(held).toBe(member);
            if (p.inGroup === p.hasRole) {
              expect([held, member]).toEqual([p.hasRole, p.inGroup]);
            } else {
              const a = p.app ?? Number.NEGATIVE_INFINITY;
              const d = p.discord ?? Number.NEGATIVE_INFINITY;
              const winner = a > d ? p.inGroup : d > a ? p.hasRole : true; // a tie goes to the side that has it
              expect(held).toBe(winner);
            }
          });
          expect(isEmptyPlan(planReconciliation(after))).toBe(true);
        },
      ),
      RUNS,
    );
  });
});
