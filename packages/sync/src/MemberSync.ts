import { Database, type DatabaseError, executeRows, schema } from "@guildhall/db";
import { diffSnapshots } from "@guildhall/diff";
import { and, desc, eq, sql } from "drizzle-orm";
import { Context, Effect, Layer, Schema } from "effect";
import { listenFeed } from "./Feed";
import { MEMBER_FIELDS, type MemberSnapshot, normalizeMember, type RoleSnapshot } from "./members";

/** The NOTIFY channel sync progress travels on. */
export const SYNC_CHANNEL = "guildhall_member_sync";

/** A run that has not heard from its bot for this long is ended as timed out (ms). */
export const SYNC_STALE_MS = 120_000;

/** Another sync of this guild is running; `runId` is that one. */
export class SyncAlreadyRunning extends Schema.TaggedError<SyncAlreadyRunning>()("SyncAlreadyRunning", {
  guildId: Schema.String,
  runId: Schema.String,
}) {}

/** The run does not exist, or is no longer running (completed, incomplete, failed). */
export class SyncNotRunning extends Schema.TaggedError<SyncNotRunning>()("SyncNotRunning", {
  runId: Schema.String,
  status: Schema.NullOr(Schema.String),
}) {}

/** A chunk that contradicts the run: a different `chunk_count`, or an index outside 0..chunk_count-1. */
export class ChunkMismatch extends Schema.TaggedError<ChunkMismatch>()("ChunkMismatch", {
  runId: Schema.String,
  message: Schema.String,
}) {}

/** A sync run as callers see it (ISO-8601 times, durations in ms). */
export interface SyncRun {
  readonly id: string;
  readonly guildId: string;
  readonly trigger: schema.SyncTrigger;
  readonly source: "gateway" | "rest" | "legacy";
  readonly requestedBy: string | null;
  readonly status: schema.SyncStatus;
  readonly chunkCount: number | null;
  readonly chunksReceived: number;
  readonly rowsReceived: number;
  readonly created: number;
  readonly updated: number;
  readonly rejoined: number;
  readonly unchanged: number;
  readonly markedLeft: number;
  readonly reason: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
}

const toRun = (row: typeof schema.memberSyncRuns.$inferSelect): SyncRun => ({
  id: row.id,
  guildId: row.guildId,
  trigger: row.trigger,
  source: row.source,
  requestedBy: row.requestedBy,
  status: row.status,
  chunkCount: row.chunkCount,
  chunksReceived: row.chunksReceived,
  rowsReceived: row.rowsReceived,
  created: row.created,
  updated: row.updated,
  rejoined: row.rejoined,
  unchanged: row.unchanged,
  markedLeft: row.markedLeft,
  reason: row.reason,
  startedAt: row.startedAt.toISOString(),
  finishedAt: row.finishedAt?.toISOString() ?? null,
  durationMs: row.finishedAt ? row.finishedAt.getTime() - row.startedAt.getTime() : null,
});

/** What one chunk changed. */
export interface ChunkResult {
  readonly run: SyncRun;
  /** False when this chunk index had already been applied (a redelivery changes nothing). */
  readonly applied: boolean;
  readonly created: number;
  readonly updated: number;
  readonly rejoined: number;
  readonly unchanged: number;
}

/** What a live member event did: `created`, `updated`, `rejoined`, `left`, or `unchanged`. */
export type LiveOutcome = "created" | "updated" | "rejoined" | "left" | "unchanged";

type MemberRow = typeof schema.guildMembers.$inferSelect;

const snapshotOf = (row: MemberRow): MemberSnapshot => ({
  userId: row.userId,
  username: row.username,
  globalName: row.globalName,
  nick: row.nick,
  avatar: row.avatar,
  roleIds: [...row.roleIds].sort(),
  joinedAt: row.joinedAt?.toISOString() ?? null,
  isBot: row.isBot,
  pending: row.pending,
  premiumSince: row.premiumSince?.toISOString() ?? null,
  communicationDisabledUntil: row.communicationDisabledUntil?.toISOString() ?? null,
});

