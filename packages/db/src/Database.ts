import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { DrizzleQueryError } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { type Cause, Context, Effect, Exit, Layer, Schema, type Scope } from "effect";
import postgres from "postgres";
import * as schema from "./schema";

/** The Drizzle instance every domain package queries through; the same type on both drivers. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/**
 * A query, migration, LISTEN or NOTIFY failed. `operation` names what was being done,
 * `message` is Postgres' own message (or the driver's), `code` Postgres' SQLSTATE when there is
 * one (e.g. `"23505"` unique violation). Never holds the query's text or parameters, so
 * logging it cannot leak the rows being written; build it with {@link databaseError}.
 */
export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  operation: Schema.String,
  message: Schema.String,
  code: Schema.optional(Schema.String),
}) {}

/** A SQLSTATE: five digits or upper-case letters (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * What a database failure may tell a log: the driver's (Postgres') message and SQLSTATE.
 * Drizzle wraps a failed query in an error whose message is `Failed query: <sql>\nparams:
 * <values>`: the values can be a whole member list, or secrets, so that wrapper is dropped for
 * the error it carries. A message that still names `params:` is cut there.
 */
export const describeDatabaseFailure = (cause: unknown): { readonly message: string; readonly code?: string } => {
  const inner = cause instanceof DrizzleQueryError ? cause.cause : cause;
  if (inner === undefined || inner === null) return { message: "query failed" };
  const raw = inner instanceof Error ? inner.message : String(inner);
  const cut = raw.search(/(^|\n)params:/);
  const message = raw.startsWith("Failed query:") ? "query failed" : cut >= 0 ? raw.slice(0, cut) : raw;
  const code =
    typeof inner === "object" && "code" in inner && typeof inner.code === "string" && SQLSTATE.test(inner.code) ? inner.code : undefined;
  return code === undefined ? { message } : { message, code };
};

/** A `DatabaseError` for `operation` from whatever the driver threw; see {@link describeDatabaseFailure}. */
export const databaseError = (operation: string, cause: unknown): DatabaseError =>
  new DatabaseError({ operation, ...describeDatabaseFailure(cause) });

/**
 * Where the data lives.
 * - `url` set: a Postgres server through postgres.js (`max` connections, default 10).
 * - otherwise: embedded PGlite, persisted under `dataDir` (created if missing), or kept in
 *   memory when `dataDir` is `"memory://"`.
 */
export interface DatabaseConfig {
  readonly url?: string | undefined;
  readonly dataDir?: string | undefined;
  readonly max?: number | undefined;
}

const migrationsFolder = fileURLToPath(new URL("../drizzle", import.meta.url));

/** Serialises concurrent migrators (several server instances starting at once) on one Postgres. */
const MIGRATION_LOCK_KEY = 7_413_020_001;

/**
 * The Database service: one Drizzle instance plus Postgres LISTEN/NOTIFY, over postgres.js
 * when a URL is configured and over embedded PGlite otherwise. Building the layer runs the
 * committed migrations (packages/db/drizzle); closing its scope closes the connections.
 *
 * Fails with `DatabaseError` when the connection or a migration fails.
 */
