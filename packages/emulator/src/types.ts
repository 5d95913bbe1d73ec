/**
 * Public option and record types of @guildhall/emulator. Payloads that go over the wire
 * use discord-api-types v10; these describe the emulator's own inputs and outputs.
 */
import type { APIApplicationCommand, APIMessage } from "discord-api-types/v10";
import type { AdminApi } from "./admintypes";
import type { IntegrationsApi, InteractionDelivery } from "./integrationtypes";
import type { RateLimitOptions } from "./ratelimits";

/** Options for {@link startEmulator}. */
export interface EmulatorOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free port. */
  port?: number;
  /** The bot token REST (`Authorization: Bot <token>`) and IDENTIFY must present; default "emulator-bot-token". */
  token?: string;
  /** The application's snowflake, also the bot user's id; default a fixed snowflake. */
  applicationId?: string;
  /**
   * Privileged intents the application may use (bitfield of GUILD_MEMBERS 1<<1, GUILD_PRESENCES 1<<8,
   * MESSAGE_CONTENT 1<<15); default all three. IDENTIFY with any other privileged intent is closed with 4014.
   */
  allowedPrivilegedIntents?: number;
  /** heartbeat_interval sent in HELLO, in ms; default 41250. Silent sockets are closed after 1.5x this. */
  heartbeatIntervalMs?: number;
  /** How long a disconnected gateway session stays resumable, in ms; default 60000. */
  sessionTtlMs?: number;
  /**
   * Window of Discord's REQUEST_GUILD_MEMBERS limit, in ms: one request for ALL members (query "" and
   * limit 0) per guild per window, across sessions; an extra one gets a RATE_LIMITED dispatch and no
   * chunks. Default 30000 (Discord's 30 s); 0 disables the limit. Requests with `user_ids` or a
   * non-empty `query` are not limited.
   */
  memberRequestWindowMs?: number;
  /**
   * How long after INTERACTION_CREATE the first interaction callback is accepted, in ms; later ones get
   * 404 / 10062 Unknown interaction. Default 3000 (Discord's 3 s).
   */
  interactionResponseWindowMs?: number;
  /**
   * How long an interaction token works for follow-ups and edits (`/webhooks/{application.id}/{token}`),
   * in ms; afterwards 401 / 50027 Invalid Webhook Token. Default 900000 (Discord's 15 min).
   */
  interactionTokenTtlMs?: number;
  /** OAuth2 client secret; default one derived from the application id (the same across restarts). */
  clientSecret?: string;
  /** Registered OAuth2 redirect URIs (absolute http(s) URLs, at most 10); default none. See setRedirectUris. */
  redirectUris?: string[];
  /** How long an OAuth2 authorization code can be exchanged, in ms; default 600000 (10 min). */
  oauth2CodeTtlMs?: number;
  /** How long an OAuth2 access token works, in ms; default 604800000 (`expires_in` 604800 s). */
  oauth2TokenTtlMs?: number;
  /**
   * REST rate limits (ratelimits.ts): the global limit (default 50 per 1000 ms; null: off), member role
   * PUT/DELETE (default 10 per 10000 ms per guild), PATCH member (default 10 per 10000 ms per guild) and
   * every other route (default 50 per 1000 ms per route and major parameter). Benchmarks raise them.
   */
  rateLimits?: RateLimitOptions;
  /** Optional logger, one line per call. The token is never logged. */
  log?: (line: string) => void;
  /**
   * Called as each GUILD_MEMBERS_CHUNK of an all-members request is handed to the socket
   * (`sentAt`: epoch ms with sub-ms precision, `performance.timeOrigin + performance.now()`).
   * Benchmarks use it to time a sync from the first chunk leaving Discord.
   */
  onMemberChunk?: (event: MemberChunkEvent) => void;
}

/** One GUILD_MEMBERS_CHUNK handed to a socket (see `EmulatorOptions.onMemberChunk`). */
export interface MemberChunkEvent {
  readonly guildId: string;
  readonly nonce: string | null;
  readonly chunkIndex: number;
  readonly chunkCount: number;
  readonly sentAt: number;
}

