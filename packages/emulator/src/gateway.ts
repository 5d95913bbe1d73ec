/**
 * Gateway v10 over WebSocket: HELLO, heartbeats, IDENTIFY with intents and shards, READY,
 * GUILD_CREATE, RESUME with replay, REQUEST_GUILD_MEMBERS -> GUILD_MEMBERS_CHUNK, and
 * dispatch of guild events to the sessions that subscribed to them.
 * https://discord.com/developers/docs/events/gateway
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { setImmediate as nextTick, setTimeout as sleep } from "node:timers/promises";
import type {
  APIGuildMember,
  APIUser,
  GatewayGuildCreateDispatchData,
  GatewayGuildMembersChunkPresence,
  GatewayRateLimitedDispatchData,
  GatewayReadyDispatchData,
  GatewayRequestGuildMemberRateLimitMetadata,
} from "discord-api-types/v10";
import { GatewayCloseCodes, GatewayDispatchEvents, GatewayIntentBits, GatewayOpcodes } from "discord-api-types/v10";
import type { RawData } from "ws";
import { WebSocket, WebSocketServer } from "ws";
import type { GuildState } from "./guild";
import { JsonWriter } from "./jsonwriter";
import { chunkPresenceObject, guildObject, memberJson, memberObject } from "./payloads";
import { isSnowflake } from "./snowflake";
import type { MemberChunkEvent, MemberRecord, SessionInfo } from "./types";

/** Every intent bit Discord defines; anything else in IDENTIFY is closed with 4013. */
export const ALL_INTENTS = Object.values(GatewayIntentBits)
  .filter((v): v is number => typeof v === "number")
  .reduce((a, b) => a | b, 0);
/** Intents that must be enabled for the application (https://discord.com/developers/docs/events/gateway#privileged-intents). */
export const PRIVILEGED_INTENTS = GatewayIntentBits.GuildMembers | GatewayIntentBits.GuildPresences | GatewayIntentBits.MessageContent;

/** GUILD_CREATE carries only the bot's member above this member_count (Discord's 75k rule). */
const HUGE_GUILD = 75_000;
const CHUNK_SIZE = 1000;
/** Resume buffer bounds per session. */
const MAX_BUFFERED_EVENTS = 10_000;
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
/**
 * Chunk streaming backpressure: pause once this many bytes were handed to the socket and not yet
 * written to the OS (ws send callbacks), resume at half of it. About 8 chunks of a big guild.
 */
const STREAM_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Longest synchronous stretch of chunk generation before yielding to the event loop, in ms. */
const STREAM_SLICE_MS = 5;

/** The shard a guild belongs to: (guild_id >> 22) % num_shards (https://discord.com/developers/docs/events/gateway#sharding). */
export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** What the gateway needs from the emulator. */
export interface GatewayContext {
  readonly token: string;
  readonly allowedPrivilegedIntents: number;
  readonly heartbeatIntervalMs: number;
  readonly sessionTtlMs: number;
  /** Window of the all-members REQUEST_GUILD_MEMBERS limit (one per guild per window), in ms. */
  readonly memberRequestWindowMs: number;
  readonly gatewayUrl: string;
  botUser(): APIUser;
  application(): { id: string; flags: number };
  guilds(): Iterable<GuildState>;
  guild(id: string): GuildState | undefined;
  /** Called for every accepted IDENTIFY (session_start_limit accounting). */
  onIdentify(): void;
  /** Called as each streamed GUILD_MEMBERS_CHUNK is handed to the socket. */
  onMemberChunk(event: MemberChunkEvent): void;
  log(line: string): void;
}

/** A gateway frame as sent: JSON text, or the same as UTF-8 bytes (big GUILD_MEMBERS_CHUNKs). */
type Frame = string | Buffer;

/** Scratch space for building big frames; used synchronously, one frame at a time. */
const frameWriter = new JsonWriter(1 << 20);