export class Database extends Context.Service<
  Database,
  {
    /** `postgres` (postgres.js) or `pglite` (embedded). */
    readonly kind: "postgres" | "pglite";
    /** The raw Drizzle instance, for callers that compose their own Effect wrapping. */
    readonly db: Db;
    /**
     * Runs `run` against the database; a rejection becomes `DatabaseError` tagged with
     * `operation` (a short name such as `"presence.upsert"`).
     */
    readonly use: <A>(operation: string, run: (db: Db) => Promise<A>) => Effect.Effect<A, DatabaseError>;
    /**
     * Runs `effect` inside one database transaction: every `use` the effect makes (on this
     * fiber and the fibers it forks) goes through the transaction's connection. The transaction
     * commits when `effect` succeeds and rolls back when it fails in any way (a typed failure,
     * a defect, an interruption); the failure then propagates unchanged, with its type, so
     * callers never see `{ok: false}` flags. A commit that fails becomes `DatabaseError` tagged
     * with `operation`. Nested calls run in a savepoint of the outer transaction.
     *
     * Keep the effect to database work: the transaction holds its connection (on PGlite, the
     * only one) until the effect ends, so work outside `use` (a NOTIFY through `notify`, a call
     * to another service that uses `db` directly) must come after it.
     */
    readonly transaction: <A, E, R>(operation: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DatabaseError, R>;
    /**
     * LISTENs on `channel` for as long as the surrounding scope is open; `onNotify` gets each
     * payload (a string of at most 8,000 bytes, Postgres' limit).
     */
    readonly listen: (channel: string, onNotify: (payload: string) => void) => Effect.Effect<void, DatabaseError, Scope.Scope>;
    /** NOTIFY `channel` with `payload`; delivered to every listener on the database, this process included. */
    readonly notify: (channel: string, payload: string) => Effect.Effect<void, DatabaseError>;
    /**
     * How another client reaches this same database (the job queue, pg-boss, opens its own pool):
     * the Postgres URL, or the one embedded PGlite instance (a single connection, shared).
     */
    readonly connection: DatabaseConnection;
  }
>()("@guildhall/db/Database") {
  /** Builds the service from `config`, migrating first. See {@link DatabaseConfig}. */
  static readonly layer = (config: DatabaseConfig): Layer.Layer<Database, DatabaseError> =>
    Layer.effect(Database, config.url ? makePostgres(config.url, config.max ?? 10) : makePglite(config.dataDir));
}

/** See `Database.connection`. */
export type DatabaseConnection = { readonly kind: "postgres"; readonly url: string } | { readonly kind: "pglite"; readonly client: PGlite };

/** LISTENs through `start` (which resolves to the unlisten function) for as long as the scope lasts. */
const scopedListen = (channel: string, start: () => Promise<() => Promise<unknown>>) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: start,
      catch: (cause) => databaseError(`listen ${channel}`, cause),
    }),
    (unlisten) => Effect.tryPromise(() => unlisten()).pipe(Effect.ignore),
  ).pipe(Effect.asVoid);

/** The transaction the current fiber runs in (set by `transaction`), or null: `use` queries through it when set. */
const CurrentTransaction = Context.Reference<Db | null>("@guildhall/db/CurrentTransaction", { defaultValue: () => null });

const wrap =
  (db: Db) =>
  <A>(operation: string, run: (db: Db) => Promise<A>): Effect.Effect<A, DatabaseError> =>
    CurrentTransaction.use((tx) =>
      Effect.tryPromise({
        try: () => run(tx ?? db),
        catch: (cause) => databaseError(operation, cause),
      }),
    );

/**
 * See `Database.transaction`. Drizzle's `transaction` takes a Promise callback, so the effect
 * runs inside it on its own fiber, with the caller's services and the transaction's connection
 * as `CurrentTransaction`; its exit decides: a success commits, a failure rolls back (by
 * throwing out of the callback) and is handed back unchanged. Interrupting the caller
 * interrupts that fiber (through the abort signal), which rolls back.
 */
