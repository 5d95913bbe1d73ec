/**
 * Guildhall's relational schema (Drizzle, Postgres dialect).
 *
 * Conventions: snowflakes (Discord ids) are `text`, never numbers, because they exceed 2^53;
 * app ids are UUID strings; every timestamp is `timestamptz`. Column names are snake_case
 * (the Drizzle instance is created with `casing: "snake_case"`).
 *
 * The four auth tables (`users`, `sessions`, `accounts`, `verifications`) follow the shape
 * better-auth's Drizzle adapter expects; `users.discordId` is Guildhall's own addition.
 */
import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

const createdAt = () => timestamp({ withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp({ withTimezone: true }).notNull().defaultNow();

// ---------------------------------------------------------------- organizations and people

export const organizations = pgTable("organizations", {
  id: text().primaryKey(),
  name: text().notNull(),
  slug: text().notNull().unique(),
  createdAt: createdAt(),
});

/** App users. `discordId` (a snowflake) links a user to Discord; null means "not linked". */
export const users = pgTable(
  "users",
  {
    id: text().primaryKey(),
    name: text().notNull(),
    email: text().notNull().unique(),
    emailVerified: boolean().notNull().default(false),
    image: text(),
    discordId: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("users_discord_id_key").on(t.discordId)],
);

export const sessions = pgTable(
  "sessions",
  {
    id: text().primaryKey(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    token: text().notNull().unique(),
    ipAddress: text(),
    userAgent: text(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("sessions_user_id_idx").on(t.userId)],
);

export const accounts = pgTable(
  "accounts",
  {
    id: text().primaryKey(),
    accountId: text().notNull(),
    providerId: text().notNull(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    accessToken: text(),
    refreshToken: text(),
    idToken: text(),
    accessTokenExpiresAt: timestamp({ withTimezone: true }),
    refreshTokenExpiresAt: timestamp({ withTimezone: true }),
    scope: text(),
    password: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("accounts_user_id_idx").on(t.userId)],
);

export const verifications = pgTable("verifications", {
  id: text().primaryKey(),
  identifier: text().notNull(),
  value: text().notNull(),
  expiresAt: timestamp({ withTimezone: true }).notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** Staff: a user's place in an organization. `role` is `admin` or `staff`. */
export const staff = pgTable(
  "staff",
  {
    id: text().primaryKey(),
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text({ enum: ["admin", "staff"] })
      .notNull()
      .default("staff"),
    title: text(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("staff_org_user_key").on(t.organizationId, t.userId)],
);

// ---------------------------------------------------------------- Discord side

/** A Discord guild linked to an organization. `id` is the guild's snowflake. */
export const guilds = pgTable(
  "guilds",
  {
    id: text().primaryKey(),
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    name: text().notNull(),
    icon: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("guilds_org_idx").on(t.organizationId)],
);

/**
 * The mirror of a guild's members (filled by member sync). `dateLeft` is null while present;
 * `stayStartedAt` is when the current stay was first seen (a rejoin restarts it); past stays
 * are in `guild_membership_history`.
 *
 * No foreign key to `guilds`, on purpose: Postgres checks a foreign key once per inserted row
 * (3 µs a row here, more than the insert itself), and a full sync inserts up to a million
 * rows. Writers check the guild once per statement instead, and the `guilds_delete_members`
 * trigger (migration 0002) deletes a guild's members with the guild.
 */
export const guildMembers = pgTable(
  "guild_members",
  {
    guildId: text().notNull(),
    userId: text().notNull(),
    username: text().notNull(),
    globalName: text(),
    nick: text(),
    avatar: text(),
    roleIds: text().array().notNull().default(sql`'{}'::text[]`),
    joinedAt: timestamp({ withTimezone: true }),
    isBot: boolean().notNull().default(false),
    pending: boolean().notNull().default(false),
    premiumSince: timestamp({ withTimezone: true }),
    communicationDisabledUntil: timestamp({ withTimezone: true }),
    dateCreated: createdAt(),
    dateModified: updatedAt(),
    dateLeft: timestamp({ withTimezone: true }),
    stayStartedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.guildId, t.userId] }),
    // Only members who left: present members (most rows) are found through the primary key,
    // and a sync's inserts do not touch this index.
    index("guild_members_left_idx").on(t.guildId).where(sql`date_left is not null`),
  ],
);

export type PresenceStatus = "online" | "idle" | "dnd" | "offline";

/** One activity as Discord reports it (type 0 playing, 1 streaming, 2 listening, 3 watching, 4 custom, 5 competing). */
export interface StoredActivity {
  readonly name: string;
  readonly type: number;
  readonly state?: string | null;
  readonly details?: string | null;
}

/** Per-platform status, as in Discord's `client_status`. */
export interface StoredClientStatus {
  readonly desktop?: PresenceStatus;
  readonly mobile?: PresenceStatus;
  readonly web?: PresenceStatus;
}

/**
 * The latest presence per guild and user. `lastSeenAt` is the last time the user was seen
 * anything but offline (the moment they went offline, for someone offline now).
 */
export const presences = pgTable(
  "presences",
  {
    guildId: text()
      .notNull()
      .references(() => guilds.id, { onDelete: "cascade" }),
    userId: text().notNull(),
    status: text({ enum: ["online", "idle", "dnd", "offline"] }).notNull(),
    customStatus: text(),
    activities: jsonb().$type<ReadonlyArray<StoredActivity>>().notNull().default([]),
    clientStatus: jsonb().$type<StoredClientStatus>().notNull().default({}),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
    lastSeenAt: timestamp({ withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.guildId, t.userId] })],
);

/**
 * Append-only presence history: one row per presence update received. Its `id` is the
 * cursor live subscribers resume from; samples older than the retention window are pruned.
 */
export const presenceSamples = pgTable(
  "presence_samples",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    guildId: text().notNull(),
    userId: text().notNull(),
    status: text({ enum: ["online", "idle", "dnd", "offline"] }).notNull(),
    customStatus: text(),
    activities: jsonb().$type<ReadonlyArray<StoredActivity>>().notNull().default([]),
    clientStatus: jsonb().$type<StoredClientStatus>().notNull().default({}),
    observedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    index("presence_samples_guild_id_idx").on(t.guildId, t.id),
    index("presence_samples_user_time_idx").on(t.guildId, t.userId, t.observedAt),
  ],
);

/** The bot's last reported health, one row per shard. */
export const botHeartbeats = pgTable("bot_heartbeats", {
  shardId: integer().primaryKey(),
  shardCount: integer().notNull(),
  status: text().notNull(),
  connected: boolean().notNull(),
  pingMs: integer(),
  guildIds: text().array().notNull().default(sql`'{}'::text[]`),
  lastEventAt: timestamp({ withTimezone: true }),
  startedAt: timestamp({ withTimezone: true }).notNull(),
  reportedAt: timestamp({ withTimezone: true }).notNull(),
  /** A gateway close the bot will not recover from (4004, 4014, ...) and what to do; null while healthy. */
  fatalCode: integer(),
  fatalReason: text(),
});

// ---------------------------------------------------------------- member sync

/** A guild's roles as Discord reports them. `permissions` is Discord's bitfield as a decimal string. */
export const guildRoles = pgTable(
  "guild_roles",
  {
    guildId: text()
      .notNull()
      .references(() => guilds.id, { onDelete: "cascade" }),
    id: text().notNull(),
    name: text().notNull(),
    color: integer().notNull().default(0),
    position: integer().notNull().default(0),
    managed: boolean().notNull().default(false),
    permissions: text().notNull().default("0"),
    dateCreated: createdAt(),
    dateModified: updatedAt(),
    dateDeleted: timestamp({ withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.guildId, t.id] })],
);

/**
 * A member's past stays in a guild: one row per stay that ended (written when the member is
 * marked left). The current stay is the `guild_members` row itself (`stayStartedAt`,
 * `joinedAt`), so a first sync writes no history and a rejoin keeps the earlier stays here.
 */
export const guildMembershipHistory = pgTable(
  "guild_membership_history",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    guildId: text().notNull(),
    userId: text().notNull(),
    joinedAt: timestamp({ withTimezone: true }),
    firstSeenAt: timestamp({ withTimezone: true }).notNull(),
    leftAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index("membership_history_member_idx").on(t.guildId, t.userId, t.id)],
);

export type SyncTrigger = "command" | "button" | "schedule" | "rest" | "api";
/**
 * A run's status. `awaiting_confirmation`: the snapshot was complete, but it would mark more
 * of the guild's present members left than the guild's mass-leave guard allows, so nobody is
 * marked left until an admin confirms (then `completed`) or discards it (then `discarded`; a
 * later sync of the guild also discards it).
 */
export type SyncStatus = "running" | "completed" | "incomplete" | "failed" | "awaiting_confirmation" | "discarded";

/** Every {@link SyncStatus}. */
export const SYNC_STATUSES = [
  "running",
  "completed",
  "incomplete",
  "failed",
  "awaiting_confirmation",
  "discarded",
] as const satisfies ReadonlyArray<SyncStatus>;

/**
 * One full member sync of a guild. At most one runs per guild at a time (partial unique
 * index). While it runs, the counts here are a progress report refreshed every few hundred ms
 * from `member_sync_chunks` (the chunks never update this row, so chunks in flight together
 * never wait on it); `complete` writes the final ones. `reason` says why a run did not complete.
 */
export const memberSyncRuns = pgTable(
  "member_sync_runs",
  {
    id: text().primaryKey(),
    guildId: text()
      .notNull()
      .references(() => guilds.id, { onDelete: "cascade" }),
    trigger: text({ enum: ["command", "button", "schedule", "rest", "api"] }).notNull(),
    source: text({ enum: ["gateway", "rest", "legacy"] }).notNull(),
    requestedBy: text(),
    status: text({ enum: SYNC_STATUSES }).notNull().default("running"),
    nonce: text(),
    chunkCount: integer(),
    chunksReceived: integer().notNull().default(0),
    rowsReceived: integer().notNull().default(0),
    created: integer().notNull().default(0),
    updated: integer().notNull().default(0),
    rejoined: integer().notNull().default(0),
    unchanged: integer().notNull().default(0),
    markedLeft: integer().notNull().default(0),
    /** Members the snapshot found gone but the mass-leave guard held back (the rows of member_sync_pending_leaves). */
    pendingLeft: integer().notNull().default(0),
    /** The guild's present members when the guard weighed the snapshot (null when it did not need to). */
    presentMembers: integer(),
    /** Who confirmed or discarded a held snapshot (an app user id), and when. */
    decidedBy: text(),
    decidedAt: timestamp({ withTimezone: true }),
    reason: text(),
    startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    heartbeatAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex("member_sync_runs_one_running").on(t.guildId).where(sql`status = 'running'`),
    index("member_sync_runs_guild_idx").on(t.guildId, t.startedAt),
  ],
);

/**
 * The chunks of a run that arrived, with what each changed: a snapshot is complete when every
 * index 0..chunk_count-1 is here with the same chunk_count. `userIds` are the members the chunk
 * carried, so `complete` can tell who was absent from the snapshot; the rows are deleted when
 * the run ends.
 */
export const memberSyncChunks = pgTable(
  "member_sync_chunks",
  {
    runId: text()
      .notNull()
      .references(() => memberSyncRuns.id, { onDelete: "cascade" }),
    chunkIndex: integer().notNull(),
    /** Null while unknown (REST paging). */
    chunkCount: integer(),
    members: integer().notNull(),
    created: integer().notNull().default(0),
    updated: integer().notNull().default(0),
    rejoined: integer().notNull().default(0),
    userIds: text().array().notNull().default(sql`'{}'::text[]`),
    appliedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.chunkIndex] })],
);