class Connection {
  lastHeartbeat = Date.now();
  session: Session | null = null;
  /** Set when the emulator closes this socket and the session must not be resumed. */
  invalidateOnClose = false;
  serverClosed = false;

  constructor(readonly ws: WebSocket) {}

  /**
   * Writes a text frame (a string, or its UTF-8 bytes) if the socket is open; `written` runs once
   * ws flushed it (or failed). Returns false when not sent.
   */
  send(frame: Frame, written?: (err?: Error) => void): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    if (typeof frame === "string") this.ws.send(frame, written);
    else this.ws.send(frame, { binary: false }, written);
    return true;
  }

  sendOp(op: GatewayOpcodes, d: unknown): void {
    this.send(JSON.stringify({ op, d, s: null, t: null }));
  }

  close(code: number, reason: string, invalidate = false): void {
    this.serverClosed = true;
    this.invalidateOnClose ||= invalidate;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }
}

class Session {
  readonly id = randomBytes(16).toString("hex");
  seq = 0;
  connection: Connection | null = null;
  expiry: NodeJS.Timeout | null = null;
  invalidated = false;
  /** The bot's own presence as last sent with op 3 (kept, not yet broadcast). */
  botPresence: unknown = null;
  private buffer: Array<{ s: number; frame: Frame }> = [];
  private head = 0;
  private bytes = 0;

  constructor(
    readonly shard: [number, number],
    readonly intents: number,
    readonly largeThreshold: number,
  ) {}

  /**
   * Assigns the next sequence number, buffers the frame for RESUME and writes it if connected.
   * `written` (if given) runs when the socket flushed the frame; returns false (and never calls
   * `written`) when no socket took the frame.
   */
  dispatch(t: string, dJson: string, written?: (err?: Error) => void): boolean {
    const s = this.seq + 1;
    return this.dispatchFrame(s, `{"op":0,"t":"${t}","s":${s},"d":${dJson}}`, written);
  }

  /**
   * {@link dispatch} for a big payload: `writeD` writes the JSON of `d` into a byte buffer, which
   * becomes the frame without ever being a string.
   */
  dispatchWritten(t: string, writeD: (w: JsonWriter) => void, written?: (err?: Error) => void): boolean {
    const s = this.seq + 1;
    frameWriter.reset();
    frameWriter.ascii(`{"op":0,"t":"${t}","s":${s},"d":`);
    writeD(frameWriter);
    frameWriter.ascii("}");
    return this.dispatchFrame(s, frameWriter.take(), written);
  }