/** Input for seeding a guild; every generated field is a pure function of these values. */
export interface SeedOptions {
  /** Any integer; the same seed gives the same guild, members and presences. */
  seed: number;
  /** member_count of the guild, the bot's own member included (so `members - 1` generated members); >= 1. */
  members: number;
  /** How many generated members hold the Staff role (the first `staff` by id); default min(10, members - 1). */
  staff?: number;
  /**
   * How many generated members hold the Admin role (MANAGE_GUILD): the first `admins` that are not
   * bots, by id; default min(2, members - 1). The first generated member is also the guild owner.
   */
  admins?: number;
  /** Guild snowflake; default derived from `seed`. */
  guildId?: string;
  /** Guild name; default derived from `seed`. */
  name?: string;
  /** Share of generated members initially online/idle/dnd, 0..1; default 0.3. */
  onlineRatio?: number;
  /**
   * Anchor time in ms since the Unix epoch: joined_at and premium_since fall in the 3 years before it,
   * activity timestamps just before it. Default: midnight UTC of the current day.
   */
  now?: number;
  /**
   * Whether the bot is a member from the start (default true). false seeds a guild the bot is not in
   * (then `members` counts it anyway): one to add it to through the authorize page or addBotToGuild.
   */
  withBot?: boolean;
}

/** A staff member as seeded. */
export interface SeededStaff {
  userId: string;
  username: string;
  globalName: string | null;
  nick: string | null;
}

/** What {@link Emulator.seedGuild} returns. */
export interface SeededGuild {
  guildId: string;
  name: string;
  /** member_count at seeding time, the bot included. */
  memberCount: number;
  /** Every role but @everyone, in position order. */
  roles: Array<{ id: string; name: string }>;
  staffRoleId: string;
  staff: SeededStaff[];
  /** The "Admin" role: MANAGE_GUILD (1 << 5) on top of @everyone's permissions. */
  adminRoleId: string;
  /** User ids of the generated members seeded with the Admin role (see SeedOptions.admins), ascending. */
  admins: string[];
  /** The bot's own managed role (tags.bot_id), its highest role unless tests give it others. */
  botRoleId: string;
  /** The managed "Server Booster" role (tags.premium_subscriber): held by every member with premium_since. */
  boosterRoleId: string;
  /** A managed integration role ("Twitch Subscriber", tags.integration_id), held by about 3% of generated members. */
  integrationRoleId: string;
  /** A managed linked role ("Verified", tags.guild_connections), held by about 8% of generated members. */
  linkedRoleId: string;
  /** owner_id: the first generated member (the bot when there is none); has every permission. */
  ownerId: string;
  /** The seed and anchor used, so the generator can be re-run (see SeedOptions.now). */
  seed: number;
  now: number;
}

/** Summary of a guild as it is now (GET /_emulator/guilds/:id). */
export interface GuildSummary extends SeededGuild {
  /** Members not offline right now. */
  onlineCount: number;
  /** Presence updates per second of the running churn, or null. */
  churn: { updatesPerSecond: number; staffShare: number | null } | null;
  /** Whether the bot is a member now (installed), as opposed to seeded without it or removed. */
  botMember: boolean;
}

/** A presence as the control API takes it; converted to Discord's presence shape. */
export interface PresenceInput {
  status: "online" | "idle" | "dnd" | "offline";
  /** Custom status text (sent as an activity of type 4 "Custom Status" with `state`); null or absent for none. */
  customStatus?: string | null;
  /** Activities; `type` is Discord's ActivityType (0 Playing, 1 Streaming, 2 Listening, 3 Watching, 5 Competing). */
  activities?: Array<{ name: string; type: number; state?: string | null }>;
  /** Per-platform status; default `{ desktop: status }` when not offline. */
  clientStatus?: { desktop?: string; mobile?: string; web?: string };
}

/** A guild member as the emulator stores it. Dates are ISO 8601 strings, ids snowflake strings. */
export interface MemberRecord {
  userId: string;
  username: string;
  globalName: string | null;
  /** Avatar hash (32 hex characters) or null. */
  avatar: string | null;
  bot: boolean;
  nick: string | null;
  /** Role snowflakes, @everyone excluded. */
  roles: string[];
  joinedAt: string;
  premiumSince: string | null;
  pending: boolean;
}

