/**
 * The planner's input (desired state + actual state) and output (the plan). Plain readonly
 * data: the services build the input from the database and the member mirror, and hand the
 * plan to the applier, the preview and the audit log. Every Discord id is a snowflake string;
 * every timestamp is milliseconds since the Unix epoch, read from the server's clock.
 */
import type { Snowflake } from "@guildhall/discord/schema";

export type { Snowflake };

/**
 * Which side is the truth for one mapping (group <-> Discord role):
 * - `app`: the group is the truth; the role is added to its members and removed from linked
 *   members outside it.
 * - `discord`: the role is the truth; the group's membership follows the role.
 * - `both`: a change on either side is carried to the other; when the sides disagree, the side
 *   that changed last wins (see {@link BothTimestamps}).
 * - `add_only`: the role is given to the group's members and never removed.
 */
export type Authority = "app" | "discord" | "both" | "add_only";

/** Every authority, in a fixed order (for schemas and tests). */
export const AUTHORITIES: ReadonlyArray<Authority> = ["app", "discord", "both", "add_only"];

/**
 * What a moderator's manual removal of a role that the app gives (`app` or `add_only`) leads to:
 * `restore` (the default) puts it back on the next plan; `remember` records a
 * {@link Suppression} (see `suppressionsForManualRemoval`) and the role stays off.
 */
export type ManualRemovalPolicy = "restore" | "remember";

/** An app group: its id, display name, priority for the nickname's `{group}`, and its members' app user ids. */
export interface DesiredGroup {
  readonly id: string;
  readonly name: string;
  /** Higher wins when a member is in several mapped groups (nickname `{group}`); default 0; ties: the earlier group in the input. */
  readonly priority?: number;
  /** App user ids (iterated once per plan; ids of users not in `users` are ignored). */
  readonly userIds: ReadonlySet<string> | ReadonlyArray<string>;
}

/** An app user and the Discord account linked to it (null: not linked, never planned). */
export interface DesiredUser {
  readonly id: string;
  /** The linked Discord user id. When two users link the same id, only the first is planned. */
  readonly discordId: Snowflake | null;
  /** The user's name in the app: the nickname placeholder `{name}`. */
  readonly name?: string | null;
}

/**
 * When each side of a `both` mapping last changed for one member, in ms since the epoch:
 * - `app`: when the user was last added to or removed from the mapping's group;
 * - `discord`: when the role was last added to or removed from the member on Discord (the
 *   GUILD_MEMBER_UPDATE that showed it, or Guildhall's own successful call).
 * null (or no entry at all): that side never changed as far as Guildhall knows.
 *
 * The rule, used only when the group and the role disagree for a member: the side with the
 * newer timestamp wins and is carried to the other side. On a tie (including both null), the
 * side that HAS the membership wins, so a new `both` mapping starts as the union of the group
 * and the role and nothing is removed on a guess. Because the applier stamps the side it just
 * changed with the time of the change, the next plan finds the sides agreeing and does nothing:
 * a change is carried once and never bounces back.
 */
export interface BothTimestamps {
  readonly app: number | null;
  readonly discord: number | null;
}

/** One mapping between an app group and a Discord role. */
export interface Mapping {
  readonly id: string;
  readonly groupId: string;
  readonly roleId: Snowflake;
  /** null or absent: the organization's {@link DesiredState.defaultAuthority}. */
  readonly authority?: Authority | null;
  /** Default `restore`. Read by `suppressionsForManualRemoval`, not by the planner (it honours the suppressions it is given). */
  readonly onManualRemoval?: ManualRemovalPolicy;
  /** For `both` mappings: timestamps keyed by the member's Discord user id. Only members whose sides disagree need an entry. */
  readonly timestamps?: ReadonlyMap<Snowflake, BothTimestamps>;
}

/** What the organization wants: its groups, its users and their links, its mappings and policies. */
export interface DesiredState {
  readonly groups: ReadonlyArray<DesiredGroup>;
  readonly users: ReadonlyArray<DesiredUser>;
  readonly mappings: ReadonlyArray<Mapping>;
  /** The authority of mappings that do not set their own. */
  readonly defaultAuthority: Authority;
  /**
   * The nickname template (see `renderNickname` for its placeholders), or null: nicknames are
   * not managed, and the plan changes none.
   */
  readonly nicknameTemplate: string | null;
}

