/**
 * The handler of every queue the server works (`consumer: "server"` in @guildhall/jobs'
 * catalogue), by queue name. The type demands one handler per such queue, so a queue added to
 * the catalogue without one here fails the typecheck. Each handler is an Effect run on the
 * server's one runtime: success completes the job, a failure is retried with the queue's
 * backoff and then dead-lettered (see @guildhall/jobs' `Jobs.work`).
 */
import type { Handlers, PayloadOf, QUEUES, RolesHardCheck, RolesMember, RolesVerify, WebhookDeliver } from "@guildhall/jobs";
import { Bot, Integrations, MemberSync, Presences, Reconciler, Webhooks } from "@guildhall/sync";
import { Effect } from "effect";
import { handleDeadLetter } from "./deadLetters";

/** How long presence samples are kept (ms); each user's latest sample is always kept. */
export const SAMPLE_RETENTION_MS = 24 * 60 * 60_000;

/** The services the handlers use. */
export type WorkerServices = Bot | MemberSync | Presences | Reconciler | Webhooks | Integrations;

/** The handlers, by queue name; run by `Jobs.workers` in the server's runtime (./runtime.ts). */
export const WORKERS: Handlers<typeof QUEUES, WorkerServices> = {
  /** Every minute: queue the member syncs that are due (each guild once per interval, across instances). */
  "member-sync.scheduler": () => Bot.use((bot) => bot.queueDueSyncs()),
  /** Every minute: end the runs whose bot went silent for SYNC_STALE_MS. */
  "member-sync.expire-stale": () =>
    MemberSync.use((sync) => sync.expireStale()).pipe(
      Effect.tap((ended) =>
        ended.length > 0
          ? Effect.logInfo(`member sync: ended ${ended.length} stale run(s): ${ended.map((r) => r.id).join(", ")}`)
          : Effect.void,
      ),
    ),
  /** Every hour: prune presence samples older than SAMPLE_RETENTION_MS. */
  "presence.prune": () =>
    Presences.use((presences) => presences.prune(SAMPLE_RETENTION_MS)).pipe(
      Effect.tap((deleted) => (deleted > 0 ? Effect.logInfo(`presence: pruned ${deleted} sample(s)`) : Effect.void)),
    ),
  /** Every hour: refresh the integrations' OAuth2 tokens that expire within a day (nothing to do without an OAuth2 client). */
  "integrations.refresh": () =>
    Integrations.use((integrations) => integrations.refreshDue()).pipe(
      Effect.catchTag("IntegrationsNotConfigured", () => Effect.succeed({ refreshed: 0, failed: 0 })),
      Effect.tap(({ refreshed, failed }) =>
        refreshed + failed > 0 ? Effect.logInfo(`integrations: refreshed ${refreshed} token(s), ${failed} failed`) : Effect.void,
      ),
    ),
  /** Each dead letter the bot reports: recorded as failed at first, re-applied on an admin's retry (./deadLetters.ts). */
  "bot.dead-letters": handleDeadLetter,
  /**
   * One role reconciliation run: resumes where it stopped (see `Reconciler.runApply`). A run whose
   * id is unknown (deleted with its guild) is done; Discord's transient errors fail the attempt
   * (retried with backoff); its permanent errors are recorded per member, never here.
   */
  "roles.apply": ({ runId }: { readonly runId: string }) =>
    Reconciler.use((reconciler) => reconciler.runApply(runId)).pipe(
      Effect.catchTag("ReconciliationRunNotFound", () => Effect.logWarning(`roles.apply: run ${runId} no longer exists`)),
      Effect.tap((run) =>
        run ? Effect.logInfo(`roles.apply: run ${runId} ${run.status}, ${run.done} done, ${run.failed} failed`) : Effect.void,
      ),
    ),
  /**
   * A live re-plan of one member (a GUILD_MEMBER_UPDATE or a group change): see
   * `Reconciler.reconcileMember`. Transient Discord errors fail the attempt (retried).
   */
  "roles.member": (payload: PayloadOf<typeof RolesMember>) =>
    Reconciler.use((reconciler) => reconciler.reconcileMember(payload.guildId, payload.userId, payload.actor)).pipe(
      Effect.tap((result) =>
        result.outcome === "applied" || result.outcome === "failed" || result.manual
          ? Effect.logInfo(
              `roles.member: ${payload.guildId}/${payload.userId} ${result.outcome}${result.manual ? " (manual change seen)" : ""}`,
            )
          : Effect.void,
      ),
    ),
  /** A guild's scheduled verify (against the mirror, no Discord reads): drift starts a run. */
  "roles.verify": (payload: PayloadOf<typeof RolesVerify>) =>
    Reconciler.use((reconciler) => reconciler.verify(payload.guildId, { nicknames: payload.nicknames })).pipe(
      Effect.tap((result) =>
        result.runId ? Effect.logInfo(`roles.verify: guild ${payload.guildId} drifted, run ${result.runId}`) : Effect.void,
      ),
    ),
  /** A guild's weekly hard check: re-read Discord, queue a REST member sync, then a verify with nicknames. */
  "roles.hard-check": (payload: PayloadOf<typeof RolesHardCheck>) => Reconciler.use((reconciler) => reconciler.hardCheck(payload.guildId)),
  /** A webhook's pending deliveries, oldest first, through the Discord port. */
  "webhooks.deliver": (payload: PayloadOf<typeof WebhookDeliver>) => Webhooks.use((webhooks) => webhooks.drain(payload.webhookId)),
  /** Every minute: queue the deliveries still pending 30 s after they were created (their server stopped before queueing them). */
  "webhooks.sweep": () =>
    Webhooks.use((webhooks) => webhooks.enqueuePending({ olderThanMs: 30_000 })).pipe(
      Effect.tap((n) => (n > 0 ? Effect.logInfo(`webhooks: queued ${n} pending delivery(ies)`) : Effect.void)),
    ),
};
