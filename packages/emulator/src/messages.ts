/**
 * Messages the bot makes: interaction responses, follow-ups and plain channel messages, stored for
 * tests, with Discord's validation of message bodies and the MESSAGE_CREATE / _UPDATE / _DELETE
 * dispatches (GUILD_MESSAGES sessions; never for ephemeral messages).
 * https://discord.com/developers/docs/resources/message
 */
import type { APIUser } from "discord-api-types/v10";
import { GatewayDispatchEvents, GatewayIntentBits, InteractionType, MessageFlags, MessageType } from "discord-api-types/v10";
import { checkCustomIds, checkLayout, normalizeComponents } from "./components";
import { DiscordHttpError, FormErrors } from "./discorderrors";
import { checkEmbeds, MAX_EMBEDS } from "./embeds";
import type { GuildState } from "./guild";
import type { GuildDispatch } from "./guilds";
import { userObject } from "./payloads";
import { newSnowflake } from "./snowflake";
import { discordTimestamp } from "./timestamps";
import type { RecordedMessage } from "./types";
import { isPlainObject } from "./validate";

/** Flags a message may be created with (SUPPRESS_EMBEDS, EPHEMERAL, SUPPRESS_NOTIFICATIONS, IS_VOICE_MESSAGE, IS_COMPONENTS_V2). */
const CREATE_FLAGS =
  MessageFlags.SuppressEmbeds |
  MessageFlags.Ephemeral |
  MessageFlags.SuppressNotifications |
  MessageFlags.IsVoiceMessage |
  MessageFlags.IsComponentsV2;
/** Flags an edit may change. */
const EDIT_FLAGS = MessageFlags.SuppressEmbeds | MessageFlags.IsComponentsV2;

type Body = Record<string, unknown>;

/** 404 / 10008 Unknown Message. */
export const unknownMessage = (): DiscordHttpError => new DiscordHttpError(404, 10008, "Unknown Message");

/** The interaction a message answers (interaction_metadata and interaction of the message object). */
export interface MessageInteraction {
  id: string;
  type: InteractionType;
  userId: string;
  /** The command as invoked ("sync" or "sync roles"); null for a component interaction. */
  name: string | null;
  commandType: number | null;
}

/** A message the emulator stores. Ids are snowflake strings, timestamps Discord's ISO 8601 form. */
export interface StoredMessage {
  id: string;
  channelId: string;
  guildId: string;
  type: MessageType;
  content: string;
  flags: number;
  embeds: unknown[];
  components: unknown[];
  attachments: unknown[];
  timestamp: string;
  editedTimestamp: string | null;
  edits: number;
  deleted: boolean;
  /** The interaction this message responds to, or null for a plain channel message. */
  interaction: MessageInteraction | null;
  /** The webhook that posted it (webhooks.ts), or null for the bot's own messages. */
  webhook: MessageWebhook | null;
}

/** The webhook a message was executed through, and the author it shows (name and avatar as overridden). */
export interface MessageWebhook {
  id: string;
  author: APIUser;
}

/** The validated fields of a message create/edit body. */
export interface MessageFields {
  content?: string;
  embeds?: unknown[];
  components?: unknown[];
  attachments?: unknown[];
  flags?: number;
}

/**
 * Validates a message body (interaction callback data, follow-up, edit, channel message); `files` are
 * the uploaded files as attachment objects. With `edit`, null clears a field, and `priorFlags` are the
 * flags of the message being edited (IS_COMPONENTS_V2 stays once set). A Components V2 message takes no
 * `content` or `embeds` and lays its components out as components.ts checks. Throws DiscordHttpError
 * 400 / 50035 naming the field. https://discord.com/developers/docs/resources/message#create-message
 * https://discord.com/developers/docs/components/reference
 */
