/**
 * Interactions: slash command invocations, button clicks and select menu choices sent as INTERACTION_CREATE, the
 * interaction callback (`POST /interactions/{id}/{token}/callback`) and the webhook follow-up routes
 * (`/webhooks/{application.id}/{token}...`), recorded for tests. The messages they make live in
 * the MessageStore (messages.ts).
 * https://discord.com/developers/docs/interactions/receiving-and-responding
 */
import { randomBytes } from "node:crypto";
import type { APIApplicationCommandOption } from "discord-api-types/v10";
import {
  ChannelType,
  ComponentType,
  GatewayDispatchEvents,
  InteractionResponseType,
  InteractionType,
  Locale,
  MessageFlags,
  ApplicationCommandOptionType as OptionType,
} from "discord-api-types/v10";
import type { CommandStore, StoredCommand } from "./commands";
import { findButton, findSelect } from "./components";
import { DiscordHttpError, FormErrors } from "./discorderrors";
import { EmulatorError } from "./errors";
import type { GuildChannel, GuildState } from "./guild";
import { ALL_PERMISSIONS } from "./guild";
import type { GuildDispatch } from "./guilds";
import type { MessageInteraction, MessageStore, StoredMessage } from "./messages";
import { emptyMessage, isEmptyMessage, messageFields, unknownMessage } from "./messages";
import { memberObject, userObject } from "./payloads";
import { isSnowflake, newSnowflake } from "./snowflake";
import type { CommandOptionValue, InteractionRecord, InvokeOptions, RecordedMessage } from "./types";
import { isPlainObject } from "./validate";

/** Attachment size limit Discord reports in interactions, in bytes. */
const ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024;
/** Interactions kept for inspection before the oldest expired ones are dropped. */
const MAX_KEPT_INTERACTIONS = 10_000;

/** What the hub needs from the emulator. */
export interface InteractionContext {
  readonly applicationId: string;
  guild(id: string): GuildState | undefined;
  readonly commands: CommandStore;
  /** Where responses and follow-ups are stored (and the messages whose buttons are clicked). */
  readonly messages: MessageStore;
  readonly dispatch: GuildDispatch;
  /** Deadline for the first callback, in ms (Discord: 3 s). */
  readonly responseWindowMs: number;
  /** How long the token works for follow-ups, in ms (Discord: 15 min). */
  readonly tokenTtlMs: number;
  log(line: string): void;
}

interface InteractionState {
  id: string;
  token: string;
  type: InteractionType.ApplicationCommand | InteractionType.MessageComponent;
  guildId: string;
  channelId: string;
  userId: string;
  createdAt: number;
  command: string | null;
  commandType: number | null;
  options: Record<string, CommandOptionValue> | null;
  customId: string | null;
  /** What was chosen in a select menu (clickSelect); null for commands and buttons. */
  values: string[] | null;
  /** The message a clicked component is on. */
  componentMessageId: string | null;
  ack: { type: number; at: number } | null;
  originalId: string | null;
  followupIds: string[];
  /** Acknowledged with type 5 and not edited since: a follow-up edits the loading message instead. */
  deferredPending: boolean;
  modal: unknown;
  /** Delivered over HTTP and failed there (non-2xx, no answer in time): callbacks get 10062 (delivery.ts). */
  failed?: boolean;
}

type Body = Record<string, unknown>;

const unknownInteraction = () => new DiscordHttpError(404, 10062, "Unknown interaction");
const unknownWebhook = () => new DiscordHttpError(404, 10015, "Unknown Webhook");

/** The message metadata of a response to `state`. */
function answering(state: InteractionState): MessageInteraction {
  return { id: state.id, type: state.type, userId: state.userId, name: state.command, commandType: state.commandType };
}

/** Interactions, their responses and the messages they made. One per emulator. */
export class InteractionHub {
  private readonly interactions = new Map<string, InteractionState>();
  private readonly byToken = new Map<string, InteractionState>();
  private readonly messages: MessageStore;

  constructor(private readonly ctx: InteractionContext) {
    this.messages = ctx.messages;
  }

  // ---------------------------------------------------------------------------------------------
  // Creating interactions

  private requireGuild(guildId: string): GuildState {
    const guild = typeof guildId === "string" ? this.ctx.guild(guildId) : undefined;
    if (!guild) throw new EmulatorError(404, `Unknown Guild ${String(guildId)}`);
    return guild;
  }

