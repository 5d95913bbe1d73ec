import { Database, type DatabaseError, executeRows, schema } from "@guildhall/db";
import { and, asc, between, eq, gt, sql } from "drizzle-orm";
import { Context, Effect, Layer } from "effect";
import { listenFeed, MAX_NOTIFY_BYTES } from "./Feed";
import type { PresenceChange, PresenceStatus, PresenceUpdate } from "./model";

/** The NOTIFY channel presence changes travel on. */
export const PRESENCE_CHANNEL = "guildhall_presence";

/** What `applyBatch` did: how many updates were stored, and which were dropped (unknown guild). */
export interface ApplyResult {
  readonly applied: number;
  readonly ignored: number;
  /** Sample id of the last stored update, or null when none was stored. */
  readonly lastId: number | null;
}

/** Online staff per bucket, for the roster chart. `at` is the bucket's end (ISO-8601). */
export interface HistoryPoint {
  readonly at: string;
  readonly online: number;
  readonly idle: number;
  readonly dnd: number;
}

const toChange = (row: typeof schema.presenceSamples.$inferSelect): PresenceChange => ({
  id: row.id,
  guildId: row.guildId,
  userId: row.userId,
  status: row.status,
  customStatus: row.customStatus,
  activities: row.activities,
  clientStatus: row.clientStatus,
  observedAt: row.observedAt.toISOString(),
});

/**
 * Presence storage and its live feed.
 *
 * Writes go through `applyBatch`: one transaction appends every update to presence_samples,
 * upserts the latest presence per (guild, user) and NOTIFYs {@link PRESENCE_CHANNEL}; every
 * server instance LISTENs and fans changes out to its own subscribers through `subscribe`.
 */
export class Presences extends Context.Service<
  Presences,
  {
    /**
     * Stores a batch of updates in order (later updates for one user win). Updates for guilds
     * that are not linked to an organization are dropped and counted in `ignored`.
     * Fails with `DatabaseError`.
     */
    readonly applyBatch: (updates: ReadonlyArray<PresenceUpdate>) => Effect.Effect<ApplyResult, DatabaseError>;
    /** Changes of `guildId` with sample id > `afterId`, oldest first, at most `limit`. */
    readonly changesSince: (guildId: string, afterId: number, limit: number) => Effect.Effect<ReadonlyArray<PresenceChange>, DatabaseError>;
    /** The highest sample id of `guildId` (0 when there is none): the cursor "now". */
    readonly latestId: (guildId: string) => Effect.Effect<number, DatabaseError>;
    /**
     * Counts of `userIds` (snowflakes) online / idle / dnd at the end of each `bucketMs` bucket
     * over the last `windowMs`, reconstructed from presence samples.
     */
    readonly history: (
      guildId: string,
      userIds: ReadonlyArray<string>,
      windowMs: number,
      bucketMs: number,
    ) => Effect.Effect<ReadonlyArray<HistoryPoint>, DatabaseError>;
    /** Deletes samples older than `olderThanMs` ago, keeping each user's latest. Returns rows deleted. */
    readonly prune: (olderThanMs: number) => Effect.Effect<number, DatabaseError>;
    /**
     * Calls `listener` with each committed batch of changes (any guild), in id order, for as
     * long as the subscription lasts; returns the unsubscribe function. A plain callback
     * registration rather than an effect: subscriptions (async generators) call it directly.
     */
    readonly subscribe: (listener: (changes: ReadonlyArray<PresenceChange>) => void) => () => void;
  }
