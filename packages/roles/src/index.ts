/**
 * # @guildhall/roles: role reconciliation, the planner
 *
 * Pure, synchronous, no IO. From the **desired state** (the organization's groups, its users
 * and their linked Discord ids, the mappings group <-> Discord role, the default authority, the
 * nickname template) and the **actual state** (the guild's member mirror, its roles, the owner,
 * the bot's highest role and permissions, suppression entries, flagged members),
 * {@link planReconciliation} produces a {@link Plan}:
 *
 * - `members`: per member, the roles to add and to remove, the nickname change, the full role
 *   list afterwards and the one call to make (`action`): a single role `PUT`/`DELETE` for
 *   exactly one change, else one `PATCH /guilds/{guild.id}/members/{user.id}` with the full
 *   list (and `nick`). The full list carries every unmapped and managed role exactly as it was.
 * - `groups`: per group, the app users to add and to remove (`discord` and `both` mappings).
 * - `blocked`: everything it will not do, each with a {@link BlockReason} (`BLOCK_REASONS` has a
 *   sentence for each).
 *
 * The services around it (not in this package) load the input from the database, apply plans
 * through the Discord port as pg-boss jobs, and write the audit log; {@link applyPlan} gives
 * the state a plan leads to, for previews and simulations.
 *
 * ## Who is planned
 *
 * Linked users only: app users with a Discord id (the first user per Discord id). Discord
 * members linked to no user are never touched, even when they hold a mapped role: Guildhall
 * cannot tell whose they are, and removing a role a moderator gave by hand is what it must not
 * do. A linked user without a mirror row, or whose row says they left, is "not in guild":
 * every change their groups would cause is listed as blocked with that reason (the SPA offers
 * the invite link); leaving the guild is not read as losing the roles, so `discord` groups keep
 * them (the would-be removals are listed as blocked too). Pass `only` to re-plan a few members (a GUILD_MEMBER_UPDATE, a group change).
 *
 * ## Roles that no mapping manages are never touched
 *
 * Only mapped roles are ever added or removed. Roles are never changed when they are managed
 * (bots, boosts, integrations, linked roles), @everyone (id = guild id), at or above the bot's
 * highest role (equal is refused by Discord too, 50013), deleted, or when the bot lacks Manage
 * Roles; the would-be change is listed as blocked instead (and, for the mapping, once).
 *
 * ## Authorities, and several mappings on one role
 *
 * Each mapping has an authority (`app`, `discord`, `both`, `add_only`; the organization's
 * default when it has none). For one member and one mapped role, each mapping has an opinion:
 * - `app`: want the role if the user is in the group, else do not want it;
 * - `add_only`: want it if the user is in the group, else no opinion;
 * - `both`: when group and role agree, the group's state (keep as is); when they disagree, the
 *   winner's state by {@link BothTimestamps} (newer change wins; a tie goes to the side that has
 *   the membership, so nothing is removed on a guess);
 * - `discord`: no opinion (the role is the truth).
 *
 * The role is **added** when any mapping wants it, and **removed** when some mapping does not
 * want it and none wants it: a member keeps a role while any group that gives it still wants
 * it, whatever the other mappings say. A suppression entry (a moderator's removal, remembered)
 * blocks the add, with reason `suppressed`.
 *
 * Then groups follow roles: a group with `discord` mappings (or `both` mappings where the app
 * side did not win) ends up holding the user exactly when they hold (after the plan) any of
 * those roles, or, when the app added the user to the group (a `both` mapping where the app
 * side won, the user in the group and without its role before the plan), that mapping's role:
 * the addition is carried to Discord and the group's other roles do not undo it (a user the
 * app removed is not put back by a role another mapping keeps). Groups with only
 * `app`/`add_only` mappings, or only `both` mappings where the app side won, are never
 * changed. When a followed group changes and feeds another mapping (a chain such as "Boosters
 * follow the boost role and give the Supporter role"), the member is decided again until
 * nothing moves; a loop that does not settle within (mapped groups + 2) rounds blocks the
 * member with reason `unsettled`.
 *
 * Hence, after applying a plan (for members it could act on, roles it could change): an `app`
 * role is held by exactly the group's users, unless another mapping on the role wants it; an
 * `add_only` role by every group user; a `discord` group holds exactly the holders of its roles;
 * a `both` pair agrees, unless another mapping keeps the role or the group follows another role
 * too, and then at most one of its sides changed, so the next plan's stamps name a winner that
 * keeps the pair as it is (a pair left disagreeing with both sides just changed would be a tie,
 * and the tie rule would undo half of the plan). Planning again gives an empty plan
 * ({@link applyPlan} is that state; the property tests check all of this on random guilds).
 *
 * ## Nicknames
 *
 * `nicknameTemplate` (null: nicknames are not managed). Placeholders `{display_name}`,
 * `{username}`, `{name}` (the app user's name) and `{group}` (the highest-priority mapped group
 * the member is in after the plan); rendering and the 32-character cut are described in
 * `renderNickname`. Skipped with a reason: the guild owner, members whose highest role is at or
 * above the bot's, a bot without Manage Nicknames.
 *
 * ## Moderators and flapping
 *
 * `suppressionsForManualRemoval` says which suppression entries a moderator's removal creates
 * (mappings set to `remember`); {@link isFlapping} says whether a member's role-change history
 * flips more than N times in an hour, so the caller can flag them; flagged members are left
 * alone (every change blocked, reason `flagged`).
 *
 * ## What the services around the planner owe it
 *
 * - `Mapping.timestamps` for `both` mappings, per member whose sides disagree: when the user's
 *   membership of the group last changed (from the group's history) and when the role last
 *   changed on the member (from the mirror's GUILD_MEMBER_UPDATE history or Guildhall's own
 *   successful call). After applying, stamp the side just changed, as {@link applyPlan} does.
 * - `actual.suppressions`: recorded from GUILD_MEMBER_UPDATEs that Guildhall did not cause,
 *   with `suppressionsForManualRemoval`; cleared in the SPA.
 * - `actual.flagged`: members {@link isFlapping} flagged, until someone clears them.
 * - A member's `action` is one call; `before`/`roles` and `nick` are the audit entry's
 *   before/after; each blocked item is one refusal entry.
 *
 * ## Speed
 *
 * Indexes are built once per plan and the per-member work uses reused typed arrays; 100,000
 * members and 20 mappings plan in well under a second (timed in bench/, not in tests;
 * `@guildhall/roles/testing` builds such a guild, with known drift, deterministically).
 */

