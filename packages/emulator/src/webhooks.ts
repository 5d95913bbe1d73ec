/**
 * Incoming webhooks (type 1) of the application: created by a `webhook.incoming` consent on the
 * authorize page or through the control API, executed with `POST /webhooks/{id}/{token}` (messages are
 * stored in the MessageStore with the webhook as author), fetched and deleted by token or by the bot.
 * A deleted or unknown webhook is 404 / 10015 Unknown Webhook; a wrong token 401 / 50027.
 * https://discord.com/developers/docs/resources/webhook
 */
import { randomBytes } from "node:crypto";
import type { APIUser, APIWebhook, UserFlags } from "discord-api-types/v10";
import { ChannelType, MessageFlags, WebhookType } from "discord-api-types/v10";
import { DiscordHttpError, FormErrors } from "./discorderrors";
import { EmulatorError } from "./errors";
import type { GuildState } from "./guild";
import type { WebhookRecord } from "./integrationtypes";
import type { MessageStore } from "./messages";
import { emptyMessage, isEmptyMessage, messageFields } from "./messages";
import { newSnowflake } from "./snowflake";
import type { RecordedMessage } from "./types";
import { isPlainObject } from "./validate";

/** Flags a webhook message may carry: SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2. */
const WEBHOOK_FLAGS = MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications | MessageFlags.IsComponentsV2;

/** A webhook the emulator holds. Ids are snowflake strings; times ms since the Unix epoch. */
interface StoredWebhook {
  id: string;
  token: string;
  guildId: string;
  channelId: string;
  name: string;
  /** Who created it (the consenting user), or null when made through the control API. */
  creatorId: string | null;
  createdAt: number;
  deleted: boolean;
  messageIds: string[];
}

/** What webhooks need from the emulator. */
export interface WebhooksContext {
  readonly applicationId: string;
  /** http://127.0.0.1:PORT/api, the base of a webhook's `url`. */
  readonly apiUrl: string;
  /** Any guild the emulator holds, the bot's or not. */
  guild(id: string): GuildState | undefined;
  /** A user by id (a webhook's creator), or undefined. */
  user(id: string): APIUser | undefined;
  readonly messages: MessageStore;
  log(line: string): void;
}

/** 404 / 10015 Unknown Webhook. */
export const unknownWebhook = (): DiscordHttpError => new DiscordHttpError(404, 10015, "Unknown Webhook");
/** 401 / 50027 Invalid Webhook Token. */
const invalidWebhookToken = (): DiscordHttpError => new DiscordHttpError(401, 50027, "Invalid Webhook Token");

/** The application's incoming webhooks. One per emulator. */
export class Webhooks {
  private readonly byId = new Map<string, StoredWebhook>();

  constructor(private readonly ctx: WebhooksContext) {}

  /**
   * Creates an incoming webhook named `name` (1-80 characters) in text channel `channelId` of `guild`.
   * Throws EmulatorError 400 naming `channelId` or `name`.
   */
  create(guild: GuildState, channelId: string, name: string, creatorId: string | null): StoredWebhook {
    const channel = guild.channels.find((c) => c.id === channelId);
    if (!channel || channel.type !== ChannelType.GuildText)
      throw new EmulatorError(400, `channelId ${JSON.stringify(channelId)} is not a text channel of guild ${guild.id}`);
    if (typeof name !== "string" || name.length < 1 || name.length > 80) throw new EmulatorError(400, "name must be 1 to 80 characters");
    const webhook: StoredWebhook = {
      id: newSnowflake(),
      token: randomBytes(51).toString("base64url"),
      guildId: guild.id,
      channelId,
      name,
      creatorId,
      createdAt: Date.now(),
      deleted: false,
      messageIds: [],
    };
    this.byId.set(webhook.id, webhook);
    this.ctx.log(`webhook ${webhook.id} created in channel ${channelId} of guild ${guild.id}`);
    return webhook;
  }

  /** The webhook object (https://discord.com/developers/docs/resources/webhook#webhook-object) with `token` and `url`; `user` (its creator) with `withUser`. */
  object(webhook: StoredWebhook, options: { withUser?: boolean } = {}): APIWebhook {
    const out: APIWebhook = {
      application_id: this.ctx.applicationId,
      avatar: null,
      channel_id: webhook.channelId,
      guild_id: webhook.guildId,
      id: webhook.id,
      name: webhook.name,
      type: WebhookType.Incoming,
      token: webhook.token,
      url: `${this.ctx.apiUrl}/webhooks/${webhook.id}/${webhook.token}`,
    };
    const creator = options.withUser && webhook.creatorId !== null ? this.ctx.user(webhook.creatorId) : undefined;
    if (creator) out.user = creator;
    return out;
  }

  /** The live webhook with this id, or undefined. */
  get(webhookId: string): StoredWebhook | undefined {
    const webhook = this.byId.get(webhookId);
    return webhook && !webhook.deleted ? webhook : undefined;
  }