/** A stored member as the chunk lookup reads it (ISO times, role ids as a JSON array). */
interface StoredMember extends Record<string, unknown> {
  user_id: string;
  username: string;
  global_name: string | null;
  nick: string | null;
  avatar: string | null;
  role_ids: string[] | string;
  joined_at: string | null;
  is_bot: boolean;
  pending: boolean;
  premium_since: string | null;
  communication_disabled_until: string | null;
  has_left: boolean;
}

/** A timestamptz column as ISO-8601 with milliseconds and Z, the form `normalizeMember` produces. */
const isoOf = (column: ReturnType<typeof sql>) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const storedSnapshot = (row: StoredMember): MemberSnapshot => ({
  userId: row.user_id,
  username: row.username,
  globalName: row.global_name,
  nick: row.nick,
  avatar: row.avatar,
  roleIds: [...(typeof row.role_ids === "string" ? (JSON.parse(row.role_ids) as string[]) : row.role_ids)].sort(),
  joinedAt: row.joined_at,
  isBot: row.is_bot,
  pending: row.pending,
  premiumSince: row.premium_since,
  communicationDisabledUntil: row.communication_disabled_until,
});

/** JSON rows for `jsonb_to_recordset`, in the column names the SQL below reads. */
const recordsOf = (members: ReadonlyArray<MemberSnapshot>) =>
  JSON.stringify(
    members.map((m) => ({
      user_id: m.userId,
      username: m.username,
      global_name: m.globalName,
      nick: m.nick,
      avatar: m.avatar,
      role_ids: m.roleIds,
      joined_at: m.joinedAt,
      is_bot: m.isBot,
      pending: m.pending,
      premium_since: m.premiumSince,
      communication_disabled_until: m.communicationDisabledUntil,
    })),
  );

const RECORD_COLUMNS = sql.raw(`user_id text, username text, global_name text, nick text, avatar text, role_ids text[],
  joined_at timestamptz, is_bot boolean, pending boolean, premium_since timestamptz, communication_disabled_until timestamptz`);

/**
 * The guild member mirror and its full syncs.
 *
 * A full sync is a run: `start` it, `applyChunk` each chunk of the snapshot as it arrives
 * (only new, changed and returning members are written; the diff is @guildhall/diff's), then
 * `complete` it. Members are marked left only when every chunk 0..chunk_count-1 of the run
 * arrived; otherwise the run ends `incomplete` and nobody's date_left changes. Redelivered
 * chunks change nothing. Live GUILD_MEMBER_ADD/UPDATE/REMOVE go through `upsertLive` and
 * `removeLive`. Progress is announced on {@link SYNC_CHANNEL} to every server instance.
 */
