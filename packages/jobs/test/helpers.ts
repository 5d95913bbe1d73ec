import { Database, type DatabaseError } from "@guildhall/db";
import { Effect, Exit, Layer, ManagedRuntime, Schema, Scope } from "effect";
import postgres from "postgres";
import { type AnyQueueSpec, defineQueue, type Handler, Jobs, type JobsOptions, type QueueSpec } from "../src";

export const postgresUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A fresh Postgres database for the life of the layer (dropped after), or an in-memory PGlite. */
export const testDatabase = (kind: "pglite" | "postgres"): Layer.Layer<Database, DatabaseError> =>
  kind === "pglite"
    ? Database.layer({ dataDir: "memory://" })
    : Layer.unwrap(freshPostgres.pipe(Effect.map((url) => Database.layer({ url, max: 4 }))));

/** Creates a database for the surrounding scope and drops it when the scope closes; returns its URL. */
export const freshPostgres = Effect.acquireRelease(
  Effect.promise(async () => {
    const name = `guildhall_jobs_test_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
    const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    await admin.end();
    return { name, url: postgresUrl.replace(/\/[^/]*$/, `/${name}`) };
  }),
  ({ name }) =>
    Effect.promise(async () => {
      const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }),
).pipe(Effect.map(({ url }) => url));

/** Fast timings for tests: workers poll every 0.5 s, attempts past their expiry are failed within about a second, stopping waits 2 s. */
export const FAST: JobsOptions = {
  pollingIntervalSeconds: 0.5,
  superviseIntervalSeconds: 1,
  monitorIntervalSeconds: 1,
  livePollMs: 100,
  stopTimeoutMs: 2_000,
};

/** A test queue: `n` in the payload, retried twice from 1 s with backoff, dead-lettered after. */
export const testQueue = <const Name extends string>(
  name: Name,
  overrides: Partial<Omit<QueueSpec<Name, { n: number }, { n: number }>, "name" | "payload" | "summarize">> = {},
): QueueSpec<Name, { n: number }, { n: number }> =>
  defineQueue({
    name,
    title: `Test ${name}`,
    consumer: "server",
    payload: Schema.Struct({ n: Schema.Int }),
    policy: "standard",
    retryLimit: 2,
    retryDelaySeconds: 1,
    retryBackoff: true,
    expireInSeconds: 30,
    deleteAfterSeconds: 3_600,
    deadLetter: `${name}.dead`,
    owner: { kind: "installation" },
    summarize: (p) => `n=${p.n}`,
    ...overrides,
  });

export type TestRuntime = ManagedRuntime.ManagedRuntime<Jobs | Database, DatabaseError>;

/** A runtime with the Jobs service over `database` and exactly `queues`. */
export const jobsRuntime = (
  database: Layer.Layer<Database, DatabaseError>,
  queues: ReadonlyArray<AnyQueueSpec>,
  options: JobsOptions = FAST,
): TestRuntime => ManagedRuntime.make(Jobs.layer({ ...options, queues }).pipe(Layer.provideMerge(database)));

/** Works `queue` with `handler` on `runtime` until the returned function is called (which stops the worker as the server would). */
export const startWorker = async <P, E>(runtime: TestRuntime, queue: QueueSpec<string, P, E>, handler: Handler<P, never>) => {
  const scope = await runtime.runPromise(Scope.make());
  await runtime.runPromise(Jobs.use((jobs) => jobs.work(queue, handler)).pipe(Scope.provide(scope)));
  return () => runtime.runPromise(Scope.close(scope, Exit.void));
};

/** Runs `f` with the Jobs service of `runtime`. */
export const withJobs = <A, E>(runtime: TestRuntime, f: (jobs: Jobs["Service"]) => Effect.Effect<A, E>) => runtime.runPromise(Jobs.use(f));