/**
 * The verdict a held snapshot (a run `awaiting_confirmation`) would apply: the members it found
 * gone, kept so that an admin's confirmation marks exactly them left (the ones no live event
 * has touched since), never a later guess. Deleted when the run is confirmed or discarded.
 */
export const memberSyncPendingLeaves = pgTable(
  "member_sync_pending_leaves",
  {
    runId: text()
      .notNull()
      .references(() => memberSyncRuns.id, { onDelete: "cascade" }),
    userId: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.userId] })],
);

/** The share of present members (percent) a completed snapshot may mark left without an admin's confirmation, unless a guild sets its own. */
export const DEFAULT_LEAVE_GUARD_PERCENT = 10;

/**
 * Per-guild member sync settings: the schedule, a role (besides Manage Guild) allowed to run
 * /sync_members, and the mass-leave guard (the share of present members, in percent, a
 * completed snapshot may mark left before it waits for an admin's confirmation).
 */
export const guildSettings = pgTable("guild_settings", {
  guildId: text()
    .primaryKey()
    .references(() => guilds.id, { onDelete: "cascade" }),
  syncIntervalMinutes: integer(),
  syncAdminRoleId: text(),
  leaveGuardPercent: integer().notNull().default(DEFAULT_LEAVE_GUARD_PERCENT),
  updatedAt: updatedAt(),
});

