/**
 * Every queue Guildhall has, declared once: name, consumer, payload schema, retry limit,
 * exponential backoff and delay, expiry, dead-letter queue, policy, retention and schedule.
 *
 * Adding a queue (the role, event and webhook work to come) is one `defineQueue` here, its name
 * in `QUEUES`, and, for a `server` queue, its handler in packages/api/src/workers.ts, which the
 * typecheck demands. Handlers live there, not here, because they call domain services, and
 * this package sits below the domain packages (DESIGN.md's dependency direction); the domain
 * packages send to these queues by importing them from here.
 */
import { InteractionToken, Snowflake } from "@guildhall/discord/schema";
import { Schema } from "effect";
import { defineQueue } from "./Queue";

const DAY_S = 24 * 60 * 60;
const RequestedBy = Schema.NullOr(Schema.String.check(Schema.isMaxLength(64)));
const Empty = Schema.Struct({});

/**
 * A full member sync of a guild, run by the bot (REQUEST_GUILD_MEMBERS or REST paging). At most
 * one waits per guild (`short` policy, `singletonKey` = guild id): asking again while one waits
 * changes nothing. The bot acknowledges it when the run has ended: `completed` when the run
 * completed, `failed` otherwise (Discord's one-request-per-30-s limit, a dropped connection, a
 * guild it is not in), retried from 30 s on.
 */
export const BotMembersSync = defineQueue({
  name: "bot.members-sync",
  title: "Member syncs (run by the bot)",
  consumer: "bot",
  payload: Schema.Struct({
    guildId: Snowflake,
    trigger: Schema.Literals(["button", "schedule", "api", "command"]),
    requestedBy: RequestedBy,
    /** Where the bot reads members from; absent: the gateway. */
    source: Schema.optional(Schema.Literals(["gateway", "rest"])),
    /**
     * The interaction (/sync_members) whose response the bot edits with the sync's progress: the
     * application id and the interaction token (valid 15 minutes; a secret, never in a summary).
     */
    followUp: Schema.optional(Schema.Struct({ applicationId: Snowflake, token: InteractionToken })),
  }),
  policy: "short",
  retryLimit: 3,
  retryDelaySeconds: 30,
  retryBackoff: true,
  retryDelayMaxSeconds: 600,
  // Long enough for a million-member sync; a bot that died mid-run gets it back after this.
  expireInSeconds: 15 * 60,
  deleteAfterSeconds: 7 * DAY_S,
  deadLetter: "bot.members-sync.dead",
  owner: { kind: "guild", field: "guildId" },
  summarize: (p) => `guild ${p.guildId}, ${p.trigger}`,
});

/** The bot re-requests the presences of `userIds` (REQUEST_GUILD_MEMBERS with `presences: true`). */
export const BotPresenceResync = defineQueue({
  name: "bot.presence-resync",
  title: "Presence resyncs (run by the bot)",
  consumer: "bot",
  payload: Schema.Struct({
    guildId: Snowflake,
    userIds: Schema.Array(Snowflake).check(Schema.isMaxLength(10_000)),
    requestedBy: RequestedBy,
  }),
  policy: "standard",
  retryLimit: 3,
  retryDelaySeconds: 5,
  retryBackoff: true,
  retryDelayMaxSeconds: 300,
  expireInSeconds: 120,
  deleteAfterSeconds: 7 * DAY_S,
  deadLetter: "bot.presence-resync.dead",
  owner: { kind: "guild", field: "guildId" },
  summarize: (p) => `guild ${p.guildId}, ${p.userIds.length} user(s)`,
});

/**
 * Every minute: queues a member sync (trigger `schedule`) for each guild whose sync interval has
 * passed since its last run.
 */
export const MemberSyncScheduler = defineQueue({
  name: "member-sync.scheduler",
  title: "Member sync scheduler",
  consumer: "server",
  payload: Empty,
  policy: "short",
  retryLimit: 2,
  retryDelaySeconds: 5,
  retryBackoff: true,
  expireInSeconds: 60,
  deleteAfterSeconds: DAY_S,
  deadLetter: "member-sync.scheduler.dead",
  owner: { kind: "installation" },
  schedule: { cron: "* * * * *", payload: {} },
  summarize: () => "queue the member syncs that are due",
});