export function messageFields(raw: unknown, edit: boolean, files: unknown[] = [], priorFlags = 0): MessageFields {
  const errors = new FormErrors();
  const out: MessageFields = {};
  if (raw === undefined || raw === null) return files.length ? { attachments: files } : out;
  if (!isPlainObject(raw)) {
    errors.add([], "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
    errors.throwIfAny();
  }
  const b = raw as Body;
  const v2 = ((priorFlags | (Number.isInteger(b.flags) ? (b.flags as number) : 0)) & MessageFlags.IsComponentsV2) !== 0;
  if (v2) {
    for (const key of ["content", "embeds"] as const) {
      const value = b[key];
      if (value !== undefined && value !== null && value !== "" && !(Array.isArray(value) && value.length === 0))
        errors.add(
          [key],
          "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
          `The '${key}' field cannot be used when using MessageFlags.IS_COMPONENTS_V2`,
        );
    }
  }
  if (b.content !== undefined && b.content !== null) {
    if (typeof b.content !== "string") errors.add(["content"], "BASE_TYPE_STRING", "Must be a string.");
    else if (b.content.length > 2000) errors.add(["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.");
    else out.content = b.content;
  } else if (b.content === null && edit) out.content = "";
  if (b.embeds !== undefined && b.embeds !== null) {
    if (!Array.isArray(b.embeds) || !b.embeds.every(isPlainObject))
      errors.add(["embeds"], "BASE_TYPE_ARRAY", "Must be an array of embed objects.");
    else if (b.embeds.length > MAX_EMBEDS) errors.add(["embeds"], "BASE_TYPE_MAX_LENGTH", `Must be ${MAX_EMBEDS} or fewer in length.`);
    else {
      checkEmbeds(errors, b.embeds as Body[]);
      // Discord answers with every embed typed ("rich" unless given).
      out.embeds = (b.embeds as Body[]).map((e) => ({ type: "rich", ...structuredClone(e) }));
    }
  } else if (b.embeds === null && edit) out.embeds = [];
  if (b.components !== undefined && b.components !== null) {
    if (!Array.isArray(b.components) || !b.components.every(isPlainObject))
      errors.add(["components"], "BASE_TYPE_ARRAY", "Must be an array of components.");
    else {
      checkCustomIds(errors, b.components as Body[]);
      checkLayout(errors, b.components as Body[], v2);
      out.components = normalizeComponents(b.components as Body[]);
    }
  } else if (b.components === null && edit) out.components = [];
  if (b.flags !== undefined && b.flags !== null) {
    const allowed = edit ? EDIT_FLAGS | MessageFlags.Ephemeral : CREATE_FLAGS;
    if (!Number.isInteger(b.flags) || ((b.flags as number) & ~allowed) !== 0)
      errors.add(["flags"], "MESSAGE_FLAGS_INVALID", "Invalid flags");
    else out.flags = b.flags as number;
  }
  const attachments = Array.isArray(b.attachments) ? b.attachments : [];
  if (attachments.length || files.length) out.attachments = files.length ? files : attachments;
  errors.throwIfAny();
  return out;
}

/** True when the fields would make a message with nothing in it (Discord: 400 / 50006). */
export function isEmptyMessage(fields: MessageFields): boolean {
  return !fields.content && !fields.embeds?.length && !fields.components?.length && !fields.attachments?.length;
}

/** 400 / 50006 Cannot send an empty message. */
export const emptyMessage = (): DiscordHttpError => new DiscordHttpError(400, 50006, "Cannot send an empty message");

/** What the message store needs from the emulator. */
export interface MessageContext {
  readonly applicationId: string;
  /** The bot user without its private fields (message authors). */
  botUser(): APIUser;
  guild(id: string): GuildState | undefined;
  readonly dispatch: GuildDispatch;
}

/** Every message the bot made, by id. One per emulator. */
export class MessageStore {
  private readonly messages = new Map<string, StoredMessage>();

  constructor(private readonly ctx: MessageContext) {}

  /** A stored message (deleted ones included), or undefined. */
  get(messageId: string): StoredMessage | undefined {
    return this.messages.get(messageId);
  }

  /** Stores a new message from validated fields and dispatches MESSAGE_CREATE unless it is ephemeral. */
  create(
    guild: GuildState,
    channelId: string,
    fields: MessageFields,
    interaction: MessageInteraction | null,
    webhook: MessageWebhook | null = null,
  ): StoredMessage {
    const message: StoredMessage = {
      id: newSnowflake(),
      channelId,
      guildId: guild.id,
      type: interaction?.type === InteractionType.ApplicationCommand ? MessageType.ChatInputCommand : MessageType.Default,
      content: fields.content ?? "",
      flags: fields.flags ?? 0,
      embeds: fields.embeds ?? [],
      components: fields.components ?? [],
      attachments: fields.attachments ?? [],
      timestamp: discordTimestamp(Date.now()),
      editedTimestamp: null,
      edits: 0,
      deleted: false,
      interaction,
      webhook,
    };
    this.messages.set(message.id, message);
    this.dispatchUnlessEphemeral(guild, message, GatewayDispatchEvents.MessageCreate, () => ({
      ...this.object(message),
      guild_id: guild.id,
    }));
    return message;
  }

  /**
   * Applies validated fields to a message and dispatches MESSAGE_UPDATE unless it is ephemeral. Filling
   * in a deferred ("thinking...") response clears LOADING and is its first content, not a visible edit.
   */
  edit(guild: GuildState, message: StoredMessage, fields: MessageFields): StoredMessage {
    if (fields.content !== undefined) message.content = fields.content;
    if (fields.embeds !== undefined) message.embeds = fields.embeds;
    if (fields.components !== undefined) message.components = fields.components;
    if (fields.attachments !== undefined) message.attachments = fields.attachments;
    // IS_COMPONENTS_V2 cannot be taken off a message once it is set.
    if (fields.flags !== undefined)
      message.flags = (message.flags & ~EDIT_FLAGS) | (fields.flags & EDIT_FLAGS) | (message.flags & MessageFlags.IsComponentsV2);
    const wasLoading = (message.flags & MessageFlags.Loading) !== 0;
    message.flags &= ~MessageFlags.Loading;
    if (!wasLoading) message.editedTimestamp = discordTimestamp(Date.now());
    message.edits += 1;
    this.dispatchUnlessEphemeral(guild, message, GatewayDispatchEvents.MessageUpdate, () => ({
      ...this.object(message),
      guild_id: guild.id,
    }));
    return message;
  }

  /** Marks a message deleted and dispatches MESSAGE_DELETE unless it is ephemeral. */
  delete(message: StoredMessage): void {
    message.deleted = true;
    const guild = this.ctx.guild(message.guildId);
    if (guild) {
      this.dispatchUnlessEphemeral(guild, message, GatewayDispatchEvents.MessageDelete, () => ({
        id: message.id,
        channel_id: message.channelId,
        guild_id: guild.id,
      }));
    }
  }

  private dispatchUnlessEphemeral(guild: GuildState, message: StoredMessage, t: GatewayDispatchEvents, d: () => unknown): void {
    if (!(message.flags & MessageFlags.Ephemeral)) this.ctx.dispatch(guild, t, d(), GatewayIntentBits.GuildMessages);
  }

  // ---------------------------------------------------------------------------------------------
  // Channel messages (`/channels/{channel.id}/messages`), as the bot

  /** A live, non-ephemeral message of `channelId`; throws 404 / 10008 otherwise. */
  private inChannel(channelId: string, messageId: string): StoredMessage {
    const message = this.messages.get(messageId);
    if (!message || message.deleted || message.channelId !== channelId || message.flags & MessageFlags.Ephemeral) throw unknownMessage();
    return message;
  }

  /**
   * Create Message in a guild text channel as the bot (`POST /channels/{id}/messages`), so tests can
   * click buttons on messages the bot posted. EPHEMERAL is dropped. Returns the message object.
   * Throws 400 / 50035, 400 / 50006. https://discord.com/developers/docs/resources/message#create-message
   */
  createInChannel(guild: GuildState, channelId: string, raw: unknown, files: unknown[] = []): unknown {
    const fields = messageFields(raw, false, files);
    if ((fields.flags ?? 0) & MessageFlags.Ephemeral) fields.flags = (fields.flags ?? 0) & ~MessageFlags.Ephemeral;
    if (isEmptyMessage(fields)) throw emptyMessage();
    return this.object(this.create(guild, channelId, fields, null));
  }

  /** Get Channel Message (`GET /channels/{c}/messages/{m}`); throws 404 / 10008. */
  getInChannel(channelId: string, messageId: string): unknown {
    return this.object(this.inChannel(channelId, messageId));
  }

  /** Edit Message as the bot (`PATCH /channels/{c}/messages/{m}`); throws 404 / 10008, 400 / 50035. */
  editInChannel(guild: GuildState, channelId: string, messageId: string, raw: unknown, files: unknown[] = []): unknown {
    const message = this.inChannel(channelId, messageId);
    return this.object(this.edit(guild, message, messageFields(raw, true, files, message.flags)));
  }

  /** Delete Message as the bot (`DELETE /channels/{c}/messages/{m}`); throws 404 / 10008. */
  deleteInChannel(channelId: string, messageId: string): void {
    this.delete(this.inChannel(channelId, messageId));
  }

  // ---------------------------------------------------------------------------------------------
  // Shapes

  /** Discord's message object (https://discord.com/developers/docs/resources/message#message-object). */
  object(m: StoredMessage): Record<string, unknown> {
    const out: Record<string, unknown> = {
      type: m.type,
      content: m.content,
      mentions: [],
      mention_roles: [],
      attachments: m.attachments,
      embeds: m.embeds,
      timestamp: m.timestamp,
      edited_timestamp: m.editedTimestamp,
      flags: m.flags,
      components: m.components,
      id: m.id,
      channel_id: m.channelId,
      author: m.webhook?.author ?? this.ctx.botUser(),
      pinned: false,
      mention_everyone: false,
      tts: false,
    };
    if (m.webhook) {
      out.webhook_id = m.webhook.id;
      out.application_id = this.ctx.applicationId;
    }
    if (m.interaction) {
      const guild = this.ctx.guild(m.guildId);
      const member = guild?.member(m.interaction.userId);
      const user = member ? userObject(member) : { id: m.interaction.userId };
      out.application_id = this.ctx.applicationId;
      out.webhook_id = this.ctx.applicationId;
      const metadata: Record<string, unknown> = {
        id: m.interaction.id,
        type: m.interaction.type,
        user,
        authorizing_integration_owners: { "0": m.guildId },
      };
      if (m.interaction.name !== null) {
        metadata.name = m.interaction.name;
        metadata.command_type = m.interaction.commandType;
      }
      out.interaction_metadata = metadata;
      if (m.interaction.name !== null) out.interaction = { id: m.interaction.id, type: m.interaction.type, name: m.interaction.name, user };
    }
    return out;
  }

  /** A message as tests see it (the message object plus `edits` and `deleted`), or null for an unknown id. */
  recorded(messageId: string | null): RecordedMessage | null {
    const message = messageId === null ? undefined : this.messages.get(messageId);
    return message ? { ...(this.object(message) as unknown as RecordedMessage), edits: message.edits, deleted: message.deleted } : null;
  }
}
