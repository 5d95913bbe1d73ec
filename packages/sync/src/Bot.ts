import { createHash } from "node:crypto";
import { Database, DatabaseError, executeRows, schema } from "@guildhall/db";
import {
  BotDeadLetters,
  BotMembersSync,
  BotPresenceResync,
  type DeadLetter,
  type FetchedJob,
  type JobPayloadInvalid,
  type JobScope,
  type JobSummary,
  Jobs,
  type SendOptions,
} from "@guildhall/jobs";
import { asc, lte, sql } from "drizzle-orm";
import { Clock, Context, Effect, Layer, Schema } from "effect";
import { Snowflake } from "./model";
import { EpochMs, INT32_MAX, pgText } from "./storable";

/** The NOTIFY channel that wakes every server instance's `bot.commands` followers when a command is queued (payload: the queue's name). */
export const BOT_COMMAND_CHANNEL = "guildhall_bot_command";

/** How long after its last heartbeat a shard still counts as running (ms). */
export const HEARTBEAT_STALE_MS = 45_000;

/**
 * How long after its last heartbeat a shard is forgotten (ms): `shards` no longer lists it, and
 * the next heartbeat of any shard deletes its row. A shard that stopped reporting (the bot
 * resharded, or runs no more) shows as stale for this long, then is gone.
 */
export const SHARD_EXPIRY_MS = 10 * 60_000;

/** How many of the newest dead letters `deadLetters` lists. */
export const RECENT_DEAD_LETTERS = 20;

const DAY_S = 24 * 60 * 60;

/** A first-sight sync is queued at most once per guild in a window of this many seconds (epoch-aligned), even if it keeps failing. */
export const FIRST_SIGHT_WINDOW_S = 60 * 60;

/**
 * Whether the server queues a member sync for a linked guild that the bot reports (heartbeat)
 * before any member sync of it completed, so a fresh install opens on a populated Members page.
 * On by default; benchmarks and tests that time their own syncs turn it off.
 */
export const FirstSightSync = Context.Reference<boolean>("@guildhall/sync/FirstSightSync", { defaultValue: () => true });

/** A fatal gateway close as the bot reports it: the close code (4000..4999) and what to do (at most 500 characters). */
export const BotFatal = Schema.Struct({
  code: Schema.Int.check(Schema.isBetween({ minimum: 4000, maximum: 4999 })),
  reason: pgText(500),
});
export type BotFatal = typeof BotFatal.Type;

/**
 * A shard's health as the bot reports it every few seconds
 * (https://discord.com/developers/docs/events/gateway#sharding):
 * - `shardId` below `shardCount` (at most 65,536 shards), else refused naming `shardId`;
 * - `status`: discord.js's shard status name (READY, CONNECTING, RESUMING, DISCONNECTED, ...);
 * - `pingMs`: the gateway heartbeat round trip, 0 to 2^31-1 ms (Postgres' integer), or null;
 * - `guilds`: the shard's guilds, ids being snowflakes (`0` or ids at or above 2^64 are refused,
 *   naming `guilds.<i>.id`); names and icon hashes are cleaned for Postgres (./storable's PgText);
 * - `lastEventAt`, `startedAt`: epoch ms from 2015-01-01 to 9999-12-31 (./storable's EpochMs).
 */
export const BotHeartbeat = Schema.Struct({
  shardId: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65_535 })),
  shardCount: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65_536 })),
  status: pgText(32),
  connected: Schema.Boolean,
  pingMs: Schema.NullOr(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: INT32_MAX }))),
  guilds: Schema.Array(
    Schema.Struct({
      id: Snowflake,
      name: pgText(100),
      icon: Schema.NullOr(pgText(64)),
    }),
  ).check(Schema.isMaxLength(2_500)),
  lastEventAt: Schema.NullOr(EpochMs),
  startedAt: EpochMs,
  /**
   * A gateway close the bot will not recover from by itself (4004 token refused, 4014
   * disallowed intents, ...): Discord's close `code` and, in `reason`, what happened and what to
   * do. Absent or null while the bot is healthy.
   */
  fatal: Schema.optional(Schema.NullOr(BotFatal)),
}).check(
  Schema.makeFilter((h) =>
    h.shardId < h.shardCount
      ? undefined
      : { path: ["shardId"], issue: `must be below shardCount (${h.shardCount}): shards are numbered from 0` },
  ),
);
export type BotHeartbeat = typeof BotHeartbeat.Type;

