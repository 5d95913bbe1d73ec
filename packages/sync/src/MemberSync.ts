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

const NEEDS_ESCAPE = /["\\]/;
const ESCAPABLE = /["\\]/g;

/** A text value as an array-literal element: always quoted, with `"` and `\` escaped. */
const quoted = (value: string | null): string =>
  value === null ? "NULL" : NEEDS_ESCAPE.test(value) ? `"${value.replace(ESCAPABLE, "\\$&")}"` : `"${value}"`;

/** A snowflake, ISO time or comma-joined snowflakes: nothing to escape, quoted only so `""` stays an empty string. */
const plain = (value: string | null): string => (value === null ? "NULL" : `"${value}"`);

/** A Postgres array literal (`{"a","b",NULL}`) of snowflakes, passed as ONE text parameter. */
const snowflakeArray = (ids: ReadonlyArray<string>): string => `{${ids.join(",")}}`;

/**
 * The members as a row source: eleven array parameters zipped by `unnest` into the columns of
 * guild_members. Each column travels as ONE text parameter holding a Postgres array literal,
 * built in a single pass: Postgres parses array literals about three times faster than the
 * same rows as JSON, and eleven parameters per chunk suit both drivers. Role ids travel
 * comma-joined (snowflakes have no commas) and must be sorted; times are truncated to the
 * millisecond, the precision every other writer uses, so a re-sync compares like with like.
 */
const membersSource = (members: ReadonlyArray<MemberSnapshot>) => {
  const columns = ["", "", "", "", "", "", "", "", "", "", ""];
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    const sep = i === 0 ? "" : ",";
    columns[0] += sep + m.userId;
    columns[1] += sep + quoted(m.username);
    columns[2] += sep + quoted(m.globalName);
    columns[3] += sep + quoted(m.nick);
    columns[4] += sep + quoted(m.avatar);
    columns[5] += sep + plain(m.roleIds.join(","));
    columns[6] += sep + plain(m.joinedAt);
    columns[7] += sep + (m.isBot ? "t" : "f");
    columns[8] += sep + (m.pending ? "t" : "f");
    columns[9] += sep + plain(m.premiumSince);
    columns[10] += sep + plain(m.communicationDisabledUntil);
  }
  const [ids, usernames, globalNames, nicks, avatars, roles, joined, bots, pending, premium, timeouts] = columns.map((c) => `{${c}}`);
  return sql`(
  select x.user_id, x.username, x.global_name, x.nick, x.avatar, string_to_array(x.role_ids, ',') as role_ids,
         date_trunc('milliseconds', x.joined_at) as joined_at, x.is_bot, x.pending,
         date_trunc('milliseconds', x.premium_since) as premium_since,
         date_trunc('milliseconds', x.communication_disabled_until) as communication_disabled_until
  from unnest(
    ${ids}::text::text[], ${usernames}::text::text[], ${globalNames}::text::text[], ${nicks}::text::text[],
    ${avatars}::text::text[], ${roles}::text::text[], ${joined}::text::timestamptz[], ${bots}::text::boolean[],
    ${pending}::text::boolean[], ${premium}::text::timestamptz[], ${timeouts}::text::timestamptz[]
  ) as x(user_id, username, global_name, nick, avatar, role_ids, joined_at, is_bot, pending, premium_since, communication_disabled_until)
)`;
};

/** The compared columns, stored (`m.`) against incoming (`i.`): a member is unchanged when all are equal. */
const differs = sql.raw(`(m.username, m.global_name, m.nick, m.avatar, m.role_ids, m.joined_at, m.is_bot, m.pending,
   m.premium_since, m.communication_disabled_until)
  is distinct from
  (i.username, i.global_name, i.nick, i.avatar, i.role_ids, i.joined_at, i.is_bot, i.pending,
   i.premium_since, i.communication_disabled_until)`);

/** The member with its role ids in order (the only normalization Postgres needs: it parses the times itself). */
const sortedRoles = (member: MemberSnapshot): MemberSnapshot => {
  const roles = member.roleIds;
  for (let i = 1; i < roles.length; i++) {
    if (roles[i - 1]! > roles[i]!) return { ...member, roleIds: [...roles].sort() };
  }
  return member;
};

/** What the chunk statement reports. */
interface ChunkOutcome extends Record<string, unknown> {
  running: boolean;
  duplicate: boolean;
  known_count: number | null;
  stored: boolean;
  created: number;
  updated: number;
  rejoined: number;
}

/** Progress is written to the run row at most this often per run and server process (ms). */
export const PROGRESS_EVERY_MS = 250;

/**
 * The guild member mirror and its full syncs.
 *
 * A full sync is a run: `start` it, `applyChunk` each chunk of the snapshot as it arrives
 * (one statement per chunk: Postgres compares the chunk with the stored rows and writes only
 * new, changed and returning members), then `complete` it. Members are marked left only when
 * every chunk 0..chunk_count-1 of the run arrived with one chunk_count; otherwise the run ends
 * `incomplete` and nobody's date_left changes. Redelivered chunks change nothing. Live
 * GUILD_MEMBER_ADD/UPDATE/REMOVE go through `upsertLive` (which names the changed fields with
 * @guildhall/diff) and `removeLive`. Progress (the run row's counts, refreshed from the chunk
 * rows at most every PROGRESS_EVERY_MS per server process, and final at the end) is announced
 * on {@link SYNC_CHANNEL} to every server instance.
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
     * Applies chunk `chunkIndex` of `chunkCount` (Discord's GUILD_MEMBERS_CHUNK numbering,
     * https://discord.com/developers/docs/events/gateway-events#guild-members-chunk).
     * `chunkCount` is null when it is not known yet (REST paging); `complete` then gives it.
     * Returns the chunk's counts and the run's progress as last written (at most
     * PROGRESS_EVERY_MS old). Fails with SyncNotRunning (the run ended or never was),
     * ChunkMismatch (index outside 0..chunkCount-1, or a chunkCount other chunks contradict),
     * DatabaseError.
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
    /** Ends every running run (any guild) whose bot went silent for SYNC_STALE_MS, as `incomplete`; returns them. */
    readonly expireStale: () => Effect.Effect<ReadonlyArray<SyncRun>, DatabaseError>;
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
        use("memberSync.announce", (db) => db.execute(sql`select pg_notify(${SYNC_CHANNEL}, ${JSON.stringify({ items: [run] })})`)).pipe(
          Effect.asVoid,
        );

      // A run is stale when neither the run row nor any of its chunks moved for SYNC_STALE_MS.
      // Without `guildId`, every guild's stale runs (the scheduled expiry).
      const expireStale = (guildId?: string) =>
        use("memberSync.expireStale", (db) =>
          db
            .update(runs)
            .set({ status: "incomplete", reason: "timed out: no chunk arrived for 2 minutes", finishedAt: new Date() })
            .where(
              and(
                guildId === undefined ? undefined : eq(runs.guildId, guildId),
                eq(runs.status, "running"),
                sql`${runs.heartbeatAt} < now() - make_interval(secs => ${SYNC_STALE_MS / 1000})`,
                sql`not exists (select 1 from member_sync_chunks c where c.run_id = ${runs.id}
                      and c.applied_at >= now() - make_interval(secs => ${SYNC_STALE_MS / 1000}))`,
              ),
            )
            .returning(),
        ).pipe(
          Effect.tap((ended) =>
            Effect.forEach(ended, (row) =>
              use("memberSync.expireStale.chunks", (db) => db.delete(chunks).where(eq(chunks.runId, row.id))).pipe(
                Effect.andThen(announce(toRun(row))),
              ),
            ),
          ),
          Effect.map((ended) => ended.map(toRun)),
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
            db
              .select({ id: runs.id })
              .from(runs)
              .where(and(eq(runs.guildId, input.guildId), eq(runs.status, "running"))),
          );
          return yield* new SyncAlreadyRunning({ guildId: input.guildId, runId: running[0]?.id ?? "unknown" });
        }
        const run = toRun(row[0]);
        lastRun.set(run.id, { at: Date.now(), run });
        yield* announce(run);
        return run;
      });

      // Per run, the progress this process last wrote (see PROGRESS_EVERY_MS).
      const lastRun = new Map<string, { at: number; run: SyncRun }>();

      /** Copies the chunk totals into the run row and announces it. Null when the run is not running. */
      const writeProgress = (runId: string) =>
        use("memberSync.progress", (db) =>
          executeRows<Record<string, unknown>>(
            db,
            sql`update member_sync_runs r set
                  chunk_count = coalesce(r.chunk_count, a.chunk_count),
                  chunks_received = a.chunks, rows_received = a.rows, created = a.created, updated = a.updated,
                  rejoined = a.rejoined, unchanged = a.rows - a.created - a.updated - a.rejoined,
                  heartbeat_at = greatest(r.heartbeat_at, coalesce(a.last_at, r.heartbeat_at))
                from (${chunkTotals(runId)}) a
                where r.id = ${runId} and r.status = 'running'
                returning r.id`,
          ),
        ).pipe(
          Effect.flatMap((rows) => (rows.length === 0 ? Effect.succeed(null) : run(runId))),
          Effect.tap((updated) => {
            if (!updated) return Effect.void;
            lastRun.set(runId, { at: Date.now(), run: updated });
            return announce(updated);
          }),
        );

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
        // Snowflakes are unique within a chunk (Discord never repeats a member in one); keep the last if a caller does.
        const incoming = [...new Map(input.members.map((m) => [m.userId, sortedRoles(m)])).values()];
        const count = input.chunkCount;
        // ONE statement per chunk, so chunks in flight together never wait on one another:
        // - `run` holds a KEY SHARE lock on the running run, which `complete`/`abort` (FOR UPDATE)
        //   wait for, so no chunk lands in a run that has ended;
        // - a chunk index already stored, or a chunk_count that contradicts the run's other
        //   chunks, writes nothing;
        // - each member is looked up through the primary key (LATERAL ... LIMIT 1 keeps that
        //   plan whatever the statistics say; a first sync leaves them stale) and only new,
        //   returning or different members are written;
        // - the chunk row records what the chunk changed and who it carried (for `complete`).
        // Its commit does not wait for the WAL flush (synchronous_commit off, for this
        // transaction only): a crash can lose the last chunks' commits, but a crash also ends
        // the run, which then never completes (no one is marked left), and the next sync
        // rewrites whatever was lost. About 10% more chunks per second.
        // (set_config(..., true) lasts until the end of the statement's own transaction, which
        // includes its commit: no extra round trips for BEGIN/SET/COMMIT.)
        const [outcome] = yield* use("memberSync.applyChunk", (db) =>
          executeRows<ChunkOutcome>(
            db,
            sql`with run as (
                  select guild_id, set_config('synchronous_commit', 'off', true) as async_commit
                  from member_sync_runs where id = ${input.runId} and status = 'running' for key share
                ),
                prior as (
                  select exists (select 1 from member_sync_chunks where run_id = ${input.runId} and chunk_index = ${input.chunkIndex}) as duplicate,
                         (select chunk_count from member_sync_chunks where run_id = ${input.runId} and chunk_count is not null limit 1) as known_count
                ),
                go as (
                  select run.guild_id from run, prior
                  where not prior.duplicate
                    and (prior.known_count is null or ${count}::int is null or prior.known_count = ${count}::int)
                ),
                cand as (
                  select i.*, m.user_id is null as is_new, m.date_left is not null as has_left
                  from ${membersSource(incoming)} i
                  left join lateral (
                    select * from guild_members g where g.guild_id = (select guild_id from go) and g.user_id = i.user_id limit 1
                  ) m on true
                  where exists (select 1 from go) and (m.user_id is null or m.date_left is not null or ${differs})
                ),
                ins as (
                  insert into guild_members (guild_id, user_id, username, global_name, nick, avatar, role_ids, joined_at,
                    is_bot, pending, premium_since, communication_disabled_until)
                  select (select guild_id from go), user_id, username, global_name, nick, avatar, role_ids, joined_at,
                    is_bot, pending, premium_since, communication_disabled_until
                  from cand where is_new
                  on conflict (guild_id, user_id) do nothing
                  returning 1
                ),
                upd as (
                  update guild_members m set
                    username = c.username, global_name = c.global_name, nick = c.nick, avatar = c.avatar,
                    role_ids = c.role_ids, joined_at = c.joined_at, is_bot = c.is_bot, pending = c.pending,
                    premium_since = c.premium_since, communication_disabled_until = c.communication_disabled_until,
                    stay_started_at = case when c.has_left then now() else m.stay_started_at end,
                    date_left = null, date_modified = now()
                  from cand c
                  where m.guild_id = (select guild_id from go)
                    and m.user_id = any(array(select user_id from cand where not is_new))
                    and m.user_id = c.user_id and not c.is_new
                  returning 1
                ),
                chunk as (
                  insert into member_sync_chunks (run_id, chunk_index, chunk_count, members, created, updated, rejoined, user_ids)
                  select ${input.runId}, ${input.chunkIndex}, ${count}::int, ${incoming.length},
                    (select count(*) from cand where is_new), (select count(*) from cand where not is_new and not has_left),
                    (select count(*) from cand where has_left),
                    ${snowflakeArray(incoming.map((m) => m.userId))}::text::text[]
                  from go
                  on conflict (run_id, chunk_index) do nothing
                  returning created, updated, rejoined
                )
                select exists (select 1 from run) as running, (select duplicate from prior) as duplicate,
                       (select known_count from prior) as known_count, exists (select 1 from chunk) as stored,
                       coalesce((select created from chunk), 0) as created, coalesce((select updated from chunk), 0) as updated,
                       coalesce((select rejoined from chunk), 0) as rejoined,
                       (select count(*) from ins) + (select count(*) from upd) as written`,
          ),
        );
        if (!outcome?.running) {
          const current = yield* run(input.runId);
          return yield* new SyncNotRunning({ runId: input.runId, status: current?.status ?? null });
        }
        if (!outcome.duplicate && outcome.known_count !== null && count !== null && outcome.known_count !== count) {
          return yield* new ChunkMismatch({
            runId: input.runId,
            message: `chunk_count ${count} differs from the run's ${outcome.known_count}`,
          });
        }
        const previous = lastRun.get(input.runId);
        const progress =
          !previous || Date.now() - previous.at >= PROGRESS_EVERY_MS || !outcome.stored ? yield* writeProgress(input.runId) : previous.run;
        const current = progress ?? previous?.run ?? (yield* run(input.runId));
        if (!current) return yield* new SyncNotRunning({ runId: input.runId, status: null });
        if (!outcome.stored) {
          // Already applied (a redelivery, possibly racing the first delivery): nothing changed.
          return { run: current, applied: false, created: 0, updated: 0, rejoined: 0, unchanged: 0 };
        }
        const created = Number(outcome.created);
        const updated = Number(outcome.updated);
        const rejoined = Number(outcome.rejoined);
        return { run: current, applied: true, created, updated, rejoined, unchanged: incoming.length - created - updated - rejoined };
      });

      const finish = (
        runId: string,
        end: (tx: Tx, run: typeof runs.$inferSelect, totals: ChunkTotals) => Promise<Partial<typeof runs.$inferInsert>>,
      ) =>
        Effect.gen(function* () {
          const outcome = yield* use("memberSync.finish", (db) =>
            db.transaction(async (tx) => {
              // FOR UPDATE waits for chunks in flight (they hold KEY SHARE) and keeps new ones out.
              const [locked] = await tx.select().from(runs).where(eq(runs.id, runId)).for("update");
              if (locked?.status !== "running") return { ok: false as const, status: locked?.status ?? null };
              const [totals] = await executeRows<ChunkTotals>(tx, chunkTotals(runId));
              const sums = {
                chunks: Number(totals?.chunks ?? 0),
                rows: Number(totals?.rows ?? 0),
                created: Number(totals?.created ?? 0),
                updated: Number(totals?.updated ?? 0),
                rejoined: Number(totals?.rejoined ?? 0),
                chunk_count: totals?.chunk_count === null || totals?.chunk_count === undefined ? null : Number(totals.chunk_count),
                chunk_counts: Number(totals?.chunk_counts ?? 0),
                last_at: totals?.last_at ?? null,
              };
              const patch = await end(tx, locked, sums);
              await tx.delete(chunks).where(eq(chunks.runId, runId));
              const [ended] = await tx
                .update(runs)
                .set({
                  chunkCount: locked.chunkCount ?? sums.chunk_count,
                  chunksReceived: sums.chunks,
                  rowsReceived: sums.rows,
                  created: sums.created,
                  updated: sums.updated,
                  rejoined: sums.rejoined,
                  unchanged: sums.rows - sums.created - sums.updated - sums.rejoined,
                  ...patch,
                  finishedAt: new Date(),
                })
                .where(eq(runs.id, runId))
                .returning();
              return { ok: true as const, run: toRun(ended!) };
            }),
          );
          lastRun.delete(runId);
          if (!outcome.ok) return yield* new SyncNotRunning({ runId, status: outcome.status });
          yield* announce(outcome.run);
          return outcome.run;
        });

      const complete = (runId: string, chunkCount?: number) =>
        finish(runId, async (tx, run, totals) => {
          const expected = run.chunkCount ?? chunkCount ?? totals.chunk_count;
          if (totals.chunk_counts > 1) {
            return {
              status: "incomplete" as const,
              chunkCount: expected,
              reason: "snapshot inconsistent: its chunks disagree on chunk_count; nobody was marked left",
            };
          }
          if (expected === null || totals.chunks < expected) {
            return {
              status: "incomplete" as const,
              chunkCount: expected,
              reason: `snapshot incomplete: ${totals.chunks} of ${expected ?? "?"} chunks arrived; nobody was marked left`,
            };
          }
          // Present members the snapshot did not carry have left, unless a live event touched
          // them after the run began (they joined while the chunks were being produced): a hash
          // anti-join of the guild's present members against the user ids the chunks carried.
          // On Postgres the read runs as a parallel query with the hash in memory (at 1M members:
          // 0.8 s instead of 1.9 s serial and spilling to disk); nested loops are ruled out
          // because a first sync leaves the statistics stale, and a nested loop over a million
          // members would take minutes. A data-modifying statement cannot run in parallel, so the
          // update that follows takes the ids.
          // (Both drivers: embedded PGlite plans the same way, only without parallel workers.)
          await tx.execute(
            sql`select set_config('enable_nestloop', 'off', true), set_config('work_mem', '256MB', true),
                       set_config('parallel_setup_cost', '0', true), set_config('parallel_tuple_cost', '0', true),
                       set_config('min_parallel_table_scan_size', '0', true)`,
          );
          const [absent] = await executeRows<{ tids: string | null }>(
            tx,
            sql`select array_agg(m.ctid)::text as tids from guild_members m
                where m.guild_id = ${run.guildId} and m.date_left is null
                  and m.date_modified < ${run.startedAt.toISOString()}::timestamptz
                  and not exists (
                    select 1 from (select unnest(user_ids) as user_id from member_sync_chunks where run_id = ${runId}) s
                    where s.user_id = m.user_id
                  )`,
          );
          // The rows are updated by their tuple ids (a TID scan, whatever the statistics say);
          // a row a live event changed meanwhile has moved and is skipped, as it should be.
          const [left] = !absent?.tids
            ? [{ n: 0 }]
            : await executeRows<{ n: number }>(
                tx,
                sql`with gone as (
                      update guild_members m set date_left = now(), date_modified = now()
                      where m.ctid = any(${absent.tids}::text::tid[])
                        and m.guild_id = ${run.guildId} and m.date_left is null
                        and m.date_modified < ${run.startedAt.toISOString()}::timestamptz
                      returning m.guild_id, m.user_id, m.joined_at, m.stay_started_at
                    ),
                    stays as (
                      insert into guild_membership_history (guild_id, user_id, joined_at, first_seen_at, left_at)
                      select guild_id, user_id, joined_at, stay_started_at, now() from gone
                    )
                    select count(*)::int as n from gone`,
              );
          return { status: "completed" as const, markedLeft: Number(left?.n ?? 0), chunkCount: expected };
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
            if (!row) return (await insertMembers(tx, guildId, [incoming])) > 0 ? "created" : "unchanged";
            if (row.dateLeft !== null) {
              await updateMembers(tx, guildId, [incoming], { rejoining: true });
              return "rejoined";
            }
            const diff = diffSnapshots([snapshotOf(row)], [incoming], { key: (m) => m.userId, fields: MEMBER_FIELDS });
            if (diff.changed.length === 0) return "unchanged";
            await updateMembers(tx, guildId, [incoming], { rejoining: false });
            return "updated";
          }),
        );

      const removeLive = (guildId: string, userId: string) =>
        use("memberSync.removeLive", async (db): Promise<LiveOutcome> => {
          const [left] = await executeRows<{ n: number }>(
            db,
            sql`with gone as (
                  update guild_members set date_left = now(), date_modified = now()
                  where guild_id = ${guildId} and user_id = ${userId} and date_left is null
                  returning guild_id, user_id, joined_at, stay_started_at
                ),
                stays as (
                  insert into guild_membership_history (guild_id, user_id, joined_at, first_seen_at, left_at)
                  select guild_id, user_id, joined_at, stay_started_at, now() from gone
                )
                select count(*)::int as n from gone`,
          );
          return Number(left?.n ?? 0) > 0 ? "left" : "unchanged";
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
        expireStale: Effect.fn("MemberSync.expireStale")(function* () {
          return yield* expireStale();
        }),
      });
    }),
  );
}