  /** The live webhook `webhookId` if `token` is its token; throws 404 / 10015 or 401 / 50027. */
  private withToken(webhookId: string, token: string): StoredWebhook {
    const webhook = this.get(webhookId);
    if (!webhook) throw unknownWebhook();
    if (webhook.token !== token) throw invalidWebhookToken();
    return webhook;
  }

  /** Get Webhook with Token: the webhook object without `user`. Throws 404 / 10015, 401 / 50027. */
  getWithToken(webhookId: string, token: string): APIWebhook {
    return this.object(this.withToken(webhookId, token));
  }

  /** Get Webhook as the bot: with `user`. Throws 404 / 10015. */
  getAsBot(webhookId: string): APIWebhook {
    const webhook = this.get(webhookId);
    if (!webhook) throw unknownWebhook();
    return this.object(webhook, { withUser: true });
  }

  /**
   * Execute Webhook: validates the body (content, embeds within Discord's limits, components, flags,
   * `username` override), stores the message in the webhook's channel and returns the message object
   * when `wait`, else undefined (204). Throws 404 / 10015, 401 / 50027, 400 / 50035 naming the field,
   * 400 / 50006 for an empty message.
   * https://discord.com/developers/docs/resources/webhook#execute-webhook
   */
  execute(webhookId: string, token: string, raw: unknown, files: unknown[], wait: boolean): unknown {
    const webhook = this.withToken(webhookId, token);
    const errors = new FormErrors();
    let username = webhook.name;
    if (isPlainObject(raw) && raw.username !== undefined && raw.username !== null) {
      const name = raw.username;
      if (typeof name !== "string" || name.length < 1 || name.length > 80)
        errors.add(["username"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.");
      else if (/clyde|discord/i.test(name))
        errors.add(["username"], "USERNAME_INVALID_CONTAINS", `Username cannot contain "${/clyde/i.test(name) ? "clyde" : "discord"}"`);
      else username = name;
    }
    errors.throwIfAny();
    const fields = messageFields(raw, false, files);
    if (fields.flags !== undefined && (fields.flags & ~WEBHOOK_FLAGS) !== 0) {
      errors.add(["flags"], "MESSAGE_FLAGS_INVALID", "Invalid flags");
      errors.throwIfAny();
    }
    if (isEmptyMessage(fields)) throw emptyMessage();
    const guild = this.ctx.guild(webhook.guildId);
    if (!guild) throw unknownWebhook();
    const author: APIUser & { primary_guild: null } = {
      id: webhook.id,
      username,
      avatar: null,
      discriminator: "0000",
      public_flags: 0 as UserFlags,
      flags: 0 as UserFlags,
      bot: true,
      global_name: null,
      banner: null,
      accent_color: null,
      avatar_decoration_data: null,
      collectibles: null,
      primary_guild: null,
    };
    const message = this.ctx.messages.create(guild, webhook.channelId, fields, null, { id: webhook.id, author });
    webhook.messageIds.push(message.id);
    return wait ? this.ctx.messages.object(message) : undefined;
  }

  /** Delete Webhook with Token. Throws 404 / 10015, 401 / 50027. */
  deleteWithToken(webhookId: string, token: string): void {
    this.remove(this.withToken(webhookId, token));
  }

  /** Delete Webhook as the bot. Throws 404 / 10015. */
  deleteAsBot(webhookId: string): void {
    const webhook = this.get(webhookId);
    if (!webhook) throw unknownWebhook();
    this.remove(webhook);
  }

  /** Deletes a webhook for the control API (as if a guild admin removed it). Throws EmulatorError 404. */
  delete(webhookId: string): void {
    const webhook = this.get(webhookId);
    if (!webhook) throw new EmulatorError(404, `Unknown Webhook ${String(webhookId)}`);
    this.remove(webhook);
  }

  private remove(webhook: StoredWebhook): void {
    webhook.deleted = true;
    this.ctx.log(`webhook ${webhook.id} deleted`);
  }

  /** Every webhook ever created (deleted ones included), oldest first, as the control API reports them. */
  list(): WebhookRecord[] {
    return [...this.byId.values()].map((w) => this.recordOf(w));
  }

  /** One webhook as the control API reports it; throws EmulatorError 404 for an unknown id. */
  record(webhookId: string): WebhookRecord {
    const webhook = typeof webhookId === "string" ? this.byId.get(webhookId) : undefined;
    if (!webhook) throw new EmulatorError(404, `Unknown Webhook ${String(webhookId)}`);
    return this.recordOf(webhook);
  }

  private recordOf(webhook: StoredWebhook): WebhookRecord {
    return {
      webhook: this.object(webhook, { withUser: true }),
      createdAt: webhook.createdAt,
      deleted: webhook.deleted,
      messages: webhook.messageIds.map((id) => this.ctx.messages.recorded(id) as RecordedMessage),
    };
  }
}