  private dispatchFrame(s: number, frame: Frame, written?: (err?: Error) => void): boolean {
    this.seq = s;
    this.buffer.push({ s, frame });
    this.bytes += frame.length;
    while (
      this.buffer.length - this.head > MAX_BUFFERED_EVENTS ||
      (this.bytes > MAX_BUFFERED_BYTES && this.buffer.length - this.head > 1)
    ) {
      this.bytes -= (this.buffer[this.head] as { frame: Frame }).frame.length;
      this.head += 1;
    }
    if (this.head > 4096 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    return this.connection?.send(frame, written) ?? false;
  }

  /** The buffered frames with s > seq, or null when some of them were already dropped. */
  framesAfter(seq: number): Frame[] | null {
    if (seq === this.seq) return [];
    const first = this.buffer[this.head];
    if (!first || first.s > seq + 1) return null;
    const out: Frame[] = [];
    for (let i = this.head; i < this.buffer.length; i++) {
      const entry = this.buffer[i] as { s: number; frame: Frame };
      if (entry.s > seq) out.push(entry.frame);
    }
    return out;
  }

  subscribedTo(guildId: string): boolean {
    return shardOf(guildId, this.shard[1]) === this.shard[0];
  }
}

type Payload = { op: number; d: unknown };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The gateway server: one per emulator, attached to the HTTP server's `upgrade` event. */
export class Gateway {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 });
  private readonly connections = new Set<Connection>();
  private readonly sessionsById = new Map<string, Session>();
  /** Guild id -> when its last all-members request was accepted (ms); per application, across sessions. */
  private readonly lastAllMembersRequest = new Map<string, number>();
  private readonly sweep: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly ctx: GatewayContext) {
    const every = Math.max(10, Math.min(1_000, Math.floor(ctx.heartbeatIntervalMs / 4)));
    this.sweep = setInterval(() => this.closeSilent(), every);
    this.sweep.unref();
  }

  /** Handles an HTTP upgrade whose path is the gateway path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, url));
  }

  private onConnection(ws: WebSocket, url: URL): void {
    const conn = new Connection(ws);
    this.connections.add(conn);
    ws.on("message", (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on("close", (code) => this.onClose(conn, code));
    ws.on("error", (err) => this.ctx.log(`gateway: socket error ${err.message}`));

    // https://discord.com/developers/docs/events/gateway#connecting (query string parameters)
    const version = url.searchParams.get("v");
    if (version !== null && version !== "10" && version !== "9") {
      conn.close(GatewayCloseCodes.InvalidAPIVersion, "Invalid API version");
      return;
    }
    const encoding = url.searchParams.get("encoding");
    if ((encoding !== null && encoding !== "json") || url.searchParams.has("compress")) {
      // The emulator speaks JSON text frames only.
      conn.close(GatewayCloseCodes.DecodeError, "Only encoding=json without compression is supported");
      return;
    }
    conn.sendOp(GatewayOpcodes.Hello, { heartbeat_interval: this.ctx.heartbeatIntervalMs, _trace: ['["gateway-emulator",{"micros":0}]'] });
  }

  private onClose(conn: Connection, code: number): void {
    this.connections.delete(conn);
    const session = conn.session;
    if (!session || session.connection !== conn) return;
    session.connection = null;
    // A client closing with 1000/1001 ends its session; Discord does the same.
    const clientEnded = !conn.serverClosed && (code === 1000 || code === 1001);
    if (conn.invalidateOnClose || clientEnded) {
      this.invalidate(session);
      return;
    }
    this.ctx.log(`gateway: session ${session.id} disconnected (${code}), resumable for ${this.ctx.sessionTtlMs} ms`);
    session.expiry = setTimeout(() => this.invalidate(session), this.ctx.sessionTtlMs);
    session.expiry.unref();
  }

  private invalidate(session: Session): void {
    session.invalidated = true;
    if (session.expiry) clearTimeout(session.expiry);
    session.expiry = null;
    this.sessionsById.delete(session.id);
  }

  private closeSilent(): void {
    const deadline = Date.now() - this.ctx.heartbeatIntervalMs * 1.5;
    for (const conn of this.connections) {
      if (conn.lastHeartbeat < deadline && conn.ws.readyState === WebSocket.OPEN) {
        conn.close(GatewayCloseCodes.SessionTimedOut, "Session timed out", true);
      }
    }
  }

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.serverClosed) return;
    let payload: Payload;
    try {
      if (isBinary) throw new Error("binary frame");
      const parsed: unknown = JSON.parse(data.toString());
      if (!isObject(parsed) || typeof parsed.op !== "number") throw new Error("no op");
      payload = { op: parsed.op, d: parsed.d };
    } catch {
      conn.close(GatewayCloseCodes.DecodeError, "Error while decoding payload.");
      return;
    }

    switch (payload.op) {
      case GatewayOpcodes.Heartbeat:
        conn.lastHeartbeat = Date.now();
        conn.sendOp(GatewayOpcodes.HeartbeatAck, null);
        return;
      case GatewayOpcodes.Identify:
        this.identify(conn, payload.d);
        return;
      case GatewayOpcodes.Resume:
        this.resume(conn, payload.d);
        return;
      case GatewayOpcodes.PresenceUpdate:
      case GatewayOpcodes.VoiceStateUpdate:
      case GatewayOpcodes.RequestGuildMembers:
      case GatewayOpcodes.RequestSoundboardSounds: {
        const session = conn.session;
        if (!session) {
          conn.close(GatewayCloseCodes.NotAuthenticated, "Not authenticated.");
          return;
        }
        if (payload.op === GatewayOpcodes.RequestGuildMembers) this.requestGuildMembers(conn, session, payload.d);
        else if (payload.op === GatewayOpcodes.PresenceUpdate) session.botPresence = payload.d;
        // Voice state updates and soundboard requests are accepted and ignored.
        return;
      }
      default:
        conn.close(GatewayCloseCodes.UnknownOpcode, "Unknown opcode.");
    }
  }

  private tokenOk(token: unknown): boolean {
    return typeof token === "string" && (token === this.ctx.token || token === `Bot ${this.ctx.token}`);
  }

  /** https://discord.com/developers/docs/events/gateway#identifying */
  private identify(conn: Connection, d: unknown): void {
    if (conn.session) {
      conn.close(GatewayCloseCodes.AlreadyAuthenticated, "Already authenticated.");
      return;
    }
    if (!isObject(d)) {
      conn.close(GatewayCloseCodes.DecodeError, "Invalid identify payload.");
      return;
    }
    if (!this.tokenOk(d.token)) {
      conn.close(GatewayCloseCodes.AuthenticationFailed, "Authentication failed.");
      return;
    }
    const intents = d.intents;
    if (typeof intents !== "number" || !Number.isInteger(intents) || intents < 0 || (intents & ~ALL_INTENTS) !== 0) {
      conn.close(GatewayCloseCodes.InvalidIntents, "Invalid intent(s).");
      return;
    }
    if ((intents & PRIVILEGED_INTENTS & ~this.ctx.allowedPrivilegedIntents) !== 0) {
      conn.close(GatewayCloseCodes.DisallowedIntents, "Disallowed intent(s).");
      return;
    }
    let shard: [number, number] = [0, 1];
    if (d.shard !== undefined && d.shard !== null) {
      const s = d.shard;
      const valid = Array.isArray(s) && s.length === 2 && s.every((n) => Number.isInteger(n)) && s[1] >= 1 && s[0] >= 0 && s[0] < s[1];
      if (!valid) {
        conn.close(GatewayCloseCodes.InvalidShard, "Invalid shard.");
        return;
      }
      shard = [s[0] as number, s[1] as number];
    }
    const threshold = typeof d.large_threshold === "number" ? Math.min(250, Math.max(50, Math.floor(d.large_threshold))) : 50;

    const session = new Session(shard, intents, threshold);
    const guilds = [...this.ctx.guilds()].filter((g) => session.subscribedTo(g.id));
    if (guilds.length > 2500) {
      conn.close(GatewayCloseCodes.ShardingRequired, "Sharding required.");
      return;
    }
    if (d.presence !== undefined) session.botPresence = d.presence;
    this.sessionsById.set(session.id, session);
    conn.session = session;
    session.connection = conn;
    this.ctx.onIdentify();
    this.ctx.log(`gateway: IDENTIFY shard [${shard.join(", ")}] intents ${intents} -> session ${session.id}`);

    const app = this.ctx.application();
    const ready: GatewayReadyDispatchData & Record<string, unknown> = {
      v: 10,
      user: this.ctx.botUser(),
      guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
      session_id: session.id,
      resume_gateway_url: this.ctx.gatewayUrl,
      shard,
      application: { id: app.id, flags: app.flags, flags_new: String(app.flags) },
      session_type: "normal",
      private_channels: [],
      presences: [],
      relationships: [],
      guild_join_requests: [],
      user_settings: {},
      geo_ordered_rtc_regions: ["emulator"],
      _trace: ['["gateway-emulator",{"micros":0}]'],
    };
    session.dispatch(GatewayDispatchEvents.Ready, JSON.stringify(ready));
    if (intents & GatewayIntentBits.Guilds) for (const guild of guilds) this.sendGuildCreate(session, guild);
  }

  /** https://discord.com/developers/docs/events/gateway#resuming */
  private resume(conn: Connection, d: unknown): void {
    if (conn.session) {
      conn.close(GatewayCloseCodes.AlreadyAuthenticated, "Already authenticated.");
      return;
    }
    if (!isObject(d) || typeof d.session_id !== "string" || typeof d.seq !== "number") {
      conn.close(GatewayCloseCodes.DecodeError, "Invalid resume payload.");
      return;
    }
    if (!this.tokenOk(d.token)) {
      conn.close(GatewayCloseCodes.AuthenticationFailed, "Authentication failed.");
      return;
    }
    const session = this.sessionsById.get(d.session_id);
    if (!session) {
      conn.sendOp(GatewayOpcodes.InvalidSession, false);
      return;
    }
    if (d.seq > session.seq) {
      conn.close(GatewayCloseCodes.InvalidSeq, "Invalid seq.", false);
      return;
    }
    const frames = session.framesAfter(d.seq);
    if (!frames) {
      this.invalidate(session);
      conn.sendOp(GatewayOpcodes.InvalidSession, false);
      return;
    }
    if (session.connection) {
      // Another socket still holds the session: Discord drops it in favour of the resuming one.
      const old = session.connection;
      session.connection = null;
      old.session = null;
      old.close(GatewayCloseCodes.UnknownError, "Session resumed elsewhere.");
    }
    if (session.expiry) clearTimeout(session.expiry);
    session.expiry = null;
    conn.session = session;
    session.connection = conn;
    this.ctx.log(`gateway: RESUME session ${session.id} from seq ${d.seq}, replaying ${frames.length}`);
    for (const frame of frames) conn.send(frame);
    session.dispatch(GatewayDispatchEvents.Resumed, JSON.stringify({ _trace: ['["gateway-emulator",{"micros":0}]'] }));
  }

  /**
   * GUILD_CREATE as Discord sends it: `members` holds everyone in a small guild, only online
   * members (plus the bot) when member_count > large_threshold, only the bot above 75k members
   * or without GUILD_PRESENCES; `presences` only with GUILD_PRESENCES.
   * https://discord.com/developers/docs/events/gateway-events#guild-create
   */
  private sendGuildCreate(session: Session, guild: GuildState): void {
    const withPresences = (session.intents & GatewayIntentBits.GuildPresences) !== 0;
    const memberCount = guild.memberCount;
    const large = memberCount > session.largeThreshold;
    let records: MemberRecord[];
    if (!withPresences || memberCount > HUGE_GUILD) records = [];
    else if (large) records = [...guild.onlineMembers()];
    else records = [...guild.membersAfter(0n)];
    const bot = guild.member(guild.botUserId);
    if (bot && !records.some((r) => r.userId === bot.userId)) records.push(bot);

    const members: APIGuildMember[] = records.map(memberObject);
    const presences: GatewayGuildMembersChunkPresence[] = [];
    if (withPresences) {
      for (const record of records) {
        const presence = guild.presence(record.userId);
        if (presence.status !== "offline") presences.push(chunkPresenceObject(record.userId, presence));
      }
    }
    const payload: GatewayGuildCreateDispatchData & Record<string, unknown> = {
      ...guildObject(guild, false),
      joined_at: guild.botJoinedAt,
      large,
      unavailable: false,
      member_count: memberCount,
      voice_states: [],
      members,
      channels: guild.channels.map(({ guild_id: _g, ...channel }) => channel) as GatewayGuildCreateDispatchData["channels"],
      threads: [],
      presences: presences.map((p) => ({ ...p, guild_id: guild.id })),
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      embedded_activities: [],
      application_command_counts: {},
    };
    session.dispatch(GatewayDispatchEvents.GuildCreate, JSON.stringify(payload));
  }

  /**
   * Discord's limit on requests for ALL members (query "" and limit 0): one per guild per
   * application every 30 s (memberRequestWindowMs), whichever session sends it. A refused request
   * gets a RATE_LIMITED dispatch `{opcode: 8, retry_after: s, meta: {guild_id, nonce?}}` and no chunks.
   * https://discord.com/developers/docs/events/gateway-events#rate-limited and the 2025-08-14 change log
   * "Introducing Rate Limit When Requesting All Guild Members". Returns true when the request may proceed.
   */
  private memberRequestAllowed(session: Session, guild: GuildState, nonce: string | undefined): boolean {
    const now = Date.now();
    const window = this.ctx.memberRequestWindowMs;
    const last = this.lastAllMembersRequest.get(guild.id);
    if (last !== undefined && now - last < window) {
      const meta: GatewayRequestGuildMemberRateLimitMetadata = { guild_id: guild.id };
      if (nonce !== undefined) meta.nonce = nonce;
      const d: GatewayRateLimitedDispatchData<GatewayOpcodes.RequestGuildMembers> = {
        opcode: GatewayOpcodes.RequestGuildMembers,
        retry_after: (last + window - now) / 1000,
        meta,
      };
      this.ctx.log(`gateway: all-members request for ${guild.id} rate limited (retry after ${d.retry_after} s)`);
      session.dispatch(GatewayDispatchEvents.RateLimited, JSON.stringify(d));
      return false;
    }
    this.lastAllMembersRequest.set(guild.id, now);
    return true;
  }

  /** https://discord.com/developers/docs/events/gateway-events#request-guild-members */
  private requestGuildMembers(conn: Connection, session: Session, d: unknown): void {
    if (!isObject(d) || typeof d.guild_id !== "string" || !isSnowflake(d.guild_id)) {
      conn.close(GatewayCloseCodes.DecodeError, "Invalid request guild members payload.");
      return;
    }
    const guild = this.ctx.guild(d.guild_id);
    if (!guild || !session.subscribedTo(guild.id)) return; // Discord ignores guilds the session does not hold
    // "Nonce can only be up to 32 bytes. If you send an invalid nonce it will be ignored"
    const nonce = typeof d.nonce === "string" && Buffer.byteLength(d.nonce) <= 32 ? d.nonce : undefined;
    const presences = d.presences === true && (session.intents & GatewayIntentBits.GuildPresences) !== 0;

    if (d.user_ids !== undefined && d.user_ids !== null) {
      const ids = typeof d.user_ids === "string" ? [d.user_ids] : Array.isArray(d.user_ids) ? d.user_ids : null;
      if (!ids?.every((id): id is string => typeof id === "string")) {
        conn.close(GatewayCloseCodes.DecodeError, "Invalid user_ids.");
        return;
      }
      const found: MemberRecord[] = [];
      const notFound: string[] = [];
      for (const id of ids.slice(0, 100)) {
        const record = isSnowflake(id) ? guild.member(id) : undefined;
        if (record) found.push(record);
        else notFound.push(id);
      }
      this.sendChunk(session, guild, found, 0, 1, presences, nonce, notFound);
      return;
    }

    if (typeof d.query !== "string") {
      conn.close(GatewayCloseCodes.DecodeError, "query or user_ids is required.");
      return;
    }
    const limit = typeof d.limit === "number" && Number.isInteger(d.limit) && d.limit > 0 ? d.limit : 0;
    if (d.query !== "") {
      // A prefix search scans the guild; the async scan keeps a big guild from stalling everyone else.
      guild.searchAsync(d.query, Math.min(limit || 100, 100)).then(
        (found) => this.sendChunk(session, guild, found, 0, 1, presences, nonce),
        (err: unknown) => this.ctx.log(`gateway: member search failed: ${err instanceof Error ? err.message : String(err)}`),
      );
      return;
    }
    if (!(session.intents & GatewayIntentBits.GuildMembers)) {
      // Discord does not answer a whole-list request without GUILD_MEMBERS.
      this.ctx.log(`gateway: session ${session.id} asked for all members of ${guild.id} without GUILD_MEMBERS; ignored`);
      return;
    }
    if (limit === 0 && !this.memberRequestAllowed(session, guild, nonce)) return;
    const total = limit === 0 ? guild.memberCount : Math.min(limit, guild.memberCount);
    this.streamMembers(session, guild, total, presences, nonce).catch((err: unknown) =>
      this.ctx.log(`gateway: member chunk stream failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /**
   * Streams `total` members in GUILD_MEMBERS_CHUNKs of 1000, ascending by user id. Generation runs
   * in slices of at most STREAM_SLICE_MS before yielding to the event loop (other sessions, REST and
   * the control API stay responsive), pauses while more than STREAM_HIGH_WATER_BYTES wait in the
   * socket (ws send callbacks count what was flushed), and waits while the session is disconnected
   * so a RESUME gets the rest. Each chunk seeks by the last id sent, so members added or removed
   * meanwhile do not shift the stream.
   */
  private async streamMembers(
    session: Session,
    guild: GuildState,
    total: number,
    presences: boolean,
    nonce: string | undefined,
  ): Promise<void> {
    const chunkCount = Math.max(1, Math.ceil(total / CHUNK_SIZE));
    let after = 0n;
    let sent = 0;
    let inflight = 0;
    let socket: Connection | null = session.connection;
    let wake: (() => void) | null = null;
    const flushed = (from: Connection | null, bytes: number) => {
      if (from !== socket) return; // written (or failed) on a socket the session no longer uses
      inflight -= bytes;
      if (wake && inflight <= STREAM_HIGH_WATER_BYTES / 2) {
        const resume = wake;
        wake = null;
        resume();
      }
    };
    let sliceStart = performance.now();
    for (let index = 0; index < chunkCount; index++) {
      if (session.connection !== socket) {
        socket = session.connection;
        inflight = 0; // a new socket after RESUME: what the old one held is gone
      }
      const want = Math.min(CHUNK_SIZE, Math.max(0, total - sent));
      const via = socket;
      let frameBytes = 0;
      const handed = session.dispatchWritten(
        GatewayDispatchEvents.GuildMembersChunk,
        (w) => {
          const start = w.length;
          const userIds = this.writeChunk(w, guild, index, chunkCount, presences, nonce, (mw) => guild.writeMembers(mw, after, want));
          const lastId = userIds[userIds.length - 1];
          if (lastId !== undefined) after = BigInt(lastId);
          sent += userIds.length;
          frameBytes = w.length - start;
        },
        () => flushed(via, frameBytes),
      );
      if (handed) {
        inflight += frameBytes;
        this.ctx.onMemberChunk({
          guildId: guild.id,
          nonce: nonce ?? null,
          chunkIndex: index,
          chunkCount,
          sentAt: performance.timeOrigin + performance.now(),
        });
      }
      if (index + 1 === chunkCount) return;

      if (performance.now() - sliceStart > STREAM_SLICE_MS) {
        await nextTick();
        sliceStart = performance.now();
      }
      // Backpressure, and a pause while disconnected (frames would only fill the resume buffer).
      while (!this.closed && !session.invalidated && (inflight > STREAM_HIGH_WATER_BYTES || session.connection === null)) {
        if (session.connection === null) await sleep(50);
        else await Promise.race([new Promise<void>((resolve) => (wake = resolve)), sleep(250)]);
        wake = null;
        if (session.connection !== socket) {
          socket = session.connection;
          inflight = 0;
        }
        sliceStart = performance.now();
      }
      if (this.closed || session.invalidated) return;
    }
  }

  /**
   * Writes the `d` of a GUILD_MEMBERS_CHUNK; `writeMembers` writes the comma-separated member
   * objects and returns their user ids (for `presences`). Returns those user ids.
   * https://discord.com/developers/docs/events/gateway-events#guild-members-chunk
   */
  private writeChunk(
    w: JsonWriter,
    guild: GuildState,
    index: number,
    count: number,
    presences: boolean,
    nonce: string | undefined,
    writeMembers: (w: JsonWriter) => string[],
    notFound?: string[],
  ): string[] {
    w.ascii(`{"guild_id":"${guild.id}","members":[`);
    const userIds = writeMembers(w);
    w.ascii(`],"chunk_index":${index},"chunk_count":${count}`);
    if (notFound) w.text(`,"not_found":${JSON.stringify(notFound)}`);
    if (presences) {
      const list: GatewayGuildMembersChunkPresence[] = [];
      for (const userId of userIds) {
        const presence = guild.presence(userId);
        if (presence.status !== "offline") list.push(chunkPresenceObject(userId, presence));
      }
      w.text(`,"presences":${JSON.stringify(list)}`);
    }
    if (nonce !== undefined) w.text(`,"nonce":${JSON.stringify(nonce)}`);
    w.ascii("}");
    return userIds;
  }

  /** Sends one GUILD_MEMBERS_CHUNK with the given members (user_ids and query answers). */
  private sendChunk(
    session: Session,
    guild: GuildState,
    records: MemberRecord[],
    index: number,
    count: number,
    presences: boolean,
    nonce: string | undefined,
    notFound?: string[],
  ): void {
    session.dispatchWritten(GatewayDispatchEvents.GuildMembersChunk, (w) => {
      this.writeChunk(
        w,
        guild,
        index,
        count,
        presences,
        nonce,
        (mw) => {
          records.forEach((record, i) => {
            if (i > 0) mw.ascii(",");
            mw.text(memberJson(record));
          });
          return records.map((r) => r.userId);
        },
        notFound,
      );
    });
  }

  /**
   * Dispatches event `t` with data `d` to every session holding the guild's shard whose intents
   * include `requiredIntent` (0 = no intent needed). `d` is serialised once.
   */
  dispatchToGuild(guild: GuildState, t: GatewayDispatchEvents, d: unknown, requiredIntent: number): void {
    let json: string | undefined;
    for (const session of this.sessionsById.values()) {
      if (requiredIntent !== 0 && (session.intents & requiredIntent) === 0) continue;
      if (!session.subscribedTo(guild.id)) continue;
      json ??= JSON.stringify(d);
      session.dispatch(t, json);
    }
  }

  /**
   * Dispatches event `t` with data `d` exactly as given (serialised once, nothing checked or
   * filled in) to every session holding the guild's shard, whatever its intents: a faulty or
   * hostile peer's payload, for tests. Returns how many sessions it was sent to.
   */
  dispatchRaw(guild: GuildState, t: string, d: unknown): number {
    const json = JSON.stringify(d) ?? "null";
    let sent = 0;
    for (const session of this.sessionsById.values()) {
      if (!session.subscribedTo(guild.id)) continue;
      session.dispatch(t, json);
      sent++;
    }
    return sent;
  }

  /** Sends GUILD_CREATE for a guild the bot just joined to every GUILDS session of its shard. */
  announceGuild(guild: GuildState): void {
    for (const session of this.sessionsById.values()) {
      if (session.intents & GatewayIntentBits.Guilds && session.subscribedTo(guild.id)) this.sendGuildCreate(session, guild);
    }
  }

  /** Fault injection: see Emulator.dropConnections. Sessions stay resumable. */
  dropConnections(code?: number): void {
    for (const conn of [...this.connections]) {
      if (code === undefined) conn.ws.terminate();
      else conn.close(code, "Dropped by the emulator");
    }
  }

  /** The sessions, connected or resumable. */
  sessions(): SessionInfo[] {
    return [...this.sessionsById.values()].map((s) => ({
      sessionId: s.id,
      shard: [s.shard[0], s.shard[1]],
      intents: s.intents,
      connected: s.connection !== null,
      seq: s.seq,
    }));
  }

  /** Terminates every socket and forgets every session. */
  close(): void {
    this.closed = true;
    clearInterval(this.sweep);
    for (const conn of this.connections) conn.ws.terminate();
    this.connections.clear();
    for (const session of this.sessionsById.values()) this.invalidate(session);
    this.wss.close();
  }
}