type Tx = Parameters<Parameters<Database["Service"]["db"]["transaction"]>[0]>[0];

/** Per-run sums over member_sync_chunks (one row; counts as numbers or numeric strings by driver). */
interface ChunkTotals extends Record<string, unknown> {
  chunks: number;
  rows: number;
  created: number;
  updated: number;
  rejoined: number;
  /** The largest chunk_count the chunks carried, and how many distinct ones (more than 1: inconsistent). */
  chunk_count: number | null;
  chunk_counts: number;
  last_at: string | null;
}

const chunkTotals = (runId: string) =>
  sql`select count(*)::int as chunks, coalesce(sum(members), 0)::int as rows, coalesce(sum(created), 0)::int as created,
             coalesce(sum(updated), 0)::int as updated, coalesce(sum(rejoined), 0)::int as rejoined,
             max(chunk_count) as chunk_count, count(distinct chunk_count)::int as chunk_counts, max(applied_at) as last_at
      from member_sync_chunks where run_id = ${runId}`;

/**
 * Inserts `added` (normalized) into the guild's mirror in one statement, when the guild is
 * one Guildhall knows (checked once per statement; see schema.ts on the missing foreign key).
 * Returns how many rows were inserted.
 */
const insertMembers = async (tx: Tx, guildId: string, added: ReadonlyArray<MemberSnapshot>): Promise<number> => {
  const rows = await executeRows<{ user_id: string }>(
    tx,
    sql`insert into guild_members (guild_id, user_id, username, global_name, nick, avatar, role_ids, joined_at,
          is_bot, pending, premium_since, communication_disabled_until)
        select ${guildId}, i.user_id, i.username, i.global_name, i.nick, i.avatar, i.role_ids, i.joined_at,
               i.is_bot, i.pending, i.premium_since, i.communication_disabled_until
        from ${membersSource(added)} i
        where exists (select 1 from guilds where id = ${guildId})
        on conflict (guild_id, user_id) do nothing
        returning user_id`,
  );
  return rows.length;
};

/** Updates stored members to `changed` (normalized); `rejoining` also clears date_left and starts a new stay. */
const updateMembers = async (tx: Tx, guildId: string, changed: ReadonlyArray<MemberSnapshot>, options: { rejoining: boolean }) => {
  await tx.execute(
    sql`update guild_members m set
          username = i.username, global_name = i.global_name, nick = i.nick, avatar = i.avatar,
          role_ids = i.role_ids, joined_at = i.joined_at, is_bot = i.is_bot, pending = i.pending,
          premium_since = i.premium_since, communication_disabled_until = i.communication_disabled_until,
          ${options.rejoining ? sql`date_left = null, stay_started_at = now(),` : sql``} date_modified = now()
        from ${membersSource(changed)} i
        where m.guild_id = ${guildId} and m.user_id = i.user_id`,
  );
};