  private requireMember(guild: GuildState, userId: unknown) {
    const member = typeof userId === "string" && isSnowflake(userId) ? guild.member(userId) : undefined;
    if (!member) throw new EmulatorError(400, `userId ${JSON.stringify(userId)} is not a member of guild ${guild.id}`);
    if (member.bot) throw new EmulatorError(400, `userId ${member.userId} is a bot; bots do not use application commands`);
    return member;
  }

  private channelFor(guild: GuildState, channelId: string | undefined, field: string): GuildChannel {
    const channel =
      channelId === undefined
        ? (guild.channels.find((c) => c.type === ChannelType.GuildText && c.name === "general") ??
          guild.channels.find((c) => c.type === ChannelType.GuildText))
        : guild.channels.find((c) => c.id === channelId);
    if (!channel || (channel.type !== ChannelType.GuildText && channel.type !== ChannelType.GuildVoice)) {
      throw new EmulatorError(400, `${field} ${JSON.stringify(channelId)} is not a text channel of guild ${guild.id}`);
    }
    return channel;
  }

  /** The interaction object fields shared by commands and components. */
  private basePayload(
    state: InteractionState,
    guild: GuildState,
    channel: GuildChannel,
    permissions: string,
    omitMemberPermissions = false,
  ): Record<string, unknown> {
    const member = guild.member(state.userId);
    const { guild_id: _g, permission_overwrites: _p, ...channelFields } = channel as GuildChannel & { permission_overwrites?: unknown };
    return {
      // The bot's own guild permissions (ADMINISTRATOR: all of them), as Discord computes them for the app.
      app_permissions: guild.permissions(guild.botUserId) ?? "0",
      application_id: this.ctx.applicationId,
      attachment_size_limit: ATTACHMENT_SIZE_LIMIT,
      authorizing_integration_owners: { "0": guild.id },
      channel: { ...channelFields, guild_id: guild.id, permissions },
      channel_id: channel.id,
      context: 0,
      entitlement_sku_ids: [],
      entitlements: [],
      guild: { id: guild.id, features: [], locale: Locale.EnglishUS },
      guild_id: guild.id,
      guild_locale: Locale.EnglishUS,
      id: state.id,
      locale: Locale.EnglishUS,
      member: member
        ? { ...memberObject(member), ...(omitMemberPermissions ? {} : { permissions }), unusual_dm_activity_until: null }
        : undefined,
      token: state.token,
      type: state.type,
      version: 1,
    };
  }

  private newState(type: InteractionState["type"], guild: GuildState, channelId: string, userId: string): InteractionState {
    if (this.interactions.size >= MAX_KEPT_INTERACTIONS) this.prune();
    const state: InteractionState = {
      id: newSnowflake(),
      token: `aW50ZXJhY3Rpb246${randomBytes(48).toString("base64url")}`,
      type,
      guildId: guild.id,
      channelId,
      userId,
      createdAt: Date.now(),
      command: null,
      commandType: null,
      options: null,
      customId: null,
      values: null,
      componentMessageId: null,
      ack: null,
      originalId: null,
      followupIds: [],
      deferredPending: false,
      modal: null,
    };
    this.interactions.set(state.id, state);
    this.byToken.set(state.token, state);
    return state;
  }

  private prune(): void {
    const cutoff = Date.now() - Math.max(this.ctx.tokenTtlMs, 3_600_000);
    for (const [id, state] of this.interactions) {
      if (state.createdAt >= cutoff) break; // insertion order is creation order
      this.interactions.delete(id);
      this.byToken.delete(state.token);
    }
  }

