import { Database, type DatabaseError, schema } from "@guildhall/db";
import type { JobScope } from "@guildhall/jobs";
import { and, asc, desc, eq, exists, ilike, isNotNull, ne, notExists, or, sql } from "drizzle-orm";
import { Context, Effect, Layer, Schema } from "effect";
import { DiscordIdTaken, GuildNotFound, NotAdmin, NotInOrganization, NotStaff, UserNotFound } from "./errors";

/** A user's staff membership: which organization, with which role. */
export interface StaffMembership {
  readonly staffId: string;
  readonly organizationId: string;
  readonly organizationName: string;
  readonly role: "admin" | "staff";
}

/** A guild the bot is in that no organization installed Guildhall in (yet). `id` is its snowflake; times are ISO-8601. */
export interface UnclaimedGuild {
  readonly id: string;
  readonly name: string;
  readonly icon: string | null;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
}

/** A guild linked to an organization. `id` is the guild's snowflake. */
export interface LinkedGuild {
  readonly id: string;
  readonly organizationId: string;
  readonly name: string;
  readonly icon: string | null;
}

/** A staff row with the user it belongs to. `discordId` is null when the user is not linked. */
export interface StaffEntry {
  readonly staffId: string;
  readonly userId: string;
  readonly name: string;
  readonly email: string;
  readonly role: "admin" | "staff";
  readonly title: string | null;
  readonly discordId: string | null;
}

/**
 * An app user's id as callers give it (`members.setDiscordId`): 1 to 128 printable ASCII
 * characters without spaces (better-auth's ids are 32 letters and digits; users made by the
 * server are UUIDs). An id is a key, not a name: one with a NUL, a space or a control character
 * names no user and is refused (a 400 naming the field), never cleaned into another id.
 */
export const UserId = Schema.String.check(
  Schema.isPattern(/^[\x21-\x7e]{1,128}$/, { message: "must be a user id: 1 to 128 printable ASCII characters, no spaces" }),
);

/** Postgres' SQLSTATE for a unique violation (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const UNIQUE_VIOLATION = "23505";

/**
 * Organizations, their staff, their guilds and the app users behind them: who may see what.
 */