/** The bot's dead letters as `bot.status` shows them: stored as jobs of `bot.dead-letters` (@guildhall/jobs). */
export interface DeadLetterStatus {
  /** Dead letters not settled: being recorded, or waiting for an admin (retry or discard on the Jobs page). */
  readonly total: number;
  /** The newest waiting ones (at most {@link RECENT_DEAD_LETTERS}), newest first. */
  readonly recent: ReadonlyArray<{
    /** The job's id (a UUID), for the Jobs page. */
    readonly id: string;
    /** What it was, with the server's code, e.g. `presence (online) of user 1 in guild 2 (BAD_REQUEST)`. */
    readonly summary: string;
    /** Why it waits: the server's error, or why re-applying it failed. */
    readonly error: string | null;
    /** When it was recorded (ISO-8601). */
    readonly at: string;
  }>;
}

/** One shard's last report, as `status` returns it (ISO-8601 times). */
export interface ShardState {
  readonly shardId: number;
  readonly shardCount: number;
  readonly status: string;
  readonly connected: boolean;
  readonly pingMs: number | null;
  readonly guildIds: ReadonlyArray<string>;
  readonly lastEventAt: string | null;
  readonly startedAt: string;
  readonly reportedAt: string;
  /** False when the shard has not reported for {@link HEARTBEAT_STALE_MS}. */
  readonly fresh: boolean;
  /** The fatal gateway close the bot reported with this shard's last heartbeat, or null. */
  readonly fatal: BotFatal | null;
}

/**
 * Something the server asks the bot to do, as a pg-boss job (queues `bot.members-sync` and
 * `bot.presence-resync` of @guildhall/jobs):
 * - `presence.resync`: re-request the presences of `payload.userIds`;
 * - `members.sync`: run a full member sync of the guild (`payload.trigger` says who asked).
 * `id` is the job's id (a UUID) and `attempt` which delivery this is (0 first): the bot echoes
 * both when it acknowledges the command (`bot.commandDone`).
 */
export type BotCommand = {
  readonly id: string;
  readonly attempt: number;
  readonly guildId: string;
  readonly requestedBy: string | null;
  readonly createdAt: string;
} & (
  | { readonly kind: "presence.resync"; readonly payload: { readonly userIds: ReadonlyArray<string> } }
  | {
      readonly kind: "members.sync";
      readonly payload: {
        readonly trigger: "button" | "schedule" | "api" | "command";
        /** Where the bot reads members from; absent: the gateway. */
        readonly source?: "gateway" | "rest" | undefined;
        /** The interaction (/sync_members) whose original response shows the progress (token: a secret, valid 15 min). */
        readonly followUp?: { readonly applicationId: string; readonly token: string } | undefined;
      };
    }
);

/** A command as it is queued (the server fills in id, attempt and createdAt). */
export type NewBotCommand = BotCommand extends infer C ? (C extends BotCommand ? Omit<C, "id" | "attempt" | "createdAt"> : never) : never;

/** How the bot says a command went: `failed` commands are retried with backoff, then dead-lettered. */
export interface CommandAck {
  readonly id: string;
  readonly attempt: number;
  readonly outcome: "completed" | "failed";
  /** Why it failed (at most 500 characters kept). */
  readonly error?: string | undefined;
}

const BOT_QUEUES: ReadonlyArray<string> = [BotMembersSync.name, BotPresenceResync.name];