const makeTransaction =
  (db: Db) =>
  <A, E, R>(operation: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | DatabaseError, R> =>
    Effect.gen(function* () {
      const context = yield* Effect.context<R>();
      const outer = yield* CurrentTransaction.useSync((tx) => tx);
      let failure: Cause.Cause<E> | undefined;
      const outcome = yield* Effect.exit(
        Effect.tryPromise({
          try: (signal) =>
            (outer ?? db).transaction(async (tx): Promise<A> => {
              const exit = await Effect.runPromiseExit(
                effect.pipe(Effect.provideService(CurrentTransaction, tx as unknown as Db), Effect.provideContext(context)),
                { signal },
              );
              if (Exit.isSuccess(exit)) return exit.value;
              failure = exit.cause;
              throw new RolledBack();
            }),
          catch: (cause) => databaseError(operation, cause),
        }),
      );
      // The effect's own failure wins, even when the rollback failed too.
      if (failure !== undefined) return yield* Effect.failCause(failure);
      return yield* outcome;
    });

/** Thrown out of a Drizzle transaction callback to roll it back; never leaves `makeTransaction`. */
class RolledBack extends Error {
  constructor() {
    super("rolled back");
  }
}

const makePostgres = (url: string, max: number) =>
  Effect.gen(function* () {
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => postgres(url, { max, onnotice: () => {} })),
      (sql) => Effect.tryPromise(() => sql.end({ timeout: 5 })).pipe(Effect.ignore),
    );
    const db = drizzlePostgres({ client, schema, casing: "snake_case" }) as unknown as Db;
    yield* Effect.tryPromise({
      try: async () => {
        // Migrations run on a dedicated single connection holding a session advisory lock,
        // so that several instances starting together do not race.
        const migrator = postgres(url, { max: 1, onnotice: () => {} });
        try {
          await migrator`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
          await migratePostgres(drizzlePostgres({ client: migrator, casing: "snake_case" }), { migrationsFolder });
          await migrator`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
        } finally {
          await migrator.end({ timeout: 5 });
        }
      },
      catch: (cause) => databaseError("migrate", cause),
    });
    return Database.of({
      kind: "postgres",
      connection: { kind: "postgres", url },
      db,
      use: wrap(db),
      transaction: makeTransaction(db),
      listen: (channel, onNotify) => scopedListen(channel, () => client.listen(channel, onNotify).then((meta) => () => meta.unlisten())),
      notify: (channel, payload) =>
        Effect.tryPromise({
          try: () => client.notify(channel, payload),
          catch: (cause) => databaseError(`notify ${channel}`, cause),
        }),
    });
  });

/** Drops the group and other permission bits of `path` and, for a directory, of everything under it (symbolic links are left alone). */
const restrictTree = (path: string): void => {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if ((stat.mode & 0o077) !== 0) chmodSync(path, stat.mode & 0o700);
  if (stat.isDirectory()) for (const entry of readdirSync(path)) restrictTree(join(path, entry));
};

/**
 * Makes `dir` (created if missing) the process owner's alone: the process umask becomes 0077,
 * so every file the process creates from now on is 0600 and every directory 0700 at most
 * (PGlite's files included: its WAL holds session tokens in plain text), and whatever is
 * already under `dir` (written by an older version, or under a looser umask) loses its group
 * and other permission bits. Call it before anything writes there. Throws what node:fs throws.
 */
export const keepPrivate = (dir: string): void => {
  process.umask(0o077);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  restrictTree(dir);
};

const makePglite = (dataDir: string | undefined) =>
  Effect.gen(function* () {
    const inMemory = dataDir === undefined || dataDir === "memory://";
    const client = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          if (!inMemory) keepPrivate(dataDir);
          const pg = inMemory ? new PGlite() : new PGlite(dataDir);
          await pg.waitReady;
          // A new cluster's files (initdb) are written 0666 whatever the umask; later ones follow it.
          if (!inMemory) restrictTree(dataDir);
          return pg;
        },
        catch: (cause) => databaseError("open pglite", cause),
      }),
      (pg) => Effect.tryPromise(() => pg.close()).pipe(Effect.ignore),
    );
    const db = drizzlePglite({ client, schema, casing: "snake_case" }) as unknown as Db;
    yield* Effect.tryPromise({
      try: () => migratePglite(drizzlePglite({ client, casing: "snake_case" }), { migrationsFolder }),
      catch: (cause) => databaseError("migrate", cause),
    });
    return Database.of({
      kind: "pglite",
      connection: { kind: "pglite", client },
      db,
      use: wrap(db),
      transaction: makeTransaction(db),
      listen: (channel, onNotify) => scopedListen(channel, () => client.listen(channel, onNotify)),
      notify: (channel, payload) =>
        Effect.tryPromise({
          try: () => client.query("select pg_notify($1, $2)", [channel, payload]),
          catch: (cause) => databaseError(`notify ${channel}`, cause),
        }).pipe(Effect.asVoid),
    });
  });
