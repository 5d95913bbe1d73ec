import { Effect, Schema } from "effect";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { defineQueue, type JobSummary, Jobs } from "../src";
import { jobsRuntime, startWorker, type TestRuntime, testDatabase, testQueue, withJobs } from "./helpers";

const Plain = testQueue("test.plain");
const Flaky = testQueue("test.flaky");
const Doomed = testQueue("test.doomed", { retryLimit: 1 });
const Permanent = testQueue("test.permanent");
const Keyed = testQueue("test.keyed", { policy: "short" });
const Stuck = testQueue("test.stuck", { retryLimit: 3, retryDelaySeconds: 0, retryBackoff: false, concurrency: 2 });
const Outside = testQueue("test.outside", { consumer: "bot", expireInSeconds: 1, retryDelaySeconds: 0, retryBackoff: false });
const Ticking = defineQueue({ ...testQueue("test.ticking"), schedule: { cron: "*/5 * * * *", payload: { n: 0 } } });
const QUEUES = [Plain, Flaky, Doomed, Permanent, Keyed, Stuck, Outside, Ticking];

class Boom extends Schema.TaggedError<Boom>()("Boom", { message: Schema.String }) {}
class Gone extends Schema.TaggedError<Gone>()("Gone", { message: Schema.String }) {
  readonly permanent = true;
}

const WAIT = { timeout: 30_000, interval: 100 };