const fromMembersSync = (job: FetchedJob<typeof BotMembersSync.payload.Type>): BotCommand => ({
  id: job.id,
  attempt: job.attempt,
  kind: "members.sync",
  guildId: job.payload.guildId,
  requestedBy: job.payload.requestedBy,
  payload: {
    trigger: job.payload.trigger,
    ...(job.payload.source ? { source: job.payload.source } : {}),
    ...(job.payload.followUp ? { followUp: job.payload.followUp } : {}),
  },
  createdAt: job.createdAt,
});

const fromPresenceResync = (job: FetchedJob<typeof BotPresenceResync.payload.Type>): BotCommand => ({
  id: job.id,
  attempt: job.attempt,
  kind: "presence.resync",
  guildId: job.payload.guildId,
  requestedBy: job.payload.requestedBy,
  payload: { userIds: job.payload.userIds },
  createdAt: job.createdAt,
});

/**
 * The bot as the server sees it: the health it reports, and the commands queued for it.
 *
 * Commands are durable pg-boss jobs: `enqueue` queues one, the `bot.commands` subscription hands
 * each to the bot once (`nextCommands` marks it active), and the bot settles it with
 * `acknowledge`. A command never acknowledged (the bot died) is handed out again after its
 * queue's expiry; an acknowledged one never is, across restarts of either side.
 */
