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
 * by `keyId` (GUILDHALL_TOKEN_KEYS), never plaintext.
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
