/**
 * Role reconciliation around the pure planner (@guildhall/roles): app groups (`Groups`) and the
 * service that loads the desired state (groups, linked users, mappings) and the actual state
 * (the member mirror, the guild's roles and the bot), plans, previews, and applies a plan
 * through the Discord port as a durable, resumable run with an append-only audit log
 * (`Reconciler`).
 *
 * When it runs by itself:
 * - live: a GUILD_MEMBER_UPDATE that changed the mirror, or a group change, queues
 *   `roles.member` for that member (`reconcileMember`): a change of mapped roles Guildhall did
 *   not make (told apart by the roles it last saw and the roles its call in flight will leave)
 *   is a moderator's: removals under `remember` become suppressions, the changed roles are
 *   stamped for `both` mappings, and the change counts towards flapping; then the member alone is
 *   re-planned against the mirror and applied (never with a preview-only mapping);
 * - on per-guild pg-boss schedules: `roles.verify` (every 5 minutes by default: the whole guild
 *   against the mirror, no Discord reads; drift starts a run) and the weekly `roles.hard-check`
 *   (re-read Discord, a REST member sync, then a verify with nicknames).
 */
import { Database, type DatabaseError, schema } from "@guildhall/db";
import { diffSnapshots } from "@guildhall/diff";
import { type DiscordError, DiscordPermanentError, DiscordRest, describeDiscordError } from "@guildhall/discord";
import { BotMembersSync, type JobPayloadInvalid, Jobs, RolesApply, RolesHardCheck, RolesMember, RolesVerify } from "@guildhall/jobs";
import {
  type ActualRole,
  type Authority,
  BLOCK_REASONS,
  type BlockedItem,
  type BothTimestamps,
  effectiveAuthority,
  FLAP_WINDOW_MS,
  isFlapping,
  type ManualRemovalPolicy,
  PERMISSIONS,
  type Plan,
  type PlanInput,
  planReconciliation,
  suppressionsForManualRemoval,
} from "@guildhall/roles";
import { and, asc, desc, eq, inArray, isNotNull, lt, sql } from "drizzle-orm";
import { Context, Effect, Layer, Schema } from "effect";
import { UserNotFound } from "./errors";
import { applyGroupChanges, clearExpectedRoles, recordAppliedRoles, recordExpectedRoles, stampGroupChanges } from "./roleBookkeeping";

// ------------------------------------------------------------------------------------ errors

/** No group `groupId` in the caller's organization. */
export class GroupNotFound extends Schema.TaggedError<GroupNotFound>()("GroupNotFound", { groupId: Schema.String }) {}

/** The organization already has a group with that name. */
export class GroupNameTaken extends Schema.TaggedError<GroupNameTaken>()("GroupNameTaken", { name: Schema.String }) {}

/** No mapping `mappingId` in the caller's organization. */
export class MappingNotFound extends Schema.TaggedError<MappingNotFound>()("MappingNotFound", { mappingId: Schema.String }) {}

/** The group is already mapped to that role in that guild. */
export class MappingExists extends Schema.TaggedError<MappingExists>()("MappingExists", {
  groupId: Schema.String,
  roleId: Schema.String,
}) {}

/** No reconciliation run `runId` of the caller's organization. */
export class ReconciliationRunNotFound extends Schema.TaggedError<ReconciliationRunNotFound>()("ReconciliationRunNotFound", {
  runId: Schema.String,
}) {}

/** Discord could not be asked for the guild's roles or the bot's member (the plan needs both); `message` says why (no token). */
export class DiscordUnavailable extends Schema.TaggedError<DiscordUnavailable>()("DiscordUnavailable", {
  message: Schema.String,
  /** True when the same reads may succeed later (429, 5xx, network): a run then retries instead of failing. */
  transient: Schema.Boolean,
}) {}

// ------------------------------------------------------------------------------------ shapes

/** A group as lists show it. */
export interface GroupSummary {
  readonly id: string;
  readonly name: string;
  readonly priority: number;
  readonly memberCount: number;
}

/** A member of a group: the app user and the Discord id linked to it (null: not linked). */
export interface GroupMemberEntry {
  readonly userId: string;
  readonly name: string;
  readonly email: string;
  readonly discordId: string | null;
}

/** A mapping as lists show it. `authority` null: the organization's default. */
export interface MappingEntry {
  readonly id: string;
  readonly guildId: string;
  readonly groupId: string;
  readonly groupName: string;
  readonly roleId: string;
  readonly authority: Authority | null;
  readonly onManualRemoval: ManualRemovalPolicy;
  readonly previewOnly: boolean;
  readonly createdAt: string;
}

/** Who or what started a run or a change. */
export type ActorKind = (typeof schema.ROLE_ACTOR_KINDS)[number];

/** A reconciliation run (ISO-8601 times). Progress: `done + failed` of `total`. */
export interface ReconciliationRun {
  readonly id: string;
  readonly guildId: string;
  readonly status: (typeof schema.RECONCILIATION_STATUSES)[number];
  readonly actorKind: ActorKind;
  readonly actorId: string | null;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly blocked: number;
  readonly reason: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
}

/** One audit log entry (ISO-8601 `at`). */
export interface RoleAuditEntry {
  readonly id: number;
  readonly guildId: string;
  readonly runId: string | null;
  readonly actorKind: ActorKind;
  readonly actorId: string | null;
  readonly userId: string;
  readonly outcome: "applied" | "failed" | "blocked";
  readonly rolesBefore: ReadonlyArray<string>;
  readonly rolesAfter: ReadonlyArray<string>;
  readonly nickBefore: string | null;
  readonly nickAfter: string | null;
  readonly reason: string;
  readonly discordStatus: number | null;
  readonly discordCode: number | null;
  readonly discordMessage: string | null;
  readonly at: string;
}

/** Filters of the audit log; each given one must match. `beforeId`: page backwards (entries with a smaller id). */
export interface AuditFilter {
  readonly userId?: string | undefined;
  readonly runId?: string | undefined;
  readonly outcome?: "applied" | "failed" | "blocked" | undefined;
  readonly actorKind?: ActorKind | undefined;
  readonly beforeId?: number | undefined;
  readonly limit?: number | undefined;
}

/** A guild role as the preview and preflight show it. */
export interface RoleView {
  readonly id: string;
  readonly name: string;
  readonly position: number;
  readonly managed: boolean;
}

/** A blocked item with its sentence (see @guildhall/roles `BLOCK_REASONS`). */
export type BlockedView = BlockedItem & { readonly sentence: string };

/** The preview of a plan: who gains and loses what, group changes, what is blocked and why. Lists are cut at `PREVIEW_LIMIT`. */
export interface PlanPreview {
  readonly guildId: string;
  readonly summary: Plan["summary"];
  readonly members: ReadonlyArray<{
    readonly userId: string;
    readonly appUserId: string;
    readonly name: string | null;
    readonly add: ReadonlyArray<string>;
    readonly remove: ReadonlyArray<string>;
    readonly nick: { readonly before: string | null; readonly after: string | null } | null;
    readonly call: "patch" | "add-role" | "remove-role" | "nick";
  }>;
  readonly groups: Plan["groups"];
  readonly blocked: ReadonlyArray<BlockedView>;
  readonly roles: ReadonlyArray<RoleView>;
  /** Mappings still preview-only: applying includes them (and ends their preview). */
  readonly previewOnlyMappings: number;
}

/** What the preflight found: the bot's permissions and highest role, and each mapping that cannot work. */
export interface Preflight {
  readonly guildId: string;
  readonly botUserId: string;
  readonly manageRoles: boolean;
  readonly manageNicknames: boolean;
  readonly highestPosition: number;
  readonly highestRole: RoleView | null;
  readonly problems: ReadonlyArray<{
    readonly mappingId: string;
    readonly roleId: string;
    readonly problem: "managed" | "at-or-above-bot" | "deleted" | "everyone";
    readonly sentence: string;
  }>;
}

/** Who or what asked for a live re-plan of a member (the audit entries' actor). */
export interface LiveActor {
  readonly kind: "live" | "user" | "external_app" | "schedule";
  readonly id: string | null;
}

/**
 * What a live re-plan of one member did: `applied` / `failed` (one Discord call, audited),
 * `nothing` (the plan was empty: e.g. the echo of Guildhall's own change), `flagged` (left alone),
 * `not-in-guild`, `no-mappings` (the guild has no active mapping). `manual`: the mirror showed a
 * change of mapped roles Guildhall did not make; `suppressed`: suppressions it wrote.
 */
export interface LiveResult {
  readonly outcome: "applied" | "failed" | "nothing" | "flagged" | "not-in-guild" | "no-mappings";
  readonly manual: boolean;
  readonly suppressed: number;
}

/** What a verify found: the plan's summary (null: the guild is not installed) and the run it started (null: no drift, or a run was already going). */
export interface VerifyResult {
  readonly runId: string | null;
  readonly summary: Plan["summary"] | null;
}

/** A member flagged as flapping (ISO `flaggedAt`; `flips`: role changes recorded within the last hour when flagged). */
export interface FlaggedMember {
  readonly userId: string;
  readonly username: string | null;
  readonly flaggedAt: string;
  readonly reason: string;
  readonly flips: number;
}

/** The verify intervals (minutes) a guild may choose: each maps to a cron expression by {@link verifyCron}. */
export const VERIFY_MINUTES = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440] as const;
/** Default verify interval: every 5 minutes. */
export const DEFAULT_VERIFY_MINUTES = 5;
/** Default flapping threshold: more than 6 role changes of one member within an hour flags them. */
export const DEFAULT_MAX_FLIPS = 6;
/** How long after a hard check's member sync is queued its verify (with nicknames) runs (s): the sync's expiry. */
export const HARD_CHECK_VERIFY_DELAY_S = 15 * 60;
/** A group change touching more users than this re-plans the whole guild in one run rather than a job per member. */
export const LIVE_BATCH_MAX = 200;
/** Refusals a live re-plan does not write again on every event: standing states listed elsewhere (suppressions, flags, the invite list). */
const LIVE_SILENT_REASONS: ReadonlySet<string> = new Set(["suppressed", "flagged", "not-in-guild"]);

/** The 5-field cron (UTC) of a verify every `minutes` (one of {@link VERIFY_MINUTES}). */
export const verifyCron = (minutes: number): string =>
  minutes < 60 ? `*/${minutes} * * * *` : minutes < 1440 ? `0 */${minutes / 60} * * *` : "0 0 * * *";

/** The weekly hard check's cron (UTC): Sundays at 04:mm, the minute spread by guild id so guilds do not all start at once. */
export const hardCheckCron = (guildId: string): string => {
  let minute = 0;
  for (const c of guildId) minute = (minute * 31 + c.charCodeAt(0)) % 60;
  return `${minute} 4 * * 0`;
};

/** A guild's role schedules and flapping threshold. `verifyCron`/`hardCheckCron`: what pg-boss holds now (null: no schedule). */
export interface RoleSchedule {
  readonly guildId: string;
  readonly verifyEnabled: boolean;
  readonly verifyMinutes: number;
  readonly hardCheckEnabled: boolean;
  readonly maxFlips: number;
  readonly verifyCron: string | null;
  readonly hardCheckCron: string | null;
  /** When Discord was last read for the guild's owner, roles and bot (what verifies and live re-plans use); null: never. */
  readonly discordStateAt: string | null;
}