/** One member of the guild's mirror. */
export interface ActualMember {
  readonly userId: Snowflake;
  /** The member's role ids as Discord lists them (without @everyone). */
  readonly roleIds: ReadonlyArray<Snowflake>;
  /** The guild nickname, null when none is set. */
  readonly nick: string | null;
  /** The user's global display name (Discord's `global_name`), null when none. */
  readonly globalName: string | null;
  readonly username: string;
  /** False for a mirror row of a member who left; such a member is planned as "not in guild". */
  readonly inGuild: boolean;
}

/** One role of the guild. */
export interface ActualRole {
  readonly id: Snowflake;
  /** Discord's position: higher is above; @everyone is 0. */
  readonly position: number;
  /** Managed by an integration (bots, boosts, integrations, linked roles): Discord refuses to give or take it. */
  readonly managed: boolean;
  /** The role was deleted on Discord (kept in the mirror so its mappings can be reported). */
  readonly deleted?: boolean;
  readonly name?: string;
}

/** The bot in this guild: its highest role's position and its guild permissions (a bitfield, see `PERMISSIONS`). */
export interface BotState {
  readonly highestPosition: number;
  readonly permissions: bigint;
}

/** A remembered manual removal: the role stays off this member until the entry is cleared. */
export interface Suppression {
  readonly roleId: Snowflake;
  readonly userId: Snowflake;
}

/** What Discord has, from the member mirror (no Discord reads). */
export interface ActualState {
  readonly guildId: Snowflake;
  readonly ownerId: Snowflake;
  /**
   * The member mirror. A linked user with no row here is "not in guild". When planning a few
   * members only (see {@link PlanOptions.only}), passing just their rows is enough.
   */
  readonly members: ReadonlyArray<ActualMember>;
  /** Every role of the guild (including @everyone, whose id is the guild id). A mapped role missing here counts as deleted. */
  readonly roles: ReadonlyArray<ActualRole>;
  readonly bot: BotState;
  readonly suppressions: ReadonlyArray<Suppression>;
  /** Discord user ids of members flagged as flapping (see `isFlapping`): left alone until cleared. */
  readonly flagged: ReadonlyArray<Snowflake>;
}

/** Everything the planner reads. */
export interface PlanInput {
  readonly desired: DesiredState;
  readonly actual: ActualState;
}

/** Options of `planReconciliation`. */
export interface PlanOptions {
  /** Plan only these Discord user ids (a live re-plan of one member); default: every linked user. */
  readonly only?: Iterable<Snowflake>;
}

/**
 * Why the planner will not do something:
 * - `role-managed`: the role is managed by an integration (bots, boosts, integrations, linked roles);
 * - `role-everyone`: the role is @everyone (its id is the guild id);
 * - `role-above-bot`: the role's position is at or above the bot's highest role;
 * - `role-deleted`: the mapped role was deleted (or is not in the guild's roles);
 * - `unknown-group`: the mapping names a group that is not in the input;
 * - `missing-manage-roles` / `missing-manage-nicknames`: the bot lacks the permission;
 * - `not-in-guild`: the linked user is not a member of the guild;
 * - `guild-owner`: the guild owner's nickname cannot be changed by anyone else;
 * - `member-above-bot`: the member's highest role is at or above the bot's (nicknames);
 * - `suppressed`: a moderator removed the role and the mapping remembers it;
 * - `flagged`: the member's roles flapped and they are left alone until someone looks;
 * - `unsettled`: the member's mappings form a loop that did not settle (see the planner).
 */
export type BlockReason =
  | "role-managed"
  | "role-everyone"
  | "role-above-bot"
  | "role-deleted"
  | "unknown-group"
  | "missing-manage-roles"
  | "missing-manage-nicknames"
  | "not-in-guild"
  | "guild-owner"
  | "member-above-bot"
  | "suppressed"
  | "flagged"
  | "unsettled";

/** A sentence per {@link BlockReason}, for the preview and the audit log. */
export const BLOCK_REASONS: { readonly [R in BlockReason]: string } = {
  "role-managed": "the role is managed by an integration (bot, boosts, integration or linked role)",
  "role-everyone": "the role is @everyone",
  "role-above-bot": "the role is at or above the bot's highest role",
  "role-deleted": "the mapped role was deleted",
  "unknown-group": "the mapped group does not exist",
  "missing-manage-roles": "the bot lacks the Manage Roles permission",
  "missing-manage-nicknames": "the bot lacks the Manage Nicknames permission",
  "not-in-guild": "not in guild",
  "guild-owner": "the guild owner's nickname cannot be changed",
  "member-above-bot": "the member's highest role is at or above the bot's",
  suppressed: "a moderator removed the role and the mapping remembers it",
  flagged: "the member's roles flapped; left alone until someone looks",
  unsettled: "the member's mappings form a loop that did not settle",
};

