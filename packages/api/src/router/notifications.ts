/**
 * The Notifications page's API (admins only): the organization's Discord channel webhooks, the
 * domain event kinds each receives, their deliveries with results, and "send test".
 */
import { DOMAIN_EVENT_KINDS, DomainEventKindSchema, Webhooks } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { Schema } from "effect";
import { Cursor, cursorOf } from "../schema";
import { adminProcedure, run } from "../trpc";

const Id = Schema.String.check(Schema.isUUID());
const Kinds = Schema.Array(DomainEventKindSchema).check(Schema.isMaxLength(16));
const Name = Schema.String.check(
  Schema.isMinLength(1),
  Schema.isMaxLength(80),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is this pattern's purpose.
  Schema.isPattern(/^[^\u0000-\u001f]*$/, { message: "must not contain control characters" }),
);

const CreateInput = Schema.Struct({
  /** What admins call it (1 to 80 characters). */
  name: Name,
  /** The webhook's URL, https://discord.com/api/webhooks/{id}/{token}: a secret, stored sealed and never returned. */
  url: Schema.String.check(Schema.isMaxLength(500)),
  kinds: Kinds,
});

const UpdateInput = Schema.Struct({
  id: Id,
  name: Schema.optional(Name),
  kinds: Schema.optional(Kinds),
  /** true re-enables a disabled webhook; false disables it. */
  enabled: Schema.optional(Schema.Boolean),
});

const DeliveriesInput = Schema.Struct({
  webhookId: Schema.optional(Id),
  before: Schema.optional(Cursor),
  /** 1 to 100 (default 25). */
  limit: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100 }))),
});

export const notificationsRouter = {
  /** Admin. The event kinds a webhook can receive, in display order. Errors: UNAUTHORIZED, FORBIDDEN. */
  kinds: adminProcedure.query(() => DOMAIN_EVENT_KINDS),

  /**
   * Admin. The organization's webhooks, oldest first: `{id, name, webhookId (snowflake),
   * channelId (null until a message went through), kinds, status ("active" | "disabled"),
   * disabledReason, createdAt (ISO-8601), delivered, failed, pending}`; never a token.
   * Errors: UNAUTHORIZED, FORBIDDEN (not an admin).
   */
  webhooks: adminProcedure.query(({ ctx }) =>
    run(
      ctx,
      Webhooks.use((w) => w.list(ctx.staff.organizationId)),
    ),
  ),

  /**
   * Admin. Adds a channel webhook from its URL with the kinds it receives; returns it as
   * `webhooks` lists it. Errors: BAD_REQUEST naming `url` (not a Discord webhook URL), CONFLICT
   * (this webhook is already added), UNAUTHORIZED, FORBIDDEN.
   * https://discord.com/developers/docs/resources/webhook#execute-webhook
   */
  create: adminProcedure.input(Schema.toStandardSchemaV1(CreateInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Webhooks.use((w) =>
        w.create({
          organizationId: ctx.staff.organizationId,
          name: input.name,
          url: input.url,
          kinds: input.kinds,
          createdBy: ctx.user.id,
        }),
      ),
    ),
  ),

  /** Admin. Changes a webhook's name or kinds, or (re-)enables / disables it; returns it. Errors: NOT_FOUND, as `create`. */
  update: adminProcedure.input(Schema.toStandardSchemaV1(UpdateInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Webhooks.use((w) =>
        w.update(ctx.staff.organizationId, input.id, {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.kinds !== undefined ? { kinds: input.kinds } : {}),
          ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        }),
      ),
    ),
  ),

  /** Admin. Deletes a webhook and its deliveries (the Discord webhook itself stays). Errors: NOT_FOUND, as `create`. */
  remove: adminProcedure.input(Schema.toStandardSchemaV1(Schema.Struct({ id: Id }))).mutation(({ ctx, input }) =>
    run(
      ctx,
      Webhooks.use((w) => w.remove(ctx.staff.organizationId, input.id)),
    ),
  ),

  /** Admin. Queues a test message to the webhook; returns `{deliveryId}`. Errors: NOT_FOUND, as `create`. */
  sendTest: adminProcedure.input(Schema.toStandardSchemaV1(Schema.Struct({ id: Id }))).mutation(async ({ ctx, input }) => ({
    deliveryId: await run(
      ctx,
      Webhooks.use((w) => w.sendTest(ctx.staff.organizationId, input.id)),
    ),
  })),

  /**
   * Admin. A page of deliveries (of `webhookId` when given), newest first: `{deliveries: [{id,
   * webhookId, webhookName, eventId (null for a test), kind, status ("pending" | "delivered" |
   * "failed" | "skipped"), attempts, lastError, messageId, createdAt, deliveredAt}], nextBefore}`.
   * Errors as `webhooks`.
   */
  deliveries: adminProcedure.input(Schema.toStandardSchemaV1(DeliveriesInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Webhooks.use((w) =>
        w.deliveries({
          organizationId: ctx.staff.organizationId,
          webhookId: input.webhookId,
          before: cursorOf(input.before) ?? undefined,
          limit: input.limit ?? 25,
        }),
      ),
    ),
  ),
} satisfies TRPCRouterRecord;