export class MemberSync extends Context.Service<
  MemberSync,
  {
    /**
     * Starts a run for `guildId`. Ends stale runs (no chunk for SYNC_STALE_MS) first. Fails with
     * `SyncAlreadyRunning` when another run of the guild is in progress.
     */
    readonly start: (input: {
      guildId: string;
      trigger: schema.SyncTrigger;
      source: "gateway" | "rest" | "legacy";
      requestedBy: string | null;
      nonce?: string | null;
    }) => Effect.Effect<SyncRun, SyncAlreadyRunning | DatabaseError>;
    /**
     * Applies chunk `chunkIndex` of `chunkCount` (Discord's GUILD_MEMBERS_CHUNK numbering).
     * `chunkCount` is null when it is not known yet (REST paging); `complete` then gives it.
     */
    readonly applyChunk: (input: {
      runId: string;
      chunkIndex: number;
      chunkCount: number | null;
      members: ReadonlyArray<MemberSnapshot>;
    }) => Effect.Effect<ChunkResult, SyncNotRunning | ChunkMismatch | DatabaseError>;
    /**
     * Ends a run: `completed` (members not in the snapshot marked left) when every chunk arrived,
     * else `incomplete` with the reason. `chunkCount` fixes the count for runs that did not know
     * it while chunks arrived (REST paging). Returns the final run.
     */
    readonly complete: (runId: string, chunkCount?: number) => Effect.Effect<SyncRun, SyncNotRunning | DatabaseError>;
    /** Ends a run as `incomplete` (or `failed`) with `reason`; nobody is marked left. */
    readonly abort: (
      runId: string,
      reason: string,
      status?: "incomplete" | "failed",
    ) => Effect.Effect<SyncRun, SyncNotRunning | DatabaseError>;
    /** Replaces the guild's roles with `roles` (missing ones get date_deleted). */
    readonly applyRoles: (guildId: string, roles: ReadonlyArray<RoleSnapshot>) => Effect.Effect<void, DatabaseError>;
    /** GUILD_MEMBER_ADD / GUILD_MEMBER_UPDATE, applied at once. */
    readonly upsertLive: (guildId: string, member: MemberSnapshot) => Effect.Effect<LiveOutcome, DatabaseError>;
    /** GUILD_MEMBER_REMOVE, applied at once. */
    readonly removeLive: (guildId: string, userId: string) => Effect.Effect<LiveOutcome, DatabaseError>;
    /** A run by id, or null. */
    readonly run: (runId: string) => Effect.Effect<SyncRun | null, DatabaseError>;
    /** The guild's runs, newest first, at most `limit`. */
    readonly history: (guildId: string, limit: number) => Effect.Effect<ReadonlyArray<SyncRun>, DatabaseError>;
    /** Calls `listener` with each run whose progress changed (any guild); returns the unsubscribe function. */
    readonly subscribe: (listener: (runs: ReadonlyArray<SyncRun>) => void) => () => void;
  }
