/**
 * The planner: desired state + actual state -> plan. Pure and synchronous; see the package
 * overview in index.ts for the rules, and types.ts for the shapes.
 *
 * Speed: everything keyed by id is indexed once per plan (roles, groups, mappings, members,
 * links); the per-member work runs on small typed arrays reused across members, indexed by
 * mapped role, mapped group and mapping, so a member without changes allocates nothing but its
 * nickname string.
 */
import { compileNicknameTemplate, renderNickname } from "./nickname";
import { hasPermission, PERMISSIONS } from "./permissions";
import type {
  ActualMember,
  Authority,
  BlockedItem,
  BlockReason,
  DesiredGroup,
  DesiredUser,
  GroupPlan,
  MemberAction,
  MemberPlan,
  NickChange,
  Plan,
  PlanInput,
  PlanOptions,
  Snowflake,
} from "./types";

const APP = 0;
const DISCORD = 1;
const BOTH = 2;
const ADD_ONLY = 3;
const KIND: { readonly [A in Authority]: number } = { app: APP, discord: DISCORD, both: BOTH, add_only: ADD_ONLY };

/** How a `both` mapping acts for one member, decided once from the state before the plan. */
const AGREED = 0;
const APP_WINS = 1;
const DISCORD_WINS = 2;

/** The mapping's authority, or the organization's default when it sets none. */
export const effectiveAuthority = (mapping: { readonly authority?: Authority | null }, defaultAuthority: Authority): Authority =>
  mapping.authority ?? defaultAuthority;

/**
 * Plans the reconciliation of one guild (see the package overview for every rule).
 *
 * Input: {@link PlanInput} (desired: groups, users with their links, mappings, the default
 * authority, the nickname template; actual: the member mirror, the roles, the owner, the bot's
 * highest position and permissions, suppressions, flagged members). Options: `only`, to
 * re-plan a few members (by Discord user id).
 *
 * Output: a {@link Plan}: per member the roles to add and remove, the nickname change, the full
 * resulting role list and the call to make; per group the app users to add and remove; every
 * blocked item with its reason. Members appear in the order of `desired.users`.
 *
 * Never throws on inconsistent input: a mapping to an unknown group or a deleted role is
 * reported as blocked; a second user linked to an already linked Discord id is ignored.
 */
