import { Database, type DatabaseError, executeRows, schema } from "@guildhall/db";
import { and, asc, between, gt, sql } from "drizzle-orm";
import { Context, Effect, Layer, Schema } from "effect";
import { encodePayload, listenFeed } from "./Feed";
import { Snowflake } from "./model";

/** The NOTIFY channel bot commands travel on. */
export const BOT_COMMAND_CHANNEL = "guildhall_bot_command";

/** How long after its last heartbeat a shard still counts as running (ms). */
export const HEARTBEAT_STALE_MS = 45_000;

/**
 * A shard's health as the bot reports it every few seconds. `status` is discord.js's shard
 * status name (READY, CONNECTING, RESUMING, DISCONNECTED, ...); times are epoch ms.
 */
export const BotHeartbeat = Schema.Struct({
  shardId: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65_535 })),
  shardCount: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65_536 })),
  status: Schema.String.check(Schema.isMaxLength(32)),
  connected: Schema.Boolean,
  pingMs: Schema.NullOr(Schema.Finite),
  guilds: Schema.Array(
    Schema.Struct({
      id: Snowflake,
      name: Schema.String.check(Schema.isMaxLength(100)),
      icon: Schema.NullOr(Schema.String.check(Schema.isMaxLength(64))),
    }),
  ).check(Schema.isMaxLength(2_500)),
  lastEventAt: Schema.NullOr(Schema.Finite),
  startedAt: Schema.Finite,
});
export type BotHeartbeat = typeof BotHeartbeat.Type;

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
}

/**
 * Something the server asks the bot to do:
 * - `presence.resync`: re-request the presences of `payload.userIds`;
 * - `members.sync`: run a full member sync of the guild (`payload.trigger` says who asked).
 */
export type BotCommand = {
  readonly id: number;
  readonly guildId: string;
  readonly requestedBy: string | null;
  readonly createdAt: string;
} & (
  | { readonly kind: "presence.resync"; readonly payload: { readonly userIds: ReadonlyArray<string> } }
  | { readonly kind: "members.sync"; readonly payload: { readonly trigger: "button" | "schedule" | "api" } }
);

/** A command as it is queued (the server fills in id and createdAt). */
export type NewBotCommand = BotCommand extends infer C ? (C extends BotCommand ? Omit<C, "id" | "createdAt"> : never) : never;

const toCommand = (row: typeof schema.botCommands.$inferSelect): BotCommand =>
  ({
    id: row.id,
    kind: row.kind,
    guildId: row.guildId,
    payload: row.payload,
    requestedBy: row.requestedBy,
    createdAt: row.createdAt.toISOString(),
  }) as BotCommand;

/**
 * The bot as the server sees it: the health it reports, and the queue of commands it follows.
 */
export class Bot extends Context.Service<
  Bot,
  {
    /** Records a shard's heartbeat. Fails with `DatabaseError`. */
    readonly report: (heartbeat: BotHeartbeat) => Effect.Effect<void, DatabaseError>;
    /** Every shard's last report, by shard id. */
    readonly shards: () => Effect.Effect<ReadonlyArray<ShardState>, DatabaseError>;
    /** Queues a command for the bot and announces it on {@link BOT_COMMAND_CHANNEL}; returns it. */
    readonly enqueue: (command: NewBotCommand) => Effect.Effect<BotCommand, DatabaseError>;
    /** Commands with id > `afterId`, oldest first, at most `limit`, no older than `maxAgeMs`. */
    readonly commandsSince: (afterId: number, limit: number, maxAgeMs: number) => Effect.Effect<ReadonlyArray<BotCommand>, DatabaseError>;
    /**
     * Queues a `members.sync` (trigger `schedule`) for every guild whose sync interval has passed
     * since its last run or queued sync. Serialized by an advisory lock, so several server
     * instances ticking together queue each sync once. Returns the commands queued.
     */
    readonly enqueueDueSyncs: () => Effect.Effect<ReadonlyArray<BotCommand>, DatabaseError>;
    /** The newest command id (0 when there is none). */
    readonly latestCommandId: () => Effect.Effect<number, DatabaseError>;
    /** Calls `listener` with each committed batch of commands; returns the unsubscribe function. */
    readonly subscribe: (listener: (commands: ReadonlyArray<BotCommand>) => void) => () => void;
  }