// ---------------------------------------------------------------- access: seen guilds, API tokens

/**
 * Guilds the bot reports being in (its heartbeat), whether or not an organization installed
 * Guildhall there. A guild belongs to an organization only through `guilds` (an install, or the
 * demo's seeding); one seen here without a `guilds` row is "not installed", for an admin to
 * claim. `id` is the guild's snowflake.
 */
export const seenGuilds = pgTable("seen_guilds", {
  id: text().primaryKey(),
  name: text().notNull(),
  icon: text(),
  firstSeenAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  lastSeenAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/**
 * API tokens other apps call the API with (`Authorization: Bearer gh_...`). Only the SHA-256 of
 * the token is kept (`hash`, hex); `prefix` (its first characters) lets people tell tokens
 * apart. `scope` is `read` (staff queries and subscriptions) or `read_write` (also the write
 * procedures); a token never manages tokens or integrations. `revokedAt` set: refused at once.
 */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: text().primaryKey(),
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    name: text().notNull(),
    scope: text({ enum: ["read", "read_write"] }).notNull(),
    prefix: text().notNull(),
    hash: text().notNull(),
    createdBy: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    lastUsedAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
  },
  (t) => [uniqueIndex("api_tokens_hash_key").on(t.hash), index("api_tokens_org_idx").on(t.organizationId)],
);

