import { Database, type DatabaseError, executeRows, schema } from "@guildhall/db";
import { DiscordRest, type DiscordTransientError, describeDiscordError, isPermanent } from "@guildhall/discord";
import { type JobPayloadInvalid, Jobs, WebhookDeliver } from "@guildhall/jobs";
import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import { type Cause, Clock, Context, Effect, Layer, Schema } from "effect";
import { DomainEvents } from "./DomainEvents";
import type { DomainEventKind } from "./eventKinds";
import { SecretBox } from "./SecretBox";
import { messageFor, testMessage } from "./webhookEmbeds";

/** The URL is not a Discord channel webhook URL Guildhall accepts; `message` says why (never echoes the token). */
export class InvalidWebhookUrl extends Schema.TaggedError<InvalidWebhookUrl>()("InvalidWebhookUrl", {
  message: Schema.String,
}) {}

/** No webhook with this id belongs to the caller's organization. */
export class WebhookNotFound extends Schema.TaggedError<WebhookNotFound>()("WebhookNotFound", {
  id: Schema.String,
}) {}

/** The organization already notifies this Discord webhook. */
export class WebhookAlreadyAdded extends Schema.TaggedError<WebhookAlreadyAdded>()("WebhookAlreadyAdded", {
  webhookId: Schema.String,
}) {}

/** A webhook as admins see it: never its token. Times ISO-8601; ids snowflakes (`webhookId`, `channelId`). */
export interface WebhookView {
  readonly id: string;
  readonly name: string;
  readonly webhookId: string;
  /** The channel it posts in, known once a message went through (null before). */
  readonly channelId: string | null;
  readonly kinds: ReadonlyArray<DomainEventKind>;
  readonly status: "active" | "disabled";
  /** Why it was disabled (what Discord answered), or null. */
  readonly disabledReason: string | null;
  readonly createdAt: string;
  readonly delivered: number;
  readonly failed: number;
  readonly pending: number;
}

/** One delivery as the SPA lists it. `eventId` and `kind` are null/`test` for a test message. */
export interface DeliveryView {
  readonly id: number;
  readonly webhookId: string;
  readonly webhookName: string;
  readonly eventId: number | null;
  readonly kind: string;
  readonly status: "pending" | "delivered" | "failed" | "skipped";
  readonly attempts: number;
  readonly lastError: string | null;
  readonly messageId: string | null;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
}

/** A page of deliveries, newest first; `nextBefore` continues it (null at the end). */
export interface DeliveryPage {
  readonly deliveries: ReadonlyArray<DeliveryView>;
  readonly nextBefore: number | null;
}

/** At most this many deliveries per `drain` call. */
export const DRAIN_BATCH = 200;

/** A delivery that failed transiently this many times is given up as `failed`. */
export const MAX_DELIVERY_ATTEMPTS = 5;

/** Where webhook URLs may point: Discord's hosts always; `apiBase` adds the configured API (the emulator's `http://127.0.0.1:PORT/api`). */
export interface WebhookUrlOptions {
  readonly apiBase?: string | undefined;
}

const DISCORD_HOSTS = new Set(["discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"]);
const PATH = /^\/api(?:\/v\d{1,2})?\/webhooks\/(\d{17,20})\/([A-Za-z0-9_-]{1,200})\/?$/;

/**
 * Reads a channel webhook URL, `https://discord.com/api/webhooks/{id}/{token}` (also
 * discordapp.com, ptb., canary., with an `/api/v10` version), or the same path under
 * `options.apiBase`. Returns the webhook id (snowflake) and token. Fails with InvalidWebhookUrl
 * saying what is wrong, never quoting the URL (its token is a secret).
 * https://discord.com/developers/docs/resources/webhook#execute-webhook
 */