>()("@guildhall/sync/Bot") {
  static readonly layer = Layer.effect(
    Bot,
    Effect.gen(function* () {
      const database = yield* Database;
      const { use } = database;
      const { botHeartbeats, botCommands } = schema;

      const feed = yield* listenFeed(database, BOT_COMMAND_CHANNEL, "bot commands", (fromId, toId) =>
        database.db
          .select()
          .from(botCommands)
          .where(between(botCommands.id, fromId, toId))
          .orderBy(asc(botCommands.id))
          .then((rows) => rows.map(toCommand)),
      );

      const report = (h: BotHeartbeat) =>
        use("bot.report", async (db) => {
          const row = {
            shardId: h.shardId,
            shardCount: h.shardCount,
            status: h.status,
            connected: h.connected,
            pingMs: h.pingMs === null ? null : Math.round(h.pingMs),
            guildIds: h.guilds.map((g) => g.id),
            lastEventAt: h.lastEventAt === null ? null : new Date(h.lastEventAt),
            startedAt: new Date(h.startedAt),
            reportedAt: new Date(),
          };
          await db.insert(botHeartbeats).values(row).onConflictDoUpdate({ target: botHeartbeats.shardId, set: row });
        });

      const shards = () =>
        use("bot.shards", (db) =>
          db
            .select()
            .from(botHeartbeats)
            .orderBy(asc(botHeartbeats.shardId))
            .then((rows) =>
              rows.map(
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
                  fresh: Date.now() - r.reportedAt.getTime() < HEARTBEAT_STALE_MS,
                }),
              ),
            ),
        );

      const enqueue = (command: NewBotCommand) =>
        use("bot.enqueue", (db) =>
          db.transaction(async (tx) => {
            const [row] = await tx
              .insert(botCommands)
              .values({
                kind: command.kind,
                guildId: command.guildId,
                payload: command.payload as unknown as Record<string, unknown>,
                requestedBy: command.requestedBy,
              })
              .returning();
            const created = toCommand(row!);
            await tx.execute(sql`select pg_notify(${BOT_COMMAND_CHANNEL}, ${encodePayload([created], created.id, created.id)})`);
            return created;
          }),
        );

      const commandsSince = (afterId: number, limit: number, maxAgeMs: number) =>
        use("bot.commandsSince", (db) =>
          db
            .select()
            .from(botCommands)
            .where(
              and(
                gt(botCommands.id, afterId),
                sql`${botCommands.createdAt} > ${new Date(Date.now() - maxAgeMs).toISOString()}::timestamptz`,
              ),
            )
            .orderBy(asc(botCommands.id))
            .limit(limit)
            .then((rows) => rows.map(toCommand)),
        );

      const enqueueDueSyncs = () =>
        use("bot.enqueueDueSyncs", (db) =>
          db.transaction(async (tx) => {
            await tx.execute(sql`select pg_advisory_xact_lock(7413020002)`);
            const rows = await executeRows<{ id: number | string; guild_id: string; created_at: string | Date }>(
              tx,
              sql`insert into bot_commands (kind, guild_id, payload, requested_by)
                  select 'members.sync', s.guild_id, '{"trigger":"schedule"}'::jsonb, null from guild_settings s
                  where s.sync_interval_minutes is not null
                    and not exists (select 1 from member_sync_runs r where r.guild_id = s.guild_id
                                    and r.started_at > now() - make_interval(mins => s.sync_interval_minutes))
                    and not exists (select 1 from bot_commands c where c.guild_id = s.guild_id and c.kind = 'members.sync'
                                    and c.created_at > now() - make_interval(mins => s.sync_interval_minutes))
                  returning id, guild_id, created_at`,
            );
            const queued = rows.map(
              (r): BotCommand => ({
                id: Number(r.id),
                kind: "members.sync",
                guildId: r.guild_id,
                payload: { trigger: "schedule" },
                requestedBy: null,
                createdAt: new Date(r.created_at).toISOString(),
              }),
            );
            if (queued.length > 0) {
              await tx.execute(sql`select pg_notify(${BOT_COMMAND_CHANNEL}, ${encodePayload(queued, queued[0]!.id, queued.at(-1)!.id)})`);
            }
            return queued;
          }),
        );

      const latestCommandId = () =>
        use("bot.latestCommandId", (db) =>
          db
            .select({ id: sql<number | null>`max(${botCommands.id})` })
            .from(botCommands)
            .then((rows) => Number(rows[0]?.id ?? 0)),
        );

      return Bot.of({
        enqueueDueSyncs,
        latestCommandId,
        report,
        shards,
        enqueue,
        commandsSince,
        subscribe: (listener) => feed.subscribe(listener),
      });
    }),
  );
}
