import { Database, DatabaseError } from "@guildhall/db";
import { Cause, Context, Effect, Queue as EffectQueue, Exit, FiberSet, Layer, Schema, type Scope } from "effect";
import { fromPglite, type Job, type JobResult, PgBoss } from "pg-boss";
import { JobNotDiscardable, JobNotRetryable, JobPayloadInvalid, UnknownJob } from "./errors";
import { type AnyQueueSpec, type Handler, type Handlers, isPermanent, type QueueSpec } from "./Queue";
import { QUEUES } from "./queues";

/**
 * A job's state as admins see it: pg-boss's own (`created`, `retry` = waiting for its next
 * attempt, `active`, `completed`, `cancelled`, `failed` = out of retries), or `dead` for the
 * copy of a failed job waiting in its queue's dead-letter queue.
 */
export type JobState = "created" | "retry" | "active" | "completed" | "cancelled" | "failed" | "dead";

/** The groups `list` filters on: `pending` is created + retry. */
export const JOB_STATE_FILTERS = ["pending", "active", "completed", "failed", "cancelled", "dead"] as const;
export type JobStateFilter = (typeof JOB_STATE_FILTERS)[number];

/** How many jobs of a queue are in each group (`dead`: waiting in its dead-letter queue). */
export type JobCounts = { readonly [K in JobStateFilter]: number };

/** A queue as the Jobs page shows it: its policy, its counts, and its schedule (5-field cron, UTC) if any. */
export interface QueueOverview {
  readonly name: string;
  readonly title: string;
  readonly consumer: "server" | "bot";
  readonly policy: string;
  readonly retryLimit: number;
  readonly retryDelaySeconds: number;
  readonly retryBackoff: boolean;
  readonly expireInSeconds: number;
  readonly deadLetter: string;
  /** `registered`: pg-boss holds the schedule (false would mean it was removed behind the server's back). */
  readonly schedule: { readonly cron: string; readonly registered: boolean } | null;
  readonly counts: JobCounts;
}

/** One job (ISO-8601 times). `queue` is the queue it belongs to, also for a dead-lettered copy. */
export interface JobSummary {
  readonly id: string;
  readonly queue: string;
  readonly state: JobState;
  /** Attempts started so far (0 while it never ran). */
  readonly attempts: number;
  /** Retries allowed after the first attempt. */
  readonly retryLimit: number;
  /** The last failure's message (a timed-out attempt reads "job timed out"), or null. */
  readonly lastError: string | null;
  /** The queue's one-line payload summary (never a secret). */
  readonly summary: string;
  readonly singletonKey: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  /** When it may run (its next attempt, for a job waiting to be retried). */
  readonly runAfter: string;
}

/** A page of a queue's jobs, newest first. */
export interface JobPage {
  readonly jobs: ReadonlyArray<JobSummary>;
  readonly total: number;
  /** 1-based. */
  readonly page: number;
  readonly pageSize: number;
}

/** A job handed to an outside consumer (the bot): settle it with `complete` or `fail`, giving this attempt. */
export interface FetchedJob<Payload> {
  readonly id: string;
  /** pg-boss's retry count at the fetch: 0 for the first delivery. */
  readonly attempt: number;
  readonly payload: Payload;
  readonly createdAt: string;
}

/** Options of one `send`. */
export interface SendOptions {
  /** Idempotency key: the queue's policy decides how many jobs may share it (see `QueuePolicy`). */
  readonly singletonKey?: string;
  /** At most one job per key per window of this many seconds (epoch-aligned). */
  readonly singletonSeconds?: number;
  /** Run no sooner than this many seconds from now. */
  readonly startAfterSeconds?: number;
}

/** Every queue's overview, with a version that grows with each change (for `tracked()` ids). */
export interface JobsSnapshot {
  readonly version: number;
  readonly queues: ReadonlyArray<QueueOverview>;
}

/**
 * Whose jobs a caller sees and handles: those of organization `organizationId` (by each queue's
 * `owner`, read from the job's payload), plus, when `installation` is true, the installation's
 * own (queues owned by `installation`, and jobs whose guild, run or webhook belongs to no
 * organization). `"all"`: every job, for the server's own reads, never for an admin's.
 */
export type JobScope = { readonly organizationId: string; readonly installation: boolean } | "all";

/** How the layer runs. Times in ms unless named otherwise. */
export interface JobsOptions {
  /** The queues to create (default: every queue in ./queues.ts). */
  readonly queues?: ReadonlyArray<AnyQueueSpec>;
  /** How long stopping waits for running handlers before failing them back to their queue (default 10,000). */
  readonly stopTimeoutMs?: number;
  /** How often workers look for jobs (s, default 2). */
  readonly pollingIntervalSeconds?: number;
  /** pg-boss supervision (expiry of attempts that outlived `expireInSeconds`): how often it runs (s, default 60). */
  readonly superviseIntervalSeconds?: number;
  /** How often one instance may expire a queue's timed-out attempts (s, default 60). */
  readonly monitorIntervalSeconds?: number;
  /** How often `watch` looks for changes while someone watches (default 1,000). */
  readonly livePollMs?: number;
  /** How often pg-boss looks for schedule occurrences that came due (s, 1 to 45, default 30). */
  readonly cronMonitorIntervalSeconds?: number;
}

