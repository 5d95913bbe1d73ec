/**
 * Public option and record types of @guildhall/emulator. Payloads that go over the wire
 * use discord-api-types v10; these describe the emulator's own inputs and outputs.
 */

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
  /** Optional logger, one line per call. The token is never logged. */
  log?: (line: string) => void;
}

/** Input for seeding a guild; every generated field is a pure function of these values. */
export interface SeedOptions {
  /** Any integer; the same seed gives the same guild, members and presences. */
  seed: number;
  /** member_count of the guild, the bot's own member included (so `members - 1` generated members); >= 1. */
  members: number;
  /** How many generated members hold the Staff role (the first `staff` by id); default min(10, members - 1). */
  staff?: number;
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

/** Options for {@link Emulator.startChurn}. */
export interface ChurnOptions {
  /** Presence updates per second (> 0, <= 10000). */
  updatesPerSecond: number;
  /** Only staff members change presence; same as staffShare 1. */
  staffOnly?: boolean;
  /** Share of updates (0..1) that target staff members; the rest pick any member. Default: no weighting. */
  staffShare?: number;
}

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

/** A running emulator. Every method is synchronous and dispatches its gateway events before returning. */
export interface Emulator {
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
  /** Removes a member and dispatches GUILD_MEMBER_REMOVE (GUILD_MEMBERS sessions). Throws 404. */
  removeMember(guildId: string, userId: string): void;
  /**
   * Fault injection: closes every gateway socket. Without `code` the TCP connection is dropped
   * (clients see 1006); with a code a close frame is sent. Sessions stay resumable.
   */
  dropConnections(code?: number): void;
  /** Gateway sessions, connected or waiting to be resumed. */
  sessions(): ReadonlyArray<SessionInfo>;
  /** Stops churn, closes sockets and the HTTP server. */
  close(): Promise<void>;
}
