import { type DomainEvent, type DomainEventKind, DomainEventKindSchema, DomainEvents } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { tracked } from "@trpc/server";
import { Effect, Schema } from "effect";
import { follow } from "../follow";
import { Cursor, cursorOf } from "../schema";
import { share } from "../shared";
import { run, staffProcedure } from "../trpc";

/** At most every kind once. */
const Kinds = Schema.Array(DomainEventKindSchema).check(Schema.isMaxLength(16));

const LiveInput = Schema.Struct({
  /** Only these kinds (all when absent or empty). */
  kinds: Schema.optional(Kinds),
  /** Start after this event id (the last one the client has); absent: from now. */
  cursor: Schema.optional(Cursor),
  /** Set by tRPC's client on reconnect: the id of the last event received. */
  lastEventId: Schema.optional(Schema.NullOr(Cursor)),
});

const ListInput = Schema.Struct({
  kinds: Schema.optional(Kinds),
  /** Events with an id below this one (the previous page's `nextBefore`); absent: the newest. */
  before: Schema.optional(Cursor),
  /** Page size, 1 to 200 (default 50). */
  limit: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 200 }))),
});

/**
 * A live event as `events.live` yields it: the `DomainEvent` itself, or `reset` when the client
 * fell more than 5,000 events behind (it should page back with `events.list`).
 */
export type LiveDomainEvent = { readonly type: "event"; readonly event: DomainEvent } | { readonly type: "reset" };

/** Per committed batch and kinds filter, the matching events of one organization: computed once per filter, shared. */
const selections = new WeakMap<ReadonlyArray<DomainEvent>, Map<string, ReadonlyArray<DomainEvent>>>();
const select = (batch: ReadonlyArray<DomainEvent>, organizationId: string, kinds: ReadonlySet<DomainEventKind> | null) => {
  let byFilter = selections.get(batch);
  if (!byFilter) {
    byFilter = new Map();
    selections.set(batch, byFilter);
  }
  const key = `${organizationId}|${kinds ? [...kinds].sort().join(",") : "*"}`;
  let selected = byFilter.get(key);
  if (!selected) {
    selected = batch.filter((e) => e.organizationId === organizationId && (kinds === null || kinds.has(e.kind)));
    byFilter.set(key, selected);
  }
  return selected;
};

/** One serialized event per domain event, shared by every subscriber that gets it. */
const shared = new WeakMap<DomainEvent, LiveDomainEvent>();
const liveEventOf = (event: DomainEvent): LiveDomainEvent => {
  let live = shared.get(event);
  if (!live) {
    live = share({ type: "event", event } as LiveDomainEvent);
    shared.set(event, live);
  }
  return live;
};

export const eventsRouter = {
  /**
   * The organization's domain events as they are appended (member.joined, member.left,
   * sync.finished, sync.failed, reconciliation.applied, event.created, event.canceled,
   * integration.removed; see
   * @guildhall/sync's eventKinds.ts for each payload), optionally only `kinds`, each as
   * `tracked(String(id), {type: "event", event: {id, organizationId, guildId, kind, payload,
   * occurredAt (ISO-8601)}})`, in id order. Starts after `cursor` (an event id) or now; on
   * reconnect the client's `lastEventId` resumes it with nothing lost or repeated. `{type:
   * "reset"}` when the client fell more than 5,000 events behind. The same log the webhooks
   * deliver from. Errors: UNAUTHORIZED, FORBIDDEN (not staff), BAD_REQUEST naming the field.
   */
  live: staffProcedure.input(Schema.toStandardSchemaV1(LiveInput)).subscription(async function* ({ ctx, input, signal }) {
    const organizationId = ctx.staff.organizationId;
    const kinds = input.kinds && input.kinds.length > 0 ? new Set(input.kinds) : null;
    const log = await run(ctx, DomainEvents.use(Effect.succeed));
    const stream = follow<DomainEvent>({
      subscribe: (push) => log.subscribe(push),
      // The backfill reads every kind, so its cursor moves over filtered-out events too.
      backfill: (afterId, limit) => run(ctx, log.since(organizationId, afterId, limit)),
      latestId: () => run(ctx, log.latestId(organizationId)),
      after: cursorOf(input.lastEventId ?? input.cursor),
      select: (batch) => select(batch, organizationId, kinds),
      signal,
    });
    for await (const item of stream) {
      if (item.type === "reset") yield tracked(String(item.cursor), { type: "reset" } as LiveDomainEvent);
      else for (const event of item.items) yield tracked(String(event.id), liveEventOf(event));
    }
  }),

  /**
   * A page of the organization's domain events, newest first: `{events, nextBefore}` (pass
   * `nextBefore` as `before` for the next page; null at the start of the log). `limit` 1 to 200
   * (default 50), `kinds` filters. Errors as `events.live`.
   */
  list: staffProcedure.input(Schema.toStandardSchemaV1(ListInput)).query(({ ctx, input }) =>
    run(
      ctx,
      DomainEvents.use((log) =>
        log.list({
          organizationId: ctx.staff.organizationId,
          before: cursorOf(input.before) ?? undefined,
          limit: input.limit ?? 50,
          kinds: input.kinds,
        }),
      ),
    ),
  ),
} satisfies TRPCRouterRecord;