// ---------------------------------------------------------------- role reconciliation

/** Who owns a mapping's truth (see @guildhall/roles `Authority`). */
export const ROLE_AUTHORITIES = ["app", "discord", "both", "add_only"] as const;
/** What a moderator's manual removal of an app-given role leads to (see @guildhall/roles `ManualRemovalPolicy`). */
export const MANUAL_REMOVAL_POLICIES = ["restore", "remember"] as const;
/** Who or what started a reconciliation or a change. */
export const ROLE_ACTOR_KINDS = ["user", "schedule", "live", "external_app"] as const;
/** A reconciliation run's status: `queued` (job sent), `running`, `completed`, `failed`. */
export const RECONCILIATION_STATUSES = ["queued", "running", "completed", "failed"] as const;

/** Per-organization role settings: the default authority of mappings that set none, and the nickname template (null: nicknames unmanaged). */
export const roleSettings = pgTable("role_settings", {
  organizationId: text()
    .primaryKey()
    .references(() => organizations.id, { onDelete: "cascade" }),
  defaultAuthority: text({ enum: ROLE_AUTHORITIES }).notNull().default("app"),
  nicknameTemplate: text(),
  updatedAt: updatedAt(),
});

/** An app group (the app side of role mappings). `priority`: higher wins for the nickname's `{group}`. */
export const groups = pgTable(
  "groups",
  {
    id: text().primaryKey(),
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    name: text().notNull(),
    priority: integer().notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("groups_org_name_key").on(t.organizationId, t.name)],
);

/** A user's membership of a group. `changedAt` is when it was added (the `both` authority's app-side timestamp). */
export const groupMembers = pgTable(
  "group_members",
  {
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    groupId: text()
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    addedAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index("group_members_user_idx").on(t.userId)],
);

/**
 * When a user's membership of a group last changed (added or removed): the app side of a `both`
 * mapping's timestamps (see @guildhall/roles `BothTimestamps`). A row outlives the membership,
 * so a removal keeps its time.
 */
export const groupMemberChanges = pgTable(
  "group_member_changes",
  {
    groupId: text()
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    changedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] })],
);

/**
 * A mapping group <-> Discord role in one guild. `authority` null: the organization's default.
 * `previewOnly`: a new mapping is only previewed until an admin applies a plan with it once.
 */
export const roleMappings = pgTable(
  "role_mappings",
  {
    id: text().primaryKey(),
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    guildId: text()
      .notNull()
      .references(() => guilds.id, { onDelete: "cascade" }),
    groupId: text()
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    roleId: text().notNull(),
    authority: text({ enum: ROLE_AUTHORITIES }),
    onManualRemoval: text({ enum: MANUAL_REMOVAL_POLICIES }).notNull().default("restore"),
    previewOnly: boolean().notNull().default(true),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("role_mappings_group_role_key").on(t.guildId, t.groupId, t.roleId),
    index("role_mappings_org_idx").on(t.organizationId),
  ],
);