const PGBOSS_SCHEMA = "pgboss";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_PAGE_SIZE = 25;
const INTERRUPTED = "interrupted: the server stopped while the job ran";

const describe = (cause: unknown): string => {
  if (typeof cause === "object" && cause !== null) {
    const tag = "_tag" in cause ? String(cause._tag) : null;
    const message = "message" in cause ? String(cause.message) : null;
    if (tag && message) return `${tag}: ${message}`;
    if (message) return message;
    if (tag) return tag;
  }
  return String(cause);
};

/** The message of a pg-boss job output: `{message}` from our handlers and the bot, `{value: {message}}` from pg-boss's expiry. */
const errorOf = (output: unknown): string | null => {
  if (typeof output !== "object" || output === null) return null;
  const o = output as { message?: unknown; value?: { message?: unknown } };
  if (typeof o.message === "string") return o.message;
  if (typeof o.value?.message === "string") return o.value.message;
  return null;
};

/** A pg-boss job row as the admin queries read it. */
interface JobRow {
  id: string;
  name: string;
  state: string;
  retry_count: number;
  retry_limit: number;
  data: unknown;
  output: unknown;
  singleton_key: string | null;
  created_on: Date | string;
  started_on: Date | string | null;
  completed_on: Date | string | null;
  start_after: Date | string;
  source_name: string | null;
  source_id: string | null;
  source_retry_count: number | null;
  source_output: unknown;
}

const JOB_COLUMNS = `id::text as id, name, state::text as state, retry_count, retry_limit, data, output, singleton_key,
  created_on, started_on, completed_on, start_after, source_name, source_id::text as source_id, source_retry_count, source_output`;

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/**
 * The job queue: durable jobs and schedules in Postgres (pg-boss 12), on the server's database.
 * On Postgres pg-boss keeps its own small pool from the same URL; on PGlite it runs through
 * pg-boss's PGlite adapter over the very instance Drizzle uses. Its tables live in the
 * `pgboss` schema, which pg-boss creates and migrates itself on start.
 *
 * Building the layer starts pg-boss and creates (or updates) every queue of the catalogue with
 * its dead-letter queue and schedule; closing its scope stops pg-boss, waiting at most
 * `stopTimeoutMs` for running handlers and failing what is left back to its queue.
 * Several server instances may share the database: a job is fetched by one of them only
 * (SKIP LOCKED), and a schedule fires once per tick across all of them.
 *
 * Every method fails with `DatabaseError` when pg-boss's statements fail.
 */