export class Directory extends Context.Service<
  Directory,
  {
    /**
     * The staff membership of `userId` in `organizationId` (the organization the request
     * selected), or, without it, in the user's oldest organization. Fails with `NotStaff` when
     * the user is staff nowhere, `NotInOrganization` when not staff of `organizationId`.
     */
    readonly membership: (
      userId: string,
      organizationId?: string | null | undefined,
    ) => Effect.Effect<StaffMembership, NotStaff | NotInOrganization | DatabaseError>;
    /** Like `membership`, but fails with `NotAdmin` unless the role is `admin`. */
    readonly requireAdmin: (
      userId: string,
      organizationId?: string | null | undefined,
    ) => Effect.Effect<StaffMembership, NotStaff | NotInOrganization | NotAdmin | DatabaseError>;
    /** Every staff membership of `userId`, oldest organization first (empty when staff nowhere): what the organization switcher lists. */
    readonly memberships: (userId: string) => Effect.Effect<ReadonlyArray<StaffMembership>, DatabaseError>;
    /** The guilds linked to `organizationId`, oldest link first. */
    readonly guildsOf: (organizationId: string) => Effect.Effect<ReadonlyArray<LinkedGuild>, DatabaseError>;
    /**
     * Records the guilds the bot reports being in (its heartbeat) as seen, and refreshes the name
     * and icon of those already linked. Links nothing: a guild belongs to an organization only
     * through an install (or the demo's seeding).
     */
    readonly noteSeenGuilds: (
      guilds: ReadonlyArray<{ readonly id: string; readonly name: string; readonly icon: string | null }>,
    ) => Effect.Effect<void, DatabaseError>;
    /** Guilds the bot was seen in that no organization has linked, most recently seen first (at most 100). */
    readonly unclaimedGuilds: () => Effect.Effect<ReadonlyArray<UnclaimedGuild>, DatabaseError>;
    /**
     * True when `organizationId` may see and change app user `userId`: the user is staff of it,
     * or staff of no organization at all (a community member's account; an unknown id too, for
     * the caller to answer as it would). False for staff of other organizations only.
     */
    readonly userVisibleTo: (organizationId: string, userId: string) => Effect.Effect<boolean, DatabaseError>;
    /**
     * The guild of `organizationId` to work on: `guildId` when given (it must belong to the
     * organization), else the organization's first guild. Fails with `GuildNotFound`.
     */
    readonly guildFor: (organizationId: string, guildId?: string | undefined) => Effect.Effect<LinkedGuild, GuildNotFound | DatabaseError>;
    /** Every staff member of `organizationId` with their user, by name. */
    readonly staffOf: (organizationId: string) => Effect.Effect<ReadonlyArray<StaffEntry>, DatabaseError>;
    /** The Discord ids (snowflakes) of the linked staff of the organization owning `guildId`. */
    readonly staffDiscordIdsOfGuild: (guildId: string) => Effect.Effect<ReadonlyArray<string>, DatabaseError>;
    /** Creates the organization if `id` is new; returns it either way. */
    readonly ensureOrganization: (org: {
      id: string;
      name: string;
      slug: string;
    }) => Effect.Effect<{ id: string; name: string }, DatabaseError>;
    /** Links `guild` to `organizationId`, or updates its name and icon when already linked. */
    readonly ensureGuild: (
      organizationId: string,
      guild: { id: string; name: string; icon: string | null },
    ) => Effect.Effect<void, DatabaseError>;
    /**
     * Links `guild` to `organizationId` after an install (Integrations.completeInstall), updating
     * its name and icon; a guild another organization holds is left alone (the caller checked).
     */
    readonly linkInstalledGuild: (
      organizationId: string,
      guild: { id: string; name: string; icon: string | null },
    ) => Effect.Effect<void, DatabaseError>;
    /** Makes `userId` staff of `organizationId` with `role` (idempotent; the role is updated). */
    readonly ensureStaff: (
      organizationId: string,
      userId: string,
      role: "admin" | "staff",
      title?: string | null,
    ) => Effect.Effect<void, DatabaseError>;
    /**
     * Links app user `userId` to the Discord user `discordId` (a snowflake), or unlinks them
     * with `null`. Fails with `DiscordIdTaken` when another user is already linked to
     * `discordId` (checked first; the unique index on `users.discord_id` decides a race between
     * two links of one id), `UserNotFound` when no user has `userId`.
     */
    readonly setDiscordId: (userId: string, discordId: string | null) => Effect.Effect<void, DiscordIdTaken | UserNotFound | DatabaseError>;
    /**
     * The id of the app user with `email`, created without a password (someone who does not
     * sign in, like the demo staff) and linked to `discordId` (snowflake or null) if there is
     * none. Insert-or-read, so callers doing this at the same moment agree on one row. Fails
     * with `DiscordIdTaken` when the user is new but another user holds `discordId`.
     */
    readonly ensureUser: (user: {
      readonly name: string;
      readonly email: string;
      readonly discordId: string | null;
    }) => Effect.Effect<string, DiscordIdTaken | DatabaseError>;
    /** A guild's member sync settings (interval in minutes, null = no schedule; extra admin role for /sync_members). */
    readonly settingsOf: (
      guildId: string,
    ) => Effect.Effect<{ syncIntervalMinutes: number | null; syncAdminRoleId: string | null }, DatabaseError>;
    /** Updates a guild's member sync settings. */
    readonly updateSettings: (
      guildId: string,
      settings: { syncIntervalMinutes: number | null; syncAdminRoleId: string | null },
    ) => Effect.Effect<void, DatabaseError>;
    /** The oldest organization, if any: the one a single-community install works in. */
    readonly defaultOrganization: () => Effect.Effect<{ id: string; name: string } | null, DatabaseError>;
    /**
     * The jobs an admin of `organizationId` sees on the Jobs page (`JobScope` of @guildhall/jobs):
     * that organization's, and the installation's own upkeep jobs too when it is the
     * installation's organization (the oldest, `defaultOrganization`: the one `npm start` seeds).
     */
    readonly jobScope: (organizationId: string) => Effect.Effect<JobScope, DatabaseError>;
    /**
     * App users whose name or email contains `query` (trimmed, case-insensitive; `%`, `_` and
     * `\` match themselves), at most `limit`, best first: the exact email, then names or
     * emails that start with it, then the rest, each by name. `discordId` (a snowflake) is
     * null for users not linked to Discord. Every user of the install is searched: users
     * belong to no organization (the members comparison lists them all the same way).
     * A blank query gives nothing. With `organizationId`, users who are staff only of other
     * organizations are left out (see `userVisibleTo`).
     */
    readonly searchUsers: (
      query: string,
      limit: number,
      organizationId?: string | undefined,
    ) => Effect.Effect<ReadonlyArray<UserMatch>, DatabaseError>;
  }