/** A remembered manual removal: the role stays off the member until an admin clears the entry. */
export const roleSuppressions = pgTable(
  "role_suppressions",
  {
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    guildId: text()
      .notNull()
      .references(() => guilds.id, { onDelete: "cascade" }),
    userId: text().notNull(),
    roleId: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.guildId, t.userId, t.roleId] })],
);

/** A reconciliation run's mode: `apply` (an admin's: every mapping, preview-only ones included, Discord read for the plan) or `verify` (a schedule's: active mappings only, planned against the mirror). */
export const RECONCILIATION_MODES = ["apply", "verify"] as const;

/**
 * Per-guild role reconciliation settings: the verify schedule (every `verifyMinutes`, against
 * the mirror), the weekly hard check (a REST member sync, then a verify with nicknames), the
 * flapping threshold (more than `maxFlips` role changes of one member within an hour flags
 * them), and the last Discord state read for the guild (owner, roles, the bot's position and
 * permissions), which live re-plans and verifies plan against without reading Discord.
 */
export const roleGuildSettings = pgTable("role_guild_settings", {
  guildId: text()
    .primaryKey()
    .references(() => guilds.id, { onDelete: "cascade" }),
  verifyEnabled: boolean().notNull().default(true),
  verifyMinutes: integer().notNull().default(5),
  hardCheckEnabled: boolean().notNull().default(true),
  maxFlips: integer().notNull().default(6),
  discordState: jsonb().$type<StoredDiscordState>(),
  discordStateAt: timestamp({ withTimezone: true }),
  updatedAt: updatedAt(),
});

/** The Discord state a plan needs, as `role_guild_settings.discordState` keeps it (positions, permissions as a decimal string). */
export interface StoredDiscordState {
  readonly ownerId: string;
  readonly botUserId: string;
  readonly highestPosition: number;
  readonly permissions: string;
  readonly highestRole: { readonly id: string; readonly name: string; readonly position: number; readonly managed: boolean } | null;
  readonly roles: ReadonlyArray<{ readonly id: string; readonly name: string; readonly position: number; readonly managed: boolean }>;
}

/**
 * What role reconciliation knows of one member beyond the mirror:
 * - `knownRoleIds`: the roles Guildhall last saw or set (a GUILD_MEMBER_UPDATE that differs from
 *   them, and is not Guildhall's own change, is someone else's: a moderator's);
 * - `expectedRoleIds`: the roles Guildhall's call in flight will leave (recorded just before the
 *   call, so the event echoing it is recognised even before the call's answer is recorded);
 * - `roleChangedAt`: per role id, when the role last changed on the member (ms since the epoch):
 *   the Discord side of a `both` mapping's timestamps;
 * - `flips`: the times (ms) of the member's role changes within the last hour (flapping);
 * - `flaggedAt` / `flagReason`: flagged as flapping: left alone until an admin clears it.
 */
export const roleMemberStates = pgTable(
  "role_member_states",
  {
    guildId: text()
      .notNull()
      .references(() => guilds.id, { onDelete: "cascade" }),
    userId: text().notNull(),
    knownRoleIds: text().array(),
    expectedRoleIds: text().array(),
    roleChangedAt: jsonb().$type<Record<string, number>>().notNull().default({}),
    flips: jsonb().$type<ReadonlyArray<number>>().notNull().default([]),
    flaggedAt: timestamp({ withTimezone: true }),
    flagReason: text(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.guildId, t.userId] }),
    index("role_member_states_flagged_idx").on(t.guildId).where(sql`flagged_at is not null`),
  ],
);

/** One reconciliation (apply) of a guild: its status and counts, refreshed as it goes (the progress the SPA shows). */
export const reconciliationRuns = pgTable(
  "reconciliation_runs",
  {
    id: text().primaryKey(),
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    guildId: text()
      .notNull()
      .references(() => guilds.id, { onDelete: "cascade" }),
    status: text({ enum: RECONCILIATION_STATUSES }).notNull().default("queued"),
    mode: text({ enum: RECONCILIATION_MODES }).notNull().default("apply"),
    /** Whether the plan manages nicknames (a 5-minute verify leaves them to the weekly sync). */
    nicknames: boolean().notNull().default(true),
    actorKind: text({ enum: ROLE_ACTOR_KINDS }).notNull(),
    actorId: text(),
    /** Members with changes (= calls to make). */
    total: integer().notNull().default(0),
    done: integer().notNull().default(0),
    failed: integer().notNull().default(0),
    blocked: integer().notNull().default(0),
    reason: text(),
    startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp({ withTimezone: true }),
  },
  (t) => [index("reconciliation_runs_guild_idx").on(t.guildId, t.startedAt)],
);