/** What an admin sets: the verify (enabled, every `verifyMinutes`), the weekly hard check, the flapping threshold. */
export interface RoleScheduleInput {
  readonly verifyEnabled: boolean;
  readonly verifyMinutes: number;
  readonly hardCheckEnabled: boolean;
  readonly maxFlips: number;
}

const flapReason = (flips: number, maxFlips: number) =>
  `flapping: ${flips} role changes within an hour (more than ${maxFlips}); left alone until someone clears the flag`;

const symmetricDifference = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): string[] => {
  const setA = new Set(a);
  const setB = new Set(b);
  return [...new Set([...a.filter((x) => !setB.has(x)), ...b.filter((x) => !setA.has(x))])];
};

/** Most rows a preview lists per section (the summary counts them all). */
export const PREVIEW_LIMIT = 500;
/** Most audit entries one page (or a CSV export) holds. */
export const AUDIT_EXPORT_LIMIT = 100_000;

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());
const sameSet = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) => {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
};

// ------------------------------------------------------------------------------------ Groups

/**
 * App groups of an organization and their members (app user ids). Every method is scoped to
 * `organizationId`; a group of another organization is `GroupNotFound`.
 */
export class Groups extends Context.Service<
  Groups,
  {
    /** The organization's groups by name, with member counts. */
    readonly list: (organizationId: string) => Effect.Effect<ReadonlyArray<GroupSummary>, DatabaseError>;
    /** Creates a group (`name` 1-100 characters); `GroupNameTaken` when the name is used. */
    readonly create: (
      organizationId: string,
      input: { readonly name: string; readonly priority?: number | undefined },
    ) => Effect.Effect<GroupSummary, GroupNameTaken | DatabaseError>;
    /** Renames a group (and sets its priority when given). `GroupNotFound`, `GroupNameTaken`. */
    readonly rename: (
      organizationId: string,
      groupId: string,
      input: { readonly name: string; readonly priority?: number | undefined },
    ) => Effect.Effect<void, GroupNotFound | GroupNameTaken | DatabaseError>;
    /** Deletes a group, its memberships and its mappings; returns the user ids that were its members. `GroupNotFound`. */
    readonly remove: (organizationId: string, groupId: string) => Effect.Effect<ReadonlyArray<string>, GroupNotFound | DatabaseError>;
    /** The group's members with their linked Discord ids, by name. `GroupNotFound`. */
    readonly members: (
      organizationId: string,
      groupId: string,
    ) => Effect.Effect<ReadonlyArray<GroupMemberEntry>, GroupNotFound | DatabaseError>;
    /** Adds app users (idempotent); `UserNotFound` names the first unknown id (nothing is added then). Returns how many were new. */
    readonly addUsers: (
      organizationId: string,
      groupId: string,
      userIds: ReadonlyArray<string>,
    ) => Effect.Effect<number, GroupNotFound | UserNotFound | DatabaseError>;
    /** Removes app users (absent ones are ignored). Returns how many were removed. */
    readonly removeUsers: (
      organizationId: string,
      groupId: string,
      userIds: ReadonlyArray<string>,
    ) => Effect.Effect<number, GroupNotFound | DatabaseError>;
    /**
     * "These are the members now": the group's membership becomes exactly `userIds`, diffed
     * against the current one with @guildhall/diff, in one transaction; returns the user ids
     * added and removed. `UserNotFound` for an unknown id (nothing changes then).
     */
    readonly setMembers: (
      organizationId: string,
      groupId: string,
      userIds: ReadonlyArray<string>,
    ) => Effect.Effect<
      { readonly added: ReadonlyArray<string>; readonly removed: ReadonlyArray<string> },
      GroupNotFound | UserNotFound | DatabaseError
    >;
  }
>()("@guildhall/sync/Groups") {
  static readonly layer = Layer.effect(
    Groups,
    Effect.gen(function* () {
      const { use, transaction } = yield* Database;
      const { groups, groupMembers, users } = schema;

      const find = Effect.fn("Groups.find")(function* (organizationId: string, groupId: string) {
        const rows = yield* use("groups.find", (db) =>
          db
            .select({ id: groups.id })
            .from(groups)
            .where(and(eq(groups.id, groupId), eq(groups.organizationId, organizationId)))
            .limit(1),
        );
        if (rows.length === 0) return yield* new GroupNotFound({ groupId });
      });

      const nameTaken =
        (name: string) =>
        (error: DatabaseError): Effect.Effect<never, DatabaseError | GroupNameTaken> =>
          error.code === "23505" ? Effect.fail(new GroupNameTaken({ name })) : Effect.fail(error);

      const list = Effect.fn("Groups.list")(function* (organizationId: string) {
        return yield* use("groups.list", (db) =>
          db
            .select({
              id: groups.id,
              name: groups.name,
              priority: groups.priority,
              memberCount: sql<number>`(select count(*)::int from ${groupMembers} where ${groupMembers.groupId} = ${groups.id})`,
            })
            .from(groups)
            .where(eq(groups.organizationId, organizationId))
            .orderBy(asc(groups.name)),
        );
      });

      const create = Effect.fn("Groups.create")(function* (
        organizationId: string,
        input: { readonly name: string; readonly priority?: number | undefined },
      ) {
        const id = crypto.randomUUID();
        const priority = input.priority ?? 0;
        yield* use("groups.create", (db) => db.insert(groups).values({ id, organizationId, name: input.name, priority })).pipe(
          Effect.catchTag("DatabaseError", nameTaken(input.name)),
        );
        return { id, name: input.name, priority, memberCount: 0 };
      });

      const rename = Effect.fn("Groups.rename")(function* (
        organizationId: string,
        groupId: string,
        input: { readonly name: string; readonly priority?: number | undefined },
      ) {
        yield* find(organizationId, groupId);
        yield* use("groups.rename", (db) =>
          db
            .update(groups)
            .set({ name: input.name, ...(input.priority === undefined ? {} : { priority: input.priority }) })
            .where(eq(groups.id, groupId)),
        ).pipe(Effect.catchTag("DatabaseError", nameTaken(input.name)));
      });

      const remove = Effect.fn("Groups.remove")(function* (organizationId: string, groupId: string) {
        yield* find(organizationId, groupId);
        const members = yield* use("groups.removeMembers", (db) =>
          db.select({ userId: groupMembers.userId }).from(groupMembers).where(eq(groupMembers.groupId, groupId)),
        );
        yield* use("groups.remove", (db) => db.delete(groups).where(eq(groups.id, groupId)));
        return members.map((m) => m.userId);
      });

      const members = Effect.fn("Groups.members")(function* (organizationId: string, groupId: string) {
        yield* find(organizationId, groupId);
        return yield* use("groups.members", (db) =>
          db
            .select({ userId: users.id, name: users.name, email: users.email, discordId: users.discordId })
            .from(groupMembers)
            .innerJoin(users, eq(users.id, groupMembers.userId))
            .where(eq(groupMembers.groupId, groupId))
            .orderBy(asc(users.name)),
        );
      });

      const checkUsers = Effect.fn("Groups.checkUsers")(function* (userIds: ReadonlyArray<string>) {
        if (userIds.length === 0) return;
        const unique = [...new Set(userIds)];
        const found = new Set<string>();
        for (let i = 0; i < unique.length; i += 5_000) {
          const rows = yield* use("groups.checkUsers", (db) =>
            db
              .select({ id: users.id })
              .from(users)
              .where(inArray(users.id, unique.slice(i, i + 5_000))),
          );
          for (const row of rows) found.add(row.id);
        }
        const missing = unique.find((id) => !found.has(id));
        if (missing !== undefined) return yield* new UserNotFound({ userId: missing });
      });

      const insertMembers = (organizationId: string, groupId: string, userIds: ReadonlyArray<string>) =>
        Effect.gen(function* () {
          let added = 0;
          for (let i = 0; i < userIds.length; i += 5_000) {
            const rows = yield* use("groups.addUsers", (db) =>
              db
                .insert(groupMembers)
                .values(userIds.slice(i, i + 5_000).map((userId) => ({ organizationId, groupId, userId })))
                .onConflictDoNothing()
                .returning({ userId: groupMembers.userId }),
            );
            yield* use("groups.stampAdded", (db) =>
              stampGroupChanges(
                db,
                groupId,
                rows.map((r) => r.userId),
                new Date(),
              ),
            );
            added += rows.length;
          }
          return added;
        });

      const deleteMembers = (groupId: string, userIds: ReadonlyArray<string>) =>
        Effect.gen(function* () {
          let removed = 0;
          for (let i = 0; i < userIds.length; i += 5_000) {
            const rows = yield* use("groups.removeUsers", (db) =>
              db
                .delete(groupMembers)
                .where(and(eq(groupMembers.groupId, groupId), inArray(groupMembers.userId, userIds.slice(i, i + 5_000))))
                .returning({ userId: groupMembers.userId }),
            );
            yield* use("groups.stampRemoved", (db) =>
              stampGroupChanges(
                db,
                groupId,
                rows.map((r) => r.userId),
                new Date(),
              ),
            );
            removed += rows.length;
          }
          return removed;
        });

      const addUsers = Effect.fn("Groups.addUsers")(function* (organizationId: string, groupId: string, userIds: ReadonlyArray<string>) {
        yield* find(organizationId, groupId);
        yield* checkUsers(userIds);
        return yield* insertMembers(organizationId, groupId, [...new Set(userIds)]);
      });

      const removeUsers = Effect.fn("Groups.removeUsers")(function* (
        organizationId: string,
        groupId: string,
        userIds: ReadonlyArray<string>,
      ) {
        yield* find(organizationId, groupId);
        return yield* deleteMembers(groupId, [...new Set(userIds)]);
      });

      const setMembers = Effect.fn("Groups.setMembers")(function* (
        organizationId: string,
        groupId: string,
        userIds: ReadonlyArray<string>,
      ) {
        yield* find(organizationId, groupId);
        const wanted = [...new Set(userIds)];
        yield* checkUsers(wanted);
        return yield* transaction(
          "groups.setMembers",
          Effect.gen(function* () {
            const current = yield* use("groups.current", (db) =>
              db.select({ userId: groupMembers.userId }).from(groupMembers).where(eq(groupMembers.groupId, groupId)),
            );
            const diff = diffSnapshots(
              current,
              wanted.map((userId) => ({ userId })),
              { key: (m) => m.userId },
            );
            const added = diff.added.map((m) => m.userId);
            const removed = diff.removed.map((m) => m.userId);
            yield* insertMembers(organizationId, groupId, added);
            yield* deleteMembers(groupId, removed);
            return { added, removed };
          }),
        );
      });

      return Groups.of({ list, create, rename, remove, members, addUsers, removeUsers, setMembers });
    }),
  );
}

// ------------------------------------------------------------------------------------ Reconciler

/**
 * Options of `Reconciler.loadInput`:
 * - `includePreviewOnly` (default true): false leaves out mappings still in preview;
 * - `source` (default `discord`): where the guild's owner, roles and bot come from: `discord`
 *   reads them (three reads, kept for later), `mirror` uses what was last read (no Discord read);
 * - `only`: Discord user ids: load and plan only these members (a live re-plan);
 * - `nicknames` (default true): false plans without the nickname template.
 */