>()("@guildhall/sync/Presences") {
  static readonly layer = Layer.effect(
    Presences,
    Effect.gen(function* () {
      const database = yield* Database;
      const { use } = database;

      const fetchRange = (fromId: number, toId: number) =>
        database.db
          .select()
          .from(schema.presenceSamples)
          .where(between(schema.presenceSamples.id, fromId, toId))
          .orderBy(asc(schema.presenceSamples.id))
          .then((rows) => rows.map(toChange));
      const feed = yield* listenFeed(database, PRESENCE_CHANNEL, "presences", fetchRange);

      const applyBatch = Effect.fn("Presences.applyBatch")(function* (updates: ReadonlyArray<PresenceUpdate>) {
        if (updates.length === 0) return { applied: 0, ignored: 0, lastId: null };
        const input = JSON.stringify(
          updates.map((u, ord) => ({
            ord,
            guild_id: u.guildId,
            user_id: u.userId,
            status: u.status,
            custom_status: u.customStatus,
            activities: u.activities,
            client_status: u.clientStatus,
            observed_at: new Date(u.observedAt).toISOString(),
          })),
        );
        // One statement, so one round trip and one implicit transaction: append the samples
        // (updates for guilds no organization links are dropped), upsert the latest presence
        // per user (Postgres refuses to update one row twice in a statement, hence DISTINCT ON),
        // and NOTIFY every instance with the stored changes, or their id range when the
        // payload would pass Postgres' 8,000-byte limit. The notification is sent on commit.
        const rows = yield* use("presence.applyBatch", (db) =>
          executeRows<{ applied: number | string; from_id: number | string | null; to_id: number | string | null }>(
            db,
            sql`with input as (
                  select x.* from jsonb_to_recordset(${input}::jsonb) as x(
                    ord int, guild_id text, user_id text, status text, custom_status text,
                    activities jsonb, client_status jsonb, observed_at timestamptz)
                  where exists (select 1 from guilds g where g.id = x.guild_id)
                ),
                stored as (
                  insert into presence_samples (guild_id, user_id, status, custom_status, activities, client_status, observed_at)
                  select guild_id, user_id, status, custom_status, activities, client_status, observed_at from input order by ord
                  returning *
                ),
                latest as (
                  select distinct on (guild_id, user_id) * from input order by guild_id, user_id, ord desc
                ),
                upserted as (
                  insert into presences as p (guild_id, user_id, status, custom_status, activities, client_status, updated_at, last_seen_at)
                  select guild_id, user_id, status, custom_status, activities, client_status, observed_at,
                         case when status <> 'offline' then observed_at end
                  from latest
                  on conflict (guild_id, user_id) do update set
                    status = excluded.status,
                    custom_status = excluded.custom_status,
                    activities = excluded.activities,
                    client_status = excluded.client_status,
                    updated_at = excluded.updated_at,
                    -- Someone going offline was last seen at that moment; offline -> offline keeps the old time.
                    last_seen_at = case when excluded.status <> 'offline' or p.status <> 'offline'
                                        then excluded.updated_at else p.last_seen_at end
                  where p.updated_at <= excluded.updated_at
                ),
                summary as (
                  select count(*) as applied, min(id) as from_id, max(id) as to_id,
                         json_agg(json_build_object(
                           'id', id, 'guildId', guild_id, 'userId', user_id, 'status', status,
                           'customStatus', custom_status, 'activities', activities, 'clientStatus', client_status,
                           'observedAt', to_char(observed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                         ) order by id)::text as items
                  from stored
                )
                select applied, from_id, to_id,
                       case when applied > 0 then pg_notify(${PRESENCE_CHANNEL},
                         case when octet_length(items) < ${MAX_NOTIFY_BYTES - 16}
                              then '{"items":' || items || '}'
                              else json_build_object('range', json_build_array(from_id, to_id))::text end) end as notified
                from summary`,
          ),
        );
        const summary = rows[0];
        const applied = Number(summary?.applied ?? 0);
        return { applied, ignored: updates.length - applied, lastId: summary?.to_id == null ? null : Number(summary.to_id) };
      });

      const changesSince = Effect.fn("Presences.changesSince")(function* (guildId: string, afterId: number, limit: number) {
        return yield* use("presence.changesSince", (db) =>
          db
            .select()
            .from(schema.presenceSamples)
            .where(and(eq(schema.presenceSamples.guildId, guildId), gt(schema.presenceSamples.id, afterId)))
            .orderBy(asc(schema.presenceSamples.id))
            .limit(limit)
            .then((rows) => rows.map(toChange)),
        );
      });

      const latestId = Effect.fn("Presences.latestId")(function* (guildId: string) {
        return yield* use("presence.latestId", (db) =>
          db
            .select({ id: sql<number | null>`max(${schema.presenceSamples.id})` })
            .from(schema.presenceSamples)
            .where(eq(schema.presenceSamples.guildId, guildId))
            .then((rows) => Number(rows[0]?.id ?? 0)),
        );
      });

      const history = Effect.fn("Presences.history")(function* (
        guildId: string,
        userIds: ReadonlyArray<string>,
        windowMs: number,
        bucketMs: number,
      ) {
        return yield* use("presence.history", async (db): Promise<ReadonlyArray<HistoryPoint>> => {
          if (userIds.length === 0) return [];
          const ids = sql.join(
            userIds.map((id) => sql`${id}`),
            sql`, `,
          );
          const end = new Date();
          const start = new Date(end.getTime() - windowMs);
          // For each bucket end and user: the latest sample at or before it (an index lookup on
          // (guild_id, user_id, observed_at)), then counted by status.
          const rows = await executeRows<{ at: string | Date; status: PresenceStatus; n: number | string }>(
            db,
            sql`select b.at as at, s.status as status, count(*) as n
                from generate_series(${start.toISOString()}::timestamptz + make_interval(secs => ${bucketMs / 1000}),
                                     ${end.toISOString()}::timestamptz, make_interval(secs => ${bucketMs / 1000})) as b(at)
                cross join unnest(array[${ids}]::text[]) as u(user_id)
                cross join lateral (
                  select ps.status from presence_samples ps
                  where ps.guild_id = ${guildId} and ps.user_id = u.user_id and ps.observed_at <= b.at
                  order by ps.observed_at desc limit 1
                ) s
                group by b.at, s.status
                order by b.at`,
          );
          const byBucket = new Map<string, { online: number; idle: number; dnd: number }>();
          const bucketCount = Math.floor(windowMs / bucketMs);
          for (let i = 1; i <= bucketCount; i++) {
            byBucket.set(new Date(start.getTime() + i * bucketMs).toISOString(), { online: 0, idle: 0, dnd: 0 });
          }
          for (const row of rows) {
            const at = new Date(row.at).toISOString();
            const point = byBucket.get(at);
            if (point && row.status !== "offline") point[row.status] += Number(row.n);
          }
          return [...byBucket.entries()].map(([at, counts]) => ({ at, ...counts }));
        });
      });

      const prune = Effect.fn("Presences.prune")(function* (olderThanMs: number) {
        return yield* use("presence.prune", async (db) => {
          const cutoff = new Date(Date.now() - olderThanMs);
          const deleted = await db
            .delete(schema.presenceSamples)
            .where(
              and(
                sql`${schema.presenceSamples.observedAt} < ${cutoff.toISOString()}::timestamptz`,
                sql`${schema.presenceSamples.id} not in (select max(id) from presence_samples group by guild_id, user_id)`,
              ),
            )
            .returning({ id: schema.presenceSamples.id });
          return deleted.length;
        });
      });

      return Presences.of({
        applyBatch,
        changesSince,
        latestId,
        history,
        prune,
        subscribe: (listener) => feed.subscribe(listener),
      });
    }),
  );
}
