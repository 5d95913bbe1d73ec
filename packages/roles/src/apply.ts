/**
 * Pure helpers around a plan: what the state looks like once a plan is applied (for previews,
 * simulations and the planner's own property tests), and which moderator removals to remember.
 */
import { effectiveAuthority } from "./plan";
import type { Authority, BothTimestamps, DesiredState, Mapping, Plan, PlanInput, Snowflake, Suppression } from "./types";

/**
 * The state after every action of `plan` succeeded at time `now` (ms since the epoch): members
 * get their resulting role lists and nicknames, groups their added and removed users, and every
 * `both` mapping's timestamps record the change on the side that changed (`discord` for a role
 * change of a member, `app` for a group change of a user), as the applier is expected to.
 * Blocked items change nothing. Planning the result gives a plan without actions.
 */
export const applyPlan = (input: PlanInput, plan: Plan, now: number): PlanInput => {
  const { desired, actual } = input;
  const byMember = new Map(plan.members.map((m) => [m.userId, m]));
  const byGroup = new Map(plan.groups.map((g) => [g.groupId, g]));
  const discordIdOf = new Map<string, Snowflake>();
  for (const user of desired.users) if (user.discordId !== null && !discordIdOf.has(user.id)) discordIdOf.set(user.id, user.discordId);

  const members = actual.members.map((member) => {
    const change = byMember.get(member.userId);
    if (change === undefined) return member;
    return { ...member, roleIds: change.roles, nick: change.nick === null ? member.nick : change.nick.after };
  });
  const groups = desired.groups.map((group) => {
    const change = byGroup.get(group.id);
    if (change === undefined) return group;
    const ids = new Set(group.userIds);
    for (const id of change.remove) ids.delete(id);
    for (const id of change.add) ids.add(id);
    return { ...group, userIds: ids };
  });
  const mappings = desired.mappings.map((mapping): Mapping => {
    if (effectiveAuthority(mapping, desired.defaultAuthority) !== "both") return mapping;
    const stamps = new Map<Snowflake, BothTimestamps>(mapping.timestamps ?? []);
    const stamp = (discordId: Snowflake, side: "app" | "discord") => {
      const old = stamps.get(discordId) ?? { app: null, discord: null };
      stamps.set(discordId, { ...old, [side]: now });
    };
    for (const m of plan.members) if (m.add.includes(mapping.roleId) || m.remove.includes(mapping.roleId)) stamp(m.userId, "discord");
    const group = byGroup.get(mapping.groupId);
    if (group !== undefined) {
      for (const id of [...group.add, ...group.remove]) {
        const discordId = discordIdOf.get(id);
        if (discordId !== undefined) stamp(discordId, "app");
      }
    }
    return { ...mapping, timestamps: stamps };
  });
  return { desired: { ...desired, groups, mappings }, actual: { ...actual, members } };
};

/** True when the plan has nothing to do (it may still list blocked items). */
export const isEmptyPlan = (plan: Plan): boolean => plan.members.length === 0 && plan.groups.length === 0;

const GIVES_ROLE: ReadonlySet<Authority> = new Set(["app", "add_only"]);

/**
 * The suppression entries to record after a moderator changed a member's roles by hand (the
 * caller makes sure the change was not Guildhall's own, e.g. by its audit-log reason): one per
 * role that was removed (in `before`, not in `after`) and is given by an `app` or `add_only`
 * mapping whose `onManualRemoval` is `remember`. Several mappings on one role: one that
 * remembers is enough. Roles are snowflakes; `userId` is the member's Discord user id.
 */
export const suppressionsForManualRemoval = (
  desired: Pick<DesiredState, "mappings" | "defaultAuthority">,
  userId: Snowflake,
  before: ReadonlyArray<Snowflake>,
  after: ReadonlyArray<Snowflake>,
): ReadonlyArray<Suppression> => {
  const remembered = new Set<Snowflake>();
  for (const mapping of desired.mappings) {
    if (mapping.onManualRemoval === "remember" && GIVES_ROLE.has(effectiveAuthority(mapping, desired.defaultAuthority))) {
      remembered.add(mapping.roleId);
    }
  }
  const now = new Set(after);
  return before
    .filter((roleId, index) => remembered.has(roleId) && !now.has(roleId) && before.indexOf(roleId) === index)
    .map((roleId) => ({ roleId, userId }));
};
