/**
 * The SQL of member sync: every statement MemberSync runs, and the one table of member columns
 * ({@link MEMBER_COLUMNS}) every member statement derives from. The run logic (when a run may
 * start, when a snapshot is complete, what a failure ends) lives in MemberSync; this module
 * only reads and writes. Every method joins the caller's transaction when there is one
 * (`Database.transaction`).
 *
 * Times: every time written here is the `now` the caller passes (MemberSync reads it from
 * Effect's Clock), never SQL `now()`, so the whole member mirror runs on one clock, and tests
 * can move it with TestClock.
 */
import { Database, type DatabaseError, executeRows, schema } from "@guildhall/db";
import { and, desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import { Context, Effect, Layer } from "effect";
import type { MemberSnapshot, RoleSnapshot } from "./members";

// ---------------------------------------------------------------------------------------------
// The member columns

const ESCAPABLE = /["\\]/g;
/**
 * Values Postgres reads back unchanged without quotes: non-empty, only digits and `: . + - T Z`
 * (snowflakes and ISO-8601 times). None holds a delimiter, a brace, a quote, a backslash or
 * whitespace, and none can spell NULL.
 */
const BARE = /^[0-9:.+\-TZ]+$/;

/**
 * The one escaping function: `value` as a Postgres array-literal element
 * (https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO). A value that matches
 * {@link BARE} goes as it is; any other is double-quoted, with `"` and `\` backslash-escaped.
 * Quoted, a value can hold commas, braces, spaces or the word NULL and still be one element,
 * so no value can shift the elements of a column (and with them the rows `unnest` zips).
 * (Quoting snowflakes and times too cost Postgres 8% more time per chunk at 1M members:
 * `log_min_duration_statement`, parse + bind + execute of the chunk statement.)
 */
const element = (value: string): string =>
  BARE.test(value)
    ? value
    : // Two indexOf scans beat a regex replace on the short strings members carry (a chunk encodes ~10,000).
      value.indexOf('"') === -1 && value.indexOf("\\") === -1
      ? `"${value}"`
      : `"${value.replace(ESCAPABLE, "\\$&")}"`;

/**
 * How each Postgres column type travels: `encode` writes one array-literal element (through
 * {@link element}, or `NULL`, `t`, `f`), `unnest` is the element type of the array parameter
 * `unnest` reads (the literal is cast `$n::text::<unnest>[]`), `read` turns the unnested
 * value into the stored one, and `fromRow` turns the value Drizzle reads back into the
 * snapshot's form.
 * - `text[]` travels as ONE text element, its items comma-joined (snowflakes have no commas),
 *   split again by `string_to_array`; read back sorted.
 * - `timestamptz` is truncated to the millisecond, the precision every writer uses, so a
 *   re-sync compares like with like; read back as ISO-8601.
 */
const PG_TYPES = {
  text: {
    unnest: "text",
    encode: (value: string | null) => (value === null ? "NULL" : element(value)),
    read: (x: string) => x,
    fromRow: (value: unknown) => value,
  },
  "text[]": {
    unnest: "text",
    encode: (value: ReadonlyArray<string>) => element(value.join(",")),
    read: (x: string) => `string_to_array(${x}, ',')`,
    fromRow: (value: unknown) => [...(value as ReadonlyArray<string>)].sort(),
  },
  timestamptz: {
    unnest: "timestamptz",
    encode: (value: string | null) => (value === null ? "NULL" : element(value)),
    read: (x: string) => `date_trunc('milliseconds', ${x})`,
    fromRow: (value: unknown) => (value as Date | null)?.toISOString() ?? null,
  },
  boolean: {
    unnest: "boolean",
    encode: (value: boolean) => (value ? "t" : "f"),
    read: (x: string) => x,
    fromRow: (value: unknown) => value,
  },
} as const;
type PgType = keyof typeof PG_TYPES;

/** The Postgres types whose encoding takes values of type `T`. */
type PgTypeFor<T> = { [P in PgType]: [T] extends [Parameters<(typeof PG_TYPES)[P]["encode"]>[0]] ? P : never }[PgType];

/** One column of guild_members that a MemberSnapshot field is stored in. */
interface MemberColumn<T> {
  /** Its SQL name. */
  readonly column: string;
  /** Its Postgres type, which decides how the value is encoded (see PG_TYPES). */
  readonly type: PgTypeFor<T>;
  /** Whether a sync compares it to tell "changed" from "unchanged". */
  readonly compared: boolean;
  /** A further step on the read value (SQL text), given an SQL expression for the statement's guild id. */
  readonly refine?: (value: string, guildId: string) => string;
}

/**
 * THE member columns: for each MemberSnapshot field (exactly once, checked by the type), the
 * guild_members column it is stored in, its Postgres type, and whether it is compared. The
 * array literals, the `unnest` parameters and column list, the insert and update column lists
 * and the compared columns of every member statement derive from this table; `userId` is the
 * key (never compared, never updated).
 */
export const MEMBER_COLUMNS: { readonly [K in keyof MemberSnapshot]-?: MemberColumn<MemberSnapshot[K]> } = {
  userId: { column: "user_id", type: "text", compared: false },
  username: { column: "username", type: "text", compared: true },
  globalName: { column: "global_name", type: "text", compared: true },
  nick: { column: "nick", type: "text", compared: true },
  avatar: { column: "avatar", type: "text", compared: true },
  // Discord never lists @everyone (the role whose id is the guild's) in a member's roles; a
  // caller that does is corrected here, for every path (chunks, live events, legacy).
  roleIds: { column: "role_ids", type: "text[]", compared: true, refine: (roles, guildId) => `array_remove(${roles}, ${guildId})` },
  joinedAt: { column: "joined_at", type: "timestamptz", compared: true },
  isBot: { column: "is_bot", type: "boolean", compared: true },
  pending: { column: "pending", type: "boolean", compared: true },
  premiumSince: { column: "premium_since", type: "timestamptz", compared: true },
  communicationDisabledUntil: { column: "communication_disabled_until", type: "timestamptz", compared: true },
};

/** The table as a list, each column with its type's codec (in the table's own order: only the lists below rely on it). */
const COLUMNS = (Object.keys(MEMBER_COLUMNS) as Array<keyof MemberSnapshot>).map((field) => {
  const { column, type, compared, refine } = MEMBER_COLUMNS[field] as MemberColumn<unknown>;
  const codec = PG_TYPES[type as PgType];
  return { field, column, type: type as PgType, compared, refine, codec, encode: codec.encode as (value: unknown) => string };
});
const KEY = MEMBER_COLUMNS.userId.column;
const ident = (name: string) => sql.raw(name);
const list = (names: ReadonlyArray<string>, prefix = "") => sql.raw(names.map((name) => prefix + name).join(", "));

/** Every member column, for `insert into guild_members (guild_id, <these>)` and selects. */
const ALL = COLUMNS.map((c) => c.column);
/** The columns an update writes: all but the key. */
const UPDATED = ALL.filter((column) => column !== KEY);
/** The compared columns. */
const COMPARED = COLUMNS.filter((c) => c.compared).map((c) => c.column);

/** `a = <from>.a, b = <from>.b, ...` over the updated columns. */
const assignments = (from: string) => sql.raw(UPDATED.map((column) => `${column} = ${from}.${column}`).join(", "));

/** The compared columns, stored (`m.`) against incoming (`i.`): a member is unchanged when all are equal. */
const differs = sql.raw(`(${COMPARED.map((c) => `m.${c}`).join(", ")}) is distinct from (${COMPARED.map((c) => `i.${c}`).join(", ")})`);

/** A MemberSnapshot field name, checked before it is written into {@link encodeMembers}' source. */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * The members' array literals, one per column (in COLUMNS order); each is ONE text parameter
 * such as `{"a","b",NULL}`. The values must have passed MemberSnapshot: escaping keeps any
 * string one element, the schema keeps it storable.
 *
 * Compiled once from COLUMNS into one loop with a statement per column
 * (`l3[i] = e3(m.nick)`, `e3` being that column's `encode`), so each property read and each
 * encode call sees one field and one function, and V8 inlines them. The same loop written over
 * the table (`column.encode(member[column.field])`) shares one read and one call among all the
 * columns: with the flattening of its `+=` strings that the driver does when it writes a
 * parameter, it took 1.5 times as long per 1,000-member chunk (88 against 59 ms per 100k
 * members; hand-unrolled code took 61). The source holds only COLUMNS' field names (checked
 * against {@link FIELD_NAME}) and indexes: no value ever enters it.
 */
const encodeMembers: (members: ReadonlyArray<MemberSnapshot>) => Array<string> = (() => {
  const fields = COLUMNS.map((c) => {
    if (!FIELD_NAME.test(c.field)) throw new Error(`MEMBER_COLUMNS: field ${JSON.stringify(c.field)} is not a plain name`);
    return c.field;
  });
  const source = `return function encodeMembers(members) {
    const n = members.length;
    ${fields.map((_, c) => `const l${c} = new Array(n);`).join("\n    ")}
    for (let i = 0; i < n; i++) {
      const m = members[i];
      ${fields.map((field, c) => `l${c}[i] = e${c}(m.${field});`).join("\n      ")}
    }
    return [${fields.map((_, c) => `"{" + l${c}.join(",") + "}"`).join(", ")}];
  };`;
  return new Function(...fields.map((_, c) => `e${c}`), source)(...COLUMNS.map((c) => c.encode));
})();

/** Where the key column's literal is, in {@link encodeMembers}' result: the chunk row stores it as the user ids the chunk carried. */
const KEY_INDEX = COLUMNS.findIndex((c) => c.column === KEY);

/**
 * The select list of the row source: each column read from its unnested value (and refined),
 * built once. Its guild id is `(select guild_id from g)`: every statement that reads members
 * defines a CTE `g` holding its guild. (Static SQL text from the table alone: no values.)
 */
const READS = sql.raw(
  COLUMNS.map((c) => {
    const value = c.codec.read(`x.${c.column}`);
    return `${c.refine ? c.refine(value, "(select guild_id from g)") : value} as ${c.column}`;
  }).join(", "),
);

/**
 * The members (their literals, from {@link encodeMembers}) as a row source with the columns of
 * guild_members: one array parameter per column, zipped by `unnest`. Postgres parses array
 * literals about three times faster than the same rows as JSON, and one parameter per column
 * suits both drivers. The statement must define the CTE `g` (see {@link READS}).
 */
const membersSource = (literals: ReadonlyArray<string>): SQL => {
  const params = COLUMNS.map((c, i) => sql`${literals[i]}::text::${ident(c.codec.unnest)}[]`);
  return sql`(select ${READS} from unnest(${sql.join(params, sql`, `)}) as x(${list(ALL)}))`;
};

// ---------------------------------------------------------------------------------------------
// Runs

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
  /**
   * Members a complete snapshot found gone but the mass-leave guard held back: while the run is
   * `awaiting_confirmation`, how many an admin's confirmation would mark left; afterwards, how
   * many the snapshot would have marked (`markedLeft` says how many a confirmation did).
   */
  readonly pendingLeft: number;
  /** The guild's present members when the guard weighed the snapshot; null when it did not need to. */
  readonly presentMembers: number | null;
  /** The app user id of the admin who confirmed or discarded a held snapshot, and when (ISO-8601); null otherwise. */
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
  readonly reason: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
}

type RunRow = typeof schema.memberSyncRuns.$inferSelect;
/** A stored member, as Drizzle reads it. */
export type MemberRow = typeof schema.guildMembers.$inferSelect;

const toRun = (row: RunRow): SyncRun => ({
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
  pendingLeft: row.pendingLeft,
  presentMembers: row.presentMembers,
  decidedBy: row.decidedBy,
  decidedAt: row.decidedAt?.toISOString() ?? null,
  reason: row.reason,
  startedAt: row.startedAt.toISOString(),
  finishedAt: row.finishedAt?.toISOString() ?? null,
  durationMs: row.finishedAt ? row.finishedAt.getTime() - row.startedAt.getTime() : null,
});

/** A stored member as a MemberSnapshot (times in ISO form, role ids sorted), through the column table. */
export const snapshotOf = (row: MemberRow): MemberSnapshot => {
  const snapshot: Record<string, unknown> = {};
  for (const c of COLUMNS) {
    snapshot[c.field] = c.codec.fromRow(row[c.field]);
  }
  return snapshot as MemberSnapshot;
};

/** What the chunk statement reports. */
export interface ChunkOutcome extends Record<string, unknown> {
  running: boolean;
  duplicate: boolean;
  known_count: number | null;
  stored: boolean;
  created: number;
  updated: number;
  rejoined: number;
}

/** Per-run sums over member_sync_chunks, as numbers. */
export interface ChunkTotals {
  readonly chunks: number;
  readonly rows: number;
  readonly created: number;
  readonly updated: number;
  readonly rejoined: number;
  /** The largest chunk_count the chunks carried, and how many distinct ones (more than 1: inconsistent). */
  readonly chunkCount: number | null;
  readonly chunkCounts: number;
}

const chunkTotals = (runId: string) =>
  sql`select count(*)::int as chunks, coalesce(sum(members), 0)::int as rows, coalesce(sum(created), 0)::int as created,
             coalesce(sum(updated), 0)::int as updated, coalesce(sum(rejoined), 0)::int as rejoined,
             max(chunk_count) as chunk_count, count(distinct chunk_count)::int as chunk_counts, max(applied_at) as last_at
      from member_sync_chunks where run_id = ${runId}`;

/**
 * The planner settings the absent-members anti-join runs under (see `absentMembers`): a hash
 * anti-join in memory, in parallel where Postgres can. Static names and values, no input.
 */
const ABSENT_PLAN = [
  ["enable_nestloop", "off"],
  ["work_mem", "256MB"],
  ["parallel_setup_cost", "0"],
  ["parallel_tuple_cost", "0"],
  ["min_parallel_table_scan_size", "0"],
] as const;

const at = (now: Date) => sql`${now.toISOString()}::timestamptz`;

/** The fields of a run that ending it writes (besides the counts). */
export interface RunEnding {
  readonly status: "completed" | "incomplete" | "failed" | "awaiting_confirmation";
  readonly reason?: string | null;
  readonly chunkCount?: number | null;
  readonly markedLeft?: number;
  readonly pendingLeft?: number;
  readonly presentMembers?: number | null;
}

/** The present members a complete snapshot did not carry (and no live event touched since the run began). */
export interface AbsentMembers {
  /** How many. */
  readonly count: number;
  /** Their tuple ids as a Postgres `tid[]` literal, for the statement that follows in the same transaction; null when none. */
  readonly tids: string | null;
}

/** How a held snapshot was decided: `completed` (confirmed: its members marked left) or `discarded` (nobody marked left). */
export interface RunDecision {
  readonly status: "completed" | "discarded";
  readonly markedLeft: number;
  readonly decidedBy: string | null;
  readonly reason: string;
}

/** The NOTIFY channel sync progress travels on. */
export const SYNC_CHANNEL = "guildhall_member_sync";

/**
 * The member sync store: the statements of runs, chunks, live member events and roles. All
 * methods fail only with `DatabaseError`; times (`now`) are the caller's.
 */
export class MemberSyncStore extends Context.Service<
  MemberSyncStore,
  {
    /** True when Guildhall knows `guildId` (a linked guild). */
    readonly guildExists: (guildId: string) => Effect.Effect<boolean, DatabaseError>;
    /** Inserts a running run (started and heard from at `now`); null when the guild already has one running. */
    readonly createRun: (input: {
      readonly id: string;
      readonly guildId: string;
      readonly trigger: schema.SyncTrigger;
      readonly source: "gateway" | "rest" | "legacy";
      readonly requestedBy: string | null;
      readonly nonce: string | null;
      readonly now: Date;
    }) => Effect.Effect<SyncRun | null, DatabaseError>;
    /** The id of the guild's running run, or null. */
    readonly runningRunOf: (guildId: string) => Effect.Effect<string | null, DatabaseError>;
    /** A run by id, or null. */
    readonly run: (runId: string) => Effect.Effect<SyncRun | null, DatabaseError>;
    /** The guild's runs, newest first, at most `limit`. */
    readonly history: (guildId: string, limit: number) => Effect.Effect<ReadonlyArray<SyncRun>, DatabaseError>;
    /**
     * Ends, as `incomplete` with `reason`, every running run (of `guildId`, or of every guild
     * when null) that neither the run row nor any chunk refreshed since `cutoff`, and deletes
     * their chunks. Runs a chunk is being applied to right now are skipped (they are alive).
     * Returns the ended runs. Run it in a transaction.
     */
    readonly expireStale: (input: {
      readonly guildId: string | null;
      readonly cutoff: Date;
      readonly now: Date;
      readonly reason: string;
    }) => Effect.Effect<ReadonlyArray<SyncRun>, DatabaseError>;
    /**
     * Applies one chunk in ONE statement (see the comment inside); `members` must be unique by
     * user id with sorted role ids. `now` stamps the chunk and every member it writes.
     */
    readonly applyChunk: (input: {
      readonly runId: string;
      readonly chunkIndex: number;
      readonly chunkCount: number | null;
      readonly members: ReadonlyArray<MemberSnapshot>;
      readonly now: Date;
    }) => Effect.Effect<ChunkOutcome | null, DatabaseError>;
    /** Copies the chunk totals into the running run row; returns the run, or null when it is not running. */
    readonly writeProgress: (runId: string) => Effect.Effect<SyncRun | null, DatabaseError>;
    /** Locks the run row (FOR UPDATE: waits for chunks in flight, keeps new ones out) and returns it, or null. Run it in a transaction. */
    readonly lockRun: (runId: string) => Effect.Effect<RunRow | null, DatabaseError>;
    /** The run's sums over its chunks. */
    readonly chunkTotals: (runId: string) => Effect.Effect<ChunkTotals, DatabaseError>;
    /**
     * Finds every present member of the run's guild that no chunk of the run carried and no
     * live event touched since the run started. `totals` are the run's chunk sums: when every
     * member the chunks carried was created by them (`rows === created`, a first sync), no
     * member present before the run was carried, and the chunks' user ids need not be read.
     * Run it in a transaction, and pass its `tids` only to statements of that transaction.
     */
    readonly absentMembers: (run: RunRow, totals: ChunkTotals) => Effect.Effect<AbsentMembers, DatabaseError>;
    /** Marks the members `absentMembers` found (`tids`) left at `now`, unless a live event touched them since; records their ended stays. Returns how many. */
    readonly markLeftByTids: (run: RunRow, tids: string, now: Date) => Effect.Effect<number, DatabaseError>;
    /** Keeps the members `absentMembers` found (`tids`) as the run's pending verdict (member_sync_pending_leaves). Returns how many. */
    readonly holdLeaves: (run: RunRow, tids: string) => Effect.Effect<number, DatabaseError>;
    /**
     * Marks left the run's pending members (its held verdict) that are still present and that no
     * live event touched since the run began; records their ended stays; drops the verdict.
     * Returns how many were marked. Run it in a transaction, the run locked.
     */
    readonly applyHeldLeaves: (run: RunRow, now: Date) => Effect.Effect<number, DatabaseError>;
    /** Writes how a held run was decided (`decidedAt` = `now`) and drops its verdict. Returns the run. */
    readonly decideRun: (run: RunRow, decision: RunDecision, now: Date) => Effect.Effect<SyncRun, DatabaseError>;
    /**
     * Ends every held run of the guild (`awaiting_confirmation`) as `discarded` with `reason`,
     * nobody marked left, and drops their verdicts: a later sync supersedes them. Returns them.
     */
    readonly discardHeld: (guildId: string, reason: string, now: Date) => Effect.Effect<ReadonlyArray<SyncRun>, DatabaseError>;
    /** The guild's mass-leave guard: the share of present members (percent) a snapshot may mark left unconfirmed. */
    readonly leaveGuardOf: (guildId: string) => Effect.Effect<number, DatabaseError>;
    /** Sets the guild's mass-leave guard (percent) at `now`, creating its settings row when it has none. */
    readonly setLeaveGuard: (guildId: string, percent: number, now: Date) => Effect.Effect<void, DatabaseError>;
    /** Ends the run with `ending`, the totals and `finishedAt`; deletes its chunks. Returns the ended run. */
    readonly endRun: (run: RunRow, totals: ChunkTotals, ending: RunEnding, finishedAt: Date) => Effect.Effect<SyncRun, DatabaseError>;
    /** NOTIFY {@link SYNC_CHANNEL} with the run (every server instance hears it). */
    readonly announce: (run: SyncRun) => Effect.Effect<void, DatabaseError>;
    /** The guild's role list becomes `roles`: upserted, and roles missing from it marked deleted at `now`. */
    readonly replaceRoles: (guildId: string, roles: ReadonlyArray<RoleSnapshot>, now: Date) => Effect.Effect<void, DatabaseError>;
    /** The stored member, locked for update when `lock` (in a transaction), or null. */
    readonly member: (guildId: string, userId: string, lock: boolean) => Effect.Effect<MemberRow | null, DatabaseError>;
    /** Inserts `added` (when the guild exists; an existing member is left alone). Returns how many were inserted. */
    readonly insertMembers: (guildId: string, added: ReadonlyArray<MemberSnapshot>, now: Date) => Effect.Effect<number, DatabaseError>;
    /** Updates stored members to `changed`; `rejoining` also clears date_left and starts a new stay at `now`. */
    readonly updateMembers: (
      guildId: string,
      changed: ReadonlyArray<MemberSnapshot>,
      rejoining: boolean,
      now: Date,
    ) => Effect.Effect<void, DatabaseError>;
    /** Marks the member left at `now` and records the ended stay. Returns 1, or 0 when they were not present. */
    readonly markLeft: (guildId: string, userId: string, now: Date) => Effect.Effect<number, DatabaseError>;
  }
>()("@guildhall/sync/MemberSyncStore") {
  /** Builds the store over the Database service (tests wrap it to inject failures). */
  static readonly make: Effect.Effect<MemberSyncStore["Service"], never, Database> = Effect.gen(function* () {
    const { use } = yield* Database;
    const {
      memberSyncRuns: runs,
      memberSyncChunks: chunks,
      memberSyncPendingLeaves: pendingLeaves,
      guildMembers: members,
      guilds,
    } = schema;

    const run = Effect.fn("MemberSyncStore.run")(function* (runId: string) {
      const rows = yield* use("memberSync.run", (db) => db.select().from(runs).where(eq(runs.id, runId)));
      return rows[0] ? toRun(rows[0]) : null;
    });

    const chunkTotalsOf = Effect.fn("MemberSyncStore.chunkTotals")(function* (runId: string) {
      const [totals] = yield* use("memberSync.chunkTotals", (db) => executeRows<Record<string, unknown>>(db, chunkTotals(runId)));
      const count = totals?.chunk_count;
      return {
        chunks: Number(totals?.chunks ?? 0),
        rows: Number(totals?.rows ?? 0),
        created: Number(totals?.created ?? 0),
        updated: Number(totals?.updated ?? 0),
        rejoined: Number(totals?.rejoined ?? 0),
        chunkCount: count === null || count === undefined ? null : Number(count),
        chunkCounts: Number(totals?.chunk_counts ?? 0),
      } satisfies ChunkTotals;
    });

    return MemberSyncStore.of({
      guildExists: Effect.fn("MemberSyncStore.guildExists")(function* (guildId: string) {
        const rows = yield* use("memberSync.guildExists", (db) => db.select({ id: guilds.id }).from(guilds).where(eq(guilds.id, guildId)));
        return rows.length > 0;
      }),

      createRun: Effect.fn("MemberSyncStore.createRun")(function* (input) {
        const rows = yield* use("memberSync.createRun", (db) =>
          db
            .insert(runs)
            .values({
              id: input.id,
              guildId: input.guildId,
              trigger: input.trigger,
              source: input.source,
              requestedBy: input.requestedBy,
              nonce: input.nonce,
              startedAt: input.now,
              heartbeatAt: input.now,
            })
            .onConflictDoNothing()
            .returning(),
        );
        return rows[0] ? toRun(rows[0]) : null;
      }),

      runningRunOf: Effect.fn("MemberSyncStore.runningRunOf")(function* (guildId: string) {
        const rows = yield* use("memberSync.running", (db) =>
          db
            .select({ id: runs.id })
            .from(runs)
            .where(and(eq(runs.guildId, guildId), eq(runs.status, "running"))),
        );
        return rows[0]?.id ?? null;
      }),

      run,

      history: Effect.fn("MemberSyncStore.history")(function* (guildId: string, limit: number) {
        const rows = yield* use("memberSync.history", (db) =>
          db.select().from(runs).where(eq(runs.guildId, guildId)).orderBy(desc(runs.startedAt)).limit(limit),
        );
        return rows.map(toRun);
      }),

      expireStale: Effect.fn("MemberSyncStore.expireStale")(function* (input) {
        const cutoff = at(input.cutoff);
        // SKIP LOCKED: a run a chunk is being applied to holds KEY SHARE, so it is alive, and
        // two instances expiring at once never end the same run twice.
        const ended = yield* use("memberSync.expireStale", (db) =>
          db
            .update(runs)
            .set({ status: "incomplete", reason: input.reason, finishedAt: input.now })
            .where(
              inArray(
                runs.id,
                sql`(select r.id from member_sync_runs r
                       where r.status = 'running' ${input.guildId === null ? sql`` : sql`and r.guild_id = ${input.guildId}`}
                         and r.heartbeat_at < ${cutoff}
                         and not exists (select 1 from member_sync_chunks c where c.run_id = r.id and c.applied_at >= ${cutoff})
                       for update skip locked)`,
              ),
            )
            .returning(),
        );
        if (ended.length > 0) {
          yield* use("memberSync.expireStale.chunks", (db) =>
            db.delete(chunks).where(
              inArray(
                chunks.runId,
                ended.map((row) => row.id),
              ),
            ),
          );
        }
        return ended.map(toRun);
      }),

      applyChunk: Effect.fn("MemberSyncStore.applyChunk")(function* (input) {
        const { runId, chunkIndex, members: incoming } = input;
        const count = input.chunkCount;
        const now = at(input.now);
        const literals = encodeMembers(incoming);
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
                    from member_sync_runs where id = ${runId} and status = 'running' for key share
                  ),
                  prior as (
                    select exists (select 1 from member_sync_chunks where run_id = ${runId} and chunk_index = ${chunkIndex}) as duplicate,
                           (select chunk_count from member_sync_chunks where run_id = ${runId} and chunk_count is not null limit 1) as known_count
                  ),
                  go as (
                    select run.guild_id from run, prior
                    where not prior.duplicate
                      and (prior.known_count is null or ${count}::int is null or prior.known_count = ${count}::int)
                  ),
                  g as (select guild_id from go),
                  cand as (
                    select i.*, m.user_id is null as is_new, m.date_left is not null as has_left
                    from ${membersSource(literals)} i
                    left join lateral (
                      select * from guild_members g where g.guild_id = (select guild_id from go) and g.user_id = i.user_id limit 1
                    ) m on true
                    where exists (select 1 from go) and (m.user_id is null or m.date_left is not null or ${differs})
                  ),
                  ins as (
                    insert into guild_members (guild_id, ${list(ALL)}, date_created, date_modified, stay_started_at)
                    select (select guild_id from go), ${list(ALL)}, ${now}, ${now}, ${now}
                    from cand where is_new
                    on conflict (guild_id, user_id) do nothing
                    returning 1
                  ),
                  upd as (
                    update guild_members m set
                      ${assignments("c")},
                      stay_started_at = case when c.has_left then ${now} else m.stay_started_at end,
                      date_left = null, date_modified = ${now}
                    from cand c
                    where m.guild_id = (select guild_id from go)
                      and m.user_id = any(array(select user_id from cand where not is_new))
                      and m.user_id = c.user_id and not c.is_new
                    returning 1
                  ),
                  chunk as (
                    insert into member_sync_chunks (run_id, chunk_index, chunk_count, members, created, updated, rejoined, user_ids, applied_at)
                    select ${runId}, ${chunkIndex}, ${count}::int, ${incoming.length},
                      (select count(*) from cand where is_new), (select count(*) from cand where not is_new and not has_left),
                      (select count(*) from cand where has_left),
                      ${literals[KEY_INDEX]}::text::text[], ${now}
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
        return outcome ?? null;
      }),

      writeProgress: Effect.fn("MemberSyncStore.writeProgress")(function* (runId: string) {
        const rows = yield* use("memberSync.progress", (db) =>
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
        );
        return rows.length === 0 ? null : yield* run(runId);
      }),

      lockRun: Effect.fn("MemberSyncStore.lockRun")(function* (runId: string) {
        const rows = yield* use("memberSync.lockRun", (db) => db.select().from(runs).where(eq(runs.id, runId)).for("update"));
        return rows[0] ?? null;
      }),

      chunkTotals: chunkTotalsOf,

      absentMembers: Effect.fn("MemberSyncStore.absentMembers")(function* (locked: RunRow, totals: ChunkTotals) {
        const startedAt = at(locked.startedAt);
        if (totals.rows === totals.created) {
          // Every member the chunks carried was new to the mirror (a first sync, or a mirror that
          // had emptied): no member present before the run was carried, so each one present now
          // that no live event touched since the run started is absent. A scan without the
          // anti-join: at 1M members, the anti-join built a hash of a million carried user ids
          // to find none of them present before.
          const [absent] = yield* use("memberSync.absentAll", (db) =>
            executeRows<{ tids: string | null; n: number }>(
              db,
              sql`select array_agg(m.ctid)::text as tids, count(*)::int as n from guild_members m
                    where m.guild_id = ${locked.guildId} and m.date_left is null and m.date_modified < ${startedAt}`,
            ),
          );
          return { count: Number(absent?.n ?? 0), tids: absent?.tids ?? null } satisfies AbsentMembers;
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
        //
        // The settings hold for this one statement: the previous values are read first and put
        // back after it. Left in place, they would cost the rest of the run's transaction dearly:
        // with nested loops ruled out, any later join that needs one (the domain event append's
        // join of webhooks on `kind = any(kinds)`) is costed past `jit_above_cost`, and JIT
        // compilation made that one-row insert take 0.2 to 1 s (measured at 1M members).
        const [previous] = yield* use("memberSync.absent.plan", (db) =>
          executeRows<Record<(typeof ABSENT_PLAN)[number][0], string>>(
            db,
            sql.raw(
              `select ${ABSENT_PLAN.map(([name]) => `current_setting('${name}') as ${name}`).join(", ")}, ` +
                ABSENT_PLAN.map(([name, value]) => `set_config('${name}', '${value}', true)`).join(", "),
            ),
          ),
        );
        const [absent] = yield* use("memberSync.absent", (db) =>
          executeRows<{ tids: string | null; n: number }>(
            db,
            sql`select array_agg(m.ctid)::text as tids, count(*)::int as n from guild_members m
                  where m.guild_id = ${locked.guildId} and m.date_left is null
                    and m.date_modified < ${startedAt}
                    and not exists (
                      select 1 from (select unnest(user_ids) as user_id from member_sync_chunks where run_id = ${locked.id}) s
                      where s.user_id = m.user_id
                    )`,
          ),
        );
        if (previous) {
          const restored = ABSENT_PLAN.map(([name]) => sql`set_config(${name}, ${previous[name]}, true)`);
          yield* use("memberSync.absent.restore", (db) => db.execute(sql`select ${sql.join(restored, sql`, `)}`));
        }
        return { count: Number(absent?.n ?? 0), tids: absent?.tids ?? null } satisfies AbsentMembers;
      }),

      markLeftByTids: Effect.fn("MemberSyncStore.markLeftByTids")(function* (locked: RunRow, tids: string, now: Date) {
        // The rows are updated by their tuple ids (a TID scan, whatever the statistics say);
        // a row a live event changed meanwhile has moved and is skipped, as it should be.
        const [left] = yield* use("memberSync.markAbsentLeft", (db) =>
          executeRows<{ n: number }>(
            db,
            sql`with gone as (
                    update guild_members m set date_left = ${at(now)}, date_modified = ${at(now)}
                    where m.ctid = any(${tids}::text::tid[])
                      and m.guild_id = ${locked.guildId} and m.date_left is null
                      and m.date_modified < ${at(locked.startedAt)}
                    returning m.guild_id, m.user_id, m.joined_at, m.stay_started_at
                  ),
                  stays as (
                    insert into guild_membership_history (guild_id, user_id, joined_at, first_seen_at, left_at)
                    select guild_id, user_id, joined_at, stay_started_at, ${at(now)} from gone
                  )
                  select count(*)::int as n from gone`,
          ),
        );
        return Number(left?.n ?? 0);
      }),

      holdLeaves: Effect.fn("MemberSyncStore.holdLeaves")(function* (locked: RunRow, tids: string) {
        const [held] = yield* use("memberSync.holdLeaves", (db) =>
          executeRows<{ n: number }>(
            db,
            sql`with held as (
                    insert into member_sync_pending_leaves (run_id, user_id)
                    select ${locked.id}, m.user_id from guild_members m
                    where m.ctid = any(${tids}::text::tid[])
                      and m.guild_id = ${locked.guildId} and m.date_left is null
                      and m.date_modified < ${at(locked.startedAt)}
                    on conflict do nothing
                    returning 1
                  )
                  select count(*)::int as n from held`,
          ),
        );
        return Number(held?.n ?? 0);
      }),

      applyHeldLeaves: Effect.fn("MemberSyncStore.applyHeldLeaves")(function* (locked: RunRow, now: Date) {
        // Exactly the held verdict: a member a live event touched after the run began (a join,
        // a nickname, a removal) is what the gateway says now, and is left as it is.
        const [left] = yield* use("memberSync.applyHeldLeaves", (db) =>
          executeRows<{ n: number }>(
            db,
            sql`with gone as (
                    update guild_members m set date_left = ${at(now)}, date_modified = ${at(now)}
                    from member_sync_pending_leaves p
                    where p.run_id = ${locked.id} and m.guild_id = ${locked.guildId} and m.user_id = p.user_id
                      and m.date_left is null and m.date_modified < ${at(locked.startedAt)}
                    returning m.guild_id, m.user_id, m.joined_at, m.stay_started_at
                  ),
                  stays as (
                    insert into guild_membership_history (guild_id, user_id, joined_at, first_seen_at, left_at)
                    select guild_id, user_id, joined_at, stay_started_at, ${at(now)} from gone
                  )
                  select count(*)::int as n from gone`,
          ),
        );
        return Number(left?.n ?? 0);
      }),

      decideRun: Effect.fn("MemberSyncStore.decideRun")(function* (locked: RunRow, decision: RunDecision, now: Date) {
        yield* use("memberSync.decide.pending", (db) => db.delete(pendingLeaves).where(eq(pendingLeaves.runId, locked.id)));
        const [decided] = yield* use("memberSync.decide", (db) =>
          db
            .update(runs)
            .set({ ...decision, decidedAt: now })
            .where(eq(runs.id, locked.id))
            .returning(),
        );
        return toRun(decided!);
      }),

      discardHeld: Effect.fn("MemberSyncStore.discardHeld")(function* (guildId: string, reason: string, now: Date) {
        const discarded = yield* use("memberSync.discardHeld", (db) =>
          db
            .update(runs)
            .set({ status: "discarded", reason, decidedAt: now })
            .where(and(eq(runs.guildId, guildId), eq(runs.status, "awaiting_confirmation")))
            .returning(),
        );
        if (discarded.length > 0) {
          yield* use("memberSync.discardHeld.pending", (db) =>
            db.delete(pendingLeaves).where(
              inArray(
                pendingLeaves.runId,
                discarded.map((row) => row.id),
              ),
            ),
          );
        }
        return discarded.map(toRun);
      }),

      leaveGuardOf: Effect.fn("MemberSyncStore.leaveGuardOf")(function* (guildId: string) {
        const rows = yield* use("memberSync.leaveGuard", (db) =>
          db
            .select({ percent: schema.guildSettings.leaveGuardPercent })
            .from(schema.guildSettings)
            .where(eq(schema.guildSettings.guildId, guildId)),
        );
        return rows[0]?.percent ?? schema.DEFAULT_LEAVE_GUARD_PERCENT;
      }),

      setLeaveGuard: Effect.fn("MemberSyncStore.setLeaveGuard")(function* (guildId: string, percent: number, now: Date) {
        yield* use("memberSync.setLeaveGuard", (db) =>
          db
            .insert(schema.guildSettings)
            .values({ guildId, leaveGuardPercent: percent, updatedAt: now })
            .onConflictDoUpdate({ target: schema.guildSettings.guildId, set: { leaveGuardPercent: percent, updatedAt: now } }),
        );
      }),

      endRun: Effect.fn("MemberSyncStore.endRun")(function* (locked: RunRow, totals: ChunkTotals, ending: RunEnding, finishedAt: Date) {
        yield* use("memberSync.endRun.chunks", (db) => db.delete(chunks).where(eq(chunks.runId, locked.id)));
        const [ended] = yield* use("memberSync.endRun", (db) =>
          db
            .update(runs)
            .set({
              chunkCount: locked.chunkCount ?? totals.chunkCount,
              chunksReceived: totals.chunks,
              rowsReceived: totals.rows,
              created: totals.created,
              updated: totals.updated,
              rejoined: totals.rejoined,
              unchanged: totals.rows - totals.created - totals.updated - totals.rejoined,
              ...ending,
              finishedAt,
            })
            .where(eq(runs.id, locked.id))
            .returning(),
        );
        return toRun(ended!);
      }),

      announce: Effect.fn("MemberSyncStore.announce")(function* (announced: SyncRun) {
        yield* use("memberSync.announce", (db) =>
          db.execute(sql`select pg_notify(${SYNC_CHANNEL}, ${JSON.stringify({ items: [announced] })})`),
        );
      }),

      replaceRoles: Effect.fn("MemberSyncStore.replaceRoles")(function* (guildId: string, roles: ReadonlyArray<RoleSnapshot>, now: Date) {
        if (roles.length > 0) {
          yield* use("memberSync.roles.upsert", (db) =>
            db
              .insert(schema.guildRoles)
              .values(roles.map((r) => ({ ...r, guildId, dateCreated: now, dateModified: now })))
              .onConflictDoUpdate({
                target: [schema.guildRoles.guildId, schema.guildRoles.id],
                set: {
                  name: sql`excluded.name`,
                  color: sql`excluded.color`,
                  position: sql`excluded.position`,
                  managed: sql`excluded.managed`,
                  permissions: sql`excluded.permissions`,
                  dateModified: now,
                  dateDeleted: null,
                },
              }),
          );
        }
        yield* use("memberSync.roles.delete", (db) =>
          db.execute(
            sql`update guild_roles set date_deleted = ${at(now)} where guild_id = ${guildId} and date_deleted is null
                  and not (id = any(${sql.param(roles.map((r) => r.id))}::text[]))`,
          ),
        );
      }),

      member: Effect.fn("MemberSyncStore.member")(function* (guildId: string, userId: string, lock: boolean) {
        const rows = yield* use("memberSync.member", (db) => {
          const query = db
            .select()
            .from(members)
            .where(and(eq(members.guildId, guildId), eq(members.userId, userId)));
          return lock ? query.for("update") : query;
        });
        return rows[0] ?? null;
      }),

      insertMembers: Effect.fn("MemberSyncStore.insertMembers")(function* (
        guildId: string,
        added: ReadonlyArray<MemberSnapshot>,
        now: Date,
      ) {
        // The guild is checked once per statement (see schema.ts on the missing foreign key).
        const rows = yield* use("memberSync.insertMembers", (db) =>
          executeRows<{ user_id: string }>(
            db,
            sql`with g as (select ${guildId}::text as guild_id)
                insert into guild_members (guild_id, ${list(ALL)}, date_created, date_modified, stay_started_at)
                  select ${guildId}, ${list(ALL, "i.")}, ${at(now)}, ${at(now)}, ${at(now)}
                  from ${membersSource(encodeMembers(added))} i
                  where exists (select 1 from guilds where id = ${guildId})
                  on conflict (guild_id, user_id) do nothing
                  returning user_id`,
          ),
        );
        return rows.length;
      }),

      updateMembers: Effect.fn("MemberSyncStore.updateMembers")(function* (
        guildId: string,
        changed: ReadonlyArray<MemberSnapshot>,
        rejoining: boolean,
        now: Date,
      ) {
        yield* use("memberSync.updateMembers", (db) =>
          db.execute(
            sql`with g as (select ${guildId}::text as guild_id)
                update guild_members m set ${assignments("i")},
                    ${rejoining ? sql`date_left = null, stay_started_at = ${at(now)},` : sql``} date_modified = ${at(now)}
                  from ${membersSource(encodeMembers(changed))} i
                  where m.guild_id = ${guildId} and m.${ident(KEY)} = i.${ident(KEY)}`,
          ),
        );
      }),

      markLeft: Effect.fn("MemberSyncStore.markLeft")(function* (guildId: string, userId: string, now: Date) {
        const [left] = yield* use("memberSync.markLeft", (db) =>
          executeRows<{ n: number }>(
            db,
            sql`with gone as (
                    update guild_members set date_left = ${at(now)}, date_modified = ${at(now)}
                    where guild_id = ${guildId} and user_id = ${userId} and date_left is null
                    returning guild_id, user_id, joined_at, stay_started_at
                  ),
                  stays as (
                    insert into guild_membership_history (guild_id, user_id, joined_at, first_seen_at, left_at)
                    select guild_id, user_id, joined_at, stay_started_at, ${at(now)} from gone
                  )
                  select count(*)::int as n from gone`,
          ),
        );
        return Number(left?.n ?? 0);
      }),
    });
  });

  /** The store over the Database service. */
  static readonly layer = Layer.effect(MemberSyncStore, MemberSyncStore.make);
}
