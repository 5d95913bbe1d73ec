import { Database, type DatabaseError, executeRows, schema } from "@guildhall/db";
import { and, asc, between, desc, eq, gt, inArray, lt, sql } from "drizzle-orm";
import { Context, Effect, Layer, Schema } from "effect";
import { DOMAIN_EVENT_PAYLOADS, type DomainEvent, type DomainEventKind, type NewDomainEvent } from "./eventKinds";
import { encodePayload, listenFeed } from "./Feed";

/** The NOTIFY channel appended domain events travel on. */
export const DOMAIN_EVENTS_CHANNEL = "guildhall_domain_events";

/** A page of the log, newest first; `nextBefore` continues it (null at the start of the log). */
export interface DomainEventPage {
  readonly events: ReadonlyArray<DomainEvent>;
  readonly nextBefore: number | null;
}

type Row = typeof schema.domainEvents.$inferSelect;

const toEvent = (row: Row): DomainEvent =>
  ({
    id: Number(row.id),
    organizationId: row.organizationId,
    guildId: row.guildId,
    kind: row.kind,
    payload: row.payload,
    occurredAt: new Date(row.occurredAt).toISOString(),
  }) as DomainEvent;

/** What `append` takes: an event, with its organization when it has no guild to find it by. */
export type AppendInput = NewDomainEvent & { readonly organizationId?: string | undefined };

/**
 * The append-only log of domain events and its live feed.
 *
 * `append` writes events in the caller's transaction (or its own): it takes a per-organization
 * advisory lock held until commit, so within an organization ids become visible in id order
 * and a reader that saw id N never later finds a smaller one; it creates, in the same
 * statement, one pending webhook delivery per (event, active webhook that wants its kind);
 * and it NOTIFYs {@link DOMAIN_EVENTS_CHANNEL} (sent on commit) so every server instance's
 * subscribers hear of it. Nothing here updates or deletes an event.
 */
export class DomainEvents extends Context.Service<
  DomainEvents,
  {
    /**
     * Appends `events` (payloads checked against their kind's schema: a payload that does not
     * fit is a defect, the caller's bug). A guild event belongs to the organization that links
     * the guild (dropped when none does); an event without a guild needs `organizationId`.
     * Returns the stored events, in id order. Fails with DatabaseError (then nothing was written,
     * and the caller's transaction rolls back).
     */
    readonly append: (events: ReadonlyArray<AppendInput>) => Effect.Effect<ReadonlyArray<DomainEvent>, DatabaseError>;
    /** Events of `organizationId` with id > `afterId`, oldest first, at most `limit`, of `kinds` (all when absent). */
    readonly since: (
      organizationId: string,
      afterId: number,
      limit: number,
      kinds?: ReadonlyArray<DomainEventKind>,
    ) => Effect.Effect<ReadonlyArray<DomainEvent>, DatabaseError>;
    /** The newest event id of `organizationId` (0 when none): the cursor "now". */
    readonly latestId: (organizationId: string) => Effect.Effect<number, DatabaseError>;
    /** A page of `organizationId`'s events with id < `before` (newest first), at most `limit`, of `kinds` (all when absent). */
    readonly list: (input: {
      readonly organizationId: string;
      readonly before?: number | undefined;
      readonly limit: number;
      readonly kinds?: ReadonlyArray<DomainEventKind> | undefined;
    }) => Effect.Effect<DomainEventPage, DatabaseError>;
    /** The event with this id, or null. */
    readonly get: (id: number) => Effect.Effect<DomainEvent | null, DatabaseError>;
    /**
     * Calls `listener` with each committed batch of events (every organization), in id order,
     * until the returned function is called. A plain callback: subscriptions call it directly.
     */
    readonly subscribe: (listener: (events: ReadonlyArray<DomainEvent>) => void) => () => void;
  }
