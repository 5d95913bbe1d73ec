/**
 * The domain event kinds and their payload schemas, defined once: the append-only log
 * (`domain_events`, written by DomainEvents.append), the `events.live` subscription, the
 * `events.list` page and the webhook embeds all read these. Snowflakes are strings, times
 * ISO-8601, counts integers. Pure: imports only `effect` and the model's Snowflake.
 */
import { Schema } from "effect";
import { Snowflake } from "./model";

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));
const Name = Schema.String.check(Schema.isMaxLength(200));

/** `member.joined`: a member joined the guild (GUILD_MEMBER_ADD), or came back after leaving. */
export const MemberJoined = Schema.Struct({
  userId: Snowflake,
  username: Name,
  displayName: Name,
  rejoined: Schema.Boolean,
});

/** `member.left`: a member left the guild (GUILD_MEMBER_REMOVE: left, kicked or banned). */
export const MemberLeft = Schema.Struct({
  userId: Snowflake,
  username: Name,
  displayName: Name,
});

/** `sync.finished`: a full member sync completed; what it changed. */
export const SyncFinished = Schema.Struct({
  runId: Schema.String,
  trigger: Schema.String,
  created: Count,
  updated: Schema.optional(Count),
  rejoined: Count,
  markedLeft: Count,
  unchanged: Count,
  durationMs: Schema.NullOr(Count),
});

/** `sync.failed`: a full member sync ended without completing (incomplete, failed, timed out); nobody was marked left. */
export const SyncFailed = Schema.Struct({
  runId: Schema.String,
  trigger: Schema.String,
  status: Schema.String,
  reason: Schema.NullOr(Schema.String),
});

/**
 * `reconciliation.applied`: a role reconciliation plan was applied (emitted by the role
 * reconciliation work): how many role grants and removals and nickname changes were made,
 * failed, or skipped.
 */
export const ReconciliationApplied = Schema.Struct({
  planId: Schema.String,
  appliedBy: Schema.NullOr(Schema.String),
  added: Count,
  removed: Count,
  nicknames: Count,
  failed: Count,
  skipped: Count,
});

/** `event.created`: an app event was mirrored to a guild scheduled event (the event mirroring work). */
export const EventCreated = Schema.Struct({
  eventId: Schema.String,
  title: Name,
  startsAt: Schema.String,
  scheduledEventId: Schema.NullOr(Snowflake),
});

/** `event.canceled`: an app event was canceled (the event mirroring work). */
export const EventCanceled = Schema.Struct({
  eventId: Schema.String,
  title: Name,
  scheduledEventId: Schema.NullOr(Snowflake),
});

/**
 * `integration.removed`: the bot was removed from an installed guild from outside Guildhall
 * (kicked: a GUILD_DELETE without `unavailable`,
 * https://discord.com/developers/docs/events/gateway-events#guild-delete). The integration is
 * marked `removed`, nothing is deleted; an admin reinstalls it through the install flow.
 */
export const IntegrationRemoved = Schema.Struct({
  integrationId: Schema.String,
  guildName: Name,
  reason: Schema.String.check(Schema.isMaxLength(500)),
});

/** Every kind with its payload schema. */
export const DOMAIN_EVENT_PAYLOADS = {
  "member.joined": MemberJoined,
  "member.left": MemberLeft,
  "sync.finished": SyncFinished,
  "sync.failed": SyncFailed,
  "reconciliation.applied": ReconciliationApplied,
  "event.created": EventCreated,
  "event.canceled": EventCanceled,
  "integration.removed": IntegrationRemoved,
} as const;

/** The kinds, in the order the SPA lists them. */
export const DOMAIN_EVENT_KINDS = Object.keys(DOMAIN_EVENT_PAYLOADS) as ReadonlyArray<DomainEventKind>;

export type DomainEventKind = keyof typeof DOMAIN_EVENT_PAYLOADS;

/** A kind name: one of {@link DOMAIN_EVENT_KINDS}. */
export const DomainEventKindSchema = Schema.Literals(DOMAIN_EVENT_KINDS as [DomainEventKind, ...DomainEventKind[]]);

/** The payload type of `K`. */
export type PayloadOf<K extends DomainEventKind> = (typeof DOMAIN_EVENT_PAYLOADS)[K]["Type"];

/** An event to append: its kind and payload, and the guild (snowflake) it happened in, if any. */
export type NewDomainEvent = {
  readonly [K in DomainEventKind]: { readonly kind: K; readonly guildId: string | null; readonly payload: PayloadOf<K> };
}[DomainEventKind];

/** One event of the log as readers get it: `id` orders the log; `occurredAt` is ISO-8601. */
export type DomainEvent = {
  readonly [K in DomainEventKind]: {
    readonly id: number;
    readonly organizationId: string;
    readonly guildId: string | null;
    readonly kind: K;
    readonly payload: PayloadOf<K>;
    readonly occurredAt: string;
  };
}[DomainEventKind];

/** A human title per kind (webhook embeds, the SPA). */
export const KIND_TITLES: { readonly [K in DomainEventKind]: string } = {
  "member.joined": "Member joined",
  "member.left": "Member left",
  "sync.finished": "Member sync finished",
  "sync.failed": "Member sync failed",
  "reconciliation.applied": "Role reconciliation applied",
  "event.created": "Event created",
  "event.canceled": "Event canceled",
  "integration.removed": "Bot removed from a guild",
};