export interface LoadOptions {
  readonly includePreviewOnly?: boolean;
  readonly source?: "discord" | "mirror";
  readonly only?: ReadonlyArray<string>;
  readonly nicknames?: boolean;
}

/** The fields of a mapping callers set. `authority` null: the organization's default. */
export interface MappingInput {
  readonly guildId: string;
  readonly groupId: string;
  readonly roleId: string;
  readonly authority: Authority | null;
  readonly onManualRemoval: ManualRemovalPolicy;
}

type RunRow = typeof schema.reconciliationRuns.$inferSelect;
type StepRow = typeof schema.reconciliationSteps.$inferSelect;

const runOf = (row: RunRow): ReconciliationRun => ({
  id: row.id,
  guildId: row.guildId,
  status: row.status,
  actorKind: row.actorKind,
  actorId: row.actorId,
  total: row.total,
  done: row.done,
  failed: row.failed,
  blocked: row.blocked,
  reason: row.reason,
  startedAt: iso(row.startedAt)!,
  finishedAt: iso(row.finishedAt),
});

/** The `X-Audit-Log-Reason` of one member's change: who asked, which run, what changes (cut to 512 by the port). */
export const changeReason = (run: Pick<RunRow, "id" | "actorKind" | "actorId">, step: Pick<StepRow, "add" | "remove" | "nickChanges">) => {
  const parts = [...step.add.map((r) => `+${r}`), ...step.remove.map((r) => `-${r}`), ...(step.nickChanges ? ["nick"] : [])];
  return `Guildhall role sync, run ${run.id} (${run.actorKind}${run.actorId ? ` ${run.actorId}` : ""}): ${parts.join(" ")}`;
};

/**
 * How many members one run works on at once per Discord bucket (role PUT/DELETE, member PATCH).
 * The port sends a bucket's calls one after another at the pace its headers allow, so a few in
 * flight only overlap each member's database writes with the next member's call; no 429 comes of it.
 */
const LANES = 4;

/**
 * Role reconciliation of an organization's guilds: settings, mappings, preview, apply (as a
 * pg-boss job, `roles.apply`), runs, the audit log and suppressions, and the preflight.
 *
 * The actual state comes from the member mirror (guild_members, no Discord reads per member)
 * and, per plan, three reads of Discord: the guild (owner), its roles (positions, managed,
 * permissions) and the bot's own member (its roles: highest position and permissions).
 */
export class Reconciler extends Context.Service<
  Reconciler,
  {
    /** The organization's default authority and nickname template (defaults: `app`, none). */
    readonly settings: (
      organizationId: string,
    ) => Effect.Effect<{ defaultAuthority: Authority; nicknameTemplate: string | null }, DatabaseError>;
    /** Sets the organization's default authority and nickname template. */
    readonly updateSettings: (
      organizationId: string,
      settings: { readonly defaultAuthority: Authority; readonly nicknameTemplate: string | null },
    ) => Effect.Effect<void, DatabaseError>;
    /** The mappings of `guildId`, by group name. */
    readonly mappings: (organizationId: string, guildId: string) => Effect.Effect<ReadonlyArray<MappingEntry>, DatabaseError>;
    /** Creates a mapping (preview-only until its first apply). `GroupNotFound`, `MappingExists`. */
    readonly createMapping: (
      organizationId: string,
      input: MappingInput,
    ) => Effect.Effect<MappingEntry, GroupNotFound | MappingExists | DatabaseError>;
    /** Changes a mapping's authority and manual-removal policy. `MappingNotFound`. */
    readonly updateMapping: (
      organizationId: string,
      mappingId: string,
      input: { readonly authority: Authority | null; readonly onManualRemoval: ManualRemovalPolicy },
    ) => Effect.Effect<void, MappingNotFound | DatabaseError>;
    /** Deletes a mapping (its role is then never touched again). `MappingNotFound`. */
    readonly deleteMapping: (organizationId: string, mappingId: string) => Effect.Effect<void, MappingNotFound | DatabaseError>;
    /** Loads the planner's input for the guild (see {@link LoadOptions}). */
    readonly loadInput: (
      organizationId: string,
      guildId: string,
      options?: LoadOptions,
    ) => Effect.Effect<{ readonly input: PlanInput; readonly roles: ReadonlyArray<ActualRole> }, DiscordUnavailable | DatabaseError>;
    /** The plan for the guild now, as the SPA previews it (every mapping, preview-only ones included). */
    readonly preview: (organizationId: string, guildId: string) => Effect.Effect<PlanPreview, DiscordUnavailable | DatabaseError>;
    /**
     * Starts applying the guild's plan: a run (status `queued`) and a `roles.apply` job; ends the
     * preview of every preview-only mapping (they take part). Returns the run; its progress shows
     * on `runs`/`run`.
     */
    readonly startApply: (
      organizationId: string,
      guildId: string,
      actor: { readonly kind: ActorKind; readonly id: string | null },
    ) => Effect.Effect<ReconciliationRun, JobPayloadInvalid | DatabaseError>;
    /**
     * The `roles.apply` job: plans (once per run, recorded as steps in one transaction with the
     * refusals' audit entries), then makes each member's one call through the Discord port with
     * `X-Audit-Log-Reason`, recording the step as `sent` before and `done`/`failed` after (with
     * its audit entry and the mirror's new roles). Resuming after a crash: a `sent` step is first
     * re-read from Discord (GET member) and only called again when its change is not there, so
     * no change is made twice. Discord's permanent errors (Unknown Member, Missing Permissions)
     * are recorded once on the step and in the audit log and never retried; transient ones fail
     * the job, which pg-boss retries with backoff. A finished run is left alone.
     */
    readonly runApply: (
      runId: string,
    ) => Effect.Effect<ReconciliationRun, ReconciliationRunNotFound | DiscordUnavailable | DiscordError | DatabaseError>;
    /** The guild's newest runs (at most `limit`, default 20), newest first. */
    readonly runs: (
      organizationId: string,
      guildId: string,
      limit?: number,
    ) => Effect.Effect<ReadonlyArray<ReconciliationRun>, DatabaseError>;
    /** One run. `ReconciliationRunNotFound`. */
    readonly run: (organizationId: string, runId: string) => Effect.Effect<ReconciliationRun, ReconciliationRunNotFound | DatabaseError>;
    /** Audit entries of the guild matching `filter`, newest first (at most `limit`, default 100, max {@link AUDIT_EXPORT_LIMIT}). */
    readonly audit: (
      organizationId: string,
      guildId: string,
      filter: AuditFilter,
    ) => Effect.Effect<ReadonlyArray<RoleAuditEntry>, DatabaseError>;
    /** The guild's remembered manual removals (user id, role id, ISO time). */
    readonly suppressions: (
      organizationId: string,
      guildId: string,
    ) => Effect.Effect<ReadonlyArray<{ userId: string; roleId: string; createdAt: string }>, DatabaseError>;
    /** Clears one suppression (the role may be given again on the next plan); true when there was one. */
    readonly clearSuppression: (
      organizationId: string,
      guildId: string,
      userId: string,
      roleId: string,
    ) => Effect.Effect<boolean, DatabaseError>;
    /**
     * A member's roles changed on Discord by someone other than Guildhall (a moderator): records a
     * suppression for each removed role whose mapping remembers removals (`onManualRemoval:
     * remember`). Returns the suppressions written. Roles and ids are snowflakes.
     */
    readonly noteManualChange: (
      guildId: string,
      userId: string,
      before: ReadonlyArray<string>,
      after: ReadonlyArray<string>,
    ) => Effect.Effect<ReadonlyArray<{ userId: string; roleId: string }>, DatabaseError>;
    /** The preflight: the bot's permissions and highest role, and each mapping that cannot work (managed, at or above the bot, deleted, @everyone). */
    readonly preflight: (organizationId: string, guildId: string) => Effect.Effect<Preflight, DiscordUnavailable | DatabaseError>;
    /** The guild's role schedules (settings and what pg-boss holds) and flapping threshold; defaults when never set. */
    readonly schedule: (organizationId: string, guildId: string) => Effect.Effect<RoleSchedule, DatabaseError>;
    /**
     * Sets the guild's schedules and flapping threshold and brings its pg-boss schedules in line:
     * `roles.verify` (key = guild id, cron from `verifyMinutes`) and `roles.hard-check` (weekly),
     * each created, replaced or removed. Returns the new {@link RoleSchedule}.
     */
    readonly setSchedule: (
      organizationId: string,
      guildId: string,
      input: RoleScheduleInput,
    ) => Effect.Effect<RoleSchedule, JobPayloadInvalid | DatabaseError>;
    /** Registers (or removes) the guild's pg-boss schedules from its settings (defaults: verify every 5 minutes, weekly hard check). */
    readonly ensureSchedules: (guildId: string) => Effect.Effect<void, JobPayloadInvalid | DatabaseError>;
    /** At start-up: {@link ensureSchedules} for every guild that has mappings (schedules lost or never made are made again). Returns how many guilds. */
    readonly ensureAllSchedules: () => Effect.Effect<number, JobPayloadInvalid | DatabaseError>;
    /**
     * The `roles.verify` job: plans the whole guild against the member mirror and the last Discord
     * state read (no Discord reads; the first verify of a guild never read reads it once), active
     * mappings only, nicknames only when `nicknames`. Drift starts a run (mode `verify`, actor
     * `schedule`) unless one is queued or running.
     */
    readonly verify: (
      guildId: string,
      options: { readonly nicknames: boolean },
    ) => Effect.Effect<VerifyResult, DiscordUnavailable | JobPayloadInvalid | DatabaseError>;
    /**
     * The `roles.hard-check` job: re-reads the guild's owner, roles and bot from Discord, queues a
     * REST member sync (`bot.members-sync`, trigger `schedule`) and a verify with nicknames
     * {@link HARD_CHECK_VERIFY_DELAY_S} later. Nothing for a guild no longer installed.
     */
    readonly hardCheck: (guildId: string) => Effect.Effect<void, DiscordUnavailable | JobPayloadInvalid | DatabaseError>;
    /**
     * Before member events of `guildId` are written to the mirror: records the members' current
     * mirror roles as what Guildhall knows (only for members it knows nothing of yet), so the
     * live re-plan can tell a change apart. Nothing for a guild without active mappings.
     */
    readonly observeMembers: (guildId: string, userIds: ReadonlyArray<string>) => Effect.Effect<void, DatabaseError>;
    /** After member events changed the mirror: queues a live re-plan (`roles.member`, actor `live`) per member; returns how many. */
    readonly queueLive: (guildId: string, userIds: ReadonlyArray<string>) => Effect.Effect<number, JobPayloadInvalid | DatabaseError>;
    /**
     * After a group change: queues a re-plan of the linked users among `appUserIds` in each guild
     * of the organization with active mappings (more than {@link LIVE_BATCH_MAX} users: one run
     * per guild instead). Returns how many members (or users) were queued.
     */
    readonly queueUsers: (
      organizationId: string,
      appUserIds: ReadonlyArray<string>,
      actor: LiveActor,
    ) => Effect.Effect<number, JobPayloadInvalid | DatabaseError>;
    /**
     * The `roles.member` job: re-plans and applies one member from the mirror (no Discord reads).
     * First it compares the mirror's roles with what Guildhall last saw or set: a difference in
     * mapped roles that is not Guildhall's own change (its expected roles) is someone else's: the
     * roles are stamped (the Discord side of `both`), removals of roles whose mapping
     * `remember`s are written as suppressions, and the change counts towards flapping (more than
     * the guild's `maxFlips` changes within an hour flags the member, with a refusal entry, and
     * they are left alone). Then it plans the member with the active mappings (never a
     * preview-only one) and makes the one call, audited with `actor`. The echo of Guildhall's own
     * change plans to nothing. Transient Discord errors fail (the job is retried).
     */
    readonly reconcileMember: (
      guildId: string,
      userId: string,
      actor: LiveActor,
    ) => Effect.Effect<LiveResult, DiscordUnavailable | DiscordError | DatabaseError>;
    /** The guild's members flagged as flapping, newest first. */
    readonly flagged: (organizationId: string, guildId: string) => Effect.Effect<ReadonlyArray<FlaggedMember>, DatabaseError>;
    /** Clears a member's flapping flag (and their recorded changes) and queues their re-plan; true when they were flagged. */
    readonly clearFlag: (
      organizationId: string,
      guildId: string,
      userId: string,
      actor: LiveActor,
    ) => Effect.Effect<boolean, JobPayloadInvalid | DatabaseError>;
  }