/** Every minute: ends the member sync runs whose bot went silent for two minutes (SYNC_STALE_MS). */
export const MemberSyncExpireStale = defineQueue({
  name: "member-sync.expire-stale",
  title: "Stale member sync expiry",
  consumer: "server",
  payload: Empty,
  policy: "short",
  retryLimit: 2,
  retryDelaySeconds: 5,
  retryBackoff: true,
  expireInSeconds: 60,
  deleteAfterSeconds: DAY_S,
  deadLetter: "member-sync.expire-stale.dead",
  owner: { kind: "installation" },
  schedule: { cron: "* * * * *", payload: {} },
  summarize: () => "end runs that stopped hearing from the bot",
});

/** Every hour: deletes presence samples older than the retention window (each user's latest kept). */
export const PresencePrune = defineQueue({
  name: "presence.prune",
  title: "Presence history prune",
  consumer: "server",
  payload: Empty,
  policy: "short",
  retryLimit: 2,
  retryDelaySeconds: 30,
  retryBackoff: true,
  expireInSeconds: 300,
  deleteAfterSeconds: 7 * DAY_S,
  deadLetter: "presence.prune.dead",
  owner: { kind: "installation" },
  schedule: { cron: "0 * * * *", payload: {} },
  summarize: () => "delete presence samples past retention",
});

/**
 * Text a log line, a `jsonb` payload and the Jobs page can all hold: no NUL and no lone
 * surrogate (the bot escapes both, see apps/bot/src/deadLetter.ts), at most `max` characters.
 */
const Printable = (max: number) =>
  Schema.String.check(
    Schema.isMaxLength(max),
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing NUL is this pattern's purpose.
    Schema.isPattern(/^[^\u0000\ud800-\udfff]*$/u, { message: "must not contain NUL or lone surrogates" }),
  );

/**
 * One update the bot gave up after the server refused it (apps/bot/src/deadLetter.ts describes
 * each field): `kind` is the bot's queue (`presence`, `memberEvent`), `key` its coalescing key
 * (`guildId:userId`), `item` the update as JSON (cut at 4,000 characters), `code` and `error`
 * what the server answered (`code` null when the server never saw it), `attempts` how many
 * pushes carried it alone, `at` when it was given up (epoch ms, the bot's clock).
 */
export const DeadLetter = Schema.Struct({
  kind: Schema.String.check(Schema.isPattern(/^[A-Za-z][A-Za-z0-9.-]{0,31}$/, { message: "must be a queue name" })),
  key: Printable(100),
  summary: Printable(200),
  item: Printable(4_000),
  code: Schema.NullOr(Printable(64)),
  error: Printable(1_000),
  attempts: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000 })),
  at: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 8.64e15 })),
});
export type DeadLetter = typeof DeadLetter.Type;

/**
 * The bot's dead letters (`bot.reportDeadLetter`), one job each, so they are kept in Postgres
 * and shown on the Jobs page, the same from every server instance.
 *
 * A job's first attempt records the refusal as it was: it fails at once, permanently, with the
 * server's error as the bot received it, and waits among the dead letters (the bot already
 * tried, and re-applying at once could overwrite a newer update of the same member). An admin's
 * retry (any later attempt) re-applies the item through the same domain service the bot's push
 * used (packages/api/src/deadLetters.ts): after a fix it lands and the job completes; refused
 * again, it is dead again with the new error. No automatic retries (`retryLimit` 0).
 */
export const BotDeadLetters = defineQueue({
  name: "bot.dead-letters",
  title: "Bot dead letters (updates the server refused)",
  consumer: "server",
  payload: DeadLetter,
  policy: "standard",
  retryLimit: 0,
  retryDelaySeconds: 60,
  retryBackoff: false,
  expireInSeconds: 60,
  // As long as the dead-letter copies are kept (14 days), so a retry always finds the failed job.
  deleteAfterSeconds: 14 * DAY_S,
  concurrency: 4,
  deadLetter: "bot.dead-letters.dead",
  owner: { kind: "guildKey", field: "key" },
  summarize: (p) => `${p.summary} (${p.code ?? "undelivered"})`,
});

