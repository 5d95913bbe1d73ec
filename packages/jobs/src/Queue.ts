/**
 * What a queue is: its name, who consumes it, its payload schema and its retry, expiry,
 * dead-letter and retention policy, optionally a schedule. Every queue Guildhall has is declared
 * once, in ./queues.ts; this module only gives the shape.
 */
import type { Effect, Schema } from "effect";

/**
 * pg-boss's queue policies (https://pgboss.io/api/queues#createqueue-name-queue):
 * - `standard`: any number queued and active;
 * - `short`: at most one job queued (state `created`) per `singletonKey`, any number active;
 * - `singleton`: at most one active per `singletonKey`;
 * - `stately`: at most one queued and one active per `singletonKey`;
 * - `exclusive`: at most one queued or active per `singletonKey`.
 */
export type QueuePolicy = "standard" | "short" | "singleton" | "stately" | "exclusive";

/**
 * Whose a queue's jobs are, read from each job's payload (pg-boss's `data`; a dead-letter copy
 * carries its job's), so that an organization's admins see, retry and discard only their own
 * (`JobScope`). `field` names the payload field read:
 * - `guild`: a guild id (snowflake); the job is the organization's the guild is linked to (`guilds`);
 * - `guildKey`: a key that starts with the guild id, `guildId:...` (the bot's dead letters);
 * - `reconciliationRun`: a `reconciliation_runs.id` (the run's organization);
 * - `webhook`: a `webhooks.id` (the webhook's organization);
 * - `installation`: the installation's own upkeep (the schedulers, pruning, token refresh), whose
 *   payload names no organization: only the installation's organization sees those jobs.
 * A job whose guild, run or webhook is linked to no organization (gone, or never installed) is
 * the installation's too.
 */
export type JobOwner =
  | { readonly kind: "guild" | "guildKey" | "reconciliationRun" | "webhook"; readonly field: string }
  | { readonly kind: "installation" };

/**
 * One queue. Times are in seconds, as pg-boss takes them.
 *
 * A failed attempt is retried up to `retryLimit` times, `retryDelaySeconds` apart, doubling each
 * time (with jitter, capped at `retryDelayMaxSeconds`) when `retryBackoff` is on. An attempt
 * still active after `expireInSeconds` (its worker died, or the bot never acknowledged it)
 * counts as failed and is retried. A job out of retries is copied to the `deadLetter` queue,
 * where it waits for an admin (the Jobs page: retry or discard).
 */
export interface QueueSpec<Name extends string = string, Payload = unknown, Encoded = unknown> {
  /** pg-boss queue name: letters, digits, `_`, `-`, `.`, `/`. */
  readonly name: Name;
  /** What admins read on the Jobs page. */
  readonly title: string;
  /**
   * Who takes its jobs: `server` (a worker in every server instance, the handler given in
   * packages/api/src/workers.ts) or `bot` (fetched for the bot's `bot.commands` subscription and
   * settled by its `bot.commandDone`).
   */
  readonly consumer: "server" | "bot";
  /** Validated (encoded) on send and decoded before work; a payload that does not decode is dead-lettered. */
  readonly payload: Schema.Codec<Payload, Encoded>;
  readonly policy: QueuePolicy;
  readonly retryLimit: number;
  readonly retryDelaySeconds: number;
  readonly retryBackoff: boolean;
  readonly retryDelayMaxSeconds?: number;
  readonly expireInSeconds: number;
  /** How long a finished job stays visible (s). */
  readonly deleteAfterSeconds: number;
  /** How many of its jobs one server instance runs at once (default 1). */
  readonly concurrency?: number;
  /** The dead-letter queue's name (created with the queue). */
  readonly deadLetter: string;
  /** A recurring job: a 5-field cron expression (UTC) and the payload each run gets. */
  readonly schedule?: { readonly cron: string; readonly payload: Payload };
  /** Whose its jobs are (see {@link JobOwner}): the Jobs page shows an organization only its own. */
  readonly owner: JobOwner;
  /** A one-line summary of a payload for the Jobs page. Must leave out anything secret. */
  readonly summarize: (payload: Payload) => string;
}

/** Any queue, whatever its payload. */
// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of queues needs the payload type erased.
export type AnyQueueSpec = QueueSpec<string, any, any>;

/** The payload type of a queue. */
export type PayloadOf<Q> = Q extends QueueSpec<string, infer P, infer _E> ? P : never;

/** Declares a queue (an identity function that keeps the literal name and the payload type). */
export const defineQueue = <const Name extends string, Payload, Encoded>(
  spec: QueueSpec<Name, Payload, Encoded>,
): QueueSpec<Name, Payload, Encoded> => spec;

/** What a handler knows about the job it runs. `attempt` is 0 on the first try. */
export interface JobInfo {
  readonly id: string;
  readonly queue: string;
  readonly attempt: number;
}

/**
 * A server-side handler: an Effect run on the server's runtime. Success completes the job; a
 * failure fails the attempt (retried with backoff, then dead-lettered), unless the error is
 * {@link isPermanent}, which dead-letters it at once.
 */
export type Handler<Payload, R> = (payload: Payload, job: JobInfo) => Effect.Effect<unknown, unknown, R>;

/**
 * The handler of every server-consumed queue in `Queues`, by queue name. Exhaustive by type: a
 * new `consumer: "server"` queue without a handler fails the typecheck where the table is written.
 */
export type Handlers<Queues extends ReadonlyArray<AnyQueueSpec>, R> = {
  readonly [Q in Queues[number] as Q["consumer"] extends "server" ? Q["name"] : never]: Handler<PayloadOf<Q>, R>;
};

/**
 * A failure that retrying cannot mend (Discord's 10007 Unknown Member, 50013 Missing
 * Permissions...): an error value carrying `permanent: true`. Its job goes to the dead-letter
 * queue at once instead of being retried.
 */
export const isPermanent = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "permanent" in error && (error as { permanent: unknown }).permanent === true;