export const parseWebhookUrl = (
  raw: string,
  options: WebhookUrlOptions = {},
): Effect.Effect<{ readonly webhookId: string; readonly token: string }, InvalidWebhookUrl> => {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return Effect.fail(new InvalidWebhookUrl({ message: "url: not a URL" }));
  }
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "")
    return Effect.fail(new InvalidWebhookUrl({ message: "url: must have no query, fragment or credentials" }));
  let path = url.pathname;
  const onDiscord = url.protocol === "https:" && DISCORD_HOSTS.has(url.hostname) && url.port === "";
  if (!onDiscord) {
    const base = options.apiBase ? new URL(options.apiBase.replace(/\/$/, "")) : null;
    if (!base || url.origin !== base.origin || !path.startsWith(base.pathname.replace(/\/api$/, "")))
      return Effect.fail(new InvalidWebhookUrl({ message: "url: must be a Discord webhook URL (https://discord.com/api/webhooks/...)" }));
    path = `/${path.slice(base.pathname.replace(/\/api$/, "").length).replace(/^\//, "")}`;
  }
  const match = PATH.exec(path);
  if (!match) return Effect.fail(new InvalidWebhookUrl({ message: "url: must end in /api/webhooks/{webhook.id}/{webhook.token}" }));
  return Effect.succeed({ webhookId: match[1]!, token: match[2]! });
};

type WebhookRow = typeof schema.webhooks.$inferSelect;

/** A webhook is disabled for good when Discord answers that it is gone or its token is refused. */
const isGone = (error: { readonly status: number; readonly code: number | null }) =>
  error.code === 10015 || error.code === 50027 || error.status === 401 || error.status === 404;

/**
 * Webhook notifications of an organization: its channel webhooks (token sealed by SecretBox),
 * the event kinds each receives, and their deliveries. Deliveries of domain events are created
 * by DomainEvents.append in the event's own transaction; this service queues them as jobs
 * (`webhooks.deliver`, `singletonKey` = delivery id) and `deliver` runs one through the Discord
 * port. Every method scoped to an organization fails with WebhookNotFound for another's webhook.
 */
export class Webhooks extends Context.Service<
  Webhooks,
  {
    /**
     * Adds a webhook from its URL (see {@link parseWebhookUrl}) with a display `name` and the
     * `kinds` it receives. Fails with InvalidWebhookUrl, WebhookAlreadyAdded, DatabaseError.
     */
    readonly create: (input: {
      readonly organizationId: string;
      readonly name: string;
      readonly url: string;
      readonly kinds: ReadonlyArray<DomainEventKind>;
      readonly createdBy: string | null;
    }) => Effect.Effect<WebhookView, InvalidWebhookUrl | WebhookAlreadyAdded | DatabaseError>;
    /** The organization's webhooks, oldest first, with delivery counts. */
    readonly list: (organizationId: string) => Effect.Effect<ReadonlyArray<WebhookView>, DatabaseError>;
    /**
     * Changes a webhook's `kinds`, `name`, or re-enables it (`enabled: true` clears a disabled
     * status; `false` disables it). Fails with WebhookNotFound, DatabaseError.
     */
    readonly update: (
      organizationId: string,
      id: string,
      change: { readonly kinds?: ReadonlyArray<DomainEventKind>; readonly name?: string; readonly enabled?: boolean },
    ) => Effect.Effect<WebhookView, WebhookNotFound | DatabaseError>;
    /** Deletes a webhook and its deliveries. Fails with WebhookNotFound, DatabaseError. */
    readonly remove: (organizationId: string, id: string) => Effect.Effect<void, WebhookNotFound | DatabaseError>;
    /**
     * A page of the organization's deliveries (of `webhookId` when given), newest first, at most
     * `limit`, below id `before`. Fails with DatabaseError.
     */
    readonly deliveries: (input: {
      readonly organizationId: string;
      readonly webhookId?: string | undefined;
      readonly before?: number | undefined;
      readonly limit: number;
    }) => Effect.Effect<DeliveryPage, DatabaseError>;
    /** Queues a test message to the webhook; returns its delivery id. Fails with WebhookNotFound, DatabaseError, JobPayloadInvalid. */
    readonly sendTest: (organizationId: string, id: string) => Effect.Effect<number, WebhookNotFound | DatabaseError | JobPayloadInvalid>;
    /** Queues a delivery job for each webhook with a pending delivery of `eventIds` (or, with `olderThanMs`, one pending that long). Returns how many jobs. */
    readonly enqueuePending: (
      selection: { readonly eventIds: ReadonlyArray<number> } | { readonly olderThanMs: number },
    ) => Effect.Effect<number, DatabaseError | JobPayloadInvalid>;
    /**
     * Sends webhook `webhookId`'s pending deliveries, oldest first (the job handler), at most
     * {@link DRAIN_BATCH} per call (it queues itself again when more wait). Each is sent when its
     * webhook is active and the result recorded: `delivered` (with the message id), or, on a
     * permanent Discord error, `failed`; one that says the webhook is gone (10015 Unknown
     * Webhook, 50027, 401, 404) also disables the webhook, with the reason, and skips its other
     * pending deliveries. A transient error is recorded on the delivery and fails the call (the
     * job retries with backoff; a delivery that failed {@link MAX_DELIVERY_ATTEMPTS} times is
     * given up as `failed`). Returns how many were delivered. Fails with DiscordTransientError,
     * DatabaseError, JobPayloadInvalid.
     */
    readonly drain: (webhookId: string) => Effect.Effect<number, DiscordTransientError | DatabaseError | JobPayloadInvalid>;
  }