>()("@guildhall/sync/Directory") {
  static readonly layer = Layer.effect(
    Directory,
    Effect.gen(function* () {
      const { use } = yield* Database;
      const { staff, organizations, guilds, users } = schema;

      const membershipRows = (userId: string, organizationId: string | null) =>
        use("directory.membership", (db) =>
          db
            .select({
              staffId: staff.id,
              organizationId: staff.organizationId,
              organizationName: organizations.name,
              role: staff.role,
            })
            .from(staff)
            .innerJoin(organizations, eq(organizations.id, staff.organizationId))
            .where(
              organizationId === null ? eq(staff.userId, userId) : and(eq(staff.userId, userId), eq(staff.organizationId, organizationId)),
            )
            .orderBy(asc(organizations.createdAt), asc(organizations.id)),
        );

      const membership = Effect.fn("Directory.membership")(function* (userId: string, organizationId?: string | null) {
        const rows = yield* membershipRows(userId, organizationId ?? null);
        const row = rows[0];
        if (!row) return yield* organizationId ? new NotInOrganization({ organizationId }) : new NotStaff({ userId });
        return row;
      });

      const memberships = Effect.fn("Directory.memberships")(function* (userId: string) {
        return yield* membershipRows(userId, null);
      });

      const requireAdmin = Effect.fn("Directory.requireAdmin")(function* (userId: string, organizationId?: string | null) {
        const member = yield* membership(userId, organizationId);
        if (member.role !== "admin") return yield* new NotAdmin({ userId });
        return member;
      });

      const guildsOf = Effect.fn("Directory.guildsOf")(function* (organizationId: string) {
        return yield* use("directory.guildsOf", (db) =>
          db
            .select({ id: guilds.id, organizationId: guilds.organizationId, name: guilds.name, icon: guilds.icon })
            .from(guilds)
            .where(eq(guilds.organizationId, organizationId))
            .orderBy(asc(guilds.createdAt), asc(guilds.id)),
        );
      });

      const noteSeenGuilds = Effect.fn("Directory.noteSeenGuilds")(function* (
        seen: ReadonlyArray<{ readonly id: string; readonly name: string; readonly icon: string | null }>,
      ) {
        if (seen.length === 0) return;
        yield* use("directory.noteSeenGuilds", async (db) => {
          const now = new Date();
          for (const guild of seen) {
            await db
              .insert(schema.seenGuilds)
              .values({ id: guild.id, name: guild.name, icon: guild.icon, firstSeenAt: now, lastSeenAt: now })
              .onConflictDoUpdate({ target: schema.seenGuilds.id, set: { name: guild.name, icon: guild.icon, lastSeenAt: now } });
            await db.update(guilds).set({ name: guild.name, icon: guild.icon, updatedAt: now }).where(eq(guilds.id, guild.id));
          }
        });
      });

      const unclaimedGuilds = Effect.fn("Directory.unclaimedGuilds")(function* () {
        const { seenGuilds } = schema;
        const rows = yield* use("directory.unclaimedGuilds", (db) =>
          db
            .select()
            .from(seenGuilds)
            .where(notExists(db.select({ id: guilds.id }).from(guilds).where(eq(guilds.id, seenGuilds.id))))
            .orderBy(desc(seenGuilds.lastSeenAt), asc(seenGuilds.id))
            .limit(100),
        );
        return rows.map((r) => ({
          id: r.id,
          name: r.name,
          icon: r.icon,
          firstSeenAt: r.firstSeenAt.toISOString(),
          lastSeenAt: r.lastSeenAt.toISOString(),
        }));
      });

      const userVisibleTo = Effect.fn("Directory.userVisibleTo")(function* (organizationId: string, userId: string) {
        const rows = yield* use("directory.userVisibleTo", (db) =>
          db
            .select({ organizationId: staff.organizationId })
            .from(users)
            .leftJoin(staff, eq(staff.userId, users.id))
            .where(eq(users.id, userId)),
        );
        return rows.every((r) => r.organizationId === null) || rows.some((r) => r.organizationId === organizationId);
      });

      const guildFor = Effect.fn("Directory.guildFor")(function* (organizationId: string, guildId?: string) {
        const rows = yield* use("directory.guildFor", (db) =>
          db
            .select({ id: guilds.id, organizationId: guilds.organizationId, name: guilds.name, icon: guilds.icon })
            .from(guilds)
            .where(
              guildId ? and(eq(guilds.organizationId, organizationId), eq(guilds.id, guildId)) : eq(guilds.organizationId, organizationId),
            )
            .orderBy(asc(guilds.createdAt))
            .limit(1),
        );
        const row = rows[0];
        if (!row) return yield* new GuildNotFound({ guildId: guildId ?? null });
        return row;
      });

      const staffOf = Effect.fn("Directory.staffOf")(function* (organizationId: string) {
        return yield* use("directory.staffOf", (db) =>
          db
            .select({
              staffId: staff.id,
              userId: users.id,
              name: users.name,
              email: users.email,
              role: staff.role,
              title: staff.title,
              discordId: users.discordId,
            })
            .from(staff)
            .innerJoin(users, eq(users.id, staff.userId))
            .where(eq(staff.organizationId, organizationId))
            .orderBy(asc(users.name)),
        );
      });

      const staffDiscordIdsOfGuild = Effect.fn("Directory.staffDiscordIdsOfGuild")(function* (guildId: string) {
        return yield* use("directory.staffDiscordIdsOfGuild", (db) =>
          db
            .select({ discordId: users.discordId })
            .from(guilds)
            .innerJoin(staff, eq(staff.organizationId, guilds.organizationId))
            .innerJoin(users, eq(users.id, staff.userId))
            .where(and(eq(guilds.id, guildId), isNotNull(users.discordId)))
            .then((rows) => rows.flatMap((r) => (r.discordId ? [r.discordId] : []))),
        );
      });

      const ensureOrganization = Effect.fn("Directory.ensureOrganization")(function* (org: { id: string; name: string; slug: string }) {
        return yield* use("directory.ensureOrganization", async (db) => {
          await db.insert(organizations).values(org).onConflictDoNothing();
          const rows = await db
            .select({ id: organizations.id, name: organizations.name })
            .from(organizations)
            .where(eq(organizations.id, org.id));
          return rows[0]!;
        });
      });

      const ensureGuild = Effect.fn("Directory.ensureGuild")(function* (
        organizationId: string,
        guild: { id: string; name: string; icon: string | null },
      ) {
        yield* use("directory.ensureGuild", (db) =>
          db
            .insert(guilds)
            .values({ ...guild, organizationId })
            .onConflictDoUpdate({ target: guilds.id, set: { name: guild.name, icon: guild.icon, updatedAt: new Date() } }),
        );
      });

      const linkInstalledGuild = Effect.fn("Directory.linkInstalledGuild")(function* (
        organizationId: string,
        guild: { id: string; name: string; icon: string | null },
      ) {
        yield* use("directory.linkInstalledGuild", (db) =>
          db
            .insert(guilds)
            .values({ ...guild, organizationId })
            .onConflictDoUpdate({
              target: guilds.id,
              set: { name: guild.name, icon: guild.icon, updatedAt: new Date() },
              setWhere: eq(guilds.organizationId, organizationId),
            }),
        );
      });

      const ensureStaff = Effect.fn("Directory.ensureStaff")(function* (
        organizationId: string,
        userId: string,
        role: "admin" | "staff",
        title?: string | null,
      ) {
        yield* use("directory.ensureStaff", (db) =>
          db
            .insert(staff)
            .values({ id: crypto.randomUUID(), organizationId, userId, role, title: title ?? null })
            .onConflictDoUpdate({ target: [staff.organizationId, staff.userId], set: { role } }),
        );
      });

      const setDiscordId = Effect.fn("Directory.setDiscordId")(function* (userId: string, discordId: string | null) {
        if (discordId !== null) {
          const holders = yield* use("directory.discordIdHolder", (db) =>
            db
              .select({ id: users.id })
              .from(users)
              .where(and(eq(users.discordId, discordId), ne(users.id, userId)))
              .limit(1),
          );
          if (holders.length > 0) return yield* new DiscordIdTaken({ discordId });
        }
        const updated = yield* use("directory.setDiscordId", (db) =>
          db.update(users).set({ discordId, updatedAt: new Date() }).where(eq(users.id, userId)).returning({ id: users.id }),
        ).pipe(
          // Another link of the same id committed since the check: the unique index refuses this one.
          Effect.catchIf(
            (error) => error.code === UNIQUE_VIOLATION,
            () => Effect.fail(new DiscordIdTaken({ discordId: String(discordId) })),
          ),
        );
        if (updated.length === 0) return yield* new UserNotFound({ userId });
      });

      const ensureUser = Effect.fn("Directory.ensureUser")(function* (user: {
        readonly name: string;
        readonly email: string;
        readonly discordId: string | null;
      }) {
        const rows = yield* use("directory.ensureUser", async (db) => {
          await db
            .insert(users)
            .values({ id: crypto.randomUUID(), name: user.name, email: user.email, emailVerified: true, discordId: user.discordId })
            .onConflictDoNothing();
          return db.select({ id: users.id }).from(users).where(eq(users.email, user.email));
        });
        const row = rows[0];
        // Nothing inserted and no user with that email: the conflict was on the Discord id
        // (ids are fresh UUIDs, and email and discord_id are the only other unique columns).
        if (!row) return yield* new DiscordIdTaken({ discordId: String(user.discordId) });
        return row.id;
      });

      const settingsOf = Effect.fn("Directory.settingsOf")(function* (guildId: string) {
        return yield* use("directory.settingsOf", (db) =>
          db
            .select({
              syncIntervalMinutes: schema.guildSettings.syncIntervalMinutes,
              syncAdminRoleId: schema.guildSettings.syncAdminRoleId,
            })
            .from(schema.guildSettings)
            .where(eq(schema.guildSettings.guildId, guildId))
            .then((rows) => rows[0] ?? { syncIntervalMinutes: null, syncAdminRoleId: null }),
        );
      });

      const updateSettings = Effect.fn("Directory.updateSettings")(function* (
        guildId: string,
        settings: { syncIntervalMinutes: number | null; syncAdminRoleId: string | null },
      ) {
        yield* use("directory.updateSettings", (db) =>
          db
            .insert(schema.guildSettings)
            .values({ guildId, ...settings })
            .onConflictDoUpdate({ target: schema.guildSettings.guildId, set: { ...settings, updatedAt: new Date() } }),
        );
      });

      const defaultOrganization = Effect.fn("Directory.defaultOrganization")(function* () {
        return yield* use("directory.defaultOrganization", (db) =>
          db
            .select({ id: organizations.id, name: organizations.name })
            .from(organizations)
            .orderBy(asc(organizations.createdAt))
            .limit(1)
            .then((rows) => rows[0] ?? null),
        );
      });

      const jobScope = Effect.fn("Directory.jobScope")(function* (organizationId: string) {
        const installation = yield* defaultOrganization();
        return { organizationId, installation: installation?.id === organizationId } satisfies JobScope;
      });

      const searchUsers = Effect.fn("Directory.searchUsers")(function* (query: string, limit: number, organizationId?: string) {
        const text = query.trim();
        if (!text) return [];
        const contains = `%${likeLiteral(text)}%`;
        const startsWith = `${likeLiteral(text)}%`;
        return yield* use("directory.searchUsers", (db) =>
          db
            .select({ id: users.id, name: users.name, email: users.email, discordId: users.discordId })
            .from(users)
            .where(
              and(
                or(ilike(users.name, contains), ilike(users.email, contains)),
                organizationId === undefined
                  ? undefined
                  : or(
                      notExists(db.select({ id: staff.id }).from(staff).where(eq(staff.userId, users.id))),
                      exists(
                        db
                          .select({ id: staff.id })
                          .from(staff)
                          .where(and(eq(staff.userId, users.id), eq(staff.organizationId, organizationId))),
                      ),
                    ),
              ),
            )
            .orderBy(
              sql`case when lower(${users.email}) = lower(${text}) then 0
                       when ${users.name} ilike ${startsWith} or ${users.email} ilike ${startsWith} then 1
                       else 2 end`,
              asc(users.name),
              asc(users.email),
            )
            .limit(limit),
        );
      });

      return Directory.of({
        setDiscordId,
        ensureUser,
        settingsOf,
        updateSettings,
        membership,
        memberships,
        requireAdmin,
        guildsOf,
        noteSeenGuilds,
        unclaimedGuilds,
        userVisibleTo,
        guildFor,
        staffOf,
        staffDiscordIdsOfGuild,
        ensureOrganization,
        ensureGuild,
        linkInstalledGuild,
        ensureStaff,
        defaultOrganization,
        jobScope,
        searchUsers,
      });
    }),
  );
}

/** An app user found by `Directory.searchUsers`. `discordId` is null when not linked. */
export interface UserMatch {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly discordId: string | null;
}

/** `text` as a LIKE pattern that matches it literally (backslash is Postgres' default escape). */
const likeLiteral = (text: string): string => text.replace(/[\\%_]/g, "\\$&");