/** Input for {@link Emulator.addMember}; anything left out is generated. */
export interface MemberInput {
  userId?: string;
  username?: string;
  globalName?: string | null;
  avatar?: string | null;
  bot?: boolean;
  nick?: string | null;
  roles?: string[];
  joinedAt?: string;
  pending?: boolean;
}

/** Input for {@link Emulator.updateMember}. */
export interface MemberPatch {
  nick?: string | null;
  roles?: string[];
}

/**
 * Input for {@link Emulator.sendMemberUpdate}: how the GUILD_MEMBER_UPDATE payload departs from
 * the member's full object. `omit`: top-level keys left out (e.g. `["nick", "joined_at"]`);
 * `set`: top-level keys replaced by these JSON values (e.g. `{"premium_since": null}`, or a
 * whole `user` object). `guild_id` cannot be omitted or replaced.
 */
export interface MemberUpdateShape {
  omit?: string[];
  set?: Record<string, unknown>;
}

/** Options for {@link Emulator.startChurn}. */
export interface ChurnOptions {
  /** Presence updates per second (> 0, <= 10000). */
  updatesPerSecond: number;
  /** Only staff members change presence; same as staffShare 1. */
  staffOnly?: boolean;
  /** Share of updates (0..1) that target staff members; the rest pick any member. Default: no weighting. */
  staffShare?: number;
}

/** Input for {@link Emulator.applyMemberChanges}: how many members leave, join and change, drawn from `seed`. */
export interface MemberChanges {
  /** Members that leave (GUILD_MEMBER_REMOVE); never the bot or the owner. Default 0. */
  leave?: number;
  /** New users that join (GUILD_MEMBER_ADD), with fresh ids and joined_at now. Default 0. */
  join?: number;
  /** Members (not among those leaving) whose nick or roles change (GUILD_MEMBER_UPDATE). Default 0. */
  update?: number;
  /** Any integer; the same seed on the same guild state picks the same members and changes. Default 0. */
  seed?: number;
  /**
   * True: the changes happen without any gateway event, as while the bot was disconnected, so
   * only a full member sync can see them. Default false.
   */
  silent?: boolean;
}

/** What {@link Emulator.applyMemberChanges} did: the affected user ids, in the order the events were sent. */
export interface MemberChangesResult {
  left: string[];
  joined: string[];
  updated: string[];
}

/** A value for a slash command option: string, integer/number, boolean, or a snowflake for user/role/channel/mentionable options. */
export type CommandOptionValue = string | number | boolean;

/** Extra settings for {@link Emulator.invokeCommand}. */
export interface InvokeOptions {
  /** Channel the command is used in: a text channel of the guild; default #general. */
  channelId?: string;
  /**
   * Deliver even when the member lacks the command's default_member_permissions, as if the guild had
   * granted the command to them in its Integrations settings. Default false (403 like Discord's UI).
   */
  ignoreCommandPermissions?: boolean;
  /**
   * Send the interaction's `member` without its `permissions` field, as a faulty or partial peer
   * does (Discord itself always sends it with interactions). Default false.
   */
  omitMemberPermissions?: boolean;
}

/**
 * A message as the emulator recorded it: Discord's message object
 * (https://discord.com/developers/docs/resources/message#message-object) plus how often it was edited
 * and whether it was deleted.
 */
export type RecordedMessage = APIMessage & {
  /** Edits since creation (PATCH @original / followups, UPDATE_MESSAGE); filling a deferred response counts. */
  edits: number;
  deleted: boolean;
};

/** What happened to an interaction (GET /_emulator/interactions/:id). Times are ms since the Unix epoch. */
export interface InteractionRecord {
  id: string;
  /** 2 APPLICATION_COMMAND, 3 MESSAGE_COMPONENT. */
  type: number;
  guild_id: string;
  channel_id: string;
  /** The member who used the command or clicked. */
  user_id: string;
  /** The command as invoked, e.g. "sync" or "sync roles"; null for a button. */
  command: string | null;
  /** The option values given to {@link Emulator.invokeCommand}; null for a button. */
  options: Record<string, CommandOptionValue> | null;
  /** The clicked button's or chosen select's custom_id; null for a command. */
  custom_id: string | null;
  /** What was chosen in a select menu (option values, or role / user / channel ids); null for commands and buttons. */
  values?: string[] | null;
  /** The message the clicked button is on; null for a command. */
  message_id: string | null;
  created_at: number;
  /** The first callback: its type (4 reply, 5 deferred reply, 6 deferred update, 7 update, 9 modal) and when. */
  acknowledged: { type: number; at: number } | null;
  /** The response message (@original): the reply, or for 6/7 the message the button is on. */
  original: RecordedMessage | null;
  /** Follow-up messages, in order. */
  followups: RecordedMessage[];
  /** The modal shown with callback type 9, as sent. */
  modal: unknown;
  /** How the interaction reached the application (gateway, or the interactions endpoint and how that went). */
  delivery?: InteractionDelivery;
}