export class Jobs extends Context.Service<
  Jobs,
  {
    /**
     * Queues a job. The payload is checked against the queue's schema first (`JobPayloadInvalid`).
     * Returns its id, or null when the queue's policy refused it because a job with the same
     * `singletonKey` already waits (or ran in the same `singletonSeconds` window).
     */
    readonly send: <P, E>(
      queue: QueueSpec<string, P, E>,
      payload: P,
      options?: SendOptions,
    ) => Effect.Effect<string | null, JobPayloadInvalid | DatabaseError>;
    /**
     * Takes up to `max` jobs of `queue` for an outside consumer (the bot), marking them active:
     * nobody else gets them until they are settled or expire. Jobs whose payload no longer decodes
     * are failed on the spot and not returned.
     */
    readonly fetch: <P, E>(queue: QueueSpec<string, P, E>, max: number) => Effect.Effect<ReadonlyArray<FetchedJob<P>>, DatabaseError>;
    /** Completes attempt `attempt` of job `id`; false when that attempt is no longer active (settled, expired, discarded). */
    readonly complete: (queue: string, id: string, attempt: number) => Effect.Effect<boolean, DatabaseError>;
    /** Fails attempt `attempt` of job `id` with `message` (retried with backoff, then dead-lettered); false as for `complete`. */
    readonly fail: (queue: string, id: string, attempt: number, message: string) => Effect.Effect<boolean, DatabaseError>;
    /** The job with this id in any queue (dead-letter queues included), or null. */
    readonly find: (id: string) => Effect.Effect<JobSummary | null, DatabaseError>;
    /** The jobs of `queue` with this `singletonKey` that are waiting or running (created, retry, active), oldest first. */
    readonly pending: (queue: string, singletonKey: string) => Effect.Effect<ReadonlyArray<JobSummary>, DatabaseError>;
    /** Every queue of the catalogue with its schedule and the counts of the jobs `scope` sees. */
    readonly queues: (scope: JobScope) => Effect.Effect<ReadonlyArray<QueueOverview>, DatabaseError>;
    /**
     * Creates or replaces a keyed schedule of `queue` (one per `key`, e.g. one per guild): a job
     * with `payload` (checked against the queue's schema: `JobPayloadInvalid`) each time the 5-field
     * cron expression (UTC) comes due, sent with `singletonKey` = `key`. A queue's catalogue
     * schedule (key '') is a different schedule and is left alone. Invalid cron: `DatabaseError`.
     */
    readonly schedule: <P, E>(
      queue: QueueSpec<string, P, E>,
      key: string,
      cron: string,
      payload: P,
    ) => Effect.Effect<void, JobPayloadInvalid | DatabaseError>;
    /** Removes the keyed schedule `key` of `queue` (nothing when there is none). */
    readonly unschedule: (queue: AnyQueueSpec, key: string) => Effect.Effect<void, DatabaseError>;
    /** The keyed schedules of `queue` (`key` filters to one): `[{key, cron, payload}]`, the catalogue's own (key '') left out. */
    readonly schedules: (
      queue: AnyQueueSpec,
      key?: string,
    ) => Effect.Effect<ReadonlyArray<{ readonly key: string; readonly cron: string; readonly payload: unknown }>, DatabaseError>;
    /**
     * A page (1-based, `pageSize` default 25) of `queue`'s jobs, newest first, in the state
     * group `state` (every state when absent), among the jobs `scope` sees. An unknown queue has no jobs.
     */
    readonly list: (input: {
      readonly scope: JobScope;
      readonly queue: string;
      readonly state?: JobStateFilter | undefined;
      readonly page?: number | undefined;
      readonly pageSize?: number | undefined;
    }) => Effect.Effect<JobPage, DatabaseError>;
    /**
     * Puts a failed, cancelled or dead-lettered job back on its queue with one more attempt;
     * returns it. A dead-lettered job's copy is removed. Fails with `UnknownJob` (also for a job
     * `scope` does not see), `JobNotRetryable` (waiting, running or completed).
     */
    readonly retry: (id: string, scope: JobScope) => Effect.Effect<JobSummary, UnknownJob | JobNotRetryable | DatabaseError>;
    /**
     * Deletes a job that is not running, with its dead-letter copy (or, for a dead-lettered
     * copy, the failed job it came from). Fails with `UnknownJob` (also for a job `scope` does
     * not see), `JobNotDiscardable` (active).
     */
    readonly discard: (id: string, scope: JobScope) => Effect.Effect<void, UnknownJob | JobNotDiscardable | DatabaseError>;
    /**
     * Calls `listener` with a snapshot of every queue (the counts of the jobs `scope` sees) now
     * and whenever one changes (looked at every `livePollMs`, and at once after a change made
     * through this service) for as long as the returned function has not been called.
     */
    readonly watch: (scope: JobScope, listener: (snapshot: JobsSnapshot) => void) => () => void;
    /**
     * Runs `handler` for each job of `queue` in this process, on the caller's runtime, for as
     * long as the surrounding scope is open. Closing the scope stops fetching, waits up to
     * `stopTimeoutMs` for running handlers, then interrupts them and fails their jobs back to
     * the queue, so no job stays active. A payload that does not decode, or a failure that
     * {@link isPermanent}, dead-letters the job at once.
     */
    readonly work: <P, E, R>(queue: QueueSpec<string, P, E>, handler: Handler<P, R>) => Effect.Effect<void, DatabaseError, R | Scope.Scope>;
  }
>()("@guildhall/jobs/Jobs") {
  /** The service over the `Database`'s connection, with the queues of `options` (default: the catalogue). */
  static readonly layer = (options: JobsOptions = {}): Layer.Layer<Jobs, DatabaseError, Database> => Layer.effect(Jobs, make(options));

  /**
   * Works every server-consumed queue of `queues` (default: the catalogue) with its handler from
   * `handlers`, for as long as the layer lives.
   */
  static readonly workers = <R, const Q extends ReadonlyArray<AnyQueueSpec> = typeof QUEUES>(
    handlers: Handlers<Q, R>,
    queues: Q = QUEUES as unknown as Q,
  ): Layer.Layer<never, DatabaseError, Jobs | R> =>
    Layer.effectDiscard(
      Effect.gen(function* () {
        const jobs = yield* Jobs;
        const table = handlers as unknown as Record<string, Handler<unknown, R>>;
        for (const queue of queues) {
          if (queue.consumer !== "server") continue;
          const handler = table[queue.name];
          if (handler) yield* jobs.work(queue, handler);
        }
      }),
    );
}

/**
 * Creates `queue` and its dead-letter queue if missing, brings an existing queue's settings up
 * to date (a queue made by an older version keeps its row), and (un)registers its schedule.
 */