export class Bot extends Context.Service<
  Bot,
  {
    /**
     * Records a shard's heartbeat (`reportedAt` from the Clock), and deletes the rows of shards
     * silent for {@link SHARD_EXPIRY_MS}. Fails with `DatabaseError`.
     */
    readonly report: (heartbeat: BotHeartbeat) => Effect.Effect<void, DatabaseError>;
    /**
     * Every shard's last report, by shard id, but those silent for {@link SHARD_EXPIRY_MS};
     * `fresh` (reported within {@link HEARTBEAT_STALE_MS}) is measured on the Clock.
     */
    readonly shards: () => Effect.Effect<ReadonlyArray<ShardState>, DatabaseError>;
    /**
     * Stores each dead letter the bot reports as a job of `bot.dead-letters` (see that queue in
     * @guildhall/jobs: recorded as failed with the server's error, re-applied on an admin's
     * retry). A letter reported twice (the bot's push retried) is stored once: its `kind`,
     * `key`, `at`, item and error identify it for a day. Returns how many were new. Fails with `DatabaseError`.
     */
    readonly recordDeadLetters: (letters: ReadonlyArray<DeadLetter>) => Effect.Effect<number, DatabaseError>;
    /**
     * The dead letters waiting that `scope` sees (an organization's: those of its guilds), read
     * from the jobs (the same on every server instance). Fails with `DatabaseError`.
     */
    readonly deadLetters: (scope: JobScope) => Effect.Effect<DeadLetterStatus, DatabaseError>;
    /**
     * Queues a command for the bot and wakes the `bot.commands` followers of every instance;
     * returns it. A `members.sync` for a guild that already has one waiting is not queued again:
     * the waiting one is returned.
     */
    readonly enqueue: (command: NewBotCommand) => Effect.Effect<BotCommand, DatabaseError>;
    /** Takes up to `max` commands of each kind for the bot, oldest first; each is handed out once until it expires. */
    readonly nextCommands: (max: number) => Effect.Effect<ReadonlyArray<BotCommand>, DatabaseError>;
    /**
     * Settles a command the bot handled: completes it, or fails it (retried with backoff, then
     * dead-lettered). `settled` is false when that delivery is no longer open (settled before,
     * expired and handed out again, discarded by an admin): nothing changes then.
     */
    readonly acknowledge: (ack: CommandAck) => Effect.Effect<{ readonly settled: boolean }, DatabaseError>;
    /**
     * Queues a `members.sync` (trigger `schedule`) for every guild whose sync interval has passed
     * since its last run, at most one per guild per interval (singletonKey = guild id, one per
     * window of the interval), however many server instances run the schedule. Returns those queued.
     */
    readonly queueDueSyncs: () => Effect.Effect<ReadonlyArray<BotCommand>, DatabaseError>;
    /**
     * First sight (see {@link FirstSightSync}): for each of `guildIds` (snowflakes the bot reports)
     * that is linked, has no completed member sync, none running and none waiting, queues one
     * (trigger `schedule`; at most one per guild per {@link FIRST_SIGHT_WINDOW_S}). Returns those queued.
     */
    readonly firstSight: (guildIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<BotCommand>, DatabaseError>;
    /** Calls `listener` whenever a command is queued, by any instance; returns the unsubscribe function. */
    readonly subscribe: (listener: () => void) => () => void;
  }
>()("@guildhall/sync/Bot") {
  /** Needs the Database and the Jobs service. */
  static readonly layer = Layer.effect(
    Bot,
    Effect.gen(function* () {
      const database = yield* Database;
      const jobs = yield* Jobs;
      const firstSightOn = yield* FirstSightSync;
      const { use } = database;
      const { botHeartbeats } = schema;

      const listeners = new Set<() => void>();
      yield* database.listen(BOT_COMMAND_CHANNEL, () => {
        for (const listener of listeners) listener();
      });

      const report = Effect.fn("Bot.report")(function* (h: BotHeartbeat) {
        const now = yield* Clock.currentTimeMillis;
        yield* use("bot.report", async (db) => {
          await db.delete(botHeartbeats).where(lte(botHeartbeats.reportedAt, new Date(now - SHARD_EXPIRY_MS)));
          const row = {
            shardId: h.shardId,
            shardCount: h.shardCount,
            status: h.status,
            connected: h.connected,
            pingMs: h.pingMs === null ? null : Math.round(h.pingMs),
            guildIds: h.guilds.map((g) => g.id),
            lastEventAt: h.lastEventAt === null ? null : new Date(h.lastEventAt),
            startedAt: new Date(h.startedAt),
            reportedAt: new Date(now),
            fatalCode: h.fatal?.code ?? null,
            fatalReason: h.fatal?.reason ?? null,
          };
          await db.insert(botHeartbeats).values(row).onConflictDoUpdate({ target: botHeartbeats.shardId, set: row });
        });
      });

      const shards = Effect.fn("Bot.shards")(function* () {
        const rows = yield* use("bot.shards", (db) => db.select().from(botHeartbeats).orderBy(asc(botHeartbeats.shardId)));
        const now = yield* Clock.currentTimeMillis;
        return rows
          .filter((r) => now - r.reportedAt.getTime() < SHARD_EXPIRY_MS)
          .map(
            (r): ShardState => ({
              shardId: r.shardId,
              shardCount: r.shardCount,
              status: r.status,
              connected: r.connected,
              pingMs: r.pingMs,
              guildIds: r.guildIds,
              lastEventAt: r.lastEventAt?.toISOString() ?? null,
              startedAt: r.startedAt.toISOString(),
              reportedAt: r.reportedAt.toISOString(),
              fresh: now - r.reportedAt.getTime() < HEARTBEAT_STALE_MS,
              fatal: r.fatalCode === null ? null : { code: r.fatalCode, reason: r.fatalReason ?? "" },
            }),
          );
      });

      const wakeFollowers = (queue: string) =>
        database.notify(BOT_COMMAND_CHANNEL, queue).pipe(
          Effect.tapError((error) => Effect.logWarning("bot: could not wake the command followers", error.message)),
          Effect.ignore,
        );

      // A payload that fails its schema here is a bug of the server's own code, not a caller's error.
      const orDieOnPayload = <A>(effect: Effect.Effect<A, DatabaseError | JobPayloadInvalid>): Effect.Effect<A, DatabaseError> =>
        effect.pipe(Effect.catchTag("JobPayloadInvalid", (error) => Effect.die(error)));

      const asCommand = (command: NewBotCommand, job: Pick<JobSummary, "id" | "createdAt"> & { attempt: number }): BotCommand =>
        ({ ...command, id: job.id, attempt: job.attempt, createdAt: job.createdAt }) as BotCommand;

      /** Sends `command`; null when its queue's policy refused it (a members.sync already waiting, or already sent in this window). */
      const send = (command: NewBotCommand, options: SendOptions = {}) =>
        Effect.gen(function* () {
          const now = new Date(yield* Clock.currentTimeMillis).toISOString();
          const id =
            command.kind === "members.sync"
              ? yield* orDieOnPayload(
                  jobs.send(
                    BotMembersSync,
                    {
                      guildId: command.guildId,
                      trigger: command.payload.trigger,
                      requestedBy: command.requestedBy,
                      ...(command.payload.source ? { source: command.payload.source } : {}),
                      ...(command.payload.followUp ? { followUp: command.payload.followUp } : {}),
                    },
                    { singletonKey: command.guildId, ...options },
                  ),
                )
              : yield* orDieOnPayload(
                  jobs.send(
                    BotPresenceResync,
                    { guildId: command.guildId, userIds: command.payload.userIds, requestedBy: command.requestedBy },
                    options,
                  ),
                );
          if (id === null) return null;
          yield* wakeFollowers(command.kind === "members.sync" ? BotMembersSync.name : BotPresenceResync.name);
          return asCommand(command, { id, attempt: 0, createdAt: now });
        });

      /** The members.sync of `guildId` still waiting to be handed to the bot (queued, or failed and waiting for its retry). */
      const waitingSync = (guildId: string) =>
        jobs
          .pending(BotMembersSync.name, guildId)
          .pipe(Effect.map((found) => found.find((j) => j.state === "created" || j.state === "retry")));

      const enqueue = Effect.fn("Bot.enqueue")(function* (command: NewBotCommand) {
        // A members.sync while one waits is that one. Checked first, and again when the queue's
        // `short` policy refuses the send (two requests racing): the waiting one may be taken by
        // the bot in between, so try three times before giving up.
        for (let tries = 0; tries < 3; tries++) {
          if (command.kind === "members.sync") {
            const waiting = yield* waitingSync(command.guildId);
            if (waiting) return asCommand(command, { id: waiting.id, attempt: waiting.attempts, createdAt: waiting.createdAt });
          }
          const sent = yield* send(command);
          if (sent) return sent;
        }
        return yield* new DatabaseError({ operation: "bot.enqueue", message: `the ${command.kind} command was refused three times` });
      });

      const nextCommands = Effect.fn("Bot.nextCommands")(function* (max: number) {
        const syncs = yield* jobs.fetch(BotMembersSync, max);
        const resyncs = yield* jobs.fetch(BotPresenceResync, max);
        return [...syncs.map(fromMembersSync), ...resyncs.map(fromPresenceResync)].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      });

      const acknowledge = Effect.fn("Bot.acknowledge")(function* (ack: CommandAck) {
        const job = yield* jobs.find(ack.id);
        if (!job || !BOT_QUEUES.includes(job.queue) || job.state !== "active") return { settled: false };
        const settled =
          ack.outcome === "completed"
            ? yield* jobs.complete(job.queue, ack.id, ack.attempt)
            : yield* jobs.fail(job.queue, ack.id, ack.attempt, (ack.error ?? "the bot reported a failure").slice(0, 500));
        return { settled };
      });

      const queueDueSyncs = Effect.fn("Bot.queueDueSyncs")(function* () {
        const due = yield* use("bot.dueSyncs", (db) =>
          executeRows<{ guild_id: string; minutes: number }>(
            db,
            sql`select s.guild_id, s.sync_interval_minutes as minutes from guild_settings s
                where s.sync_interval_minutes is not null
                  and not exists (select 1 from member_sync_runs r where r.guild_id = s.guild_id
                                  and r.started_at > now() - make_interval(mins => s.sync_interval_minutes))`,
          ),
        );
        const queued: BotCommand[] = [];
        for (const { guild_id: guildId, minutes } of due) {
          const sent = yield* send(
            { kind: "members.sync", guildId, payload: { trigger: "schedule" }, requestedBy: null },
            { singletonSeconds: Number(minutes) * 60 },
          );
          if (sent) queued.push(sent);
        }
        if (queued.length > 0) yield* Effect.logInfo(`bot: queued ${queued.length} scheduled member sync(s)`);
        return queued;
      });

      // Guilds known to have a completed sync: later heartbeats skip them without a query.
      const synced = new Set<string>();
      const firstSight = Effect.fn("Bot.firstSight")(function* (guildIds: ReadonlyArray<string>) {
        if (!firstSightOn) return [];
        const unseen = guildIds.filter((id) => !synced.has(id));
        if (unseen.length === 0) return [];
        const rows = yield* use("bot.firstSight", (db) =>
          executeRows<{ id: string; completed: boolean; running: boolean }>(
            db,
            sql`select g.id,
                  -- A complete snapshot the mass-leave guard held (or an admin discarded) counts: a first-sight
                  -- sync must not supersede a held one before an admin has decided.
                  exists (select 1 from member_sync_runs r where r.guild_id = g.id
                          and r.status in ('completed', 'awaiting_confirmation', 'discarded')) as completed,
                  exists (select 1 from member_sync_runs r where r.guild_id = g.id and r.status = 'running') as running
                from guilds g where g.id in (${sql.join(
                  unseen.map((id) => sql`${id}`),
                  sql`, `,
                )})`,
          ),
        );
        const queued: BotCommand[] = [];
        for (const row of rows) {
          if (row.completed) {
            synced.add(row.id);
            continue;
          }
          if (row.running) continue;
          if ((yield* jobs.pending(BotMembersSync.name, row.id)).length > 0) continue;
          const sent = yield* send(
            { kind: "members.sync", guildId: row.id, payload: { trigger: "schedule" }, requestedBy: null },
            { singletonSeconds: FIRST_SIGHT_WINDOW_S },
          );
          if (sent) {
            yield* Effect.logInfo(`bot: first sight of guild ${row.id}, which was never synced: member sync queued`);
            queued.push(sent);
          }
        }
        return queued;
      });

      const recordDeadLetters = Effect.fn("Bot.recordDeadLetters")(function* (letters: ReadonlyArray<DeadLetter>) {
        let recorded = 0;
        for (const letter of letters) {
          // The same letter again (a report the bot pushed twice) has the same key: at most one job a day per key.
          const digest = createHash("sha256").update(`${letter.item}\n${letter.error}`).digest("hex").slice(0, 12);
          const singletonKey = `${letter.kind}:${letter.key}:${letter.at}:${digest}`;
          const id = yield* orDieOnPayload(jobs.send(BotDeadLetters, letter, { singletonKey, singletonSeconds: DAY_S }));
          if (id !== null) recorded++;
        }
        return recorded;
      });

      const deadLetters = Effect.fn("Bot.deadLetters")(function* (scope: JobScope) {
        const queue = (yield* jobs.queues(scope)).find((q) => q.name === BotDeadLetters.name);
        const dead = yield* jobs.list({ scope, queue: BotDeadLetters.name, state: "dead", pageSize: RECENT_DEAD_LETTERS });
        const counts = queue?.counts;
        return {
          total: counts ? counts.pending + counts.active + counts.dead : 0,
          recent: dead.jobs.map((job) => ({ id: job.id, summary: job.summary, error: job.lastError, at: job.createdAt })),
        } satisfies DeadLetterStatus;
      });

      return Bot.of({
        report,
        shards,
        recordDeadLetters,
        deadLetters,
        enqueue,
        nextCommands,
        acknowledge,
        queueDueSyncs,
        firstSight,
        subscribe: (listener) => {
          listeners.add(listener);
          return () => {
            listeners.delete(listener);
          };
        },
      });
    }),
  );
}