>()("@guildhall/sync/MemberSync") {
  static readonly layer = Layer.effect(
    MemberSync,
    Effect.gen(function* () {
      const database = yield* Database;
      const { use } = database;
      const { memberSyncRuns: runs, memberSyncChunks: chunks, guildMembers: members } = schema;

      // Progress payloads always carry the run itself (one small row), never an id range.
      const feed = yield* listenFeed<SyncRun>(database, SYNC_CHANNEL, "member-sync", async () => []);
      const announce = (run: SyncRun) =>
        use("memberSync.announce", (db) =>
          db.execute(sql`select pg_notify(${SYNC_CHANNEL}, ${JSON.stringify({ items: [run] })})`),
        ).pipe(Effect.asVoid);

      const expireStale = (guildId: string) =>
        use("memberSync.expireStale", (db) =>
          db
            .update(runs)
            .set({ status: "incomplete", reason: "timed out: no chunk arrived for 2 minutes", finishedAt: new Date() })
            .where(
              and(
                eq(runs.guildId, guildId),
                eq(runs.status, "running"),
                sql`${runs.heartbeatAt} < now() - make_interval(secs => ${SYNC_STALE_MS / 1000})`,
              ),
            )
            .returning(),
        ).pipe(
          Effect.tap((ended) => Effect.forEach(ended, (row) => announce(toRun(row)))),
          Effect.asVoid,
        );

      const start = Effect.fn("MemberSync.start")(function* (input: {
        guildId: string;
        trigger: schema.SyncTrigger;
        source: "gateway" | "rest" | "legacy";
        requestedBy: string | null;
        nonce?: string | null;
      }) {
        yield* expireStale(input.guildId);
        const row = yield* use("memberSync.start", (db) =>
          db
            .insert(runs)
            .values({
              id: crypto.randomUUID(),
              guildId: input.guildId,
              trigger: input.trigger,
              source: input.source,
              requestedBy: input.requestedBy,
              nonce: input.nonce ?? null,
            })
            .onConflictDoNothing()
            .returning(),
        );
        if (!row[0]) {
          const running = yield* use("memberSync.running", (db) =>
            db.select({ id: runs.id }).from(runs).where(and(eq(runs.guildId, input.guildId), eq(runs.status, "running"))),
          );
          return yield* new SyncAlreadyRunning({ guildId: input.guildId, runId: running[0]?.id ?? "unknown" });
        }
        const run = toRun(row[0]);
        yield* announce(run);
        return run;
      });

      const applyChunk = Effect.fn("MemberSync.applyChunk")(function* (input: {
        runId: string;
        chunkIndex: number;
        chunkCount: number | null;
        members: ReadonlyArray<MemberSnapshot>;
      }) {
        if (input.chunkIndex < 0 || (input.chunkCount !== null && (input.chunkCount < 1 || input.chunkIndex >= input.chunkCount))) {
          return yield* new ChunkMismatch({
            runId: input.runId,
            message: `chunk_index ${input.chunkIndex} is outside 0..${(input.chunkCount ?? 0) - 1}`,
          });
        }
        const incoming = input.members.map(normalizeMember);
        const outcome = yield* use("memberSync.applyChunk", (db) =>
          db
            .transaction(async (tx) => {
              // No lock on the run while the chunk is diffed and written, so chunks in flight
              // together proceed together; the run row is only touched by the final update.
              const [run] = await tx.select().from(runs).where(eq(runs.id, input.runId));
              if (!run || run.status !== "running") return { kind: "not-running" as const, status: run?.status ?? null };
              if (run.chunkCount !== null && input.chunkCount !== null && run.chunkCount !== input.chunkCount) {
                return { kind: "mismatch" as const, message: `chunk_count ${input.chunkCount} differs from the run's ${run.chunkCount}` };
              }
              // The chunk's primary key makes a redelivered chunk a no-op, even between concurrent pushes.
              const fresh = await tx
                .insert(chunks)
                .values({ runId: input.runId, chunkIndex: input.chunkIndex, members: incoming.length })
                .onConflictDoNothing()
                .returning({ chunkIndex: chunks.chunkIndex });
              if (fresh.length === 0) return { kind: "duplicate" as const, run };

              const ids = incoming.map((m) => m.userId);
              // Postgres compares the chunk with the stored rows and sends back only the rows that
              // are new, returning or different (an unchanged chunk transfers nothing); the diff
              // then names the changed fields of those few. ISO times and JSON arrays are built by
              // Postgres so both drivers return the same shapes.
              const candidates =
                ids.length === 0
                  ? []
                  : await executeRows<StoredMember & { incoming_id: string; is_new: boolean }>(
                      tx,
                      sql`with input as (select x.* from jsonb_to_recordset(${recordsOf(incoming)}::jsonb) as x(${RECORD_COLUMNS}))
                          select i.user_id as incoming_id, m.user_id is null as is_new,
                                 m.user_id, m.username, m.global_name, m.nick, m.avatar, array_to_json(m.role_ids) as role_ids,
                                 ${isoOf(sql`m.joined_at`)} as joined_at, m.is_bot, m.pending,
                                 ${isoOf(sql`m.premium_since`)} as premium_since,
                                 ${isoOf(sql`m.communication_disabled_until`)} as communication_disabled_until,
                                 m.date_left is not null as has_left
                          from input i left join guild_members m on m.guild_id = ${run.guildId} and m.user_id = i.user_id
                          where m.user_id is null or m.date_left is not null
                             or (m.username, m.global_name, m.nick, m.avatar, m.role_ids, m.joined_at, m.is_bot, m.pending,
                                 m.premium_since, m.communication_disabled_until)
                                is distinct from
                                (i.username, i.global_name, i.nick, i.avatar, i.role_ids, i.joined_at, i.is_bot, i.pending,
                                 i.premium_since, i.communication_disabled_until)`,
                    );
              const candidateIds = new Set(candidates.map((c) => c.incoming_id));
              const returning = new Set(candidates.filter((c) => !c.is_new && c.has_left).map((c) => c.incoming_id));
              const stored = candidates.filter((c) => !c.is_new && !c.has_left).map(storedSnapshot);
              const diff = diffSnapshots(
                stored,
                incoming.filter((m) => candidateIds.has(m.userId) && !returning.has(m.userId)),
                { key: (m) => m.userId, fields: MEMBER_FIELDS },
              );
              const unchanged = incoming.length - candidateIds.size + diff.unchanged;
              const rejoining = incoming.filter((m) => returning.has(m.userId));
              const changed = diff.changed.map((c) => c.after);
              // Present members missing from this chunk are simply in another chunk: "removed" means nothing here.
              await writeMembers(tx, run.guildId, diff.added, changed, rejoining);
              if (ids.length > 0) {
                await tx.execute(
                  sql`insert into member_sync_seen (run_id, user_id) select ${input.runId}, unnest(${sql.param(ids)}::text[]) on conflict do nothing`,
                );
              }
              const [updatedRun] = await tx
                .update(runs)
                .set({
                  chunkCount: sql`coalesce(${runs.chunkCount}, ${input.chunkCount}::int)`,
                  chunksReceived: sql`${runs.chunksReceived} + 1`,
                  rowsReceived: sql`${runs.rowsReceived} + ${incoming.length}`,
                  created: sql`${runs.created} + ${diff.added.length}`,
                  updated: sql`${runs.updated} + ${changed.length}`,
                  rejoined: sql`${runs.rejoined} + ${rejoining.length}`,
                  unchanged: sql`${runs.unchanged} + ${unchanged}`,
                  heartbeatAt: new Date(),
                })
                .where(and(eq(runs.id, input.runId), eq(runs.status, "running")))
                .returning();
              // The run ended while this chunk was being applied: undo the chunk.
              if (!updatedRun) throw new RunEnded(input.runId);
              return {
                kind: "applied" as const,
                run: updatedRun,
                created: diff.added.length,
                updated: changed.length,
                rejoined: rejoining.length,
                unchanged,
              };
            })
            .catch((error: unknown) => {
              if (error instanceof RunEnded) return { kind: "not-running" as const, status: "ended" };
              throw error;
            }),
        );
        switch (outcome.kind) {
          case "not-running":
            return yield* new SyncNotRunning({ runId: input.runId, status: outcome.status });
          case "mismatch":
            return yield* new ChunkMismatch({ runId: input.runId, message: outcome.message });
          case "duplicate":
            return { run: toRun(outcome.run), applied: false, created: 0, updated: 0, rejoined: 0, unchanged: 0 };
          case "applied": {
            const run = toRun(outcome.run);
            yield* announce(run);
            return { run, applied: true, created: outcome.created, updated: outcome.updated, rejoined: outcome.rejoined, unchanged: outcome.unchanged };
          }
        }
      });

      const finish = (runId: string, end: (tx: Parameters<Parameters<typeof database.db.transaction>[0]>[0], run: typeof runs.$inferSelect) => Promise<Partial<typeof runs.$inferInsert>>) =>
        Effect.gen(function* () {
          const outcome = yield* use("memberSync.finish", (db) =>
            db.transaction(async (tx) => {
              const [run] = await tx.select().from(runs).where(eq(runs.id, runId)).for("update");
              if (!run || run.status !== "running") return { ok: false as const, status: run?.status ?? null };
              const patch = await end(tx, run);
              await tx.delete(schema.memberSyncSeen).where(eq(schema.memberSyncSeen.runId, runId));
              const [ended] = await tx
                .update(runs)
                .set({ ...patch, finishedAt: new Date() })
                .where(eq(runs.id, runId))
                .returning();
              return { ok: true as const, run: toRun(ended!) };
            }),
          );
          if (!outcome.ok) return yield* new SyncNotRunning({ runId, status: outcome.status });
          yield* announce(outcome.run);
          return outcome.run;
        });

      const complete = (runId: string, chunkCount?: number) =>
        finish(runId, async (tx, locked) => {
          const run = chunkCount !== undefined && locked.chunkCount === null ? { ...locked, chunkCount } : locked;
          const arrived = await tx.select({ n: sql<number>`count(*)::int` }).from(chunks).where(eq(chunks.runId, runId));
          const received = Number(arrived[0]?.n ?? 0);
          if (run.chunkCount === null || received < run.chunkCount) {
            return {
              status: "incomplete" as const,
              chunkCount: run.chunkCount,
              reason: `snapshot incomplete: ${received} of ${run.chunkCount ?? "?"} chunks arrived; nobody was marked left`,
            };
          }
          // Present members the snapshot did not contain have left, unless a live event touched
          // them after the run began (they joined while the chunks were being produced).
          const left = await executeRows<{ user_id: string }>(
            tx,
            sql`update guild_members m set date_left = now(), date_modified = now()
                where m.guild_id = ${run.guildId} and m.date_left is null
                  and m.date_modified < ${run.startedAt.toISOString()}::timestamptz
                  and not exists (select 1 from member_sync_seen s where s.run_id = ${runId} and s.user_id = m.user_id)
                returning m.user_id`,
          );
          if (left.length > 0) {
            await tx.execute(
              sql`update guild_membership_history set left_at = now()
                  where guild_id = ${run.guildId} and left_at is null
                    and user_id = any(${sql.param(left.map((r) => r.user_id))}::text[])`,
            );
          }
          return { status: "completed" as const, markedLeft: left.length, chunkCount: run.chunkCount };
        });

      const abort = (runId: string, reason: string, status: "incomplete" | "failed" = "incomplete") =>
        finish(runId, async () => ({ status, reason }));

      const applyRoles = (guildId: string, roles: ReadonlyArray<RoleSnapshot>) =>
        use("memberSync.applyRoles", (db) =>
          db.transaction(async (tx) => {
            if (roles.length > 0) {
              await tx
                .insert(schema.guildRoles)
                .values(roles.map((r) => ({ ...r, guildId })))
                .onConflictDoUpdate({
                  target: [schema.guildRoles.guildId, schema.guildRoles.id],
                  set: {
                    name: sql`excluded.name`,
                    color: sql`excluded.color`,
                    position: sql`excluded.position`,
                    managed: sql`excluded.managed`,
                    permissions: sql`excluded.permissions`,
                    dateModified: new Date(),
                    dateDeleted: null,
                  },
                });
            }
            await tx.execute(
              sql`update guild_roles set date_deleted = now() where guild_id = ${guildId} and date_deleted is null
                  and not (id = any(${sql.param(roles.map((r) => r.id))}::text[]))`,
            );
          }),
        );

      const upsertLive = (guildId: string, member: MemberSnapshot) =>
        use("memberSync.upsertLive", (db) =>
          db.transaction(async (tx): Promise<LiveOutcome> => {
            const incoming = normalizeMember(member);
            const [row] = await tx
              .select()
              .from(members)
              .where(and(eq(members.guildId, guildId), eq(members.userId, member.userId)))
              .for("update");
            if (!row) {
              await writeMembers(tx, guildId, [incoming], [], []);
              return "created";
            }
            if (row.dateLeft !== null) {
              await writeMembers(tx, guildId, [], [], [incoming]);
              return "rejoined";
            }
            const diff = diffSnapshots([snapshotOf(row)], [incoming], { key: (m) => m.userId, fields: MEMBER_FIELDS });
            if (diff.changed.length === 0) return "unchanged";
            await writeMembers(tx, guildId, [], [incoming], []);
            return "updated";
          }),
        );

      const removeLive = (guildId: string, userId: string) =>
        use("memberSync.removeLive", async (db): Promise<LiveOutcome> => {
          const left = await db
            .update(members)
            .set({ dateLeft: new Date(), dateModified: new Date() })
            .where(and(eq(members.guildId, guildId), eq(members.userId, userId), sql`${members.dateLeft} is null`))
            .returning({ userId: members.userId });
          if (left.length === 0) return "unchanged";
          await db.execute(
            sql`update guild_membership_history set left_at = now() where guild_id = ${guildId} and user_id = ${userId} and left_at is null`,
          );
          return "left";
        });

      const run = (runId: string) =>
        use("memberSync.run", (db) =>
          db
            .select()
            .from(runs)
            .where(eq(runs.id, runId))
            .then((rows) => (rows[0] ? toRun(rows[0]) : null)),
        );

      const history = (guildId: string, limit: number) =>
        use("memberSync.history", (db) =>
          db
            .select()
            .from(runs)
            .where(eq(runs.guildId, guildId))
            .orderBy(desc(runs.startedAt))
            .limit(limit)
            .then((rows) => rows.map(toRun)),
        );

      return MemberSync.of({
        start,
        applyChunk,
        complete,
        abort,
        applyRoles,
        upsertLive,
        removeLive,
        run,
        history,
        subscribe: (listener) => feed.subscribe(listener),
      });
    }),
  );
}