>()("@guildhall/sync/Reconciler") {
  /** Needs the Database, the Jobs service (to send `roles.apply`) and the Discord port. */
  static readonly layer = Layer.effect(
    Reconciler,
    Effect.gen(function* () {
      const { use, transaction } = yield* Database;
      const discord = yield* DiscordRest;
      const jobs = yield* Jobs;
      const {
        roleSettings,
        groups,
        groupMembers,
        roleMappings,
        roleSuppressions,
        reconciliationRuns,
        reconciliationSteps,
        roleAuditLog,
        users,
        guildMembers,
        roleGuildSettings,
        roleMemberStates,
        groupMemberChanges,
        guilds,
      } = schema;

      const settings = Effect.fn("Reconciler.settings")(function* (organizationId: string) {
        const rows = yield* use("roles.settings", (db) =>
          db.select().from(roleSettings).where(eq(roleSettings.organizationId, organizationId)).limit(1),
        );
        const row = rows[0];
        return { defaultAuthority: (row?.defaultAuthority ?? "app") as Authority, nicknameTemplate: row?.nicknameTemplate ?? null };
      });

      const updateSettings = Effect.fn("Reconciler.updateSettings")(function* (
        organizationId: string,
        value: { readonly defaultAuthority: Authority; readonly nicknameTemplate: string | null },
      ) {
        yield* use("roles.updateSettings", (db) =>
          db
            .insert(roleSettings)
            .values({ organizationId, ...value })
            .onConflictDoUpdate({ target: roleSettings.organizationId, set: { ...value, updatedAt: new Date() } }),
        );
      });

      const mappings = Effect.fn("Reconciler.mappings")(function* (organizationId: string, guildId: string) {
        const rows = yield* use("roles.mappings", (db) =>
          db
            .select({
              id: roleMappings.id,
              guildId: roleMappings.guildId,
              groupId: roleMappings.groupId,
              groupName: groups.name,
              roleId: roleMappings.roleId,
              authority: roleMappings.authority,
              onManualRemoval: roleMappings.onManualRemoval,
              previewOnly: roleMappings.previewOnly,
              createdAt: roleMappings.createdAt,
            })
            .from(roleMappings)
            .innerJoin(groups, eq(groups.id, roleMappings.groupId))
            .where(and(eq(roleMappings.organizationId, organizationId), eq(roleMappings.guildId, guildId)))
            .orderBy(asc(groups.name), asc(roleMappings.createdAt)),
        );
        return rows.map((r) => ({ ...r, createdAt: iso(r.createdAt)! }));
      });

      const createMapping = Effect.fn("Reconciler.createMapping")(function* (organizationId: string, input: MappingInput) {
        const group = yield* use("roles.mappingGroup", (db) =>
          db
            .select({ name: groups.name })
            .from(groups)
            .where(and(eq(groups.id, input.groupId), eq(groups.organizationId, organizationId)))
            .limit(1),
        );
        if (!group[0]) return yield* new GroupNotFound({ groupId: input.groupId });
        const id = crypto.randomUUID();
        const createdAt = new Date();
        yield* use("roles.createMapping", (db) =>
          db.insert(roleMappings).values({ id, organizationId, ...input, previewOnly: true, createdAt }),
        ).pipe(
          Effect.catchTag(
            "DatabaseError",
            (error): Effect.Effect<never, DatabaseError | MappingExists> =>
              error.code === "23505"
                ? Effect.fail(new MappingExists({ groupId: input.groupId, roleId: input.roleId }))
                : Effect.fail(error),
          ),
        );
        yield* ensureSchedules(input.guildId).pipe(
          Effect.catch((error) => Effect.logWarning(`roles: could not register the schedules of guild ${input.guildId}`, error)),
        );
        return { id, ...input, groupName: group[0].name, previewOnly: true, createdAt: createdAt.toISOString() };
      });

      const updateMapping = Effect.fn("Reconciler.updateMapping")(function* (
        organizationId: string,
        mappingId: string,
        input: { readonly authority: Authority | null; readonly onManualRemoval: ManualRemovalPolicy },
      ) {
        const rows = yield* use("roles.updateMapping", (db) =>
          db
            .update(roleMappings)
            .set(input)
            .where(and(eq(roleMappings.id, mappingId), eq(roleMappings.organizationId, organizationId)))
            .returning({ id: roleMappings.id }),
        );
        if (rows.length === 0) return yield* new MappingNotFound({ mappingId });
      });

      const deleteMapping = Effect.fn("Reconciler.deleteMapping")(function* (organizationId: string, mappingId: string) {
        const rows = yield* use("roles.deleteMapping", (db) =>
          db
            .delete(roleMappings)
            .where(and(eq(roleMappings.id, mappingId), eq(roleMappings.organizationId, organizationId)))
            .returning({ id: roleMappings.id }),
        );
        if (rows.length === 0) return yield* new MappingNotFound({ mappingId });
      });

      const unavailable = (error: DiscordError) =>
        new DiscordUnavailable({ message: describeDiscordError(error), transient: !(error instanceof DiscordPermanentError) });

      /** The guild's owner and roles and the bot's state, from Discord (three reads). */
      const discordState = Effect.fn("Reconciler.discordState")(function* (guildId: string) {
        const [guild, roles, me] = yield* Effect.all([discord.guild(guildId), discord.roles(guildId), discord.me()], {
          concurrency: 3,
        }).pipe(Effect.mapError(unavailable));
        const botMember = yield* discord.member(guildId, me.id).pipe(Effect.mapError(unavailable));
        const actualRoles: ActualRole[] = roles.map((r) => ({ id: r.id, position: r.position, managed: r.managed, name: r.name }));
        const held = new Set([...botMember.roles, guildId]);
        let permissions = 0n;
        let highestPosition = 0;
        let highestRole: RoleView | null = null;
        for (const role of roles) {
          if (!held.has(role.id)) continue;
          permissions |= BigInt(role.permissions);
          if (role.id !== guildId && role.position >= highestPosition) {
            highestPosition = role.position;
            highestRole = { id: role.id, name: role.name, position: role.position, managed: role.managed };
          }
        }
        if (guild.owner_id === me.id) permissions |= PERMISSIONS.ADMINISTRATOR;
        const state = { ownerId: guild.owner_id, roles: actualRoles, botUserId: me.id, bot: { highestPosition, permissions }, highestRole };
        // Kept for verifies and live re-plans, which plan without reading Discord.
        const stored: schema.StoredDiscordState = {
          ownerId: state.ownerId,
          botUserId: state.botUserId,
          highestPosition,
          permissions: permissions.toString(),
          highestRole,
          roles: roles.map((r) => ({ id: r.id, name: r.name, position: r.position, managed: r.managed })),
        };
        const at = new Date();
        yield* use("roles.storeDiscordState", (db) =>
          db
            .insert(roleGuildSettings)
            .values({ guildId, discordState: stored, discordStateAt: at })
            .onConflictDoUpdate({ target: roleGuildSettings.guildId, set: { discordState: stored, discordStateAt: at } }),
        );
        return state;
      });

      /**
       * The guild's owner, roles and bot as Discord last showed them (no Discord read), or, when
       * Guildhall has never read them, read from Discord once (and kept).
       */
      const mirrorState = Effect.fn("Reconciler.mirrorState")(function* (guildId: string) {
        const rows = yield* use("roles.loadDiscordState", (db) =>
          db
            .select({ state: roleGuildSettings.discordState })
            .from(roleGuildSettings)
            .where(eq(roleGuildSettings.guildId, guildId))
            .limit(1),
        );
        const stored = rows[0]?.state;
        if (!stored) return yield* discordState(guildId);
        return {
          ownerId: stored.ownerId,
          roles: stored.roles.map((r): ActualRole => ({ id: r.id, position: r.position, managed: r.managed, name: r.name })),
          botUserId: stored.botUserId,
          bot: { highestPosition: stored.highestPosition, permissions: BigInt(stored.permissions) },
          highestRole: stored.highestRole,
        };
      });

      const loadInput = Effect.fn("Reconciler.loadInput")(function* (organizationId: string, guildId: string, options: LoadOptions = {}) {
        const includePreviewOnly = options.includePreviewOnly ?? true;
        const only = options.only;
        const state = options.source === "mirror" ? yield* mirrorState(guildId) : yield* discordState(guildId);
        const userRows = yield* use("roles.loadUsers", (db) =>
          db
            .select({ id: users.id, name: users.name, discordId: users.discordId })
            .from(users)
            .where(only === undefined ? isNotNull(users.discordId) : inArray(users.discordId, [...only]))
            .orderBy(asc(users.id)),
        );
        const onlyUsers = only === undefined ? undefined : userRows.map((u) => u.id);
        const [config, groupRows, memberRows, mappingRows, mirror, suppressed, memberStates] = yield* Effect.all(
          [
            settings(organizationId),
            use("roles.loadGroups", (db) =>
              db
                .select({ id: groups.id, name: groups.name, priority: groups.priority })
                .from(groups)
                .where(eq(groups.organizationId, organizationId)),
            ),
            use("roles.loadGroupMembers", (db) =>
              db
                .select({ groupId: groupMembers.groupId, userId: groupMembers.userId })
                .from(groupMembers)
                .where(
                  and(
                    eq(groupMembers.organizationId, organizationId),
                    onlyUsers === undefined ? undefined : inArray(groupMembers.userId, onlyUsers),
                  ),
                ),
            ),
            use("roles.loadMappings", (db) =>
              db
                .select()
                .from(roleMappings)
                .where(and(eq(roleMappings.organizationId, organizationId), eq(roleMappings.guildId, guildId))),
            ),
            use("roles.loadMirror", (db) =>
              db
                .select({
                  userId: guildMembers.userId,
                  roleIds: guildMembers.roleIds,
                  nick: guildMembers.nick,
                  globalName: guildMembers.globalName,
                  username: guildMembers.username,
                  dateLeft: guildMembers.dateLeft,
                })
                .from(guildMembers)
                .innerJoin(users, eq(users.discordId, guildMembers.userId))
                .where(and(eq(guildMembers.guildId, guildId), only === undefined ? undefined : inArray(guildMembers.userId, [...only]))),
            ),
            use("roles.loadSuppressions", (db) =>
              db
                .select({ roleId: roleSuppressions.roleId, userId: roleSuppressions.userId })
                .from(roleSuppressions)
                .where(
                  and(eq(roleSuppressions.guildId, guildId), only === undefined ? undefined : inArray(roleSuppressions.userId, [...only])),
                ),
            ),
            use("roles.loadMemberStates", (db) =>
              db
                .select({
                  userId: roleMemberStates.userId,
                  roleChangedAt: roleMemberStates.roleChangedAt,
                  flaggedAt: roleMemberStates.flaggedAt,
                })
                .from(roleMemberStates)
                .where(
                  and(eq(roleMemberStates.guildId, guildId), only === undefined ? undefined : inArray(roleMemberStates.userId, [...only])),
                ),
            ),
          ],
          { concurrency: "unbounded" },
        );
        const byGroup = new Map<string, string[]>();
        for (const m of memberRows) {
          const list = byGroup.get(m.groupId);
          if (list) list.push(m.userId);
          else byGroup.set(m.groupId, [m.userId]);
        }
        const usedMappings = mappingRows.filter((m) => includePreviewOnly || !m.previewOnly);
        // `both` mappings: when each side last changed, per member (the newer change wins).
        const bothGroups = [
          ...new Set(usedMappings.filter((m) => effectiveAuthority(m, config.defaultAuthority) === "both").map((m) => m.groupId)),
        ];
        const changeRows =
          bothGroups.length === 0
            ? []
            : yield* use("roles.loadGroupChanges", (db) =>
                db
                  .select({
                    groupId: groupMemberChanges.groupId,
                    userId: groupMemberChanges.userId,
                    changedAt: groupMemberChanges.changedAt,
                  })
                  .from(groupMemberChanges)
                  .where(
                    and(
                      inArray(groupMemberChanges.groupId, bothGroups),
                      onlyUsers === undefined ? undefined : inArray(groupMemberChanges.userId, onlyUsers),
                    ),
                  ),
              );
        const discordOf = new Map<string, string>();
        for (const u of userRows) if (u.discordId !== null && !discordOf.has(u.id)) discordOf.set(u.id, u.discordId);
        const roleChangedAt = new Map(memberStates.map((m) => [m.userId, m.roleChangedAt]));
        const timestampsOf = (groupId: string, roleId: string): ReadonlyMap<string, BothTimestamps> => {
          const stamps = new Map<string, { app: number | null; discord: number | null }>();
          for (const row of changeRows) {
            if (row.groupId !== groupId) continue;
            const discordId = discordOf.get(row.userId);
            if (discordId !== undefined) stamps.set(discordId, { app: new Date(row.changedAt).getTime(), discord: null });
          }
          for (const [discordId, changed] of roleChangedAt) {
            const at = changed[roleId];
            if (at === undefined) continue;
            const old = stamps.get(discordId);
            stamps.set(discordId, { app: old?.app ?? null, discord: at });
          }
          return stamps;
        };
        const input: PlanInput = {
          desired: {
            groups: groupRows.map((g) => ({ id: g.id, name: g.name, priority: g.priority, userIds: byGroup.get(g.id) ?? [] })),
            users: userRows,
            mappings: usedMappings.map((m) => ({
              id: m.id,
              groupId: m.groupId,
              roleId: m.roleId,
              authority: m.authority,
              onManualRemoval: m.onManualRemoval,
              ...(effectiveAuthority(m, config.defaultAuthority) === "both" ? { timestamps: timestampsOf(m.groupId, m.roleId) } : {}),
            })),
            defaultAuthority: config.defaultAuthority,
            nicknameTemplate: options.nicknames === false ? null : config.nicknameTemplate,
          },
          actual: {
            guildId,
            ownerId: state.ownerId,
            members: mirror.map((m) => ({
              userId: m.userId,
              roleIds: m.roleIds,
              nick: m.nick,
              globalName: m.globalName,
              username: m.username,
              inGuild: m.dateLeft === null,
            })),
            roles: state.roles,
            bot: state.bot,
            suppressions: suppressed,
            flagged: memberStates.filter((m) => m.flaggedAt !== null).map((m) => m.userId),
          },
        };
        return { input, roles: state.roles };
      });

      const preview = Effect.fn("Reconciler.preview")(function* (organizationId: string, guildId: string) {
        const { input, roles } = yield* loadInput(organizationId, guildId, { includePreviewOnly: true });
        const plan = planReconciliation(input);
        const names = new Map(input.desired.users.map((u) => [u.id, u.name ?? null]));
        const previewOnly = yield* use("roles.previewOnlyCount", (db) =>
          db
            .select({ n: sql<number>`count(*)::int` })
            .from(roleMappings)
            .where(
              and(eq(roleMappings.organizationId, organizationId), eq(roleMappings.guildId, guildId), eq(roleMappings.previewOnly, true)),
            ),
        );
        return {
          guildId,
          summary: plan.summary,
          members: plan.members.slice(0, PREVIEW_LIMIT).map((m) => ({
            userId: m.userId,
            appUserId: m.appUserId,
            name: names.get(m.appUserId) ?? null,
            add: m.add,
            remove: m.remove,
            nick: m.nick,
            call: m.action.kind,
          })),
          groups: plan.groups,
          blocked: plan.blocked.slice(0, PREVIEW_LIMIT).map((b) => ({ ...b, sentence: BLOCK_REASONS[b.reason] })),
          roles: [...roles]
            .sort((a, b) => b.position - a.position)
            .map((r) => ({ id: r.id, name: r.name ?? r.id, position: r.position, managed: r.managed })),
          previewOnlyMappings: previewOnly[0]?.n ?? 0,
        } satisfies PlanPreview;
      });

      const startApply = Effect.fn("Reconciler.startApply")(function* (
        organizationId: string,
        guildId: string,
        actor: { readonly kind: ActorKind; readonly id: string | null },
      ) {
        const id = crypto.randomUUID();
        const rows = yield* transaction(
          "roles.startApply",
          Effect.gen(function* () {
            yield* use("roles.endPreview", (db) =>
              db
                .update(roleMappings)
                .set({ previewOnly: false })
                .where(and(eq(roleMappings.organizationId, organizationId), eq(roleMappings.guildId, guildId))),
            );
            return yield* use("roles.insertRun", (db) =>
              db.insert(reconciliationRuns).values({ id, organizationId, guildId, actorKind: actor.kind, actorId: actor.id }).returning(),
            );
          }),
        );
        yield* jobs.send(RolesApply, { runId: id }, { singletonKey: id });
        return runOf(rows[0]!);
      });

      const loadRun = Effect.fn("Reconciler.loadRun")(function* (runId: string) {
        const rows = yield* use("roles.loadRun", (db) =>
          db.select().from(reconciliationRuns).where(eq(reconciliationRuns.id, runId)).limit(1),
        );
        if (!rows[0]) return yield* new ReconciliationRunNotFound({ runId });
        return rows[0];
      });

      type AuditInsert = typeof roleAuditLog.$inferInsert;

      /** Plans the run and records its steps and refusals, in one transaction (so a crash leaves either nothing or all of it). */
      const planRun = Effect.fn("Reconciler.planRun")(function* (run: RunRow) {
        // An admin's apply plans every mapping against Discord; a verify only active mappings, against the mirror.
        const { input } = yield* loadInput(
          run.organizationId,
          run.guildId,
          run.mode === "apply" ? { includePreviewOnly: true } : { includePreviewOnly: false, source: "mirror", nicknames: run.nicknames },
        );
        const plan = planReconciliation(input);
        const refusals: AuditInsert[] = plan.blocked.flatMap((b): AuditInsert[] =>
          b.kind === "role" || b.kind === "nick"
            ? [
                {
                  organizationId: run.organizationId,
                  guildId: run.guildId,
                  runId: run.id,
                  actorKind: run.actorKind,
                  actorId: run.actorId,
                  userId: b.userId,
                  outcome: "blocked",
                  rolesBefore: [],
                  rolesAfter: b.kind === "role" ? [`${b.op === "add" ? "+" : "-"}${b.roleId}`] : [],
                  nickBefore: null,
                  nickAfter: b.kind === "nick" ? b.nick : null,
                  reason: BLOCK_REASONS[b.reason],
                },
              ]
            : [],
        );
        const steps = plan.members.map((m, seq) => ({
          runId: run.id,
          userId: m.userId,
          appUserId: m.appUserId,
          seq,
          rolesBefore: [...m.before],
          rolesAfter: [...m.roles],
          nickBefore: m.nick?.before ?? null,
          nickAfter: m.nick?.after ?? null,
          nickChanges: m.nick !== null,
          add: [...m.add],
          remove: [...m.remove],
        }));
        yield* transaction(
          "roles.planRun",
          Effect.gen(function* () {
            for (let i = 0; i < steps.length; i += 2_000) {
              const chunk = steps.slice(i, i + 2_000);
              yield* use("roles.insertSteps", (db) => db.insert(reconciliationSteps).values(chunk));
            }
            for (let i = 0; i < refusals.length; i += 2_000) {
              const chunk = refusals.slice(i, i + 2_000);
              yield* use("roles.insertRefusals", (db) => db.insert(roleAuditLog).values(chunk));
            }
            // Groups that follow Discord (discord / both authority): their memberships change here, with the plan.
            yield* use("roles.groupChanges", (db) => applyGroupChanges(db, run.organizationId, plan.groups, new Date()));
            yield* use("roles.runStarted", (db) =>
              db
                .update(reconciliationRuns)
                .set({ status: "running", total: steps.length, blocked: plan.blocked.length })
                .where(and(eq(reconciliationRuns.id, run.id), eq(reconciliationRuns.status, "queued"))),
            );
          }),
        );
      });

      /** Records the roles Guildhall's call in flight will leave on a member (see recordExpectedRoles). */
      const memberStateExpected = (guildId: string, userId: string, roles: ReadonlyArray<string>) =>
        use("roles.memberStateExpected", (db) => recordExpectedRoles(db, guildId, userId, roles));

      /** Records a change Guildhall made (or saw) on a member, `changed` stamped at `at` (ms; see recordAppliedRoles). */
      const memberStateApplied = (
        guildId: string,
        userId: string,
        roles: ReadonlyArray<string>,
        changed: ReadonlyArray<string>,
        at: number,
      ) => use("roles.memberStateApplied", (db) => recordAppliedRoles(db, guildId, userId, roles, changed, at));

      /** Nothing is expected of a member any more (Guildhall's call was refused). */
      const clearExpected = (guildId: string, userId: string) =>
        use("roles.clearExpected", (db) => clearExpectedRoles(db, guildId, userId));

      /** Records a step's outcome with its audit entry (and, when applied, the mirror's new roles) in one transaction. */
      const settle = (run: RunRow, step: StepRow, outcome: { ok: true } | { ok: false; error: DiscordPermanentError }) =>
        transaction(
          "roles.settleStep",
          Effect.gen(function* () {
            const changed = yield* use("roles.stepSettled", (db) =>
              db
                .update(reconciliationSteps)
                .set({ state: outcome.ok ? "done" : "failed" })
                .where(
                  and(
                    eq(reconciliationSteps.runId, run.id),
                    eq(reconciliationSteps.userId, step.userId),
                    inArray(reconciliationSteps.state, ["pending", "sent"]),
                  ),
                )
                .returning({ userId: reconciliationSteps.userId }),
            );
            if (changed.length === 0) return;
            yield* use("roles.stepAudit", (db) =>
              db.insert(roleAuditLog).values({
                organizationId: run.organizationId,
                guildId: run.guildId,
                runId: run.id,
                actorKind: run.actorKind,
                actorId: run.actorId,
                userId: step.userId,
                outcome: outcome.ok ? "applied" : "failed",
                rolesBefore: step.rolesBefore,
                rolesAfter: step.rolesAfter,
                nickBefore: step.nickBefore,
                nickAfter: step.nickChanges ? step.nickAfter : step.nickBefore,
                reason: changeReason(run, step),
                discordStatus: outcome.ok ? 200 : outcome.error.status,
                discordCode: outcome.ok ? null : outcome.error.code,
                discordMessage: outcome.ok ? null : outcome.error.message,
              }),
            );
            if (outcome.ok) {
              yield* memberStateApplied(run.guildId, step.userId, step.rolesAfter, [...step.add, ...step.remove], Date.now());
              yield* use("roles.mirrorUpdate", (db) =>
                db
                  .update(guildMembers)
                  .set({
                    roleIds: step.rolesAfter,
                    ...(step.nickChanges ? { nick: step.nickAfter } : {}),
                    dateModified: new Date(),
                  })
                  .where(and(eq(guildMembers.guildId, run.guildId), eq(guildMembers.userId, step.userId))),
              );
            } else if (outcome.error.code === 10007) {
              yield* use("roles.mirrorLeft", (db) =>
                db
                  .update(guildMembers)
                  .set({ dateLeft: new Date() })
                  .where(
                    and(eq(guildMembers.guildId, run.guildId), eq(guildMembers.userId, step.userId), sql`${guildMembers.dateLeft} is null`),
                  ),
              );
            }
            if (!outcome.ok) yield* clearExpected(run.guildId, step.userId);
            yield* use("roles.runProgress", (db) =>
              db
                .update(reconciliationRuns)
                .set(outcome.ok ? { done: sql`${reconciliationRuns.done} + 1` } : { failed: sql`${reconciliationRuns.failed} + 1` })
                .where(eq(reconciliationRuns.id, run.id)),
            );
          }),
        );

      /** Makes one member's call: a single PUT/DELETE for one role change, else one PATCH with the full role list (and nick). */
      const callFor = (
        run: Pick<RunRow, "id" | "guildId" | "actorKind" | "actorId">,
        step: Pick<StepRow, "userId" | "add" | "remove" | "nickChanges" | "rolesAfter" | "nickAfter">,
      ) => {
        const reason = changeReason(run, step);
        const changes = step.add.length + step.remove.length + (step.nickChanges ? 1 : 0);
        if (changes === 1 && step.add.length === 1) return discord.addMemberRole(run.guildId, step.userId, step.add[0]!, { reason });
        if (changes === 1 && step.remove.length === 1)
          return discord.removeMemberRole(run.guildId, step.userId, step.remove[0]!, { reason });
        const body =
          step.add.length + step.remove.length === 0
            ? { nick: step.nickAfter }
            : { roles: step.rolesAfter, ...(step.nickChanges ? { nick: step.nickAfter } : {}) };
        return Effect.asVoid(discord.editMember(run.guildId, step.userId, body, { reason }));
      };

      /** Whether Discord already shows the step's change (after a crash between the call and its record). */
      const alreadyApplied = (run: RunRow, step: StepRow) =>
        discord
          .member(run.guildId, step.userId)
          .pipe(
            Effect.map(
              (member) => sameSet(member.roles, step.rolesAfter) && (!step.nickChanges || (member.nick ?? null) === step.nickAfter),
            ),
          );

      const applyStep = Effect.fn("Reconciler.applyStep")(function* (run: RunRow, step: StepRow) {
        if (step.state === "sent") {
          const seen = yield* Effect.result(alreadyApplied(run, step));
          if (seen._tag === "Success" && seen.success) return yield* settle(run, step, { ok: true });
          if (seen._tag === "Failure") {
            if (seen.failure instanceof DiscordPermanentError) return yield* settle(run, step, { ok: false, error: seen.failure });
            return yield* Effect.fail(seen.failure);
          }
        } else {
          yield* memberStateExpected(run.guildId, step.userId, step.rolesAfter);
          yield* use("roles.stepSent", (db) =>
            db
              .update(reconciliationSteps)
              .set({ state: "sent" })
              .where(and(eq(reconciliationSteps.runId, run.id), eq(reconciliationSteps.userId, step.userId))),
          );
        }
        const result = yield* Effect.result(callFor(run, step));
        if (result._tag === "Success") return yield* settle(run, step, { ok: true });
        if (result.failure instanceof DiscordPermanentError) return yield* settle(run, step, { ok: false, error: result.failure });
        return yield* Effect.fail(result.failure);
      });

      const runApply = Effect.fn("Reconciler.runApply")(function* (runId: string) {
        let run = yield* loadRun(runId);
        if (run.status === "completed" || run.status === "failed") return runOf(run);
        if (run.status === "queued") {
          // A permanent refusal of the plan's reads (no access to the guild, no token) ends the run with its reason; a transient one is retried.
          const planned = yield* Effect.result(planRun(run));
          if (planned._tag === "Failure") {
            const error = planned.failure;
            if (error._tag !== "DiscordUnavailable" || error.transient) return yield* Effect.fail(error);
            yield* use("roles.runFailed", (db) =>
              db
                .update(reconciliationRuns)
                .set({ status: "failed", reason: error.message, finishedAt: new Date() })
                .where(eq(reconciliationRuns.id, runId)),
            );
            return runOf(yield* loadRun(runId));
          }
          run = yield* loadRun(runId);
        }
        const steps = yield* use("roles.openSteps", (db) =>
          db
            .select()
            .from(reconciliationSteps)
            .where(and(eq(reconciliationSteps.runId, runId), inArray(reconciliationSteps.state, ["pending", "sent"])))
            .orderBy(asc(reconciliationSteps.seq)),
        );
        // Two lanes, one per Discord bucket (member roles PUT/DELETE; member PATCH), so neither waits on the other.
        const isSingleRole = (s: StepRow) => s.add.length + s.remove.length + (s.nickChanges ? 1 : 0) === 1 && !s.nickChanges;
        const lanes = [steps.filter(isSingleRole), steps.filter((s) => !isSingleRole(s))];
        const current = run;
        yield* Effect.forEach(
          lanes,
          (lane) => Effect.forEach(lane, (step) => applyStep(current, step), { concurrency: LANES, discard: true }),
          {
            concurrency: 2,
            discard: true,
          },
        );
        yield* use("roles.runCompleted", (db) =>
          db
            .update(reconciliationRuns)
            .set({ status: "completed", finishedAt: new Date() })
            .where(and(eq(reconciliationRuns.id, runId), eq(reconciliationRuns.status, "running"))),
        );
        return runOf(yield* loadRun(runId));
      });

      const runs = Effect.fn("Reconciler.runs")(function* (organizationId: string, guildId: string, limit = 20) {
        const rows = yield* use("roles.runs", (db) =>
          db
            .select()
            .from(reconciliationRuns)
            .where(and(eq(reconciliationRuns.organizationId, organizationId), eq(reconciliationRuns.guildId, guildId)))
            .orderBy(desc(reconciliationRuns.startedAt))
            .limit(limit),
        );
        return rows.map(runOf);
      });

      const runById = Effect.fn("Reconciler.run")(function* (organizationId: string, runId: string) {
        const row = yield* loadRun(runId);
        if (row.organizationId !== organizationId) return yield* new ReconciliationRunNotFound({ runId });
        return runOf(row);
      });

      const audit = Effect.fn("Reconciler.audit")(function* (organizationId: string, guildId: string, filter: AuditFilter) {
        const limit = Math.min(filter.limit ?? 100, AUDIT_EXPORT_LIMIT);
        const rows = yield* use("roles.audit", (db) =>
          db
            .select()
            .from(roleAuditLog)
            .where(
              and(
                eq(roleAuditLog.organizationId, organizationId),
                eq(roleAuditLog.guildId, guildId),
                filter.userId ? eq(roleAuditLog.userId, filter.userId) : undefined,
                filter.runId ? eq(roleAuditLog.runId, filter.runId) : undefined,
                filter.outcome ? eq(roleAuditLog.outcome, filter.outcome) : undefined,
                filter.actorKind ? eq(roleAuditLog.actorKind, filter.actorKind) : undefined,
                filter.beforeId !== undefined ? lt(roleAuditLog.id, filter.beforeId) : undefined,
              ),
            )
            .orderBy(desc(roleAuditLog.id))
            .limit(limit),
        );
        return rows.map((r) => ({
          id: r.id,
          guildId: r.guildId,
          runId: r.runId,
          actorKind: r.actorKind,
          actorId: r.actorId,
          userId: r.userId,
          outcome: r.outcome,
          rolesBefore: r.rolesBefore,
          rolesAfter: r.rolesAfter,
          nickBefore: r.nickBefore,
          nickAfter: r.nickAfter,
          reason: r.reason,
          discordStatus: r.discordStatus,
          discordCode: r.discordCode,
          discordMessage: r.discordMessage,
          at: iso(r.at)!,
        }));
      });

      const suppressions = Effect.fn("Reconciler.suppressions")(function* (organizationId: string, guildId: string) {
        const rows = yield* use("roles.suppressions", (db) =>
          db
            .select()
            .from(roleSuppressions)
            .where(and(eq(roleSuppressions.organizationId, organizationId), eq(roleSuppressions.guildId, guildId)))
            .orderBy(desc(roleSuppressions.createdAt)),
        );
        return rows.map((r) => ({ userId: r.userId, roleId: r.roleId, createdAt: iso(r.createdAt)! }));
      });

      const clearSuppression = Effect.fn("Reconciler.clearSuppression")(function* (
        organizationId: string,
        guildId: string,
        userId: string,
        roleId: string,
      ) {
        const rows = yield* use("roles.clearSuppression", (db) =>
          db
            .delete(roleSuppressions)
            .where(
              and(
                eq(roleSuppressions.organizationId, organizationId),
                eq(roleSuppressions.guildId, guildId),
                eq(roleSuppressions.userId, userId),
                eq(roleSuppressions.roleId, roleId),
              ),
            )
            .returning({ userId: roleSuppressions.userId }),
        );
        return rows.length > 0;
      });

      const noteManualChange = Effect.fn("Reconciler.noteManualChange")(function* (
        guildId: string,
        userId: string,
        before: ReadonlyArray<string>,
        after: ReadonlyArray<string>,
      ) {
        const rows = yield* use("roles.manualMappings", (db) =>
          db
            .select({
              id: roleMappings.id,
              organizationId: roleMappings.organizationId,
              groupId: roleMappings.groupId,
              roleId: roleMappings.roleId,
              authority: roleMappings.authority,
              onManualRemoval: roleMappings.onManualRemoval,
              defaultAuthority: roleSettings.defaultAuthority,
            })
            .from(roleMappings)
            .leftJoin(roleSettings, eq(roleSettings.organizationId, roleMappings.organizationId))
            .where(eq(roleMappings.guildId, guildId)),
        );
        const organizationId = rows[0]?.organizationId;
        if (organizationId === undefined) return [];
        const found = suppressionsForManualRemoval(
          { mappings: rows, defaultAuthority: (rows[0]?.defaultAuthority ?? "app") as Authority },
          userId,
          before,
          after,
        );
        yield* insertSuppressions(organizationId, guildId, found);
        return found.map((s) => ({ userId: s.userId, roleId: s.roleId }));
      });

      /** Records moderators' removals (`remember` mappings) as suppressions of `guildId`; an existing one is kept. */
      const insertSuppressions = (
        organizationId: string,
        guildId: string,
        found: ReadonlyArray<{ readonly userId: string; readonly roleId: string }>,
      ) =>
        found.length === 0
          ? Effect.void
          : use("roles.insertSuppressions", (db) =>
              db
                .insert(roleSuppressions)
                .values(found.map((s) => ({ organizationId, guildId, userId: s.userId, roleId: s.roleId })))
                .onConflictDoNothing(),
            ).pipe(Effect.asVoid);

      const preflight = Effect.fn("Reconciler.preflight")(function* (organizationId: string, guildId: string) {
        const state = yield* discordState(guildId);
        const list = yield* mappings(organizationId, guildId);
        const byId = new Map(state.roles.map((r) => [r.id, r]));
        const problems: Array<Preflight["problems"][number]> = [];
        for (const m of list) {
          const role = byId.get(m.roleId);
          const problem =
            m.roleId === guildId
              ? ("everyone" as const)
              : role === undefined
                ? ("deleted" as const)
                : role.managed
                  ? ("managed" as const)
                  : role.position >= state.bot.highestPosition
                    ? ("at-or-above-bot" as const)
                    : null;
          if (problem === null) continue;
          const sentence = {
            everyone: BLOCK_REASONS["role-everyone"],
            deleted: BLOCK_REASONS["role-deleted"],
            managed: BLOCK_REASONS["role-managed"],
            "at-or-above-bot": BLOCK_REASONS["role-above-bot"],
          }[problem];
          problems.push({ mappingId: m.id, roleId: m.roleId, problem, sentence });
        }
        const has = (bit: bigint) => (state.bot.permissions & PERMISSIONS.ADMINISTRATOR) !== 0n || (state.bot.permissions & bit) === bit;
        return {
          guildId,
          botUserId: state.botUserId,
          manageRoles: has(PERMISSIONS.MANAGE_ROLES),
          manageNicknames: has(PERMISSIONS.MANAGE_NICKNAMES),
          highestPosition: state.bot.highestPosition,
          highestRole: state.highestRole,
          problems,
        } satisfies Preflight;
      });

      // ---------------------------------------------------------------- live, moderators, flapping, schedules

      const orgOfGuild = Effect.fn("Reconciler.orgOfGuild")(function* (guildId: string) {
        const rows = yield* use("roles.guildOrg", (db) =>
          db.select({ organizationId: guilds.organizationId }).from(guilds).where(eq(guilds.id, guildId)).limit(1),
        );
        return rows[0]?.organizationId ?? null;
      });

      /** The guild's role settings row, or the defaults when it has none. */
      const guildSettingsOf = Effect.fn("Reconciler.guildSettingsOf")(function* (guildId: string) {
        const rows = yield* use("roles.guildSettings", (db) =>
          db.select().from(roleGuildSettings).where(eq(roleGuildSettings.guildId, guildId)).limit(1),
        );
        const row = rows[0];
        return {
          verifyEnabled: row?.verifyEnabled ?? true,
          verifyMinutes: row?.verifyMinutes ?? DEFAULT_VERIFY_MINUTES,
          hardCheckEnabled: row?.hardCheckEnabled ?? true,
          maxFlips: row?.maxFlips ?? DEFAULT_MAX_FLIPS,
          discordStateAt: row?.discordStateAt ?? null,
        };
      });

      /** Guilds of `guildIds` that have at least one active (not preview-only) mapping. */
      const activeGuilds = (guildIds: ReadonlyArray<string>) =>
        guildIds.length === 0
          ? Effect.succeed(new Set<string>())
          : use("roles.activeGuilds", (db) =>
              db
                .selectDistinct({ guildId: roleMappings.guildId })
                .from(roleMappings)
                .where(and(inArray(roleMappings.guildId, [...guildIds]), eq(roleMappings.previewOnly, false))),
            ).pipe(Effect.map((rows) => new Set(rows.map((r) => r.guildId))));

      const ensureSchedules = Effect.fn("Reconciler.ensureSchedules")(function* (guildId: string) {
        const config = yield* guildSettingsOf(guildId);
        if (config.verifyEnabled)
          yield* jobs.schedule(RolesVerify, guildId, verifyCron(config.verifyMinutes), { guildId, nicknames: false });
        else yield* jobs.unschedule(RolesVerify, guildId);
        if (config.hardCheckEnabled) yield* jobs.schedule(RolesHardCheck, guildId, hardCheckCron(guildId), { guildId });
        else yield* jobs.unschedule(RolesHardCheck, guildId);
      });

      const ensureAllSchedules = Effect.fn("Reconciler.ensureAllSchedules")(function* () {
        const rows = yield* use("roles.mappedGuilds", (db) => db.selectDistinct({ guildId: roleMappings.guildId }).from(roleMappings));
        for (const row of rows) yield* ensureSchedules(row.guildId);
        return rows.length;
      });

      const scheduleOf = Effect.fn("Reconciler.schedule")(function* (_organizationId: string, guildId: string) {
        const config = yield* guildSettingsOf(guildId);
        const [verify, hard] = yield* Effect.all([jobs.schedules(RolesVerify, guildId), jobs.schedules(RolesHardCheck, guildId)]);
        return {
          guildId,
          verifyEnabled: config.verifyEnabled,
          verifyMinutes: config.verifyMinutes,
          hardCheckEnabled: config.hardCheckEnabled,
          maxFlips: config.maxFlips,
          verifyCron: verify[0]?.cron ?? null,
          hardCheckCron: hard[0]?.cron ?? null,
          discordStateAt: iso(config.discordStateAt),
        } satisfies RoleSchedule;
      });

      const setSchedule = Effect.fn("Reconciler.setSchedule")(function* (
        organizationId: string,
        guildId: string,
        input: RoleScheduleInput,
      ) {
        yield* use("roles.setGuildSettings", (db) =>
          db
            .insert(roleGuildSettings)
            .values({ guildId, ...input })
            .onConflictDoUpdate({ target: roleGuildSettings.guildId, set: { ...input, updatedAt: new Date() } }),
        );
        yield* ensureSchedules(guildId);
        return yield* scheduleOf(organizationId, guildId);
      });

      /** Starts a run that re-plans the guild against the mirror (mode `verify`), unless one is already queued or running. */
      const startVerifyRun = Effect.fn("Reconciler.startVerifyRun")(function* (
        organizationId: string,
        guildId: string,
        actor: { readonly kind: ActorKind; readonly id: string | null },
        nicknames: boolean,
      ) {
        const busy = yield* use("roles.busyRuns", (db) =>
          db
            .select({ id: reconciliationRuns.id })
            .from(reconciliationRuns)
            .where(and(eq(reconciliationRuns.guildId, guildId), inArray(reconciliationRuns.status, ["queued", "running"])))
            .limit(1),
        );
        if (busy.length > 0) return null;
        const id = crypto.randomUUID();
        yield* use("roles.insertVerifyRun", (db) =>
          db
            .insert(reconciliationRuns)
            .values({ id, organizationId, guildId, actorKind: actor.kind, actorId: actor.id, mode: "verify", nicknames }),
        );
        yield* jobs.send(RolesApply, { runId: id }, { singletonKey: id });
        return id;
      });

      const verify = Effect.fn("Reconciler.verify")(function* (guildId: string, options: { readonly nicknames: boolean }) {
        const organizationId = yield* orgOfGuild(guildId);
        if (organizationId === null) return { runId: null, summary: null } satisfies VerifyResult;
        const { input } = yield* loadInput(organizationId, guildId, {
          includePreviewOnly: false,
          source: "mirror",
          nicknames: options.nicknames,
        });
        const plan = planReconciliation(input);
        if (plan.members.length === 0 && plan.groups.length === 0) return { runId: null, summary: plan.summary } satisfies VerifyResult;
        const runId = yield* startVerifyRun(organizationId, guildId, { kind: "schedule", id: "verify" }, options.nicknames);
        return { runId, summary: plan.summary } satisfies VerifyResult;
      });

      const hardCheck = Effect.fn("Reconciler.hardCheck")(function* (guildId: string) {
        if ((yield* orgOfGuild(guildId)) === null) return;
        yield* discordState(guildId);
        yield* jobs.send(BotMembersSync, { guildId, trigger: "schedule", requestedBy: null, source: "rest" }, { singletonKey: guildId });
        yield* jobs.send(
          RolesVerify,
          { guildId, nicknames: true },
          { singletonKey: `${guildId}:hard-check`, startAfterSeconds: HARD_CHECK_VERIFY_DELAY_S },
        );
      });

      const queueMember = (guildId: string, userId: string, actor: LiveActor) =>
        jobs.send(RolesMember, { guildId, userId, actor }, { singletonKey: `${guildId}:${userId}` });

      const observeMembers = Effect.fn("Reconciler.observeMembers")(function* (guildId: string, userIds: ReadonlyArray<string>) {
        if (userIds.length === 0 || (yield* activeGuilds([guildId])).size === 0) return;
        // The roles before the event: what a manual change is told apart by (a member seen for the first time since the mapping).
        yield* use("roles.observeMembers", (db) =>
          db.execute(sql`insert into ${roleMemberStates} (guild_id, user_id, known_role_ids)
            select guild_id, user_id, role_ids from ${guildMembers}
            where guild_id = ${guildId} and user_id in (${sql.join(
              userIds.map((id) => sql`${id}`),
              sql`, `,
            )}) and date_left is null
            on conflict do nothing`),
        );
      });

      const queueLive = Effect.fn("Reconciler.queueLive")(function* (guildId: string, userIds: ReadonlyArray<string>) {
        if (userIds.length === 0 || (yield* activeGuilds([guildId])).size === 0) return 0;
        for (const userId of new Set(userIds)) yield* queueMember(guildId, userId, { kind: "live", id: null });
        return new Set(userIds).size;
      });

      const queueUsers = Effect.fn("Reconciler.queueUsers")(function* (
        organizationId: string,
        appUserIds: ReadonlyArray<string>,
        actor: LiveActor,
      ) {
        if (appUserIds.length === 0) return 0;
        const guildRows = yield* use("roles.orgGuilds", (db) =>
          db.select({ id: guilds.id }).from(guilds).where(eq(guilds.organizationId, organizationId)),
        );
        const active = yield* activeGuilds(guildRows.map((g) => g.id));
        if (active.size === 0) return 0;
        const unique = [...new Set(appUserIds)];
        if (unique.length > LIVE_BATCH_MAX) {
          // A bulk change: one run per guild re-plans everyone at once, cheaper than a job per member.
          for (const guildId of active) yield* startVerifyRun(organizationId, guildId, actor, false);
          return unique.length;
        }
        const linked = yield* use("roles.linkedUsers", (db) =>
          db
            .select({ discordId: users.discordId })
            .from(users)
            .where(and(inArray(users.id, unique), isNotNull(users.discordId))),
        );
        let queued = 0;
        for (const guildId of active)
          for (const row of linked) {
            yield* queueMember(guildId, row.discordId!, actor);
            queued++;
          }
        return queued;
      });

      /** Records a role change time of a member and flags them when the changes within the hour exceed `maxFlips`; true when flagged now. */
      const noteFlip = Effect.fn("Reconciler.noteFlip")(function* (
        organizationId: string,
        guildId: string,
        userId: string,
        now: number,
        actor: LiveActor,
        roles: { readonly before: ReadonlyArray<string>; readonly after: ReadonlyArray<string> },
      ) {
        const { maxFlips } = yield* guildSettingsOf(guildId);
        const rows = yield* use("roles.flips", (db) =>
          db
            .select({ flips: roleMemberStates.flips, flaggedAt: roleMemberStates.flaggedAt })
            .from(roleMemberStates)
            .where(and(eq(roleMemberStates.guildId, guildId), eq(roleMemberStates.userId, userId)))
            .limit(1),
        );
        const flips = [...(rows[0]?.flips ?? []).filter((t) => now - t < FLAP_WINDOW_MS), now];
        const flagNow = rows[0]?.flaggedAt == null && isFlapping(flips, { maxFlips });
        yield* use("roles.storeFlips", (db) =>
          db
            .insert(roleMemberStates)
            .values({ guildId, userId, flips })
            .onConflictDoUpdate({
              target: [roleMemberStates.guildId, roleMemberStates.userId],
              set: {
                flips,
                ...(flagNow ? { flaggedAt: new Date(now), flagReason: flapReason(flips.length, maxFlips) } : {}),
                updatedAt: new Date(),
              },
            }),
        );
        if (flagNow)
          yield* use("roles.flagAudit", (db) =>
            db.insert(roleAuditLog).values({
              organizationId,
              guildId,
              runId: null,
              actorKind: actor.kind,
              actorId: actor.id,
              userId,
              outcome: "blocked",
              rolesBefore: [...roles.before],
              rolesAfter: [...roles.after],
              nickBefore: null,
              nickAfter: null,
              reason: flapReason(flips.length, maxFlips),
            }),
          );
        return flagNow;
      });

      const reconcileMember = Effect.fn("Reconciler.reconcileMember")(function* (guildId: string, userId: string, actor: LiveActor) {
        const organizationId = yield* orgOfGuild(guildId);
        if (organizationId === null) return { outcome: "no-mappings", manual: false, suppressed: 0 } satisfies LiveResult;
        const mappingRows = yield* use("roles.liveMappings", (db) =>
          db
            .select({
              id: roleMappings.id,
              groupId: roleMappings.groupId,
              roleId: roleMappings.roleId,
              authority: roleMappings.authority,
              onManualRemoval: roleMappings.onManualRemoval,
              previewOnly: roleMappings.previewOnly,
            })
            .from(roleMappings)
            .where(eq(roleMappings.guildId, guildId)),
        );
        // A new mapping's first run is preview-only: live never applies it.
        const active = mappingRows.filter((m) => !m.previewOnly);
        const [memberRows, stateRows] = yield* Effect.all([
          use("roles.liveMember", (db) =>
            db
              .select({ roleIds: guildMembers.roleIds, dateLeft: guildMembers.dateLeft })
              .from(guildMembers)
              .where(and(eq(guildMembers.guildId, guildId), eq(guildMembers.userId, userId)))
              .limit(1),
          ),
          use("roles.liveState", (db) =>
            db
              .select()
              .from(roleMemberStates)
              .where(and(eq(roleMemberStates.guildId, guildId), eq(roleMemberStates.userId, userId)))
              .limit(1),
          ),
        ]);
        const member = memberRows[0];
        if (member === undefined || member.dateLeft !== null)
          return { outcome: "not-in-guild", manual: false, suppressed: 0 } satisfies LiveResult;
        const current = member.roleIds;
        const state = stateRows[0];
        const now = Date.now();

        // 1. What changed since Guildhall last looked, and whether it was Guildhall.
        const known = state?.knownRoleIds ?? current;
        const own = state?.expectedRoleIds != null && sameSet(state.expectedRoleIds, current);
        const mapped = new Set(mappingRows.map((m) => m.roleId));
        const changed = own ? [] : symmetricDifference(known, current).filter((r) => mapped.has(r));
        let suppressedCount = 0;
        if (changed.length > 0) {
          // Someone else (a moderator) changed mapped roles: stamp them (the Discord side of `both`), remember removals under `remember`.
          const config = yield* settings(organizationId);
          const found = suppressionsForManualRemoval(
            { mappings: active, defaultAuthority: config.defaultAuthority },
            userId,
            known,
            current,
          );
          yield* insertSuppressions(organizationId, guildId, found);
          suppressedCount = found.length;
        }
        yield* memberStateApplied(guildId, userId, current, changed, now);
        if (changed.length > 0) yield* noteFlip(organizationId, guildId, userId, now, actor, { before: known, after: current });
        if (active.length === 0)
          return { outcome: "no-mappings", manual: changed.length > 0, suppressed: suppressedCount } satisfies LiveResult;

        // 2. Re-plan this member only, against the mirror.
        const { input } = yield* loadInput(organizationId, guildId, { includePreviewOnly: false, source: "mirror", only: [userId] });
        if (input.actual.flagged.includes(userId))
          return { outcome: "flagged", manual: changed.length > 0, suppressed: suppressedCount } satisfies LiveResult;
        const plan = planReconciliation(input, { only: [userId] });
        const refusals: Array<typeof roleAuditLog.$inferInsert> = plan.blocked.flatMap((b) =>
          (b.kind === "role" || b.kind === "nick") && !LIVE_SILENT_REASONS.has(b.reason)
            ? [
                {
                  organizationId,
                  guildId,
                  runId: null,
                  actorKind: actor.kind,
                  actorId: actor.id,
                  userId: b.userId,
                  outcome: "blocked" as const,
                  rolesBefore: [...current],
                  rolesAfter: b.kind === "role" ? [`${b.op === "add" ? "+" : "-"}${b.roleId}`] : [],
                  nickBefore: null,
                  nickAfter: b.kind === "nick" ? b.nick : null,
                  reason: BLOCK_REASONS[b.reason],
                },
              ]
            : [],
        );
        if (refusals.length > 0) yield* use("roles.liveRefusals", (db) => db.insert(roleAuditLog).values(refusals));
        yield* use("roles.liveGroupChanges", (db) => applyGroupChanges(db, organizationId, plan.groups, new Date(now)));
        const change = plan.members[0];
        if (change === undefined)
          return { outcome: "nothing", manual: changed.length > 0, suppressed: suppressedCount } satisfies LiveResult;

        // 3. Apply it: one call, recorded as expected first so its echo is known as Guildhall's own.
        const step = {
          userId,
          add: [...change.add],
          remove: [...change.remove],
          nickChanges: change.nick !== null,
          rolesAfter: [...change.roles],
          nickAfter: change.nick?.after ?? null,
        };
        const pseudoRun = { id: "live", guildId, actorKind: actor.kind, actorId: actor.id };
        yield* memberStateExpected(guildId, userId, step.rolesAfter);
        const result = yield* Effect.result(callFor(pseudoRun, step));
        if (result._tag === "Failure" && !(result.failure instanceof DiscordPermanentError)) return yield* Effect.fail(result.failure);
        const error = result._tag === "Failure" ? (result.failure as DiscordPermanentError) : null;
        yield* transaction(
          "roles.liveSettle",
          Effect.gen(function* () {
            yield* use("roles.liveAudit", (db) =>
              db.insert(roleAuditLog).values({
                organizationId,
                guildId,
                runId: null,
                actorKind: actor.kind,
                actorId: actor.id,
                userId,
                outcome: error === null ? "applied" : "failed",
                rolesBefore: [...change.before],
                rolesAfter: step.rolesAfter,
                nickBefore: change.nick?.before ?? null,
                nickAfter: change.nick?.after ?? change.nick?.before ?? null,
                reason: changeReason(pseudoRun, step),
                discordStatus: error === null ? 200 : error.status,
                discordCode: error === null ? null : error.code,
                discordMessage: error === null ? null : error.message,
              }),
            );
            if (error === null) {
              yield* memberStateApplied(guildId, userId, step.rolesAfter, [...step.add, ...step.remove], Date.now());
              yield* use("roles.liveMirror", (db) =>
                db
                  .update(guildMembers)
                  .set({ roleIds: step.rolesAfter, ...(step.nickChanges ? { nick: step.nickAfter } : {}), dateModified: new Date() })
                  .where(and(eq(guildMembers.guildId, guildId), eq(guildMembers.userId, userId))),
              );
            } else {
              yield* clearExpected(guildId, userId);
            }
          }),
        );
        if (error === null && step.add.length + step.remove.length > 0)
          yield* noteFlip(organizationId, guildId, userId, Date.now(), actor, { before: change.before, after: step.rolesAfter });
        return {
          outcome: error === null ? "applied" : "failed",
          manual: changed.length > 0,
          suppressed: suppressedCount,
        } satisfies LiveResult;
      });

      const flagged = Effect.fn("Reconciler.flagged")(function* (_organizationId: string, guildId: string) {
        const rows = yield* use("roles.flagged", (db) =>
          db
            .select({
              userId: roleMemberStates.userId,
              username: guildMembers.username,
              flaggedAt: roleMemberStates.flaggedAt,
              reason: roleMemberStates.flagReason,
              flips: roleMemberStates.flips,
            })
            .from(roleMemberStates)
            .leftJoin(
              guildMembers,
              and(eq(guildMembers.guildId, roleMemberStates.guildId), eq(guildMembers.userId, roleMemberStates.userId)),
            )
            .where(and(eq(roleMemberStates.guildId, guildId), isNotNull(roleMemberStates.flaggedAt)))
            .orderBy(desc(roleMemberStates.flaggedAt)),
        );
        return rows.map(
          (r): FlaggedMember => ({
            userId: r.userId,
            username: r.username,
            flaggedAt: iso(r.flaggedAt)!,
            reason: r.reason ?? "",
            flips: r.flips.length,
          }),
        );
      });

      const clearFlag = Effect.fn("Reconciler.clearFlag")(function* (
        _organizationId: string,
        guildId: string,
        userId: string,
        actor: LiveActor,
      ) {
        const rows = yield* use("roles.clearFlag", (db) =>
          db
            .update(roleMemberStates)
            .set({ flaggedAt: null, flagReason: null, flips: [], updatedAt: new Date() })
            .where(and(eq(roleMemberStates.guildId, guildId), eq(roleMemberStates.userId, userId), isNotNull(roleMemberStates.flaggedAt)))
            .returning({ userId: roleMemberStates.userId }),
        );
        if (rows.length === 0) return false;
        // Someone looked: the member is planned again.
        yield* queueMember(guildId, userId, actor);
        return true;
      });

      return Reconciler.of({
        settings,
        updateSettings,
        mappings,
        createMapping,
        updateMapping,
        deleteMapping,
        loadInput,
        preview,
        startApply,
        runApply,
        runs,
        run: runById,
        audit,
        suppressions,
        clearSuppression,
        noteManualChange,
        preflight,
        schedule: scheduleOf,
        setSchedule,
        ensureSchedules,
        ensureAllSchedules,
        verify,
        hardCheck,
        observeMembers,
        queueLive,
        queueUsers,
        reconcileMember,
        flagged,
        clearFlag,
      });
    }),
  );
}