for (const kind of ["pglite", "postgres"] as const) {
  describe(`Jobs on ${kind}`, () => {
    let runtime: TestRuntime;
    beforeAll(async () => {
      runtime = jobsRuntime(testDatabase(kind), QUEUES);
      await runtime.runPromise(Effect.void);
    }, 120_000);
    afterAll(() => runtime?.dispose());

    const find = (id: string) => withJobs(runtime, (jobs) => jobs.find(id));
    const stateOf = async (id: string) => (await find(id))?.state;

    it("sends and works a job, validating the payload on send", async () => {
      const seen: Array<{ n: number; attempt: number }> = [];
      const stop = await startWorker(runtime, Plain, (payload, job) =>
        Effect.sync(() => seen.push({ n: payload.n, attempt: job.attempt })),
      );
      try {
        const id = (await withJobs(runtime, (jobs) => jobs.send(Plain, { n: 7 })))!;
        await vi.waitFor(async () => expect(await stateOf(id)).toBe("completed"), WAIT);
        expect(seen).toEqual([{ n: 7, attempt: 0 }]);
        const job = await find(id);
        expect(job).toMatchObject({ queue: Plain.name, attempts: 1, lastError: null, summary: "n=7" });
        const invalid = await runtime.runPromise(Effect.flip(Jobs.use((jobs) => jobs.send(Plain, { n: 1.5 }))));
        expect(invalid).toMatchObject({ _tag: "JobPayloadInvalid", queue: Plain.name });
      } finally {
        await stop();
      }
    });

    it("retries a failed attempt with exponential backoff, keeping the last error", async () => {
      const startedAt: number[] = [];
      const stop = await startWorker(runtime, Flaky, () =>
        Effect.suspend(() => {
          startedAt.push(Date.now());
          return startedAt.length < 3 ? Effect.fail(new Boom({ message: `attempt ${startedAt.length}` })) : Effect.void;
        }),
      );
      try {
        const id = (await withJobs(runtime, (jobs) => jobs.send(Flaky, { n: 1 })))!;
        await vi.waitFor(async () => expect((await find(id))?.state).toBe("retry"), WAIT);
        expect(await find(id)).toMatchObject({ lastError: "Boom: attempt 1", attempts: 1 });
        await vi.waitFor(async () => expect(await stateOf(id)).toBe("completed"), WAIT);
        expect(startedAt).toHaveLength(3);
        // retryDelay 1 s doubling: the second retry waits at least twice the first retry's minimum.
        expect(startedAt[1]! - startedAt[0]!).toBeGreaterThanOrEqual(1_000);
        expect(startedAt[2]! - startedAt[1]!).toBeGreaterThanOrEqual(2_000);
        expect(await find(id)).toMatchObject({ attempts: 3, lastError: null });
      } finally {
        await stop();
      }
    });

    it("dead-letters a job out of retries; retry puts it back, discard removes it", async () => {
      let succeed = false;
      const stop = await startWorker(runtime, Doomed, (payload) =>
        succeed && payload.n === 1 ? Effect.void : Effect.fail(new Boom({ message: `no ${payload.n}` })),
      );
      try {
        const [one, two] = await withJobs(runtime, (jobs) => Effect.all([jobs.send(Doomed, { n: 1 }), jobs.send(Doomed, { n: 2 })]));
        await vi.waitFor(async () => {
          expect(await stateOf(one!)).toBe("failed");
          expect(await stateOf(two!)).toBe("failed");
        }, WAIT);
        const dead = await withJobs(runtime, (jobs) => jobs.list({ scope: "all", queue: Doomed.name, state: "dead" }));
        expect(dead.total).toBe(2);
        expect(dead.jobs.map((j) => j.summary).toSorted()).toEqual(["n=1", "n=2"]);
        expect(dead.jobs.every((j) => j.state === "dead" && j.attempts === 2 && /^Boom: no \d$/.test(j.lastError ?? ""))).toBe(true);
        const overview = (await withJobs(runtime, (jobs) => jobs.queues("all"))).find((q) => q.name === Doomed.name)!;
        expect(overview.counts).toMatchObject({ failed: 2, dead: 2, pending: 0, active: 0 });

        // Retry from the dead-letter copy: the failed job runs again, and the copy is gone.
        succeed = true;
        const deadOne = dead.jobs.find((j) => j.summary === "n=1")!;
        const retried = await withJobs(runtime, (jobs) => jobs.retry(deadOne.id, "all"));
        expect(retried).toMatchObject({ id: one, queue: Doomed.name });
        await vi.waitFor(async () => expect(await stateOf(one!)).toBe("completed"), WAIT);
        // Discard the other from the failed original: the copy goes with it.
        await withJobs(runtime, (jobs) => jobs.discard(two!, "all"));
        expect(await find(two!)).toBeNull();
        const after = (await withJobs(runtime, (jobs) => jobs.queues("all"))).find((q) => q.name === Doomed.name)!;
        expect(after.counts).toMatchObject({ failed: 0, dead: 0, completed: 1 });

        const notRetryable = await runtime.runPromise(Effect.flip(Jobs.use((jobs) => jobs.retry(one!, "all"))));
        expect(notRetryable).toMatchObject({ _tag: "JobNotRetryable", state: "completed" });
        const unknown = await runtime.runPromise(
          Effect.flip(Jobs.use((jobs) => jobs.retry("00000000-0000-4000-8000-000000000000", "all"))),
        );
        expect(unknown).toMatchObject({ _tag: "UnknownJob" });
        expect(await runtime.runPromise(Effect.flip(Jobs.use((jobs) => jobs.discard("not-a-uuid", "all"))))).toMatchObject({
          _tag: "UnknownJob",
        });
      } finally {
        await stop();
      }
    });

    it("dead-letters a permanent failure at once, without retrying", async () => {
      let attempts = 0;
      const stop = await startWorker(runtime, Permanent, () =>
        Effect.suspend(() => {
          attempts++;
          return Effect.fail(new Gone({ message: "Unknown Member" }));
        }),
      );
      try {
        const id = (await withJobs(runtime, (jobs) => jobs.send(Permanent, { n: 1 })))!;
        await vi.waitFor(async () => expect(await stateOf(id)).toBe("failed"), WAIT);
        const dead = await withJobs(runtime, (jobs) => jobs.list({ scope: "all", queue: Permanent.name, state: "dead" }));
        expect(dead.jobs).toHaveLength(1);
        expect(attempts).toBe(1);
      } finally {
        await stop();
      }
    });

    it("keeps one waiting job per singletonKey on a `short` queue", async () => {
      const [a, b, c] = await withJobs(runtime, (jobs) =>
        Effect.all([
          jobs.send(Keyed, { n: 1 }, { singletonKey: "guild-1" }),
          jobs.send(Keyed, { n: 2 }, { singletonKey: "guild-1" }),
          jobs.send(Keyed, { n: 3 }, { singletonKey: "guild-2" }),
        ]),
      );
      expect(a).toBeTypeOf("string");
      expect(b).toBeNull();
      expect(c).toBeTypeOf("string");
      const waiting = await withJobs(runtime, (jobs) => jobs.pending(Keyed.name, "guild-1"));
      expect(waiting.map((j: JobSummary) => j.id)).toEqual([a]);
    });

    it("registers each queue's schedule in pg-boss", async () => {
      const overview = await withJobs(runtime, (jobs) => jobs.queues("all"));
      expect(overview.find((q) => q.name === Ticking.name)?.schedule).toEqual({ cron: "*/5 * * * *", registered: true });
      expect(overview.find((q) => q.name === Plain.name)?.schedule).toBeNull();
    });

    it("keeps keyed schedules (one per guild) apart from the catalogue's, creating, replacing and removing them", async () => {
      await withJobs(runtime, (jobs) => jobs.schedule(Ticking, "guild-1", "*/10 * * * *", { n: 1 }));
      await withJobs(runtime, (jobs) => jobs.schedule(Plain, "guild-1", "0 * * * *", { n: 2 }));
      await withJobs(runtime, (jobs) => jobs.schedule(Plain, "guild-2", "0 0 * * *", { n: 3 }));
      const invalid = await runtime.runPromise(Effect.flip(Jobs.use((jobs) => jobs.schedule(Plain, "guild-3", "* * * * *", { n: 0.5 }))));
      expect(invalid).toMatchObject({ _tag: "JobPayloadInvalid" });
      expect(await withJobs(runtime, (jobs) => jobs.schedules(Plain))).toEqual([
        { key: "guild-1", cron: "0 * * * *", payload: { n: 2 } },
        { key: "guild-2", cron: "0 0 * * *", payload: { n: 3 } },
      ]);
      // Replaced in place; the catalogue's own schedule of Ticking (key '') is untouched and still the queue's.
      await withJobs(runtime, (jobs) => jobs.schedule(Plain, "guild-1", "30 * * * *", { n: 4 }));
      expect(await withJobs(runtime, (jobs) => jobs.schedules(Plain, "guild-1"))).toEqual([
        { key: "guild-1", cron: "30 * * * *", payload: { n: 4 } },
      ]);
      const overview = await withJobs(runtime, (jobs) => jobs.queues("all"));
      expect(overview.find((q) => q.name === Ticking.name)?.schedule).toEqual({ cron: "*/5 * * * *", registered: true });
      expect(overview.find((q) => q.name === Plain.name)?.schedule).toBeNull();
      await withJobs(runtime, (jobs) =>
        Effect.all([jobs.unschedule(Plain, "guild-1"), jobs.unschedule(Plain, "guild-2"), jobs.unschedule(Ticking, "guild-1")]),
      );
      expect(await withJobs(runtime, (jobs) => jobs.schedules(Plain))).toEqual([]);
      expect(await withJobs(runtime, (jobs) => jobs.schedules(Ticking))).toEqual([]);
      expect((await withJobs(runtime, (jobs) => jobs.queues("all"))).find((q) => q.name === Ticking.name)?.schedule).toEqual({
        cron: "*/5 * * * *",
        registered: true,
      });
    });

    it("hands jobs to an outside consumer once; an unacknowledged one comes back after its expiry, a stale ack is ignored", async () => {
      const [first, second] = await withJobs(runtime, (jobs) => Effect.all([jobs.send(Outside, { n: 1 }), jobs.send(Outside, { n: 2 })]));
      const fetched = await withJobs(runtime, (jobs) => jobs.fetch(Outside, 10));
      expect(fetched.map((j) => j.id).toSorted()).toEqual([first, second].toSorted());
      expect(await withJobs(runtime, (jobs) => jobs.fetch(Outside, 10))).toEqual([]);
      expect(await withJobs(runtime, (jobs) => jobs.complete(Outside.name, first!, 0))).toBe(true);
      // The second is never acknowledged: after 1 s it expires, and is handed out again as attempt 1.
      const again = await vi.waitFor(async () => {
        const next = await withJobs(runtime, (jobs) => jobs.fetch(Outside, 10));
        expect(next).toHaveLength(1);
        return next[0]!;
      }, WAIT);
      expect(again).toMatchObject({ id: second, attempt: 1, payload: { n: 2 } });
      expect(await withJobs(runtime, (jobs) => jobs.complete(Outside.name, second!, 0))).toBe(false);
      expect(await withJobs(runtime, (jobs) => jobs.fail(Outside.name, second!, 1, "bot said no"))).toBe(true);
      expect(await find(second!)).toMatchObject({ lastError: "bot said no" });
      expect(await stateOf(first!)).toBe("completed");
    });

    it("stopping waits for a handler that ends in time, and fails one that does not back to its queue", async () => {
      const started: number[] = [];
      const stop = await startWorker(runtime, Stuck, (payload) =>
        Effect.suspend(() => {
          started.push(payload.n);
          // n=1 finishes within the 2 s grace period; n=2 never does.
          return payload.n === 1 ? Effect.sleep(300) : Effect.never;
        }),
      );
      const [quick, stuck] = await withJobs(runtime, (jobs) => Effect.all([jobs.send(Stuck, { n: 1 }), jobs.send(Stuck, { n: 2 })]));
      await vi.waitFor(async () => {
        expect(await stateOf(quick!)).toBe("active");
        expect(await stateOf(stuck!)).toBe("active");
      }, WAIT);
      await stop();
      expect(started.toSorted()).toEqual([1, 2]);
      expect(await stateOf(quick!)).toBe("completed");
      const job = await find(stuck!);
      expect(job?.state).toBe("retry");
      expect(job?.lastError).toMatch(/interrupted/);
    }, 60_000);

    it("watch sends a snapshot at once and another when a queue changes", async () => {
      const snapshots: Array<{ version: number; pending: number }> = [];
      const unwatch = await runtime.runPromise(
        Jobs.use((jobs) =>
          Effect.sync(() =>
            jobs.watch("all", (s) =>
              snapshots.push({ version: s.version, pending: s.queues.find((q) => q.name === Keyed.name)!.counts.pending }),
            ),
          ),
        ),
      );
      try {
        await vi.waitFor(() => expect(snapshots.length).toBeGreaterThanOrEqual(1), WAIT);
        const before = snapshots.at(-1)!;
        await withJobs(runtime, (jobs) => jobs.send(Keyed, { n: 9 }, { singletonKey: "guild-watch" }));
        await vi.waitFor(() => expect(snapshots.at(-1)!.pending).toBe(before.pending + 1), WAIT);
        expect(snapshots.at(-1)!.version).toBeGreaterThan(before.version);
      } finally {
        unwatch();
      }
    });
  });
}