/**
 * Applies one role reconciliation run (`reconciliation_runs.id`): the Reconciler plans it once,
 * records a step per member, and makes each member's one Discord call, recording it before and
 * after, so a retry (after a crash, an expiry or a transient Discord error) resumes where it
 * stopped and never makes a change twice. Discord's permanent errors are recorded per member and
 * never fail the job.
 */
export const RolesApply = defineQueue({
  name: "roles.apply",
  title: "Role reconciliation runs",
  consumer: "server",
  payload: Schema.Struct({ runId: Schema.String.check(Schema.isUUID()) }),
  policy: "standard",
  retryLimit: 10,
  retryDelaySeconds: 5,
  retryBackoff: true,
  retryDelayMaxSeconds: 300,
  // A 20,000-member guild at Discord's 1 call/s per bucket: about three hours in the worst case.
  expireInSeconds: 4 * 60 * 60,
  deleteAfterSeconds: 7 * DAY_S,
  deadLetter: "roles.apply.dead",
  owner: { kind: "reconciliationRun", field: "runId" },
  summarize: (p) => `run ${p.runId}`,
});

/** Who or what asked for a live re-plan: a GUILD_MEMBER_UPDATE (`live`), an admin (`user`) or an API token (`external_app`). */
const RoleActor = Schema.Struct({
  kind: Schema.Literals(["live", "user", "external_app", "schedule"]),
  id: Schema.NullOr(Schema.String.check(Schema.isMaxLength(128))),
});

/**
 * Re-plans and applies one member of one guild (`Reconciler.reconcileMember`): after a
 * GUILD_MEMBER_UPDATE that changed the mirror, or a change of a group the member's user is in.
 * One waiting and one running per member (`stately`, `singletonKey` = `guildId:userId`), so a
 * burst of events coalesces into one re-plan and two never race. Transient Discord errors
 * are retried with backoff; permanent ones are recorded in the audit log.
 */
export const RolesMember = defineQueue({
  name: "roles.member",
  title: "Live role re-plans (one member)",
  consumer: "server",
  owner: { kind: "guild", field: "guildId" },
  payload: Schema.Struct({ guildId: Snowflake, userId: Snowflake, actor: RoleActor }),
  policy: "stately",
  retryLimit: 5,
  retryDelaySeconds: 5,
  retryBackoff: true,
  retryDelayMaxSeconds: 300,
  expireInSeconds: 300,
  deleteAfterSeconds: DAY_S,
  concurrency: 4,
  deadLetter: "roles.member.dead",
  summarize: (p) => `guild ${p.guildId}, member ${p.userId} (${p.actor.kind})`,
});

/**
 * A verify of a guild's roles (`Reconciler.verify`): the whole guild planned against the member
 * mirror and the last Discord state read (no Discord reads); drift starts a run (actor
 * `schedule`). Each guild has its own pg-boss schedule (key = guild id, set on the Roles page);
 * `nicknames` is true for the weekly sync that follows a hard check. At most one waits per guild.
 */
export const RolesVerify = defineQueue({
  name: "roles.verify",
  title: "Role verifies (per guild schedule)",
  consumer: "server",
  owner: { kind: "guild", field: "guildId" },
  payload: Schema.Struct({ guildId: Snowflake, nicknames: Schema.Boolean }),
  policy: "short",
  retryLimit: 2,
  retryDelaySeconds: 30,
  retryBackoff: true,
  expireInSeconds: 300,
  deleteAfterSeconds: DAY_S,
  deadLetter: "roles.verify.dead",
  summarize: (p) => `guild ${p.guildId}${p.nicknames ? ", with nicknames" : ""}`,
});

/**
 * The weekly hard check of a guild (`Reconciler.hardCheck`): re-reads the guild's owner, roles
 * and the bot from Discord, queues a REST member sync (`bot.members-sync`, trigger `schedule`),
 * and a verify with nicknames once that sync has had time to finish. Per-guild schedule.
 */