>()("@guildhall/sync/DomainEvents") {
  static readonly layer = Layer.effect(
    DomainEvents,
    Effect.gen(function* () {
      const database = yield* Database;
      const { use } = database;

      // A range payload names one transaction's events of one organization (see append).
      const fetchRange = (fromId: number, toId: number) =>
        database.db
          .select()
          .from(schema.domainEvents)
          .where(
            and(
              between(schema.domainEvents.id, fromId, toId),
              sql`${schema.domainEvents.organizationId} = (select organization_id from domain_events where id = ${fromId})`,
            ),
          )
          .orderBy(asc(schema.domainEvents.id))
          .then((rows) => rows.map(toEvent));
      const feed = yield* listenFeed(database, DOMAIN_EVENTS_CHANNEL, "domain-events", fetchRange);

      const append = Effect.fn("DomainEvents.append")(function* (events: ReadonlyArray<AppendInput>) {
        if (events.length === 0) return [];
        const encoded = events.map((event) => ({
          ...event,
          payload: Schema.encodeUnknownSync(DOMAIN_EVENT_PAYLOADS[event.kind] as Schema.Codec<unknown, unknown>)(event.payload),
        }));
        return yield* database.transaction(
          "domainEvents.append",
          Effect.gen(function* () {
            const guildIds = [...new Set(encoded.flatMap((e) => (e.guildId === null ? [] : [e.guildId])))];
            const orgOfGuild = new Map<string, string>();
            if (guildIds.length > 0) {
              const rows = yield* use("domainEvents.guilds", (db) =>
                db
                  .select({ id: schema.guilds.id, organizationId: schema.guilds.organizationId })
                  .from(schema.guilds)
                  .where(inArray(schema.guilds.id, guildIds)),
              );
              for (const row of rows) orgOfGuild.set(row.id, row.organizationId);
            }
            const byOrg = new Map<string, Array<(typeof encoded)[number]>>();
            for (const event of encoded) {
              const org = event.organizationId ?? (event.guildId === null ? undefined : orgOfGuild.get(event.guildId));
              if (org === undefined) continue;
              const list = byOrg.get(org) ?? [];
              list.push(event);
              byOrg.set(org, list);
            }
            const stored: DomainEvent[] = [];
            // Locks in a fixed order, so two writers never wait on each other crosswise.
            for (const org of [...byOrg.keys()].sort()) {
              const input = JSON.stringify(
                byOrg.get(org)!.map((e, ord) => ({ ord, guild_id: e.guildId, kind: e.kind, payload: e.payload })),
              );
              const rows = yield* use("domainEvents.append", async (db) => {
                // Held until commit: no later id of this organization commits before this one.
                await executeRows(db, sql`select pg_advisory_xact_lock(hashtextextended(${`guildhall.domain_events:${org}`}, 0))`);
                return executeRows<{ id: number | string; guild_id: string | null; kind: string; payload: unknown; occurred_at: string }>(
                  db,
                  sql`with input as (
                        select x.* from jsonb_to_recordset(${input}::jsonb) as x(ord int, guild_id text, kind text, payload jsonb)
                      ),
                      stored as (
                        insert into domain_events (organization_id, guild_id, kind, payload)
                        select ${org}, guild_id, kind, payload from input order by ord
                        returning id, guild_id, kind, payload, occurred_at
                      ),
                      deliveries as (
                        insert into webhook_deliveries (webhook_id, event_id, kind)
                        select w.id, s.id, s.kind from stored s
                        join webhooks w on w.organization_id = ${org} and w.status = 'active' and s.kind = any(w.kinds)
                      )
                      select id, guild_id, kind, payload,
                             to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at
                      from stored order by id`,
                );
              });
              const batch = rows.map(
                (row) =>
                  ({
                    id: Number(row.id),
                    organizationId: org,
                    guildId: row.guild_id,
                    kind: row.kind,
                    payload: row.payload,
                    occurredAt: row.occurred_at,
                  }) as DomainEvent,
              );
              if (batch.length === 0) continue;
              const payload = encodePayload(batch, batch[0]!.id, batch.at(-1)!.id);
              yield* use("domainEvents.notify", (db) => executeRows(db, sql`select pg_notify(${DOMAIN_EVENTS_CHANNEL}, ${payload})`));
              stored.push(...batch);
            }
            return stored.sort((a, b) => a.id - b.id);
          }),
        );
      });

      const kindFilter = (kinds: ReadonlyArray<DomainEventKind> | undefined) =>
        kinds && kinds.length > 0 ? inArray(schema.domainEvents.kind, [...kinds]) : undefined;

      const since = Effect.fn("DomainEvents.since")(function* (
        organizationId: string,
        afterId: number,
        limit: number,
        kinds?: ReadonlyArray<DomainEventKind>,
      ) {
        return yield* use("domainEvents.since", (db) =>
          db
            .select()
            .from(schema.domainEvents)
            .where(and(eq(schema.domainEvents.organizationId, organizationId), gt(schema.domainEvents.id, afterId), kindFilter(kinds)))
            .orderBy(asc(schema.domainEvents.id))
            .limit(limit)
            .then((rows) => rows.map(toEvent)),
        );
      });

      const latestId = Effect.fn("DomainEvents.latestId")(function* (organizationId: string) {
        return yield* use("domainEvents.latestId", (db) =>
          db
            .select({ id: sql<number | string | null>`max(${schema.domainEvents.id})` })
            .from(schema.domainEvents)
            .where(eq(schema.domainEvents.organizationId, organizationId))
            .then((rows) => Number(rows[0]?.id ?? 0)),
        );
      });

      const list = Effect.fn("DomainEvents.list")(function* (input: {
        readonly organizationId: string;
        readonly before?: number | undefined;
        readonly limit: number;
        readonly kinds?: ReadonlyArray<DomainEventKind> | undefined;
      }) {
        const rows = yield* use("domainEvents.list", (db) =>
          db
            .select()
            .from(schema.domainEvents)
            .where(
              and(
                eq(schema.domainEvents.organizationId, input.organizationId),
                input.before === undefined ? undefined : lt(schema.domainEvents.id, input.before),
                kindFilter(input.kinds),
              ),
            )
            .orderBy(desc(schema.domainEvents.id))
            .limit(input.limit + 1),
        );
        const events = rows.slice(0, input.limit).map(toEvent);
        return { events, nextBefore: rows.length > input.limit ? (events.at(-1)?.id ?? null) : null };
      });

      const get = Effect.fn("DomainEvents.get")(function* (id: number) {
        const rows = yield* use("domainEvents.get", (db) => db.select().from(schema.domainEvents).where(eq(schema.domainEvents.id, id)));
        return rows[0] ? toEvent(rows[0]) : null;
      });

      return DomainEvents.of({ append, since, latestId, list, get, subscribe: (listener) => feed.subscribe(listener) });
    }),
  );
}