/**
 * How an applier makes one member's changes with the fewest calls
 * (https://discord.com/developers/docs/resources/guild#modify-guild-member,
 * #add-guild-member-role, #remove-guild-member-role):
 * - `patch`: more than one change: one `PATCH /guilds/{guild.id}/members/{user.id}` with the
 *   full role list (and `nick` when it changes; null clears it);
 * - `add-role` / `remove-role`: exactly one role change: `PUT` / `DELETE .../roles/{role.id}`;
 * - `nick`: exactly one change, the nickname: a PATCH with `nick` only.
 */
export type MemberAction =
  | { readonly kind: "patch"; readonly roles: ReadonlyArray<Snowflake>; readonly nick?: string | null }
  | { readonly kind: "add-role"; readonly roleId: Snowflake }
  | { readonly kind: "remove-role"; readonly roleId: Snowflake }
  | { readonly kind: "nick"; readonly nick: string | null };

/** A nickname change: before and after (null: no nickname). */
export interface NickChange {
  readonly before: string | null;
  readonly after: string | null;
}

/** The changes to one member (present only when there is at least one). */
export interface MemberPlan {
  /** The member's Discord user id. */
  readonly userId: Snowflake;
  /** The linked app user. */
  readonly appUserId: string;
  /** Roles to add / remove (mapped roles only; never managed, @everyone, above the bot, or unmapped). */
  readonly add: ReadonlyArray<Snowflake>;
  readonly remove: ReadonlyArray<Snowflake>;
  /** The nickname change, when the template changes it. */
  readonly nick: NickChange | null;
  /** The member's roles now (the mirror's list, as given). */
  readonly before: ReadonlyArray<Snowflake>;
  /** The full role list afterwards: `before` in its order without `remove`, then `add`; every other role (unmapped, managed) exactly as it was. */
  readonly roles: ReadonlyArray<Snowflake>;
  /** The call to make: see {@link MemberAction}. */
  readonly action: MemberAction;
}

/** Membership changes of one app group (for `discord` and `both` mappings), as app user ids. */
export interface GroupPlan {
  readonly groupId: string;
  readonly add: ReadonlyArray<string>;
  readonly remove: ReadonlyArray<string>;
}

/** Something the planner will not do, with its reason. */
export type BlockedItem =
  /** A role change for one member. */
  | {
      readonly kind: "role";
      readonly userId: Snowflake;
      readonly appUserId: string;
      readonly roleId: Snowflake;
      readonly op: "add" | "remove";
      readonly reason: BlockReason;
    }
  /** A nickname change for one member (`nick` is what the template asked for). */
  | {
      readonly kind: "nick";
      readonly userId: Snowflake;
      readonly appUserId: string;
      readonly nick: string | null;
      readonly reason: BlockReason;
    }
  /** A group membership change (members not in the guild, flagged or unsettled). */
  | {
      readonly kind: "group";
      readonly groupId: string;
      readonly userId: Snowflake;
      readonly appUserId: string;
      readonly op: "add" | "remove";
      readonly reason: BlockReason;
    }
  /** A whole mapping (reported once; for managed/@everyone/above-bot roles its per-member changes are reported too). */
  | {
      readonly kind: "mapping";
      readonly mappingId: string;
      readonly groupId: string;
      readonly roleId: Snowflake;
      readonly reason: BlockReason;
    }
  /** The guild: a missing permission. */
  | { readonly kind: "guild"; readonly reason: "missing-manage-roles" | "missing-manage-nicknames" };

/** Counts over a plan. */
export interface PlanSummary {
  /** Members with at least one change (= calls an applier makes). */
  readonly members: number;
  readonly roleAdds: number;
  readonly roleRemoves: number;
  readonly nicks: number;
  readonly groupAdds: number;
  readonly groupRemoves: number;
  readonly blocked: number;
}

/** The plan: what to do per member and per group, and what will not be done (and why). */
export interface Plan {
  readonly guildId: Snowflake;
  readonly members: ReadonlyArray<MemberPlan>;
  readonly groups: ReadonlyArray<GroupPlan>;
  readonly blocked: ReadonlyArray<BlockedItem>;
  readonly summary: PlanSummary;
}