/**
 * The durable steps of a run, one per member with changes: `pending`, then `sent` (recorded
 * just before the call), then `done` or `failed` (after it). A run that resumes after a crash
 * re-reads a `sent` member from Discord before doing anything, so no change is made twice.
 */
export const reconciliationSteps = pgTable(
  "reconciliation_steps",
  {
    runId: text()
      .notNull()
      .references(() => reconciliationRuns.id, { onDelete: "cascade" }),
    userId: text().notNull(),
    appUserId: text().notNull(),
    seq: integer().notNull(),
    state: text({ enum: ["pending", "sent", "done", "failed"] })
      .notNull()
      .default("pending"),
    rolesBefore: text().array().notNull(),
    rolesAfter: text().array().notNull(),
    nickBefore: text(),
    nickAfter: text(),
    /** Whether the nickname changes (nickAfter null then means "clear it"). */
    nickChanges: boolean().notNull().default(false),
    add: text().array().notNull(),
    remove: text().array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.userId] }), index("reconciliation_steps_run_idx").on(t.runId, t.state, t.seq)],
);

/**
 * Guildhall's own audit log of role changes (append-only): one row per change made, failed or
 * refused. `outcome`: `applied`, `failed` (Discord refused: `discordStatus`/`discordCode`) or
 * `blocked` (the planner refused: `reason`).
 */
export const roleAuditLog = pgTable(
  "role_audit_log",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    guildId: text().notNull(),
    runId: text(),
    actorKind: text({ enum: ROLE_ACTOR_KINDS }).notNull(),
    actorId: text(),
    userId: text().notNull(),
    outcome: text({ enum: ["applied", "failed", "blocked"] }).notNull(),
    rolesBefore: text().array().notNull(),
    rolesAfter: text().array().notNull(),
    nickBefore: text(),
    nickAfter: text(),
    reason: text().notNull(),
    discordStatus: integer(),
    discordCode: integer(),
    discordMessage: text(),
    at: createdAt(),
  },
  (t) => [index("role_audit_log_guild_idx").on(t.guildId, t.id), index("role_audit_log_run_idx").on(t.runId)],
);

/**
 * A role menu posted in a guild channel (self-service roles): a Components V2 message whose
 * string select (`custom_id` `rolemenu:<id>`) offers `roleIds`, each mapped to a group whose
 * authority is `discord` or `both`. `messageId` is the posted message's snowflake.
 */
export const roleMenus = pgTable(
  "role_menus",
  {
    id: text().primaryKey(),
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    guildId: text()
      .notNull()
      .references(() => guilds.id, { onDelete: "cascade" }),
    channelId: text().notNull(),
    messageId: text().notNull(),
    title: text().notNull(),
    roleIds: text().array().notNull(),
    createdBy: text(),
    createdAt: createdAt(),
  },
  (t) => [index("role_menus_guild_idx").on(t.guildId)],
);

/**
 * A guild's invite link, offered for linked users who are not in the guild: created by the bot
 * (`source` `created`, in `channelId`, never expiring) or pasted by an admin (`pasted`).
 */
export const guildInvites = pgTable("guild_invites", {
  guildId: text()
    .primaryKey()
    .references(() => guilds.id, { onDelete: "cascade" }),
  organizationId: text()
    .notNull()
    .references(() => organizations.id, { onDelete: "cascade" }),
  code: text().notNull(),
  url: text().notNull(),
  channelId: text(),
  source: text({ enum: ["created", "pasted"] }).notNull(),
  updatedAt: updatedAt(),
});

// ---------------------------------------------------------------- domain events and webhooks

/**
 * The append-only log of domain events (member joined/left, sync finished/failed,
 * reconciliation applied, event created/canceled): one row per event, written in the same
 * transaction as the change that causes it, never updated or deleted by the app. `id` orders
 * the log; within an organization ids commit in order (writers hold a per-organization
 * advisory lock from the insert to the commit), so a subscriber resuming after id N misses
 * nothing. `payload` follows the kind's schema (@guildhall/sync's eventKinds.ts).
 */
export const domainEvents = pgTable(
  "domain_events",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    guildId: text(),
    kind: text().notNull(),
    payload: jsonb().notNull(),
    occurredAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("domain_events_org_id_idx").on(t.organizationId, t.id)],
);