const declare = async (boss: PgBoss, queue: AnyQueueSpec): Promise<void> => {
  const retention = { retentionSeconds: 14 * 24 * 60 * 60, deleteAfterSeconds: queue.deleteAfterSeconds };
  await boss.createQueue(queue.deadLetter, { policy: "standard", ...retention });
  const settings = {
    retryLimit: queue.retryLimit,
    retryDelay: queue.retryDelaySeconds,
    retryBackoff: queue.retryBackoff,
    expireInSeconds: queue.expireInSeconds,
    deadLetter: queue.deadLetter,
    ...retention,
  };
  // pg-boss takes a maximum delay only with backoff.
  const max = queue.retryBackoff && queue.retryDelayMaxSeconds !== undefined ? queue.retryDelayMaxSeconds : undefined;
  await boss.createQueue(queue.name, { policy: queue.policy, ...settings, ...(max === undefined ? {} : { retryDelayMax: max }) });
  await boss.updateQueue(queue.name, { ...settings, ...(queue.retryBackoff ? { retryDelayMax: max ?? null } : {}) });
  if (queue.schedule) {
    const data = Schema.encodeSync(queue.payload)(queue.schedule.payload) as object;
    await boss.schedule(queue.name, queue.schedule.cron, data, { tz: "UTC" });
  } else if (await boss.getSchedule(queue.name)) {
    await boss.unschedule(queue.name);
  }
};