export const RolesHardCheck = defineQueue({
  name: "roles.hard-check",
  title: "Weekly role hard checks (per guild schedule)",
  consumer: "server",
  owner: { kind: "guild", field: "guildId" },
  payload: Schema.Struct({ guildId: Snowflake }),
  policy: "short",
  retryLimit: 3,
  retryDelaySeconds: 60,
  retryBackoff: true,
  expireInSeconds: 300,
  deleteAfterSeconds: 7 * DAY_S,
  deadLetter: "roles.hard-check.dead",
  summarize: (p) => `guild ${p.guildId}`,
});

/**
 * Sends a webhook's pending deliveries (rows of `webhook_deliveries`: one domain event to one
 * webhook, or a test message), oldest first, through the Discord port (Execute Webhook), so a
 * channel reads events in the order they happened. One job per webhook at a time (`stately`,
 * `singletonKey` = the webhook's id: at most one waiting and one running), and only deliveries
 * still `pending` are sent, so none is sent twice. A transient failure (429, 5xx) fails the job,
 * retried with backoff from 10 s (a delivery that failed 5 times is given up as `failed`); a
 * permanent one (10015 Unknown Webhook, 401, 404) disables the webhook.
 */
export const WebhookDeliver = defineQueue({
  name: "webhooks.deliver",
  title: "Webhook deliveries",
  consumer: "server",
  payload: Schema.Struct({ webhookId: Schema.String.check(Schema.isUUID()) }),
  policy: "stately",
  retryLimit: 8,
  retryDelaySeconds: 10,
  retryBackoff: true,
  retryDelayMaxSeconds: 600,
  expireInSeconds: 300,
  deleteAfterSeconds: 7 * DAY_S,
  concurrency: 4,
  deadLetter: "webhooks.deliver.dead",
  owner: { kind: "webhook", field: "webhookId" },
  summarize: (p) => `webhook ${p.webhookId}`,
});

/**
 * Every minute: queues a delivery job for each delivery still `pending` a while after it was
 * created (the server that appended its event stopped before queueing it). Idempotent: the
 * deliveries' own `singletonKey` keeps one job each.
 */
export const WebhookSweep = defineQueue({
  name: "webhooks.sweep",
  title: "Webhook delivery sweep",
  consumer: "server",
  payload: Empty,
  policy: "short",
  retryLimit: 2,
  retryDelaySeconds: 5,
  retryBackoff: true,
  expireInSeconds: 60,
  deleteAfterSeconds: DAY_S,
  deadLetter: "webhooks.sweep.dead",
  owner: { kind: "installation" },
  schedule: { cron: "* * * * *", payload: {} },
  summarize: () => "queue webhook deliveries nobody queued",
});

/**
 * Every hour: refreshes the OAuth2 access tokens of installed integrations that expire within a
 * day (Discord's last 7 days, `expires_in` 604800 s), so they never lapse
 * (@guildhall/sync's `Integrations.refreshDue`).
 */
export const IntegrationsRefresh = defineQueue({
  name: "integrations.refresh",
  title: "Integration token refresh",
  consumer: "server",
  payload: Empty,
  policy: "short",
  retryLimit: 3,
  retryDelaySeconds: 60,
  retryBackoff: true,
  expireInSeconds: 300,
  deleteAfterSeconds: 7 * DAY_S,
  deadLetter: "integrations.refresh.dead",
  owner: { kind: "installation" },
  schedule: { cron: "17 * * * *", payload: {} },
  summarize: () => "refresh integration tokens that expire within a day",
});

/** Every queue, in the order the Jobs page lists them. */
export const QUEUES = [
  MemberSyncScheduler,
  MemberSyncExpireStale,
  PresencePrune,
  BotMembersSync,
  BotPresenceResync,
  BotDeadLetters,
  RolesApply,
  RolesMember,
  RolesVerify,
  RolesHardCheck,
  WebhookDeliver,
  WebhookSweep,
  IntegrationsRefresh,
] as const;

/** The names of every queue in {@link QUEUES}. */
export type QueueName = (typeof QUEUES)[number]["name"];