export { applyPlan, isEmptyPlan, suppressionsForManualRemoval } from "./apply";
export { FLAP_WINDOW_MS, type FlappingOptions, isFlapping, maxChangesInWindow } from "./flapping";
export {
  type CompiledNicknameTemplate,
  codePointLength,
  compileNicknameTemplate,
  cutCodePoints,
  NICKNAME_MAX,
  NICKNAME_PLACEHOLDERS,
  type NicknamePlaceholder,
  type NicknameValues,
  nicknameTemplateProblems,
  renderNickname,
} from "./nickname";
export { hasPermission, PERMISSIONS } from "./permissions";
export { chooseAction, effectiveAuthority, planReconciliation } from "./plan";
export {
  type ActualMember,
  type ActualRole,
  type ActualState,
  AUTHORITIES,
  type Authority,
  BLOCK_REASONS,
  type BlockedItem,
  type BlockReason,
  type BothTimestamps,
  type BotState,
  type DesiredGroup,
  type DesiredState,
  type DesiredUser,
  type GroupPlan,
  type ManualRemovalPolicy,
  type Mapping,
  type MemberAction,
  type MemberPlan,
  type NickChange,
  type Plan,
  type PlanInput,
  type PlanOptions,
  type PlanSummary,
  type Snowflake,
  type Suppression,
} from "./types";
