/**
 * The Discord message a webhook delivery posts for a domain event: one embed with a title, a
 * description, fields, a colour per kind and the event's time. Within Discord's embed limits
 * (title 256, description 4,096, field name 256, value 1,024, 25 fields).
 * https://discord.com/developers/docs/resources/message#embed-object-embed-limits
 */
import type { DomainEvent, DomainEventKind } from "./eventKinds";
import { KIND_TITLES } from "./eventKinds";

/** An embed as Execute Webhook takes it (the subset Guildhall uses). */
export interface WebhookEmbed {
  readonly title: string;
  readonly description: string;
  readonly color: number;
  readonly timestamp: string;
  readonly fields: ReadonlyArray<{ readonly name: string; readonly value: string; readonly inline?: boolean }>;
  readonly footer?: { readonly text: string };
}

/** The body of one Execute Webhook call. */
export interface WebhookMessage {
  readonly username: string;
  readonly embeds: ReadonlyArray<WebhookEmbed>;
  /** No @-mention in an embed or content pings anyone. */
  readonly allowed_mentions: { readonly parse: ReadonlyArray<string> };
}

const GREEN = 0x2ecc71;
const RED = 0xe74c3c;
const BLUE = 0x3498db;
const GREY = 0x95a5a6;
const PURPLE = 0x9b59b6;

/** The colour of each kind's embed. */
export const KIND_COLORS: { readonly [K in DomainEventKind]: number } = {
  "member.joined": GREEN,
  "member.left": GREY,
  "sync.finished": BLUE,
  "sync.failed": RED,
  "reconciliation.applied": PURPLE,
  "event.created": GREEN,
  "event.canceled": RED,
  "integration.removed": RED,
};

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const field = (name: string, value: string | number, inline = true) => ({ name, value: cut(String(value) || "—", 1_024), inline });

/** The embed's description and fields for `event`. */
const bodyOf = (event: DomainEvent): Pick<WebhookEmbed, "description" | "fields"> => {
  switch (event.kind) {
    case "member.joined":
      return {
        description: `<@${event.payload.userId}> (${event.payload.displayName}) ${event.payload.rejoined ? "rejoined" : "joined"} the guild.`,
        fields: [field("Username", event.payload.username), field("User id", event.payload.userId)],
      };
    case "member.left":
      return {
        description: `<@${event.payload.userId}> (${event.payload.displayName}) left the guild.`,
        fields: [field("Username", event.payload.username), field("User id", event.payload.userId)],
      };
    case "sync.finished":
      return {
        description: `A member sync (${event.payload.trigger}) completed.`,
        fields: [
          field("New", event.payload.created),
          field("Rejoined", event.payload.rejoined),
          field("Changed", event.payload.updated ?? 0),
          field("Marked left", event.payload.markedLeft),
          field("Unchanged", event.payload.unchanged),
          field("Duration", event.payload.durationMs === null ? "—" : `${(event.payload.durationMs / 1000).toFixed(1)} s`),
        ],
      };
    case "sync.failed":
      return {
        description: `A member sync (${event.payload.trigger}) ended ${event.payload.status}; nobody was marked left.`,
        fields: [field("Reason", event.payload.reason ?? "unknown", false)],
      };
    case "reconciliation.applied":
      return {
        description: "A role reconciliation plan was applied.",
        fields: [
          field("Roles added", event.payload.added),
          field("Roles removed", event.payload.removed),
          field("Nicknames", event.payload.nicknames),
          field("Failed", event.payload.failed),
          field("Skipped", event.payload.skipped),
        ],
      };
    case "event.created":
      return {
        description: `**${event.payload.title}** was scheduled.`,
        fields: [field("Starts", event.payload.startsAt)],
      };
    case "event.canceled":
      return { description: `**${event.payload.title}** was canceled.`, fields: [] };
    case "integration.removed":
      return {
        description: `The bot was removed from **${event.payload.guildName}**. Guildhall no longer sees this guild; an admin can reinstall it from the Integrations page.`,
        fields: [field("Guild id", event.guildId ?? "—"), field("Reason", event.payload.reason, false)],
      };
  }
};

/** The message for `event`, named Guildhall, with its id in the footer. */
export const messageFor = (event: DomainEvent): WebhookMessage => {
  const body = bodyOf(event);
  return {
    username: "Guildhall",
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: cut(KIND_TITLES[event.kind], 256),
        description: cut(body.description, 4_096),
        color: KIND_COLORS[event.kind],
        timestamp: event.occurredAt,
        fields: body.fields.slice(0, 25),
        footer: { text: `${event.kind} · event ${event.id}` },
      },
    ],
  };
};

/** The message "send test" posts. `at` is ISO-8601. */
export const testMessage = (at: string): WebhookMessage => ({
  username: "Guildhall",
  allowed_mentions: { parse: [] },
  embeds: [
    {
      title: "Test notification",
      description: "Guildhall can post to this channel: the notifications you chose will arrive here.",
      color: GREY,
      timestamp: at,
      fields: [],
      footer: { text: "test" },
    },
  ],
});