/**
 * A Discord channel webhook an organization's admins chose to notify, with the event kinds it
 * receives. The webhook token (the secret half of its URL) is stored sealed (AES-256-GCM,
 * `tokenKeyId` naming the key), and never returned. `status` is `active`, or `disabled` after
 * Discord answered that the webhook is gone (`disabledReason` says what it answered).
 */
export const webhooks = pgTable(
  "webhooks",
  {
    id: text().primaryKey(),
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    name: text().notNull(),
    /** The Discord webhook's own id (a snowflake); the public half of its URL. */
    webhookId: text().notNull(),
    tokenSealed: text().notNull(),
    tokenKeyId: text().notNull(),
    /** The channel it posts in, when known (a snowflake), for display. */
    channelId: text(),
    kinds: text().array().notNull(),
    status: text({ enum: ["active", "disabled"] })
      .notNull()
      .default("active"),
    disabledReason: text(),
    createdBy: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("webhooks_org_idx").on(t.organizationId), uniqueIndex("webhooks_org_webhook_key").on(t.organizationId, t.webhookId)],
);

/**
 * One delivery of one domain event to one webhook (unique per pair, so none is sent twice),
 * created in the event's own transaction for every active webhook that wants its kind; a
 * test message has no event. `status`: `pending`, `delivered`, `failed` (gave up after
 * retries, or a permanent error), `skipped` (the webhook was disabled before it ran).
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    webhookId: text()
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventId: bigint({ mode: "number" }).references(() => domainEvents.id, { onDelete: "cascade" }),
    kind: text().notNull(),
    status: text({ enum: ["pending", "delivered", "failed", "skipped"] })
      .notNull()
      .default("pending"),
    attempts: integer().notNull().default(0),
    lastError: text(),
    /** The Discord message id the delivery created. */
    messageId: text(),
    createdAt: createdAt(),
    deliveredAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_event_webhook_key").on(t.eventId, t.webhookId),
    index("webhook_deliveries_webhook_idx").on(t.webhookId, t.id),
    index("webhook_deliveries_pending_idx").on(t.status).where(sql`status = 'pending'`),
  ],
);

// ---------------------------------------------------------------- integrations (issue 9)

/**
 * One `state` of the bot install flow (OAuth2 authorize -> callback): random, single use,
 * bound to the admin's session and organization, valid 10 minutes. Only its SHA-256 is kept, so
 * a database reader cannot replay one. `usedAt` is set when a callback consumed it.
 */
export const integrationStates = pgTable(
  "integration_states",
  {
    id: text().primaryKey(),
    stateHash: text().notNull().unique(),
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    sessionId: text().notNull(),
    scopes: text().notNull(),
    permissions: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    usedAt: timestamp({ withTimezone: true }),
  },
  (t) => [index("integration_states_expires_idx").on(t.expiresAt)],
);

/** What an integration is: `active`, or `removed` (the bot was kicked from the guild; GUILD_DELETE without `unavailable`). */
export const INTEGRATION_STATUSES = ["active", "removed"] as const;

/**
 * The bot installed in a guild for an organization through OAuth2. The access and refresh
 * tokens are AES-256-GCM ciphertexts (base64url of iv | tag | ciphertext) under the key named
 * by `keyId` (the SecretBox key ring of GUILDHALL_ENCRYPTION_KEY), never plaintext.
 */
export const integrations = pgTable(
  "integrations",
  {
    id: text().primaryKey(),
    organizationId: text()
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    guildId: text().notNull(),
    guildName: text().notNull(),
    guildIcon: text(),
    botUserId: text().notNull(),
    installedByUserId: text().references(() => users.id, { onDelete: "set null" }),
    installerDiscordId: text().notNull(),
    installedAt: timestamp({ withTimezone: true }).notNull(),
    scopes: text().notNull(),
    permissions: text().notNull(),
    status: text({ enum: INTEGRATION_STATUSES }).notNull().default("active"),
    statusReason: text(),
    statusChangedAt: timestamp({ withTimezone: true }),
    keyId: text().notNull(),
    accessToken: text().notNull(),
    refreshToken: text().notNull(),
    tokenExpiresAt: timestamp({ withTimezone: true }).notNull(),
    refreshedAt: timestamp({ withTimezone: true }),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("integrations_org_guild_key").on(t.organizationId, t.guildId), index("integrations_guild_idx").on(t.guildId)],
);
