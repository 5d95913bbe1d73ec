/**
 * The Jobs page's API (admins only): every queue with its counts and schedule, a queue's jobs,
 * retry and discard, and a live feed of the counts.
 *
 * Every job belongs to an organization, read from its payload (each queue's `owner` in
 * @guildhall/jobs): an admin sees, counts, retries and discards only the jobs of the selected
 * organization (those of its guilds, reconciliation runs and webhooks); another organization's
 * job id answers NOT_FOUND. The installation's own upkeep jobs (the schedulers, pruning, token
 * refresh: payloads that name no organization) and jobs of guilds linked to nobody are shown
 * to the admins of the installation's organization only (the oldest one, which `npm start`
 * seeds); other organizations see those queues with their schedule and no jobs.
 */
import { JOB_STATE_FILTERS, Jobs, type JobsSnapshot, QUEUES } from "@guildhall/jobs";
import { Directory } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { tracked } from "@trpc/server";
import { Effect, Schema } from "effect";
import { adminProcedure, run } from "../trpc";

const QueueName = Schema.Literals(QUEUES.map((queue) => queue.name));

const ListInput = Schema.Struct({
  queue: QueueName,
  state: Schema.optional(Schema.Literals(JOB_STATE_FILTERS)),
  page: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100_000 }))),
});

const JobInput = Schema.Struct({ id: Schema.String.check(Schema.isUUID()) });

/** The jobs an admin of `organizationId` sees. */
const scopeOf = (organizationId: string) => Directory.use((directory) => directory.jobScope(organizationId));

// A reconnecting client sends its last tracked id back; a snapshot feed starts from the current snapshot anyway.
const LiveInput = Schema.optional(
  Schema.Struct({ lastEventId: Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(32)))) }),
);

export const jobsRouter = {
  /**
   * Admin. Every queue: name, title, consumer (`server` or `bot`), policy, retry limit, retry
   * delay (s) and backoff, expiry (s), dead-letter queue, schedule (`{cron, registered}`, 5-field
   * cron in UTC) or null, and its counts (`pending`, `active`, `completed`, `failed`,
   * `cancelled`, `dead`) of the selected organization's jobs. Errors: UNAUTHORIZED, FORBIDDEN (not an admin).
   */
  queues: adminProcedure.query(({ ctx }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const scope = yield* scopeOf(ctx.staff.organizationId);
        return yield* (yield* Jobs).queues(scope);
      }),
    ),
  ),

  /**
   * Admin. A page (1-based, 25 a page) of a queue's jobs of the selected organization, newest first, optionally only those in
   * `state` (`pending`, `active`, `completed`, `failed`, `cancelled`, `dead`): each job's id,
   * state, attempts, retry limit, last error, payload summary (never a secret), singleton key and
   * created/started/completed/run-after times (ISO-8601). Returns `{jobs, total, page, pageSize}`.
   * Errors: UNAUTHORIZED, FORBIDDEN, BAD_REQUEST (an unknown queue or state names the field).
   */
  list: adminProcedure.input(Schema.toStandardSchemaV1(ListInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const scope = yield* scopeOf(ctx.staff.organizationId);
        return yield* (yield* Jobs).list({ ...input, scope });
      }),
    ),
  ),

  /**
   * Admin. Puts a failed, cancelled or dead-lettered job back on its queue with one more
   * attempt; returns the job as it is now. Errors: NOT_FOUND (no such job, or another
   * organization's), CONFLICT (it is waiting, running or completed), UNAUTHORIZED, FORBIDDEN,
   * BAD_REQUEST (`id` not a UUID).
   */
  retry: adminProcedure.input(Schema.toStandardSchemaV1(JobInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const scope = yield* scopeOf(ctx.staff.organizationId);
        return yield* (yield* Jobs).retry(input.id, scope);
      }),
    ),
  ),

  /**
   * Admin. Deletes a job that is not running, with its dead-letter copy (or, for a dead-letter
   * copy, the failed job it came from). Returns `{discarded: true}`. Errors: NOT_FOUND (no such
   * job, or another organization's), CONFLICT (running), UNAUTHORIZED, FORBIDDEN, BAD_REQUEST.
   */
  discard: adminProcedure.input(Schema.toStandardSchemaV1(JobInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const scope = yield* scopeOf(ctx.staff.organizationId);
        yield* (yield* Jobs).discard(input.id, scope);
        return { discarded: true as const };
      }),
    ),
  ),

  /**
   * Admin. Every queue's overview (as `queues`: the selected organization's counts), now and again whenever a count or a schedule
   * changes, as `tracked(version, {version, queues})`; only the newest snapshot is sent when
   * several changes come together. Errors: UNAUTHORIZED, FORBIDDEN.
   */
  live: adminProcedure.input(Schema.toStandardSchemaV1(LiveInput)).subscription(async function* ({ ctx, signal }) {
    const [jobs, scope] = await run(ctx, Effect.all([Jobs.use(Effect.succeed), scopeOf(ctx.staff.organizationId)]));
    let latest: JobsSnapshot | null = null;
    let wake: (() => void) | null = null;
    const unwatch = jobs.watch(scope, (snapshot) => {
      latest = snapshot;
      wake?.();
    });
    try {
      while (!signal?.aborted) {
        if (latest === null) {
          await new Promise<void>((resolve) => {
            const done = () => {
              signal?.removeEventListener("abort", done);
              resolve();
            };
            signal?.addEventListener("abort", done, { once: true });
            wake = done;
          });
          wake = null;
          continue;
        }
        const snapshot: JobsSnapshot = latest;
        latest = null;
        yield tracked(String(snapshot.version), snapshot);
      }
    } finally {
      unwatch();
    }
  }),
} satisfies TRPCRouterRecord;