/** An application command as Discord answers with it (https://discord.com/developers/docs/interactions/application-commands#application-command-object). */
export type ApplicationCommand = APIApplicationCommand;

/** A gateway session as {@link Emulator.sessions} reports it. */
export interface SessionInfo {
  sessionId: string;
  shard: [number, number];
  intents: number;
  /** True while a socket is attached; false while waiting to be resumed. */
  connected: boolean;
  /** Last sequence number dispatched. */
  seq: number;
}

/**
 * A running emulator. Every method is synchronous and dispatches its gateway events before returning
 * (the interactions endpoint checks of {@link IntegrationsApi} resolve once the endpoint answered).
 */
export interface Emulator extends IntegrationsApi, AdminApi {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** http://127.0.0.1:PORT/api, the `api` option of discord.js / @discordjs/rest. */
  readonly apiUrl: string;
  /** http://127.0.0.1:PORT/cdn, the `cdn` option. */
  readonly cdnUrl: string;
  /** ws://127.0.0.1:PORT/gateway, what GET /gateway/bot and READY's resume_gateway_url name. */
  readonly gatewayUrl: string;
  readonly token: string;
  readonly applicationId: string;
  /**
   * Creates a guild the bot is a member of and sends GUILD_CREATE to connected sessions of its shard.
   * Throws EmulatorError (400) on bad options, (409) if the guild id exists.
   */
  seedGuild(options: SeedOptions): SeededGuild;
  /** The guild as it is now; throws EmulatorError 404 for an unknown guild. */
  guild(guildId: string): GuildSummary;
  /** Sets a member's presence and dispatches PRESENCE_UPDATE (GUILD_PRESENCES sessions). Throws 404 / 400. */
  setPresence(guildId: string, userId: string, presence: PresenceInput): void;
  /** Starts (or retunes) random presence changes at `updatesPerSecond`. Throws 404 / 400. */
  startChurn(guildId: string, options: ChurnOptions): void;
  /** Stops the churn of a guild; no-op if none. */
  stopChurn(guildId: string): void;
  /** A member as stored now, or undefined. Throws 404 for an unknown guild. */
  member(guildId: string, userId: string): MemberRecord | undefined;
  /** Adds a member and dispatches GUILD_MEMBER_ADD (GUILD_MEMBERS sessions). Throws 404 / 400 / 409. */
  addMember(guildId: string, member?: MemberInput): MemberRecord;
  /** Changes nick/roles and dispatches GUILD_MEMBER_UPDATE (GUILD_MEMBERS sessions). Throws 404 / 400. */
  updateMember(guildId: string, userId: string, patch: MemberPatch): void;
  /**
   * Dispatches a GUILD_MEMBER_UPDATE for a member as a partial or faulty peer would send it,
   * without changing the member: its full member object with `shape.omit` keys left out and
   * `shape.set` keys replaced (see {@link MemberUpdateShape}). Discord documents several fields of
   * this event as optional (https://discord.com/developers/docs/events/gateway-events#guild-member-update).
   * Returns the payload dispatched. Throws 404 (guild, member), 400 naming the bad field.
   */
  sendMemberUpdate(guildId: string, userId: string, shape: MemberUpdateShape): Record<string, unknown>;
  /** Removes a member and dispatches GUILD_MEMBER_REMOVE (GUILD_MEMBERS sessions). Throws 404. */
  removeMember(guildId: string, userId: string): void;
  /**
   * Deterministic membership churn for tests: `leave` members leave, `join` new users join, `update`
   * members change nick or roles, each dispatching GUILD_MEMBER_REMOVE / _ADD / _UPDATE (GUILD_MEMBERS
   * sessions). Which members, and the new names and roles, follow from `seed` and the guild's state.
   * Throws 404 (guild), 400 naming the field (negative counts, more than there are members).
   */
  applyMemberChanges(guildId: string, changes: MemberChanges): MemberChangesResult;
  /**
   * The application commands registered through REST: the guild's own with `guildId`, the global ones
   * without. https://discord.com/developers/docs/interactions/application-commands#get-global-application-commands
   */
  commands(guildId?: string): ApplicationCommand[];
  /**
   * Uses a registered CHAT_INPUT command as a member: sends INTERACTION_CREATE (type 2) to the sessions
   * holding the guild's shard (no intent needed) and returns the interaction id. `commandName` is
   * "name", "name subcommand" or "name group subcommand"; `options` maps option names to values
   * (snowflakes for user/role/channel/mentionable; resolved data is filled in).
   * https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object
   * Throws 404 (guild), 400 naming `userId`, `command`, `options.<name>` or `channelId`, 403 when the member
   * lacks the command's default_member_permissions (see InvokeOptions.ignoreCommandPermissions).
   */
  invokeCommand(
    guildId: string,
    userId: string,
    commandName: string,
    options?: Record<string, CommandOptionValue>,
    invoke?: InvokeOptions,
  ): string;
  /**
   * Clicks the button with `customId` on a message the bot sent (interaction response, follow-up or
   * channel message) as a member: sends INTERACTION_CREATE (type 3 MESSAGE_COMPONENT,
   * `data: {custom_id, component_type: 2}`) and returns the interaction id.
   * Throws 404 (guild), 400 naming `userId`, `messageId` or `customId`.
   */
  clickButton(guildId: string, userId: string, messageId: string, customId: string): string;
  /**
   * Chooses `values` in the select menu `customId` (string, role, user, mentionable or channel select) on a
   * message the bot sent, as a member: sends INTERACTION_CREATE (type 3 MESSAGE_COMPONENT, `data: {custom_id,
   * component_type, values, resolved?}`), or POSTs it to the interactions endpoint when one is set, and
   * returns the interaction id. Throws 404 (guild), 400 naming `userId`, `messageId`, `customId` or `values`
   * (not offered, too few or too many for min_values / max_values).
   * https://discord.com/developers/docs/components/reference#string-select
   */
  clickSelect(guildId: string, userId: string, messageId: string, customId: string, values: string[]): string;
  /** What happened to an interaction so far (acknowledgement, response message, follow-ups). Throws 404. */
  interaction(interactionId: string): InteractionRecord;
  /**
   * Resolves with the interaction's record once `predicate` holds (checked now and after every change,
   * polling every 10 ms), e.g. `(r) => r.original?.content.includes("Synced") ?? false`.
   * Rejects after `timeoutMs` (default 5000) with an Error that shows the last record; 404 for an unknown id.
   */
  waitForInteraction(
    interactionId: string,
    predicate: (record: InteractionRecord) => boolean,
    timeoutMs?: number,
  ): Promise<InteractionRecord>;
  /**
   * Fault injection: closes every gateway socket. Without `code` the TCP connection is dropped
   * (clients see 1006); with a code a close frame is sent. Sessions stay resumable.
   */
  dropConnections(code?: number): void;
  /** Gateway sessions, connected or waiting to be resumed. */
  sessions(): ReadonlyArray<SessionInfo>;
  /**
   * Fault injection: dispatches gateway event `type` (e.g. `PRESENCE_UPDATE`; upper case, digits and
   * `_`, at most 64) with `data` as the event's `d`, exactly as given, to every session holding the
   * guild's shard (whatever its intents). Nothing is checked or stored: the guild's state does not
   * change, so it can carry what Discord never sends (missing fields, wrong types, NUL, huge values).
   * Returns how many sessions it went to (connected, or buffered for a session waiting to resume).
   * Throws 404 (guild), 400 (`type`).
   */
  dispatchRaw(guildId: string, type: string, data: unknown): number;
  /** Stops churn, closes sockets and the HTTP server. */
  close(): Promise<void>;
}