/** Thrown inside a chunk's transaction to roll it back when its run ended meanwhile. */
class RunEnded extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} ended`);
  }
}

type Tx = Parameters<Parameters<Database["Service"]["db"]["transaction"]>[0]>[0];

/**
 * Writes members in bulk, one statement per kind (rows travel as one JSON parameter):
 * `added` are inserted and get an open membership; `changed` are updated; `rejoining` (they
 * had left) are updated with date_left cleared and get a new open membership.
 */
const writeMembers = async (
  tx: Tx,
  guildId: string,
  added: ReadonlyArray<MemberSnapshot>,
  changed: ReadonlyArray<MemberSnapshot>,
  rejoining: ReadonlyArray<MemberSnapshot>,
): Promise<void> => {
  if (added.length > 0) {
    await tx.execute(
      sql`insert into guild_members (guild_id, user_id, username, global_name, nick, avatar, role_ids, joined_at,
            is_bot, pending, premium_since, communication_disabled_until)
          select ${guildId}, x.user_id, x.username, x.global_name, x.nick, x.avatar, x.role_ids, x.joined_at,
                 x.is_bot, x.pending, x.premium_since, x.communication_disabled_until
          from jsonb_to_recordset(${recordsOf(added)}::jsonb) as x(${RECORD_COLUMNS})
          on conflict (guild_id, user_id) do nothing`,
    );
  }
  const updates = [...changed, ...rejoining];
  if (updates.length > 0) {
    await tx.execute(
      sql`update guild_members m set
            username = x.username, global_name = x.global_name, nick = x.nick, avatar = x.avatar,
            role_ids = x.role_ids, joined_at = x.joined_at, is_bot = x.is_bot, pending = x.pending,
            premium_since = x.premium_since, communication_disabled_until = x.communication_disabled_until,
            date_left = null, date_modified = now()
          from jsonb_to_recordset(${recordsOf(updates)}::jsonb) as x(${RECORD_COLUMNS})
          where m.guild_id = ${guildId} and m.user_id = x.user_id`,
    );
  }
  const opened = [...added, ...rejoining];
  if (opened.length > 0) {
    await tx.execute(
      sql`insert into guild_membership_history (guild_id, user_id, joined_at, first_seen_at)
          select ${guildId}, x.user_id, x.joined_at, now()
          from jsonb_to_recordset(${recordsOf(opened)}::jsonb) as x(${RECORD_COLUMNS})`,
    );
  }
};
