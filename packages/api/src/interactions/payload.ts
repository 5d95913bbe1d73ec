/**
 * The raw interaction as Discord sends it (the `INTERACTION_CREATE` dispatch's `d`, and the body of
 * a POST to an interactions endpoint), checked with Effect Schema, and the interaction response a
 * handler answers with. Only the fields Guildhall reads are declared; the rest is ignored.
 * https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object
 */
import { InteractionToken, Snowflake } from "@guildhall/discord/schema";
import { Schema } from "effect";

/** Interaction types. https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-interaction-type */
export const InteractionType = {
  Ping: 1,
  ApplicationCommand: 2,
  MessageComponent: 3,
  ApplicationCommandAutocomplete: 4,
  ModalSubmit: 5,
} as const;

/** Interaction callback types. https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-interaction-callback-type */
export const ResponseType = {
  Pong: 1,
  ChannelMessageWithSource: 4,
  DeferredChannelMessageWithSource: 5,
  DeferredUpdateMessage: 6,
  UpdateMessage: 7,
} as const;

/** Message flag EPHEMERAL (1 << 6): only the invoking user sees the response. */
export const EPHEMERAL = 64;

/** A permission bit set as Discord sends it: a decimal string. */
const PermissionBits = Schema.String.check(Schema.isPattern(/^\d{1,40}$/, { message: "must be a decimal permission bit set" }));

const User = Schema.Struct({ id: Snowflake });

/** The invoking guild member: `roles` (snowflakes) and `permissions` (their permissions in the channel, with overwrites). */
const Member = Schema.Struct({
  user: User,
  roles: Schema.Array(Snowflake).check(Schema.isMaxLength(250)),
  permissions: Schema.optional(PermissionBits),
});

/** One option of a chat input command (a sub-command's `options` are not read). */
const CommandOption = Schema.Struct({
  name: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(32)),
  type: Schema.Number.check(Schema.isInt()),
  value: Schema.optional(Schema.Union([Schema.String, Schema.Number, Schema.Boolean])),
});

/** `data` of an APPLICATION_COMMAND. https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-application-command-data-structure */
export const CommandData = Schema.Struct({
  id: Snowflake,
  name: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(32)),
  type: Schema.optional(Schema.Number.check(Schema.isInt())),
  options: Schema.optional(Schema.Array(CommandOption).check(Schema.isMaxLength(25))),
});
export type CommandData = typeof CommandData.Type;

/** `data` of a MESSAGE_COMPONENT. https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-message-component-data-structure */
export const ComponentData = Schema.Struct({
  custom_id: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(100)),
  component_type: Schema.Number.check(Schema.isInt()),
  values: Schema.optional(Schema.Array(Schema.String.check(Schema.isMaxLength(100))).check(Schema.isMaxLength(25))),
});
export type ComponentData = typeof ComponentData.Type;

/**
 * An interaction (any type): `data` is checked again by type (CommandData, ComponentData) where it is read.
 * `token` is a secret for 15 minutes (it answers and edits the response): never logged.
 */
export const Interaction = Schema.Struct({
  id: Snowflake,
  application_id: Snowflake,
  type: Schema.Number.check(Schema.isInt()),
  token: InteractionToken,
  version: Schema.optional(Schema.Number),
  guild_id: Schema.optional(Snowflake),
  channel_id: Schema.optional(Snowflake),
  member: Schema.optional(Member),
  user: Schema.optional(User),
  data: Schema.optional(Schema.Unknown),
});
export type Interaction = typeof Interaction.Type;

/** The message of a response or a follow-up edit: text, ephemeral flag, components and embeds as Discord takes them. */
export interface ResponseMessage {
  readonly content?: string;
  /** Message flags; {@link EPHEMERAL} for an ephemeral message. */
  readonly flags?: number;
  readonly components?: ReadonlyArray<unknown>;
  readonly embeds?: ReadonlyArray<unknown>;
}

/**
 * An interaction response (callback body): PONG (1), a message (4), deferred message (5, `data.flags`
 * may make it ephemeral), deferred update (6), update of the component's message (7).
 * https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object
 */
export type InteractionResponse =
  | { readonly type: typeof ResponseType.Pong }
  | { readonly type: typeof ResponseType.ChannelMessageWithSource; readonly data: ResponseMessage }
  | { readonly type: typeof ResponseType.DeferredChannelMessageWithSource; readonly data?: { readonly flags?: number } }
  | { readonly type: typeof ResponseType.DeferredUpdateMessage }
  | { readonly type: typeof ResponseType.UpdateMessage; readonly data: ResponseMessage };

/** An ephemeral message response (type 4, flag 64) with `content`. */
export const ephemeral = (content: string): InteractionResponse => ({
  type: ResponseType.ChannelMessageWithSource,
  data: { content, flags: EPHEMERAL },
});