>()("@guildhall/sync/Webhooks") {
  /** The service; needs Database, DomainEvents, Jobs, DiscordRest and SecretBox. `options.apiBase` see {@link WebhookUrlOptions}. */
  static readonly layer = (
    options: WebhookUrlOptions = {},
  ): Layer.Layer<Webhooks, never, Database | DomainEvents | Jobs | DiscordRest | SecretBox> =>
    Layer.effect(
      Webhooks,
      Effect.gen(function* () {
        const database = yield* Database;
        const { use } = database;
        const log = yield* DomainEvents;
        const jobs = yield* Jobs;
        const discord = yield* DiscordRest;
        const box = yield* SecretBox;

        const counts = (ids: ReadonlyArray<string>) =>
          ids.length === 0
            ? Effect.succeed(new Map<string, { delivered: number; failed: number; pending: number }>())
            : use("webhooks.counts", (db) =>
                db
                  .select({
                    webhookId: schema.webhookDeliveries.webhookId,
                    status: schema.webhookDeliveries.status,
                    n: sql<number>`count(*)::int`,
                  })
                  .from(schema.webhookDeliveries)
                  .where(inArray(schema.webhookDeliveries.webhookId, [...ids]))
                  .groupBy(schema.webhookDeliveries.webhookId, schema.webhookDeliveries.status),
              ).pipe(
                Effect.map((rows) => {
                  const out = new Map<string, { delivered: number; failed: number; pending: number }>();
                  for (const row of rows) {
                    const c = out.get(row.webhookId) ?? { delivered: 0, failed: 0, pending: 0 };
                    if (row.status === "delivered" || row.status === "failed" || row.status === "pending") c[row.status] += Number(row.n);
                    out.set(row.webhookId, c);
                  }
                  return out;
                }),
              );

        const viewsOf = (rows: ReadonlyArray<WebhookRow>) =>
          Effect.map(counts(rows.map((r) => r.id)), (byId) =>
            rows.map(
              (row): WebhookView => ({
                id: row.id,
                name: row.name,
                webhookId: row.webhookId,
                channelId: row.channelId,
                kinds: row.kinds as DomainEventKind[],
                status: row.status,
                disabledReason: row.disabledReason,
                createdAt: new Date(row.createdAt).toISOString(),
                ...(byId.get(row.id) ?? { delivered: 0, failed: 0, pending: 0 }),
              }),
            ),
          );

        const owned = (organizationId: string, id: string) =>
          use("webhooks.get", (db) =>
            db
              .select()
              .from(schema.webhooks)
              .where(and(eq(schema.webhooks.organizationId, organizationId), eq(schema.webhooks.id, id))),
          ).pipe(Effect.flatMap((rows) => (rows[0] ? Effect.succeed(rows[0]) : Effect.fail(new WebhookNotFound({ id })))));

        const create = Effect.fn("Webhooks.create")(function* (input: {
          readonly organizationId: string;
          readonly name: string;
          readonly url: string;
          readonly kinds: ReadonlyArray<DomainEventKind>;
          readonly createdBy: string | null;
        }) {
          const { webhookId, token } = yield* parseWebhookUrl(input.url, options);
          const sealed = yield* box.seal(token);
          const rows = yield* use("webhooks.create", (db) =>
            db
              .insert(schema.webhooks)
              .values({
                id: crypto.randomUUID(),
                organizationId: input.organizationId,
                name: input.name,
                webhookId,
                tokenSealed: sealed.sealed,
                tokenKeyId: sealed.keyId,
                kinds: [...new Set(input.kinds)],
                createdBy: input.createdBy,
              })
              .onConflictDoNothing()
              .returning(),
          );
          if (!rows[0]) return yield* new WebhookAlreadyAdded({ webhookId });
          return (yield* viewsOf(rows))[0]!;
        });

        const list = Effect.fn("Webhooks.list")(function* (organizationId: string) {
          const rows = yield* use("webhooks.list", (db) =>
            db.select().from(schema.webhooks).where(eq(schema.webhooks.organizationId, organizationId)).orderBy(schema.webhooks.createdAt),
          );
          return yield* viewsOf(rows);
        });

        const update = Effect.fn("Webhooks.update")(function* (
          organizationId: string,
          id: string,
          change: { readonly kinds?: ReadonlyArray<DomainEventKind>; readonly name?: string; readonly enabled?: boolean },
        ) {
          yield* owned(organizationId, id);
          const rows = yield* use("webhooks.update", (db) =>
            db
              .update(schema.webhooks)
              .set({
                ...(change.kinds ? { kinds: [...new Set(change.kinds)] } : {}),
                ...(change.name !== undefined ? { name: change.name } : {}),
                ...(change.enabled === true ? { status: "active" as const, disabledReason: null } : {}),
                ...(change.enabled === false ? { status: "disabled" as const, disabledReason: "disabled by an admin" } : {}),
                updatedAt: new Date(),
              })
              .where(and(eq(schema.webhooks.organizationId, organizationId), eq(schema.webhooks.id, id)))
              .returning(),
          );
          return (yield* viewsOf(rows))[0]!;
        });

        const remove = Effect.fn("Webhooks.remove")(function* (organizationId: string, id: string) {
          yield* owned(organizationId, id);
          yield* use("webhooks.remove", (db) =>
            db.delete(schema.webhooks).where(and(eq(schema.webhooks.organizationId, organizationId), eq(schema.webhooks.id, id))),
          );
        });

        const deliveries = Effect.fn("Webhooks.deliveries")(function* (input: {
          readonly organizationId: string;
          readonly webhookId?: string | undefined;
          readonly before?: number | undefined;
          readonly limit: number;
        }) {
          const d = schema.webhookDeliveries;
          const rows = yield* use("webhooks.deliveries", (db) =>
            db
              .select({
                id: d.id,
                webhookId: d.webhookId,
                webhookName: schema.webhooks.name,
                eventId: d.eventId,
                kind: d.kind,
                status: d.status,
                attempts: d.attempts,
                lastError: d.lastError,
                messageId: d.messageId,
                createdAt: d.createdAt,
                deliveredAt: d.deliveredAt,
              })
              .from(d)
              .innerJoin(schema.webhooks, eq(schema.webhooks.id, d.webhookId))
              .where(
                and(
                  eq(schema.webhooks.organizationId, input.organizationId),
                  input.webhookId === undefined ? undefined : eq(d.webhookId, input.webhookId),
                  input.before === undefined ? undefined : lt(d.id, input.before),
                ),
              )
              .orderBy(desc(d.id))
              .limit(input.limit + 1),
          );
          const page = rows.slice(0, input.limit).map(
            (row): DeliveryView => ({
              ...row,
              id: Number(row.id),
              eventId: row.eventId === null ? null : Number(row.eventId),
              createdAt: new Date(row.createdAt).toISOString(),
              deliveredAt: row.deliveredAt === null ? null : new Date(row.deliveredAt).toISOString(),
            }),
          );
          return { deliveries: page, nextBefore: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null };
        });

        const queue = (webhookIds: ReadonlyArray<string>) =>
          Effect.forEach(webhookIds, (webhookId) => jobs.send(WebhookDeliver, { webhookId }, { singletonKey: webhookId }), {
            discard: true,
          }).pipe(Effect.as(webhookIds.length));

        const sendTest = Effect.fn("Webhooks.sendTest")(function* (organizationId: string, id: string) {
          yield* owned(organizationId, id);
          const rows = yield* use("webhooks.sendTest", (db) =>
            db.insert(schema.webhookDeliveries).values({ webhookId: id, kind: "test" }).returning({ id: schema.webhookDeliveries.id }),
          );
          yield* queue([id]);
          return Number(rows[0]!.id);
        });

        const enqueuePending = Effect.fn("Webhooks.enqueuePending")(function* (
          selection: { readonly eventIds: ReadonlyArray<number> } | { readonly olderThanMs: number },
        ) {
          const d = schema.webhookDeliveries;
          if ("eventIds" in selection && selection.eventIds.length === 0) return 0;
          const rows = yield* use("webhooks.pending", (db) =>
            db
              .selectDistinct({ webhookId: d.webhookId })
              .from(d)
              .where(
                and(
                  eq(d.status, "pending"),
                  "eventIds" in selection
                    ? inArray(d.eventId, [...selection.eventIds])
                    : lt(d.createdAt, new Date(Date.now() - selection.olderThanMs)),
                ),
              ),
          );
          return yield* queue(rows.map((r) => r.webhookId));
        });

        const settle = (deliveryId: number, fields: Partial<typeof schema.webhookDeliveries.$inferInsert>) =>
          use("webhooks.settle", (db) =>
            db
              .update(schema.webhookDeliveries)
              .set({ ...fields, attempts: sql`${schema.webhookDeliveries.attempts} + 1` })
              .where(eq(schema.webhookDeliveries.id, deliveryId)),
          );

        /** Sends one pending delivery of an active webhook; true when it went through, false when the webhook is now disabled. */
        const deliverOne = (webhook: WebhookRow, delivery: typeof schema.webhookDeliveries.$inferSelect, token: string) =>
          Effect.gen(function* () {
            const deliveryId = Number(delivery.id);
            let body: ReturnType<typeof testMessage>;
            if (delivery.eventId === null) body = testMessage(new Date(yield* Clock.currentTimeMillis).toISOString());
            else {
              const event = yield* log.get(Number(delivery.eventId));
              if (!event) {
                yield* settle(deliveryId, { status: "skipped", lastError: "the event no longer exists" });
                return true;
              }
              body = messageFor(event);
            }
            const sent = yield* Effect.exit(
              discord.executeWebhook(webhook.webhookId, token, body as Parameters<typeof discord.executeWebhook>[2]),
            );
            if (sent._tag === "Success") {
              yield* settle(deliveryId, { status: "delivered", messageId: sent.value.id, deliveredAt: new Date(), lastError: null });
              // The webhook's Discord id and its token are not logged: its Guildhall id names it.
              yield* Effect.logDebug(`webhook ${webhook.id}: delivery ${deliveryId} delivered`);
              if (webhook.channelId !== sent.value.channel_id) {
                yield* use("webhooks.channel", (db) =>
                  db.update(schema.webhooks).set({ channelId: sent.value.channel_id }).where(eq(schema.webhooks.id, webhook.id)),
                );
              }
              return true;
            }
            const failure = sent.cause.reasons.find((r) => r._tag === "Fail");
            const error = failure && failure._tag === "Fail" ? failure.error : null;
            if (error && isPermanent(error)) {
              const message = describeDiscordError(error);
              yield* settle(deliveryId, { status: "failed", lastError: message });
              if (isGone(error)) {
                yield* disable(
                  webhook.id,
                  `Discord answered ${error.status}${error.code === null ? "" : ` / ${error.code}`} ${error.message}`,
                );
                yield* Effect.logWarning(`webhook ${webhook.id} disabled: ${message}`).pipe(
                  Effect.annotateLogs({ organizationId: webhook.organizationId }),
                );
                return false;
              }
              return true;
            }
            const message = error ? describeDiscordError(error) : "unexpected failure";
            const givingUp = delivery.attempts + 1 >= MAX_DELIVERY_ATTEMPTS;
            yield* settle(deliveryId, { lastError: message, ...(givingUp ? { status: "failed" as const } : {}) });
            if (givingUp) return true;
            return yield* Effect.failCause(sent.cause as Cause.Cause<DiscordTransientError>);
          });

        const drain = Effect.fn("Webhooks.drain")(function* (webhookId: string) {
          const found = yield* use("webhooks.byId", (db) => db.select().from(schema.webhooks).where(eq(schema.webhooks.id, webhookId)));
          const webhook = found[0];
          if (!webhook) return 0;
          const d = schema.webhookDeliveries;
          const pending = yield* use("webhooks.pendingOf", (db) =>
            db
              .select()
              .from(d)
              .where(and(eq(d.webhookId, webhookId), eq(d.status, "pending")))
              .orderBy(d.id)
              .limit(DRAIN_BATCH + 1),
          );
          if (pending.length === 0) return 0;
          if (webhook.status !== "active") {
            yield* use("webhooks.skip", (db) =>
              db
                .update(d)
                .set({ status: "skipped" })
                .where(and(eq(d.webhookId, webhookId), eq(d.status, "pending"))),
            );
            return 0;
          }
          const opened = yield* Effect.exit(box.open(webhook.tokenKeyId, webhook.tokenSealed));
          if (opened._tag === "Failure") {
            yield* disable(webhook.id, `its token cannot be opened (key ${webhook.tokenKeyId} is not configured)`);
            return 0;
          }
          let delivered = 0;
          for (const delivery of pending.slice(0, DRAIN_BATCH)) {
            if (!(yield* deliverOne(webhook, delivery, opened.value))) return delivered;
            delivered++;
          }
          if (pending.length > DRAIN_BATCH) yield* queue([webhookId]);
          return delivered;
        });

        const disable = (id: string, reason: string) =>
          use("webhooks.disable", (db) =>
            db
              .update(schema.webhooks)
              .set({ status: "disabled", disabledReason: reason.slice(0, 500), updatedAt: new Date() })
              .where(eq(schema.webhooks.id, id)),
          ).pipe(
            // Its other waiting deliveries will not be sent: say so rather than leave them pending.
            Effect.andThen(
              use("webhooks.skipRest", (db) =>
                executeRows(db, sql`update webhook_deliveries set status = 'skipped' where webhook_id = ${id} and status = 'pending'`),
              ),
            ),
          );

        return Webhooks.of({ create, list, update, remove, deliveries, sendTest, enqueuePending, drain });
      }),
    );
}