const make = (options: JobsOptions) =>
  Effect.gen(function* () {
    const database = yield* Database;
    const catalogue = options.queues ?? QUEUES;
    const byName = new Map<string, AnyQueueSpec>();
    const byDeadLetter = new Map<string, AnyQueueSpec>();
    for (const queue of catalogue) {
      byName.set(queue.name, queue);
      byDeadLetter.set(queue.deadLetter, queue);
    }
    const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    const context = yield* Effect.context<never>();
    const logOutside = (effect: Effect.Effect<void>) => void Effect.runForkWith(context)(effect);

    const boss = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const common = {
            schema: PGBOSS_SCHEMA,
            superviseIntervalSeconds: options.superviseIntervalSeconds ?? 60,
            monitorIntervalSeconds: options.monitorIntervalSeconds ?? 60,
            cronMonitorIntervalSeconds: options.cronMonitorIntervalSeconds ?? 30,
            cronWorkerIntervalSeconds: Math.min(5, options.cronMonitorIntervalSeconds ?? 5),
            registerInstance: false,
            openTelemetry: { enabled: false },
          } as const;
          const { connection } = database;
          const created =
            connection.kind === "postgres"
              ? new PgBoss({ ...common, connectionString: connection.url, max: 4, application_name: "guildhall-jobs" })
              : new PgBoss({ ...common, db: fromPglite(connection.client), backend: "pglite" });
          created.on("error", (error) => logOutside(Effect.logError("pg-boss error", describe(error))));
          created.on("warning", (warning) => logOutside(Effect.logWarning("pg-boss warning", warning.message)));
          await created.start();
          try {
            for (const queue of catalogue) await declare(created, queue);
          } catch (error) {
            await created.stop({ graceful: false, close: true }).catch(() => {});
            throw error;
          }
          return created;
        },
        catch: (cause) => new DatabaseError({ operation: "jobs.start", message: describe(cause) }),
      }),
      (started) =>
        Effect.tryPromise(() => started.stop({ graceful: true, timeout: stopTimeoutMs, close: true })).pipe(
          Effect.tapError((error) => Effect.logWarning("pg-boss did not stop cleanly", describe(error))),
          Effect.ignore,
        ),
    );
    yield* Effect.logDebug(`jobs: pg-boss started on ${database.kind} with ${catalogue.length} queue(s)`);

    const call = <A>(operation: string, run: () => Promise<A>): Effect.Effect<A, DatabaseError> =>
      Effect.tryPromise({ try: run, catch: (cause) => new DatabaseError({ operation, message: describe(cause) }) });
    const sqlRows = <Row>(operation: string, text: string, values: ReadonlyArray<unknown>) =>
      call(operation, async () => (await boss.getDb().executeSql(text, [...values])).rows as Array<Row>);

    /**
     * The SQL condition (on a `pgboss.job` row) for the jobs `scope` sees, its values appended to
     * `values` ($n placeholders). Queue names outside the catalogue are seen by `"all"` only.
     */
    const ownedBy = (scope: JobScope, values: Array<unknown>): string => {
      if (scope === "all") return "true";
      const param = (value: unknown) => {
        values.push(value);
        return `$${values.length}`;
      };
      const org = param(scope.organizationId);
      const installation = scope.installation ? "true" : "false";
      const parts = catalogue.map((queue) => {
        const names = `name = any(${param([queue.name, queue.deadLetter])}::text[])`;
        const { owner } = queue;
        if (owner.kind === "installation") return `(${names} and ${installation})`;
        const field = `(data->>(${param(owner.field)}::text))`;
        const [table, key] =
          owner.kind === "reconciliationRun"
            ? ["reconciliation_runs", field]
            : owner.kind === "webhook"
              ? ["webhooks", field]
              : ["guilds", owner.kind === "guildKey" ? `split_part(${field}, ':', 1)` : field];
        const ours = `${key} in (select id from ${table} where organization_id = ${org})`;
        // Linked to no organization: the installation's.
        const orphan = scope.installation ? ` or coalesce(${key}, '') not in (select id from ${table})` : "";
        return `(${names} and (${ours}${orphan}))`;
      });
      return `(${parts.join(" or ")})`;
    };

    // --- live snapshots: one loop per process, running only while someone watches
    const listeners = new Map<(snapshot: JobsSnapshot) => void, JobScope>();
    const wake = yield* EffectQueue.sliding<void>(1);
    const poke = () => void EffectQueue.offerUnsafe(wake, undefined);

    const summaryOf = (row: JobRow): JobSummary => {
      const dead = !byName.has(row.name) && byDeadLetter.has(row.name);
      const spec = byName.get(row.name) ?? byDeadLetter.get(row.name);
      let summary = "";
      if (spec) {
        const decoded = Schema.decodeUnknownExit(spec.payload)(row.data);
        summary = Exit.isSuccess(decoded) ? spec.summarize(decoded.value) : "payload does not match the queue's schema";
      }
      const ran = row.started_on !== null;
      return {
        id: row.id,
        queue: spec?.name ?? row.name,
        state: dead && row.state !== "completed" && row.state !== "cancelled" ? "dead" : (row.state as JobState),
        attempts: dead ? (row.source_retry_count ?? 0) + 1 : ran ? row.retry_count + 1 : 0,
        retryLimit: row.retry_limit,
        lastError: row.state === "completed" ? null : (errorOf(row.output) ?? (dead ? errorOf(row.source_output) : null)),
        summary,
        singletonKey: row.singleton_key,
        createdAt: iso(row.created_on)!,
        startedAt: iso(row.started_on),
        completedAt: iso(row.completed_on),
        runAfter: iso(row.start_after)!,
      };
    };

    const find = Effect.fn("Jobs.find")(function* (id: string, scope: JobScope = "all") {
      if (!UUID.test(id)) return null;
      const values: Array<unknown> = [id];
      const owned = ownedBy(scope, values);
      const rows = yield* sqlRows<JobRow>(
        "jobs.find",
        `select ${JOB_COLUMNS} from ${PGBOSS_SCHEMA}.job where id = $1::uuid and ${owned}`,
        values,
      );
      return rows[0] ? { row: rows[0], summary: summaryOf(rows[0]) } : null;
    });

    const queues = Effect.fn("Jobs.queues")(function* (scope: JobScope) {
      const values: Array<unknown> = [catalogue.flatMap((q) => [q.name, q.deadLetter])];
      const owned = ownedBy(scope, values);
      const rows = yield* sqlRows<{ name: string; state: string; count: number | string }>(
        "jobs.counts",
        `select name, state::text as state, count(*) as count from ${PGBOSS_SCHEMA}.job
         where name = any($1::text[]) and ${owned} group by name, state`,
        values,
      );
      const schedules = yield* call("jobs.schedules", () => boss.getSchedules());
      return catalogue.map((queue): QueueOverview => {
        const counts = { pending: 0, active: 0, completed: 0, failed: 0, cancelled: 0, dead: 0 };
        for (const row of rows) {
          const n = Number(row.count);
          if (row.name === queue.deadLetter) {
            if (row.state === "created" || row.state === "retry" || row.state === "active") counts.dead += n;
          } else if (row.name === queue.name) {
            if (row.state === "created" || row.state === "retry") counts.pending += n;
            else if (row.state in counts) counts[row.state as keyof typeof counts] += n;
          }
        }
        // The catalogue's own schedule has the empty key; keyed ones (per guild) are not the queue's.
        const registered = schedules.find((s) => s.name === queue.name && (s.key ?? "") === "");
        return {
          name: queue.name,
          title: queue.title,
          consumer: queue.consumer,
          policy: queue.policy,
          retryLimit: queue.retryLimit,
          retryDelaySeconds: queue.retryDelaySeconds,
          retryBackoff: queue.retryBackoff,
          expireInSeconds: queue.expireInSeconds,
          deadLetter: queue.deadLetter,
          schedule: queue.schedule
            ? { cron: queue.schedule.cron, registered: registered?.cron === queue.schedule.cron }
            : registered
              ? { cron: registered.cron, registered: true }
              : null,
          counts,
        };
      });
    });

    let version = 0;
    // The last snapshot's fingerprint of each scope watched (key: the scope as JSON); one read per scope per look.
    const lastFingerprint = new Map<string, string>();
    const liveLoop = Effect.gen(function* () {
      for (;;) {
        if (listeners.size === 0) {
          yield* EffectQueue.take(wake);
          continue;
        }
        const byScope = new Map<string, { scope: JobScope; listeners: Array<(snapshot: JobsSnapshot) => void> }>();
        for (const [listener, scope] of listeners) {
          const key = JSON.stringify(scope);
          const group = byScope.get(key) ?? { scope, listeners: [] };
          group.listeners.push(listener);
          byScope.set(key, group);
        }
        for (const key of lastFingerprint.keys()) if (!byScope.has(key)) lastFingerprint.delete(key);
        for (const [key, group] of byScope) {
          const overview = yield* queues(group.scope).pipe(
            Effect.tapError((error) => Effect.logWarning("jobs: reading the queues for live watchers failed", error.message)),
            Effect.orElseSucceed(() => null),
          );
          if (!overview) continue;
          const fingerprint = JSON.stringify(overview);
          if (fingerprint === lastFingerprint.get(key)) continue;
          lastFingerprint.set(key, fingerprint);
          version = Math.max(version + 1, Date.now());
          const snapshot: JobsSnapshot = { version, queues: overview };
          for (const listener of group.listeners) {
            if (!listeners.has(listener)) continue;
            try {
              listener(snapshot);
            } catch (error) {
              yield* Effect.logWarning("jobs: a watcher threw", describe(error));
            }
          }
        }
        yield* Effect.raceFirst(Effect.sleep(options.livePollMs ?? 1_000), EffectQueue.take(wake));
      }
    });
    yield* Effect.forkScoped(liveLoop);

    const send = Effect.fn("Jobs.send")(function* <P, E>(queue: QueueSpec<string, P, E>, payload: P, sendOptions: SendOptions = {}) {
      const data = yield* Schema.encodeEffect(queue.payload)(payload).pipe(
        Effect.mapError((error) => new JobPayloadInvalid({ queue: queue.name, message: error.message })),
      );
      const id = yield* call(`jobs.send ${queue.name}`, () =>
        boss.send(queue.name, data as object, {
          ...(sendOptions.singletonKey === undefined ? {} : { singletonKey: sendOptions.singletonKey }),
          ...(sendOptions.singletonSeconds === undefined ? {} : { singletonSeconds: sendOptions.singletonSeconds }),
          ...(sendOptions.startAfterSeconds === undefined ? {} : { startAfter: sendOptions.startAfterSeconds }),
        }),
      );
      poke();
      return id;
    });

    const settle = (operation: "complete" | "fail", queue: string, id: string, attempt: number, message?: string) =>
      call(`jobs.${operation} ${queue}`, async () => {
        const target = { id, retryCount: attempt };
        const result =
          operation === "complete" ? await boss.complete(queue, target) : await boss.fail(queue, target, { message: message ?? "failed" });
        return (result as { affected?: number }).affected === 1;
      }).pipe(Effect.tap(() => Effect.sync(poke)));
    const complete = Effect.fn("Jobs.complete")(function* (queue: string, id: string, attempt: number) {
      return yield* settle("complete", queue, id, attempt);
    });
    const fail = Effect.fn("Jobs.fail")(function* (queue: string, id: string, attempt: number, message: string) {
      return yield* settle("fail", queue, id, attempt, message);
    });

    const fetch = Effect.fn("Jobs.fetch")(function* <P, E>(queue: QueueSpec<string, P, E>, max: number) {
      const jobs = yield* call(`jobs.fetch ${queue.name}`, () =>
        boss.fetch<unknown>(queue.name, { batchSize: max, includeMetadata: true }),
      );
      const decode = Schema.decodeUnknownExit(queue.payload);
      const fetched: Array<FetchedJob<P>> = [];
      for (const job of jobs) {
        const decoded = decode(job.data);
        if (Exit.isSuccess(decoded)) {
          fetched.push({ id: job.id, attempt: job.retryCount, payload: decoded.value, createdAt: job.createdOn.toISOString() });
        } else {
          yield* Effect.logWarning(`jobs: ${queue.name} job ${job.id} has a payload that does not decode; failing it`);
          yield* settle("fail", queue.name, job.id, job.retryCount, "payload does not match the queue's schema");
        }
      }
      if (jobs.length > 0) poke();
      return fetched;
    });

    const pending = Effect.fn("Jobs.pending")(function* (queue: string, singletonKey: string) {
      const rows = yield* sqlRows<JobRow>(
        "jobs.pending",
        `select ${JOB_COLUMNS} from ${PGBOSS_SCHEMA}.job
         where name = $1 and singleton_key = $2 and state in ('created', 'retry', 'active') order by created_on`,
        [queue, singletonKey],
      );
      return rows.map(summaryOf);
    });

    const list = Effect.fn("Jobs.list")(function* (input: {
      readonly scope: JobScope;
      readonly queue: string;
      readonly state?: JobStateFilter | undefined;
      readonly page?: number | undefined;
      readonly pageSize?: number | undefined;
    }) {
      const page = Math.max(1, input.page ?? 1);
      const pageSize = Math.min(100, Math.max(1, input.pageSize ?? DEFAULT_PAGE_SIZE));
      const spec = byName.get(input.queue);
      if (!spec) return { jobs: [], total: 0, page, pageSize };
      const states: Record<JobStateFilter, ReadonlyArray<string>> = {
        pending: ["created", "retry"],
        active: ["active"],
        completed: ["completed"],
        failed: ["failed"],
        cancelled: ["cancelled"],
        dead: ["created", "retry", "active"],
      };
      const names = input.state === "dead" ? [spec.deadLetter] : input.state ? [spec.name] : [spec.name, spec.deadLetter];
      const wanted = input.state ? states[input.state] : ["created", "retry", "active", "completed", "cancelled", "failed"];
      const values: Array<unknown> = [names, wanted, pageSize, (page - 1) * pageSize];
      const owned = ownedBy(input.scope, values);
      const rows = yield* sqlRows<JobRow & { total: number | string }>(
        "jobs.list",
        `select ${JOB_COLUMNS}, count(*) over () as total from ${PGBOSS_SCHEMA}.job
         where name = any($1::text[]) and state::text = any($2::text[]) and ${owned}
         order by created_on desc, id limit $3 offset $4`,
        values,
      );
      return { jobs: rows.map(summaryOf), total: Number(rows[0]?.total ?? 0), page, pageSize };
    });

    /** The dead-letter copies of job `id` (of queue `spec`). */
    const deadCopies = (spec: AnyQueueSpec, id: string) =>
      sqlRows<{ id: string }>(
        "jobs.deadCopies",
        `select id::text as id from ${PGBOSS_SCHEMA}.job where name = $1 and source_id = $2::uuid`,
        [spec.deadLetter, id],
      ).pipe(Effect.map((rows) => rows.map((r) => r.id)));

    const deleteJobs = (queue: string, ids: ReadonlyArray<string>) =>
      ids.length === 0 ? Effect.void : call(`jobs.delete ${queue}`, () => boss.deleteJob(queue, [...ids])).pipe(Effect.asVoid);

    const retry = Effect.fn("Jobs.retry")(function* (id: string, scope: JobScope) {
      const found = yield* find(id, scope);
      if (!found) return yield* new UnknownJob({ id });
      const { row, summary } = found;
      const spec = byName.get(summary.queue);
      if (!spec) return yield* new UnknownJob({ id });
      let retried = id;
      if (summary.state === "dead") {
        // Back to the failed job it was copied from, when that is still kept; else a new job from the copy.
        const source = row.source_id ? yield* find(row.source_id) : null;
        if (source && source.row.name === spec.name && source.summary.state === "failed") {
          yield* call(`jobs.retry ${spec.name}`, () => boss.retry(spec.name, source.row.id));
          yield* deleteJobs(spec.deadLetter, [id]);
          retried = source.row.id;
        } else {
          // The failed job is gone (its retention ended): queue the copy's payload afresh.
          const sent = yield* call(`jobs.resend ${spec.name}`, () =>
            boss.send(spec.name, (row.data ?? {}) as object, row.singleton_key ? { singletonKey: row.singleton_key } : {}),
          );
          if (sent === null) return yield* new JobNotRetryable({ id, state: "dead (a job with the same key is already waiting)" });
          yield* deleteJobs(spec.deadLetter, [id]);
          retried = sent;
        }
      } else if (summary.state === "failed") {
        yield* call(`jobs.retry ${spec.name}`, () => boss.retry(spec.name, id));
        yield* deleteJobs(spec.deadLetter, yield* deadCopies(spec, id));
      } else if (summary.state === "cancelled") {
        yield* call(`jobs.resume ${spec.name}`, () => boss.resume(spec.name, id));
      } else {
        return yield* new JobNotRetryable({ id, state: summary.state });
      }
      poke();
      const now = yield* find(retried);
      if (!now) return yield* new UnknownJob({ id: retried });
      return now.summary;
    });

    const discard = Effect.fn("Jobs.discard")(function* (id: string, scope: JobScope) {
      const found = yield* find(id, scope);
      if (!found) return yield* new UnknownJob({ id });
      const { row, summary } = found;
      const spec = byName.get(summary.queue);
      if (!spec) return yield* new UnknownJob({ id });
      if (summary.state === "active") return yield* new JobNotDiscardable({ id, state: summary.state });
      if (summary.state === "dead") {
        yield* deleteJobs(spec.deadLetter, [id]);
        const source = row.source_id ? yield* find(row.source_id) : null;
        if (source && source.row.name === spec.name && source.summary.state === "failed") yield* deleteJobs(spec.name, [source.row.id]);
      } else {
        yield* deleteJobs(spec.name, [id]);
        yield* deleteJobs(spec.deadLetter, yield* deadCopies(spec, id));
      }
      poke();
    });

    const work = <P, E, R>(queue: QueueSpec<string, P, E>, handler: Handler<P, R>) =>
      Effect.gen(function* () {
        const fibers = yield* FiberSet.make<JobResult, never>();
        // The attempts this worker holds, so that stopping can fail those still running.
        const inFlight = new Map<string, number>();
        const runPromise = yield* FiberSet.runtimePromise(fibers)<R>();
        const decode = Schema.decodeUnknownEffect(queue.payload);
        const process = (job: Job<unknown>): Effect.Effect<JobResult, never, R> =>
          Effect.gen(function* () {
            const decoded = yield* Effect.exit(decode(job.data));
            if (Exit.isFailure(decoded)) {
              const message = `payload does not match the queue's schema: ${describe(Cause.squash(decoded.cause))}`;
              yield* Effect.logError(`${queue.name}: ${message}; dead-lettered`);
              return { id: job.id, status: "deadletter", output: { message } } satisfies JobResult;
            }
            const outcome = yield* Effect.exit(handler(decoded.value, { id: job.id, queue: queue.name, attempt: job.retryCount }));
            if (Exit.isSuccess(outcome)) return { id: job.id, status: "completed" } satisfies JobResult;
            const failure = Cause.findErrorOption(outcome.cause);
            const error = failure._tag === "Some" ? failure.value : Cause.squash(outcome.cause);
            const message = describe(error);
            const permanent = failure._tag === "Some" && isPermanent(failure.value);
            if (permanent) yield* Effect.logError(`${queue.name}: permanent failure, dead-lettered: ${message}`);
            else yield* Effect.logWarning(`${queue.name}: attempt ${job.retryCount + 1} failed: ${message}`);
            return { id: job.id, status: permanent ? "deadletter" : "failed", output: { message } } satisfies JobResult;
          }).pipe(Effect.annotateLogs({ queue: queue.name, jobId: job.id }), Effect.ensuring(Effect.sync(poke)));

        const workId = yield* call(`jobs.work ${queue.name}`, () =>
          boss.work<unknown>(
            queue.name,
            {
              batchSize: 1,
              localConcurrency: queue.concurrency ?? 1,
              perJobResults: true,
              pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2,
            },
            (batch) =>
              Promise.all(
                batch.map((job) => {
                  inFlight.set(job.id, job.retryCount);
                  return runPromise(process(job), { signal: job.signal })
                    .catch((): JobResult => ({ id: job.id, status: "failed", output: { message: INTERRUPTED } }))
                    .finally(() => inFlight.delete(job.id));
                }),
              ),
          ),
        );
        // Runs before the FiberSet's own finalizer (which interrupts what is left): stop taking
        // jobs, then give running handlers a bounded time to finish.
        yield* Effect.addFinalizer(() =>
          Effect.gen(function* () {
            yield* call(`jobs.offWork ${queue.name}`, () => boss.offWork(queue.name, { id: workId, wait: false })).pipe(Effect.ignore);
            const finished = yield* FiberSet.awaitEmpty(fibers).pipe(Effect.timeoutOption(stopTimeoutMs));
            if (finished._tag === "None") {
              yield* Effect.logWarning(
                `${queue.name}: handlers still running after ${stopTimeoutMs} ms; interrupted, their jobs go back to the queue`,
              );
              // Failed here, fenced to the attempt, before the FiberSet interrupts them: nothing stays active.
              for (const [id, attempt] of inFlight) {
                yield* settle("fail", queue.name, id, attempt, INTERRUPTED).pipe(Effect.ignore);
              }
            }
          }),
        );
      }).pipe(Effect.withSpan("Jobs.work", { attributes: { queue: queue.name } }));

    const schedule = Effect.fn("Jobs.schedule")(function* <P, E>(queue: QueueSpec<string, P, E>, key: string, cron: string, payload: P) {
      const data = yield* Schema.encodeEffect(queue.payload)(payload).pipe(
        Effect.mapError((error) => new JobPayloadInvalid({ queue: queue.name, message: error.message })),
      );
      yield* call(`jobs.schedule ${queue.name}`, () =>
        boss.schedule(queue.name, cron, data as object, { tz: "UTC", key, singletonKey: key }),
      );
      poke();
    });

    const unschedule = Effect.fn("Jobs.unschedule")(function* (queue: AnyQueueSpec, key: string) {
      yield* call(`jobs.unschedule ${queue.name}`, () => boss.unschedule(queue.name, key));
      poke();
    });

    const keyedSchedules = Effect.fn("Jobs.schedules")(function* (queue: AnyQueueSpec, key?: string) {
      const rows = yield* call(`jobs.schedules ${queue.name}`, () => boss.getSchedules(queue.name, key));
      return rows.filter((row) => (row.key ?? "") !== "").map((row) => ({ key: row.key, cron: row.cron, payload: row.data ?? null }));
    });

    return Jobs.of({
      schedule,
      unschedule,
      schedules: keyedSchedules,
      send,
      fetch,
      complete,
      fail,
      find: (id) => find(id).pipe(Effect.map((found) => found?.summary ?? null)),
      pending,
      queues,
      list,
      retry,
      discard,
      watch: (scope, listener) => {
        listeners.set(listener, scope);
        // A newcomer gets a snapshot at once: forget its scope's last one so the loop sends it again.
        lastFingerprint.delete(JSON.stringify(scope));
        poke();
        return () => {
          listeners.delete(listener);
        };
      },
      work,
    });
  });
