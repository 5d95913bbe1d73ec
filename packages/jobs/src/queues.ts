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
import { Snowflake } from "@guildhall/discord/schema";
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
    trigger: Schema.Literals(["button", "schedule", "api"]),
    requestedBy: RequestedBy,
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
  schedule: { cron: "0 * * * *", payload: {} },
  summarize: () => "delete presence samples past retention",
});

/** Every queue, in the order the Jobs page lists them. */
export const QUEUES = [MemberSyncScheduler, MemberSyncExpireStale, PresencePrune, BotMembersSync, BotPresenceResync] as const;

/** The names of every queue in {@link QUEUES}. */
export type QueueName = (typeof QUEUES)[number]["name"];