export const planReconciliation = (input: PlanInput, options: PlanOptions = {}): Plan => {
  const { desired, actual } = input;
  const blocked: BlockedItem[] = [];
  const canManageRoles = hasPermission(actual.bot.permissions, PERMISSIONS.MANAGE_ROLES);
  const canManageNicks = hasPermission(actual.bot.permissions, PERMISSIONS.MANAGE_NICKNAMES);
  const botPosition = actual.bot.highestPosition;

  const positionOf = new Map<Snowflake, number>();
  const roleById = new Map<Snowflake, (typeof actual.roles)[number]>();
  for (const role of actual.roles) {
    roleById.set(role.id, role);
    if (!role.deleted) positionOf.set(role.id, role.position);
  }
  const groupById = new Map<string, DesiredGroup>();
  for (const group of desired.groups) if (!groupById.has(group.id)) groupById.set(group.id, group);

  // --- Mappings: drop the unusable ones (reported), index the rest by role, group and mapping.
  const roleIds: Snowflake[] = [];
  const roleIndex = new Map<Snowflake, number>();
  const roleBlock: Array<BlockReason | null> = [];
  const groups: DesiredGroup[] = [];
  const groupIndex = new Map<string, number>();
  const mRole: number[] = [];
  const mGroup: number[] = [];
  const mKind: number[] = [];
  const mTimestamps: Array<ReadonlyMap<Snowflake, { app: number | null; discord: number | null }> | undefined> = [];
  let changesRoles = false;
  for (const mapping of desired.mappings) {
    const kind = KIND[effectiveAuthority(mapping, desired.defaultAuthority)];
    const role = roleById.get(mapping.roleId);
    const group = groupById.get(mapping.groupId);
    const report = (reason: BlockReason) =>
      blocked.push({ kind: "mapping", mappingId: mapping.id, groupId: mapping.groupId, roleId: mapping.roleId, reason });
    if (group === undefined) {
      report("unknown-group");
      continue;
    }
    if (mapping.roleId === actual.guildId) {
      report("role-everyone");
      continue;
    }
    if (role === undefined || role.deleted) {
      report("role-deleted");
      continue;
    }
    let i = roleIndex.get(role.id);
    if (i === undefined) {
      i = roleIds.length;
      roleIds.push(role.id);
      roleIndex.set(role.id, i);
      roleBlock.push(
        role.managed ? "role-managed" : role.position >= botPosition ? "role-above-bot" : canManageRoles ? null : "missing-manage-roles",
      );
    }
    let j = groupIndex.get(group.id);
    if (j === undefined) {
      j = groups.length;
      groups.push(group);
      groupIndex.set(group.id, j);
    }
    if (kind !== DISCORD) {
      changesRoles = true;
      const block = roleBlock[i];
      if (block === "role-managed" || block === "role-above-bot") report(block);
    }
    mRole.push(i);
    mGroup.push(j);
    mKind.push(kind);
    mTimestamps.push(mapping.timestamps);
  }
  if (changesRoles && !canManageRoles) blocked.push({ kind: "guild", reason: "missing-manage-roles" });
  const template = desired.nicknameTemplate === null ? null : compileNicknameTemplate(desired.nicknameTemplate);
  if (template !== null && !canManageNicks) blocked.push({ kind: "guild", reason: "missing-manage-nicknames" });

  const nR = roleIds.length;
  const nG = groups.length;
  const nM = mRole.length;
  const mappingsOfRole: number[][] = Array.from({ length: nR }, () => []);
  const mappingsOfGroup: number[][] = Array.from({ length: nG }, () => []);
  const bothMappings: number[] = [];
  for (let k = 0; k < nM; k++) {
    mappingsOfRole[mRole[k]!]!.push(k);
    mappingsOfGroup[mGroup[k]!]!.push(k);
    if (mKind[k] === BOTH) bothMappings.push(k);
  }
  const followerGroups: number[] = [];
  for (let j = 0; j < nG; j++) if (mappingsOfGroup[j]!.some((k) => mKind[k] === DISCORD || mKind[k] === BOTH)) followerGroups.push(j);
  const byPriority = groups.map((_, j) => j).sort((a, b) => (groups[b]!.priority ?? 0) - (groups[a]!.priority ?? 0) || a - b);

  const suppressed = new Map<Snowflake, Set<Snowflake>>();
  for (const s of actual.suppressions) {
    const set = suppressed.get(s.userId);
    if (set === undefined) suppressed.set(s.userId, new Set([s.roleId]));
    else set.add(s.roleId);
  }
  const flagged = new Set(actual.flagged);

  // --- The users to plan: the first user per Discord id (among `only`, when given), joined to
  // their mirror row (the last row for a repeated id).
  const memberIndex = new Map<Snowflake, number>();
  for (let index = 0; index < actual.members.length; index++) memberIndex.set(actual.members[index]!.userId, index);
  const only = options.only === undefined ? undefined : new Set(options.only);
  const targets: DesiredUser[] = [];
  const targetIds: Snowflake[] = [];
  const targetMembers: Array<ActualMember | undefined> = [];
  const claimed = new Uint8Array(actual.members.length);
  const claimedAbsent = new Set<Snowflake>();
  for (const user of desired.users) {
    const discordId = user.discordId;
    if (discordId === null || (only !== undefined && !only.has(discordId))) continue;
    const index = memberIndex.get(discordId);
    if (index === undefined) {
      if (claimedAbsent.has(discordId)) continue;
      claimedAbsent.add(discordId);
    } else {
      if (claimed[index]) continue;
      claimed[index] = 1;
    }
    targets.push(user);
    targetIds.push(discordId);
    targetMembers.push(index === undefined ? undefined : actual.members[index]);
  }

  // Group memberships as bitmasks per target: one lookup per group entry, not one per user and group.
  const targetIndex = new Map<string, number>();
  for (let t = 0; t < targets.length; t++) targetIndex.set(targets[t]!.id, t);
  const words = (nG + 31) >>> 5;
  const masks = new Uint32Array(targets.length * words);
  for (let j = 0; j < nG; j++) {
    const bit = 1 << (j & 31);
    const word = j >>> 5;
    for (const id of groups[j]!.userIds) {
      const t = targetIndex.get(id);
      if (t !== undefined) masks[t * words + word]! |= bit;
    }
  }

  // --- Per-member scratch, reused.
  const has = new Uint8Array(nR);
  const would = new Uint8Array(nR);
  const final = new Uint8Array(nR);
  const why: Array<BlockReason | null> = new Array(nR).fill(null);
  const gInit = new Uint8Array(nG);
  const gCur = new Uint8Array(nG);
  const mode = new Uint8Array(nM);
  const maxRounds = nG + 2;

  const memberPlans: MemberPlan[] = [];
  const groupAdds: string[][] = Array.from({ length: nG }, () => []);
  const groupRemoves: string[][] = Array.from({ length: nG }, () => []);
  let roleAddCount = 0;
  let roleRemoveCount = 0;
  let nickCount = 0;

  /** Decides every mapped role for the current member from `gCur` and `has` (see the overview's rules). */
  const decideRoles = (sup: Set<Snowflake> | undefined): void => {
    for (let i = 0; i < nR; i++) {
      let want = false;
      let dont = false;
      const h = has[i]!;
      for (const k of mappingsOfRole[i]!) {
        const kind = mKind[k];
        if (kind === DISCORD) continue;
        const g = gCur[mGroup[k]!]!;
        if (kind === APP) {
          if (g) want = true;
          else dont = true;
        } else if (kind === ADD_ONLY) {
          if (g) want = true;
        } else if ((mode[k] === DISCORD_WINS ? h : g) === 1) want = true;
        else dont = true;
      }
      const w = h ? (dont && !want ? 0 : 1) : want ? 1 : 0;
      would[i] = w;
      if (w === h) {
        final[i] = h;
        why[i] = null;
      } else {
        const reason = roleBlock[i] ?? (w === 1 && sup?.has(roleIds[i]!) ? "suppressed" : null);
        final[i] = reason === null ? w : h;
        why[i] = reason;
      }
    }
  };

  /**
   * Moves follower groups (discord, and both unless the app side won) to their roles' final
   * state; true when one changed. A `both` mapping whose app side won by adding the user to the
   * group keeps them in it once its role is theirs (the app's addition was carried): without
   * this, a group that also follows other roles dropped the user while the role stayed (given
   * by another mapping), leaving the pair disagreeing with both sides stamped at once, and the
   * tie rule then re-added the user on the next plan.
   */
  const followRoles = (): boolean => {
    let changed = false;
    for (const j of followerGroups) {
      let follows = false;
      let v = 0;
      for (const k of mappingsOfGroup[j]!) {
        const kind = mKind[k];
        if (kind === DISCORD || (kind === BOTH && mode[k] !== APP_WINS)) {
          follows = true;
          if (final[mRole[k]!]) v = 1;
        } else if (kind === BOTH && gInit[j] && final[mRole[k]!]) v = 1;
      }
      if (follows && v !== gCur[j]) {
        gCur[j] = v;
        changed = true;
      }
    }
    return changed;
  };

  const planMember = (t: number): void => {
    const user = targets[t]!;
    const discordId = targetIds[t]!;
    const member = targetMembers[t];
    const inGuild = member?.inGuild === true;
    has.fill(0);
    if (inGuild) {
      for (const id of member.roleIds) {
        const i = roleIndex.get(id);
        if (i !== undefined) has[i] = 1;
      }
    }
    let anyGroup = false;
    for (let j = 0; j < nG; j++) {
      const g = (masks[t * words + (j >>> 5)]! >>> (j & 31)) & 1;
      gInit[j] = g;
      gCur[j] = g;
      if (g) anyGroup = true;
    }
    // Fast path: in no mapped group, holding no mapped role, no nickname to manage: nothing to do.
    if (!anyGroup && template === null && has.indexOf(1) === -1) return;

    for (const k of bothMappings) {
      const g = gInit[mGroup[k]!]!;
      const h = has[mRole[k]!]!;
      if (g === h) {
        mode[k] = AGREED;
        continue;
      }
      const stamps = mTimestamps[k]?.get(discordId);
      const a = stamps?.app ?? Number.NEGATIVE_INFINITY;
      const d = stamps?.discord ?? Number.NEGATIVE_INFINITY;
      mode[k] = a > d ? APP_WINS : d > a ? DISCORD_WINS : h ? DISCORD_WINS : APP_WINS;
    }

    const sup = suppressed.get(discordId);
    let settled = false;
    for (let round = 0; round < maxRounds; round++) {
      decideRoles(sup);
      if (!followRoles()) {
        settled = true;
        break;
      }
    }
    if (!settled) decideRoles(sup);

    let wantedNick: string | null | undefined;
    if (template !== null && inGuild) {
      let groupName = "";
      for (const j of byPriority) {
        if (gCur[j]) {
          groupName = groups[j]!.name;
          break;
        }
      }
      const display = member.globalName ?? member.username;
      const rendered = renderNickname(template, {
        display_name: display,
        username: member.username,
        name: user.name || display,
        group: groupName,
      });
      if (rendered !== member.nick) wantedNick = rendered;
    }

    const memberReason: BlockReason | null = !inGuild ? "not-in-guild" : flagged.has(discordId) ? "flagged" : settled ? null : "unsettled";
    if (memberReason !== null) {
      for (let i = 0; i < nR; i++) {
        if (would[i] !== has[i]) {
          blocked.push({
            kind: "role",
            userId: discordId,
            appUserId: user.id,
            roleId: roleIds[i]!,
            op: would[i] ? "add" : "remove",
            reason: memberReason,
          });
        }
      }
      for (let j = 0; j < nG; j++) {
        if (gCur[j] !== gInit[j]) {
          blocked.push({
            kind: "group",
            groupId: groups[j]!.id,
            userId: discordId,
            appUserId: user.id,
            op: gCur[j] ? "add" : "remove",
            reason: memberReason,
          });
        }
      }
      if (wantedNick !== undefined)
        blocked.push({ kind: "nick", userId: discordId, appUserId: user.id, nick: wantedNick, reason: memberReason });
      return;
    }

    for (let j = 0; j < nG; j++) {
      if (gCur[j] !== gInit[j]) (gCur[j] ? groupAdds : groupRemoves)[j]!.push(user.id);
    }

    let add: Snowflake[] | undefined;
    let remove: Snowflake[] | undefined;
    for (let i = 0; i < nR; i++) {
      const reason = why[i];
      if (reason != null) {
        blocked.push({ kind: "role", userId: discordId, appUserId: user.id, roleId: roleIds[i]!, op: would[i] ? "add" : "remove", reason });
      } else if (final[i] !== has[i]) {
        if (final[i]) {
          add ??= [];
          add.push(roleIds[i]!);
        } else {
          remove ??= [];
          remove.push(roleIds[i]!);
        }
      }
    }

    let nick: NickChange | null = null;
    if (wantedNick !== undefined) {
      const nickReason: BlockReason | null =
        discordId === actual.ownerId
          ? "guild-owner"
          : highestPosition(member!.roleIds) >= botPosition
            ? "member-above-bot"
            : canManageNicks
              ? null
              : "missing-manage-nicknames";
      if (nickReason === null) nick = { before: member!.nick, after: wantedNick };
      else blocked.push({ kind: "nick", userId: discordId, appUserId: user.id, nick: wantedNick, reason: nickReason });
    }

    if (add === undefined && remove === undefined && nick === null) return;
    const adds = add ?? [];
    const removes = remove ?? [];
    const before = member!.roleIds;
    const roles = removes.length === 0 ? [...before, ...adds] : [...before.filter((id) => !removes.includes(id)), ...adds];
    roleAddCount += adds.length;
    roleRemoveCount += removes.length;
    if (nick !== null) nickCount++;
    memberPlans.push({
      userId: discordId,
      appUserId: user.id,
      add: adds,
      remove: removes,
      nick,
      before,
      roles,
      action: chooseAction(adds, removes, nick, roles),
    });
  };

  const highestPosition = (ids: ReadonlyArray<Snowflake>): number => {
    let top = 0;
    for (const id of ids) {
      if (id === actual.guildId) continue;
      const position = positionOf.get(id);
      if (position !== undefined && position > top) top = position;
    }
    return top;
  };

  for (let t = 0; t < targets.length; t++) planMember(t);

  const groupPlans: GroupPlan[] = [];
  let groupAddCount = 0;
  let groupRemoveCount = 0;
  for (let j = 0; j < nG; j++) {
    const add = groupAdds[j]!;
    const remove = groupRemoves[j]!;
    if (add.length === 0 && remove.length === 0) continue;
    groupAddCount += add.length;
    groupRemoveCount += remove.length;
    groupPlans.push({ groupId: groups[j]!.id, add, remove });
  }

  return {
    guildId: actual.guildId,
    members: memberPlans,
    groups: groupPlans,
    blocked,
    summary: {
      members: memberPlans.length,
      roleAdds: roleAddCount,
      roleRemoves: roleRemoveCount,
      nicks: nickCount,
      groupAdds: groupAddCount,
      groupRemoves: groupRemoveCount,
      blocked: blocked.length,
    },
  };
};

/**
 * The fewest calls for one member's changes (see {@link MemberAction}): exactly one change is a
 * single role PUT/DELETE (or a nickname-only PATCH); more is one PATCH with the full role list
 * and the nickname when it changes.
 */
export const chooseAction = (
  add: ReadonlyArray<Snowflake>,
  remove: ReadonlyArray<Snowflake>,
  nick: NickChange | null,
  roles: ReadonlyArray<Snowflake>,
): MemberAction => {
  const roleChanges = add.length + remove.length;
  if (roleChanges === 0 && nick !== null) return { kind: "nick", nick: nick.after };
  if (roleChanges === 1 && nick === null)
    return add.length === 1 ? { kind: "add-role", roleId: add[0]! } : { kind: "remove-role", roleId: remove[0]! };
  return nick === null ? { kind: "patch", roles } : { kind: "patch", roles, nick: nick.after };
};
