import { Database, executeRows } from "@guildhall/db";
import { sql } from "drizzle-orm";
import { Effect, Exit, Scope } from "effect";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { defineQueue, Jobs } from "../src";
import { FAST, freshPostgres, jobsRuntime, startWorker, type TestRuntime, testQueue, withJobs } from "./helpers";

const Counted = testQueue("test.counted", { concurrency: 4 });
const Ticking = defineQueue({ ...testQueue("test.shared-schedule"), schedule: { cron: "* * * * *", payload: { n: 0 } } });
const JOBS = 200;

describe("two server instances on one Postgres database", () => {
  let dbScope: Scope.Closeable;
  let a: TestRuntime;
  let b: TestRuntime;

  beforeAll(async () => {
    dbScope = await Effect.runPromise(Scope.make());
    const url = await Effect.runPromise(freshPostgres.pipe(Scope.provide(dbScope)));
    const options = { ...FAST, cronMonitorIntervalSeconds: 1 };
    a = jobsRuntime(Database.layer({ url, max: 4 }), [Counted, Ticking], options);
    b = jobsRuntime(Database.layer({ url, max: 4 }), [Counted, Ticking], options);
    // Started together on purpose: pg-boss's install and the queue creation must not race.
    await Promise.all([a.runPromise(Effect.void), b.runPromise(Effect.void)]);
  }, 120_000);
  afterAll(async () => {
    await a?.dispose();
    await b?.dispose();
    await Effect.runPromise(Scope.close(dbScope, Exit.void));
  });

  it("runs each job exactly once, whichever instance sent it", async () => {
    const runs = new Map<string, Array<"a" | "b">>();
    const handlerOf = (instance: "a" | "b") => (_payload: { n: number }, job: { id: string }) =>
      Effect.sync(() => runs.set(job.id, [...(runs.get(job.id) ?? []), instance])).pipe(Effect.andThen(Effect.sleep(Math.random() * 20)));
    const stopA = await startWorker(a, Counted, handlerOf("a"));
    const stopB = await startWorker(b, Counted, handlerOf("b"));
    try {
      const ids = await Promise.all(
        Array.from({ length: JOBS }, (_, n) => withJobs(n % 2 === 0 ? a : b, (jobs) => jobs.send(Counted, { n }))),
      );
      expect(new Set(ids).size).toBe(JOBS);
      await vi.waitFor(
        async () => {
          const counts = (await withJobs(a, (jobs) => jobs.queues("all"))).find((q) => q.name === Counted.name)!.counts;
          expect(counts.completed).toBe(JOBS);
        },
        { timeout: 90_000, interval: 250 },
      );
      expect([...runs.keys()].toSorted()).toEqual(ids.map(String).toSorted());
      const twice = [...runs.entries()].filter(([, by]) => by.length !== 1);
      expect(twice).toEqual([]);
      const byA = [...runs.values()].filter((by) => by[0] === "a").length;
      expect(byA).toBeGreaterThan(0);
      expect(JOBS - byA).toBeGreaterThan(0);
    } finally {
      await stopA();
      await stopB();
    }
  }, 120_000);

  it("holds one schedule however many instances register it, and each occurrence runs once", async () => {
    const schedules = await a.runPromise(
      Jobs.use((jobs) => jobs.queues("all")).pipe(Effect.map((queues) => queues.find((q) => q.name === Ticking.name)?.schedule)),
    );
    expect(schedules).toEqual({ cron: "* * * * *", registered: true });
    const rows = await a.runPromise(
      Database.use((database) =>
        database.use("count schedules", (db) =>
          executeRows<{ count: number | string }>(db, sql`select count(*) as count from pgboss.schedule where name = ${Ticking.name}`),
        ),
      ),
    );
    expect(Number(rows[0]?.count)).toBe(1);

    // Both instances watch the clock and work the queue: the next minute's occurrence becomes one job, run once.
    const runs = new Map<string, number>();
    const handler = (_payload: { n: number }, job: { id: string }) => Effect.sync(() => runs.set(job.id, (runs.get(job.id) ?? 0) + 1));
    const stopA = await startWorker(a, Ticking, handler);
    const stopB = await startWorker(b, Ticking, handler);
    try {
      await vi.waitFor(
        async () => {
          const counts = (await withJobs(a, (jobs) => jobs.queues("all"))).find((q) => q.name === Ticking.name)!.counts;
          expect(counts.completed).toBeGreaterThanOrEqual(1);
        },
        { timeout: 100_000, interval: 500 },
      );
      const perMinute = await a.runPromise(
        Database.use((database) =>
          database.use("jobs per minute", (db) =>
            executeRows<{ minute: string; count: number | string }>(
              db,
              sql`select date_trunc('minute', created_on)::text as minute, count(*) as count from pgboss.job
                  where name = ${Ticking.name} group by 1`,
            ),
          ),
        ),
      );
      expect(perMinute.length).toBeGreaterThanOrEqual(1);
      expect(perMinute.every((row) => Number(row.count) === 1)).toBe(true);
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await stopA();
      await stopB();
    }
  }, 150_000);
});