  /**
   * Invokes the CHAT_INPUT command `commandName` ("name", "name sub" or "name group sub") as a member:
   * dispatches INTERACTION_CREATE (type 2 APPLICATION_COMMAND) to the sessions of the guild's shard
   * and returns the interaction id. Throws EmulatorError 404 (guild), 400 naming `userId`, `command`,
   * `options.<name>` or `channelId`, 403 when the member lacks the command's default_member_permissions.
   */
  invokeCommand(
    guildId: string,
    userId: string,
    commandName: string,
    options: Record<string, CommandOptionValue> = {},
    invoke: InvokeOptions = {},
  ): string {
    const guild = this.requireGuild(guildId);
    const member = this.requireMember(guild, userId);
    if (typeof commandName !== "string" || commandName.trim() === "")
      throw new EmulatorError(400, 'command must be a command name such as "sync" or "sync roles"');
    const path = commandName.trim().replace(/^\//, "").split(/\s+/);
    const command = this.ctx.commands.find(guild.id, path[0] as string);
    if (!command) throw new EmulatorError(400, `command /${path[0]} is not registered for guild ${guild.id} or globally`);
    if (!isPlainObject(options)) throw new EmulatorError(400, "options must be an object of option name to value");
    const channel = this.channelFor(guild, invoke.channelId, "channelId");
    const permissions = guild.permissions(member.userId) as string;
    const required = command.json.default_member_permissions;
    if (required !== null && !invoke.ignoreCommandPermissions) {
      const have = BigInt(permissions);
      const allowed = (have & ALL_PERMISSIONS) === ALL_PERMISSIONS || (required !== "0" && (have & BigInt(required)) === BigInt(required));
      if (!allowed) {
        throw new EmulatorError(
          403,
          `userId ${member.userId} lacks default_member_permissions ${required} of /${command.name}, so Discord would not offer the command (pass ignoreCommandPermissions to act as if the guild granted it)`,
        );
      }
    }
    const { dataOptions, resolved } = this.buildOptions(guild, command, path, options);

    const state = this.newState(InteractionType.ApplicationCommand, guild, channel.id, member.userId);
    state.command = path.join(" ");
    state.commandType = command.type;
    state.options = { ...options };
    const data: Record<string, unknown> = { id: command.id, name: command.name, type: command.type };
    if (dataOptions.length) data.options = dataOptions;
    if (Object.keys(resolved).length) data.resolved = resolved;
    if (command.guildId) data.guild_id = command.guildId;
    const payload = { ...this.basePayload(state, guild, channel, permissions, invoke.omitMemberPermissions), data };
    this.ctx.log(`interaction ${state.id}: /${state.command} by ${member.userId} in ${guild.id}`);
    this.ctx.dispatch(guild, GatewayDispatchEvents.InteractionCreate, payload, 0);
    return state.id;
  }

  /** Turns `{name: value}` into Discord's nested `data.options` and `data.resolved`; throws 400 naming the option. */
  private buildOptions(guild: GuildState, command: StoredCommand, path: string[], input: Record<string, CommandOptionValue>) {
    const resolved: Record<string, Record<string, unknown>> = {};
    /** data.resolved.<kind>, created on first use. */
    const resolvedOf = (kind: "users" | "members" | "roles" | "channels"): Record<string, unknown> => {
      const existing = resolved[kind];
      if (existing) return existing;
      const created: Record<string, unknown> = {};
      resolved[kind] = created;
      return created;
    };
    let defs = (command.json.options ?? []) as APIApplicationCommandOption[];
    const wrappers: Array<{ type: number; name: string }> = [];
    const hasSub = defs.some((d) => d.type === OptionType.Subcommand || d.type === OptionType.SubcommandGroup);
    for (const name of path.slice(1)) {
      const def = defs.find((d) => d.name === name && (d.type === OptionType.Subcommand || d.type === OptionType.SubcommandGroup));
      if (!def) throw new EmulatorError(400, `command /${path.join(" ")}: ${name} is not a subcommand of /${command.name}`);
      wrappers.push({ type: def.type, name });
      defs = ((def as { options?: APIApplicationCommandOption[] }).options ?? []) as APIApplicationCommandOption[];
    }
    if (defs.some((d) => d.type === OptionType.Subcommand || d.type === OptionType.SubcommandGroup) || (hasSub && wrappers.length === 0)) {
      throw new EmulatorError(400, `command /${path.join(" ")} needs a subcommand: ${defs.map((d) => d.name).join(", ")}`);
    }
    for (const key of Object.keys(input)) {
      if (!defs.some((d) => d.name === key)) throw new EmulatorError(400, `options.${key} is not an option of /${path.join(" ")}`);
    }
    const leaves: Array<{ name: string; type: number; value: CommandOptionValue }> = [];
    for (const def of defs) {
      const value = input[def.name];
      const field = `options.${def.name}`;
      const d = def as APIApplicationCommandOption & {
        required?: boolean;
        choices?: Array<{ value: unknown }>;
        min_value?: number;
        max_value?: number;
        min_length?: number;
        max_length?: number;
        channel_types?: number[];
      };
      if (value === undefined) {
        if (d.required) throw new EmulatorError(400, `${field} is required by /${path.join(" ")}`);
        continue;
      }
      const fail = (why: string): never => {
        throw new EmulatorError(400, `${field} ${why}`);
      };
      switch (def.type) {
        case OptionType.String:
          if (typeof value !== "string") fail("must be a string");
          if (d.min_length !== undefined && (value as string).length < d.min_length) fail(`must be at least ${d.min_length} characters`);
          if (d.max_length !== undefined && (value as string).length > d.max_length) fail(`must be at most ${d.max_length} characters`);
          break;
        case OptionType.Integer:
        case OptionType.Number:
          if (typeof value !== "number" || !Number.isFinite(value) || (def.type === OptionType.Integer && !Number.isInteger(value)))
            fail(`must be ${def.type === OptionType.Integer ? "an integer" : "a number"}`);
          if (d.min_value !== undefined && (value as number) < d.min_value) fail(`must be at least ${d.min_value}`);
          if (d.max_value !== undefined && (value as number) > d.max_value) fail(`must be at most ${d.max_value}`);
          break;
        case OptionType.Boolean:
          if (typeof value !== "boolean") fail("must be a boolean");
          break;
        case OptionType.User:
        case OptionType.Mentionable: {
          const id = String(value);
          const target = isSnowflake(id) ? guild.member(id) : undefined;
          const role = def.type === OptionType.Mentionable && isSnowflake(id) ? guild.role(id) : undefined;
          if (target) {
            resolvedOf("users")[id] = userObject(target);
            const { user: _u, deaf: _d, mute: _m, ...partial } = memberObject(target);
            resolvedOf("members")[id] = { ...partial, permissions: guild.permissions(id) };
          } else if (role) resolvedOf("roles")[id] = role;
          else fail(`must be the id of a member${def.type === OptionType.Mentionable ? " or role" : ""} of guild ${guild.id}`);
          break;
        }
        case OptionType.Role: {
          const role = typeof value === "string" ? guild.role(value) : undefined;
          if (!role) fail(`must be the id of a role of guild ${guild.id}`);
          resolvedOf("roles")[value as string] = role;
          break;
        }
        case OptionType.Channel: {
          const channel = guild.channels.find((c) => c.id === value);
          if (!channel) fail(`must be the id of a channel of guild ${guild.id}`);
          if (d.channel_types && !d.channel_types.includes((channel as GuildChannel).type))
            fail(`must be a channel of type ${d.channel_types.join(" or ")}`);
          const c = channel as GuildChannel & { topic?: string | null; parent_id?: string | null };
          resolvedOf("channels")[c.id] = {
            id: c.id,
            name: c.name,
            type: c.type,
            guild_id: guild.id,
            parent_id: c.parent_id ?? null,
            flags: 0,
            permissions: String(ALL_PERMISSIONS),
          };
          break;
        }
        default:
          fail("has a type the emulator cannot fill in (attachments are not supported)");
      }
      if (d.choices && !d.choices.some((c) => c.value === value))
        fail(`must be one of the choices ${d.choices.map((c) => JSON.stringify(c.value)).join(", ")}`);
      leaves.push({ name: def.name, type: def.type, value: value as CommandOptionValue });
    }
    let dataOptions: unknown[] = leaves;
    for (const wrapper of [...wrappers].reverse()) dataOptions = [{ type: wrapper.type, name: wrapper.name, options: dataOptions }];
    return { dataOptions, resolved };
  }

  /**
   * Clicks the button `customId` on message `messageId` as a member: dispatches INTERACTION_CREATE
   * (type 3 MESSAGE_COMPONENT, `data: {custom_id, component_type: 2}`, `message`) and returns the
   * interaction id. Throws EmulatorError 404 (guild), 400 naming `userId`, `messageId` or `customId`.
   * https://discord.com/developers/docs/components/reference#button
   */
  clickButton(guildId: string, userId: string, messageId: string, customId: string): string {
    const guild = this.requireGuild(guildId);
    const member = this.requireMember(guild, userId);
    const message = this.componentMessage(guild, member.userId, messageId);
    const button = typeof customId === "string" ? findButton(message.components, customId) : undefined;
    if (!button) throw new EmulatorError(400, `customId ${JSON.stringify(customId)} is not a button on message ${message.id}`);
    if (button.disabled === true) throw new EmulatorError(400, `customId ${customId} is a disabled button`);
    const channel = this.channelFor(guild, message.channelId, "messageId's channel");
    const permissions = guild.permissions(member.userId) as string;

    const state = this.newState(InteractionType.MessageComponent, guild, channel.id, member.userId);
    state.customId = customId;
    state.componentMessageId = message.id;
    const payload = {
      ...this.basePayload(state, guild, channel, permissions),
      data: { custom_id: customId, component_type: ComponentType.Button },
      message: this.messages.object(message),
    };
    this.ctx.log(`interaction ${state.id}: button ${customId} on ${message.id} by ${member.userId}`);
    this.ctx.dispatch(guild, GatewayDispatchEvents.InteractionCreate, payload, 0);
    return state.id;
  }

  /** A message of `guild` a member can use components on; throws EmulatorError 400 naming `messageId`. */
  private componentMessage(guild: GuildState, userId: string, messageId: string): StoredMessage {
    const message = typeof messageId === "string" ? this.messages.get(messageId) : undefined;
    if (!message || message.deleted || message.guildId !== guild.id)
      throw new EmulatorError(400, `messageId ${JSON.stringify(messageId)} is not a message of guild ${guild.id} the emulator knows`);
    if (message.flags & MessageFlags.Ephemeral && message.interaction?.userId !== userId) {
      throw new EmulatorError(
        400,
        `messageId ${message.id} is ephemeral: only ${message.interaction?.userId ?? "its recipient"} can see it`,
      );
    }
    if (message.flags & MessageFlags.Loading)
      throw new EmulatorError(400, `messageId ${message.id} is still loading (a deferred response not edited yet)`);
    return message;
  }

  /**
   * Chooses `values` in the select menu `customId` on message `messageId` as a member: dispatches
   * INTERACTION_CREATE (type 3 MESSAGE_COMPONENT, `data: {custom_id, component_type, id, values}`, plus
   * `data.resolved` with the roles, users and members, or channels chosen in an auto-populated select;
   * `message`) or POSTs it to the interactions endpoint, and returns the interaction id. `values` are
   * option values of a string select, role ids of a role select (any role but @everyone), member ids of a
   * user select, either of a mentionable select, channel ids of a channel select; between the select's
   * `min_values` and `max_values` (default 1 and 1), no repeats. Throws EmulatorError 404 (guild), 400
   * naming `userId`, `messageId`, `customId` or `values`.
   * https://discord.com/developers/docs/components/reference#string-select (and #role-select)
   */
  clickSelect(guildId: string, userId: string, messageId: string, customId: string, values: string[]): string {
    const guild = this.requireGuild(guildId);
    const member = this.requireMember(guild, userId);
    const message = this.componentMessage(guild, member.userId, messageId);
    const select = typeof customId === "string" ? findSelect(message.components, customId) : undefined;
    if (!select) throw new EmulatorError(400, `customId ${JSON.stringify(customId)} is not a select menu on message ${message.id}`);
    if (select.disabled === true) throw new EmulatorError(400, `customId ${customId} is a disabled select menu`);
    if (!Array.isArray(values) || !values.every((v) => typeof v === "string"))
      throw new EmulatorError(400, "values must be an array of strings (option values or ids)");
    const min = typeof select.min_values === "number" ? select.min_values : 1;
    const max = typeof select.max_values === "number" ? select.max_values : 1;
    if (values.length < min || values.length > max)
      throw new EmulatorError(400, `values must hold between ${min} and ${max} choices for select ${customId}, got ${values.length}`);
    if (new Set(values).size !== values.length) throw new EmulatorError(400, "values must not repeat a choice");
    const resolved = this.resolveChoices(guild, select, values);
    const channel = this.channelFor(guild, message.channelId, "messageId's channel");
    const permissions = guild.permissions(member.userId) as string;

    const state = this.newState(InteractionType.MessageComponent, guild, channel.id, member.userId);
    state.customId = customId;
    state.componentMessageId = message.id;
    state.values = [...values];
    const data: Record<string, unknown> = { custom_id: customId, component_type: select.type, values: [...values] };
    if (Number.isInteger(select.id)) data.id = select.id;
    if (resolved) data.resolved = resolved;
    const payload = { ...this.basePayload(state, guild, channel, permissions), data, message: this.messages.object(message) };
    this.ctx.log(`interaction ${state.id}: select ${customId} = [${values.join(", ")}] on ${message.id} by ${member.userId}`);
    this.ctx.dispatch(guild, GatewayDispatchEvents.InteractionCreate, payload, 0);
    return state.id;
  }

  /** Checks the values of a select against what it offers; returns `data.resolved` for auto-populated selects. Throws 400 naming `values[i]`. */
  private resolveChoices(guild: GuildState, select: Record<string, unknown>, values: string[]): Record<string, unknown> | undefined {
    const fail = (i: number, why: string): never => {
      throw new EmulatorError(400, `values[${i}] ${JSON.stringify(values[i])} ${why}`);
    };
    if (select.type === ComponentType.StringSelect) {
      const offered = (Array.isArray(select.options) ? select.options : []).map((o) => (isPlainObject(o) ? o.value : undefined));
      values.forEach((v, i) => {
        if (!offered.includes(v)) fail(i, `is not an option value of select ${String(select.custom_id)}`);
      });
      return undefined;
    }
    const roles: Record<string, unknown> = {};
    const users: Record<string, unknown> = {};
    const members: Record<string, unknown> = {};
    const channels: Record<string, unknown> = {};
    const wantsRoles = select.type === ComponentType.RoleSelect || select.type === ComponentType.MentionableSelect;
    const wantsUsers = select.type === ComponentType.UserSelect || select.type === ComponentType.MentionableSelect;
    values.forEach((v, i) => {
      const role = wantsRoles && v !== guild.id ? guild.role(v) : undefined;
      const who = wantsUsers && isSnowflake(v) ? guild.member(v) : undefined;
      if (role) roles[v] = role;
      else if (who) {
        users[v] = userObject(who);
        const { user: _u, deaf: _d, mute: _m, ...partial } = memberObject(who);
        members[v] = { ...partial, permissions: guild.permissions(v) };
      } else if (select.type === ComponentType.ChannelSelect) {
        const channel = guild.channels.find((c) => c.id === v);
        const types = Array.isArray(select.channel_types) ? select.channel_types : null;
        if (!channel || (types && !types.includes(channel.type))) fail(i, `is not a channel select ${String(select.custom_id)} offers`);
        const c = channel as GuildChannel & { parent_id?: string | null };
        channels[v] = { id: c.id, name: c.name, type: c.type, parent_id: c.parent_id ?? null, permissions: String(ALL_PERMISSIONS) };
      } else fail(i, `is not a ${wantsRoles && wantsUsers ? "role or member" : wantsRoles ? "role" : "member"} of guild ${guild.id}`);
    });
    const out: Record<string, unknown> = {};
    if (Object.keys(roles).length) out.roles = roles;
    if (Object.keys(users).length) {
      out.users = users;
      out.members = members;
    }
    if (Object.keys(channels).length) out.channels = channels;
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Responding

  /**
   * Create Interaction Response. Returns undefined for 204, or the InteractionCallbackResponse when
   * `withResponse`. Throws DiscordHttpError 404/10062 (unknown id, wrong token, first response after the
   * window or token expired), 400/40060 (already acknowledged), 400/50035 (bad type or data), 400/50006 (empty message).
   */
  callback(interactionId: string, token: string, raw: unknown, withResponse: boolean, files: unknown[] = []): unknown {
    const state = this.interactions.get(interactionId);
    if (!state || state.token !== token) throw unknownInteraction();
    const now = Date.now();
    if (state.ack) throw new DiscordHttpError(400, 40060, "Interaction has already been acknowledged.");
    if (now - state.createdAt > this.ctx.responseWindowMs || state.failed) throw unknownInteraction();
    const errors = new FormErrors();
    if (!isPlainObject(raw)) {
      errors.add([], "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
      errors.throwIfAny();
    }
    const body = raw as Body;
    const type = body.type;
    const component = state.type === InteractionType.MessageComponent;
    const allowed: number[] = [
      InteractionResponseType.ChannelMessageWithSource,
      InteractionResponseType.DeferredChannelMessageWithSource,
      InteractionResponseType.Modal,
      ...(component ? [InteractionResponseType.DeferredMessageUpdate, InteractionResponseType.UpdateMessage] : []),
    ];
    if (typeof type !== "number" || !allowed.includes(type)) {
      errors.add(["type"], "BASE_TYPE_CHOICES", `Value must be one of {${allowed.join(", ")}}.`);
      errors.throwIfAny();
    }
    const guild = this.requireGuild(state.guildId);
    let message: StoredMessage | undefined;
    switch (type) {
      case InteractionResponseType.ChannelMessageWithSource: {
        const fields = messageFields(body.data, false, files);
        if (isEmptyMessage(fields)) throw emptyMessage();
        message = this.messages.create(guild, state.channelId, fields, answering(state));
        state.originalId = message.id;
        break;
      }
      case InteractionResponseType.DeferredChannelMessageWithSource: {
        const fields = messageFields(body.data, false);
        const flags = (fields.flags ?? 0) & MessageFlags.Ephemeral;
        if ((fields.flags ?? 0) & ~MessageFlags.Ephemeral) invalidFlagsForDefer();
        message = this.messages.create(guild, state.channelId, { content: "", flags: flags | MessageFlags.Loading }, answering(state));
        state.originalId = message.id;
        state.deferredPending = true;
        break;
      }
      case InteractionResponseType.DeferredMessageUpdate:
        state.originalId = state.componentMessageId;
        break;
      case InteractionResponseType.UpdateMessage: {
        const target = state.componentMessageId ? this.messages.get(state.componentMessageId) : undefined;
        const fields = messageFields(body.data, true, files, target?.flags ?? 0);
        state.originalId = state.componentMessageId;
        if (!target || target.deleted) throw unknownMessage();
        message = this.messages.edit(guild, target, fields);
        break;
      }
      case InteractionResponseType.Modal: {
        const data = body.data;
        if (
          !isPlainObject(data) ||
          typeof data.custom_id !== "string" ||
          typeof data.title !== "string" ||
          !Array.isArray(data.components)
        ) {
          errors.add(["data"], "BASE_TYPE_REQUIRED", "A modal needs custom_id, title and components");
          errors.throwIfAny();
        }
        state.modal = data;
        break;
      }
    }
    state.ack = { type: type as number, at: now };
    this.ctx.log(`interaction ${state.id}: acknowledged with type ${String(type)}`);
    if (!withResponse) return undefined;
    const out: Record<string, unknown> = {
      interaction: {
        id: state.id,
        type: state.type,
        activity_instance_id: null,
        response_message_id: message?.id ?? state.originalId ?? null,
        response_message_loading: type === InteractionResponseType.DeferredChannelMessageWithSource,
        response_message_ephemeral: message ? (message.flags & MessageFlags.Ephemeral) !== 0 : false,
      },
    };
    // `resource` only for the types that create or update a message (the spec's oneOf has no other).
    if (message && (type === InteractionResponseType.ChannelMessageWithSource || type === InteractionResponseType.UpdateMessage)) {
      out.resource = { type, message: this.messages.object(message) };
    }
    return out;
  }

  /** The interaction a webhook token belongs to; throws 404/10015 or 401/50027 (expired). */
  private byWebhook(applicationId: string, token: string): InteractionState {
    const state = this.byToken.get(token);
    if (!state || applicationId !== this.ctx.applicationId) throw unknownWebhook();
    if (Date.now() - state.createdAt > this.ctx.tokenTtlMs) throw new DiscordHttpError(401, 50027, "Invalid Webhook Token");
    return state;
  }

  private webhookMessage(state: InteractionState, messageId: string): StoredMessage {
    const id = messageId === "@original" ? state.originalId : messageId;
    const owned = id !== null && (id === state.originalId || state.followupIds.includes(id));
    const message = owned ? this.messages.get(id as string) : undefined;
    if (!message || message.deleted) throw unknownMessage();
    return message;
  }

  /** Get Original Interaction Response / Get Followup Message. Throws 404/10015, 401/50027, 404/10008. */
  getWebhookMessage(applicationId: string, token: string, messageId: string): unknown {
    return this.messages.object(this.webhookMessage(this.byWebhook(applicationId, token), messageId));
  }

  /** Edit Original Interaction Response / Edit Followup Message. Throws as {@link getWebhookMessage}, 400/50035. */
  editWebhookMessage(applicationId: string, token: string, messageId: string, raw: unknown, files: unknown[] = []): unknown {
    const state = this.byWebhook(applicationId, token);
    const message = this.webhookMessage(state, messageId);
    const fields = messageFields(raw, true, files, message.flags);
    if (message.id === state.originalId) state.deferredPending = false;
    return this.messages.object(this.messages.edit(this.requireGuild(state.guildId), message, fields));
  }

  /** Delete Original Interaction Response / Delete Followup Message. Throws as {@link getWebhookMessage}. */
  deleteWebhookMessage(applicationId: string, token: string, messageId: string): void {
    const state = this.byWebhook(applicationId, token);
    this.messages.delete(this.webhookMessage(state, messageId));
  }

  /**
   * Create Followup Message. Right after a type 5 defer it edits the loading message instead (Discord's
   * documented legacy behaviour). Throws 404/10015 before the interaction was acknowledged,
   * 401/50027 after the token expired, 400/50035, 400/50006.
   */
  followup(applicationId: string, token: string, raw: unknown, files: unknown[] = []): unknown {
    const state = this.byWebhook(applicationId, token);
    if (!state.ack) throw unknownWebhook();
    const fields = messageFields(raw, false, files);
    if (isEmptyMessage(fields)) throw emptyMessage();
    const guild = this.requireGuild(state.guildId);
    if (state.deferredPending && state.originalId) {
      const original = this.messages.get(state.originalId);
      if (original && !original.deleted) {
        state.deferredPending = false;
        const { flags: _ignored, ...rest } = fields;
        return this.messages.object(this.messages.edit(guild, original, rest));
      }
    }
    const message = this.messages.create(guild, state.channelId, fields, answering(state));
    state.followupIds.push(message.id);
    return this.messages.object(message);
  }

  // ---------------------------------------------------------------------------------------------
  // Channel messages: owned by MessageStore (messages.ts); rest.ts reaches them through these.

  /** See {@link MessageStore.createInChannel}. */
  createChannelMessage(guild: GuildState, channelId: string, raw: unknown, files: unknown[] = []): unknown {
    return this.messages.createInChannel(guild, channelId, raw, files);
  }

  /** See {@link MessageStore.getInChannel}. */
  channelMessage(channelId: string, messageId: string): unknown {
    return this.messages.getInChannel(channelId, messageId);
  }

  /** See {@link MessageStore.editInChannel}. */
  editChannelMessage(guild: GuildState, channelId: string, messageId: string, raw: unknown, files: unknown[] = []): unknown {
    return this.messages.editInChannel(guild, channelId, messageId, raw, files);
  }

  /** See {@link MessageStore.deleteInChannel}. */
  deleteChannelMessage(_guild: GuildState, channelId: string, messageId: string): void {
    this.messages.deleteInChannel(channelId, messageId);
  }

  /** Marks an interaction failed (its HTTP delivery failed): a later first callback gets 404 / 10062. */
  fail(interactionId: string): void {
    const state = this.interactions.get(interactionId);
    if (state && !state.ack) state.failed = true;
  }

  // ---------------------------------------------------------------------------------------------
  // Inspection

  /** The record of an interaction (see InteractionRecord); throws EmulatorError 404 for an unknown id. */
  record(interactionId: string): InteractionRecord {
    const s = typeof interactionId === "string" ? this.interactions.get(interactionId) : undefined;
    if (!s) throw new EmulatorError(404, `Unknown interaction ${String(interactionId)}`);
    return {
      id: s.id,
      type: s.type,
      guild_id: s.guildId,
      channel_id: s.channelId,
      user_id: s.userId,
      command: s.command,
      options: s.options,
      custom_id: s.customId,
      values: s.values,
      message_id: s.componentMessageId,
      created_at: s.createdAt,
      acknowledged: s.ack ? { ...s.ack } : null,
      original: this.messages.recorded(s.originalId),
      followups: s.followupIds.map((id) => this.messages.recorded(id) as RecordedMessage),
      modal: s.modal ?? null,
    };
  }

  /** A stored message with its edit count, or undefined. */
  message(messageId: string): RecordedMessage | undefined {
    return this.messages.recorded(messageId) ?? undefined;
  }
}

function invalidFlagsForDefer(): never {
  const errors = new FormErrors();
  errors.add(["data", "flags"], "MESSAGE_FLAGS_INVALID", "Only EPHEMERAL may be set when deferring");
  errors.throwIfAny();
  throw new Error("unreachable");
}
