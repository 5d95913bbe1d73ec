/**
 * The emulator process: one node:http server on 127.0.0.1 serving REST (/api), CDN (/cdn),
 * the control API (/_emulator) and the gateway (WebSocket upgrade on /gateway).
 */

import type { KeyObject } from "node:crypto";
import { createPrivateKey, createPublicKey } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIUser, GatewayActivity, GatewayPresenceClientStatus, PresenceUpdateReceiveStatus } from "discord-api-types/v10";
import { ActivityType, GatewayDispatchEvents, GatewayIntentBits } from "discord-api-types/v10";
import { CommandStore } from "./commands";
import { createControlHandler } from "./control";
import { EmulatorError } from "./errors";
import { Gateway, PRIVILEGED_INTENTS } from "./gateway";
import type { PresenceRecord } from "./generator";
import {
  customStatusActivity,
  discordTimestamp,
  guildIdForSeed,
  guildNameForSeed,
  guildSpec,
  OFFLINE,
  randomOnlinePresence,
  startOfUtcDay,
} from "./generator";
import { GuildState } from "./guild";
import { sendJson } from "./http";
import { InteractionHub } from "./interactions";
import { applicationFlags, applicationObject, botUserObject, memberObject, presenceObject, userObject } from "./payloads";
import { avatarPng } from "./png";
import { hash3, Rng } from "./random";
import { createRestHandler } from "./rest";
import { newSnowflake, snowflakeAt } from "./snowflake";
import type {
  ApplicationCommand,
  ChurnOptions,
  CommandOptionValue,
  Emulator,
  EmulatorOptions,
  GuildSummary,
  InteractionRecord,
  InvokeOptions,
  MemberChanges,
  MemberChangesResult,
  MemberInput,
  MemberPatch,
  MemberRecord,
  PresenceInput,
  SeededGuild,
  SeedOptions,
  SessionInfo,
} from "./types";
import * as v from "./validate";
import { ADJECTIVES, NOUNS } from "./words";

const DEFAULT_TOKEN = "emulator-bot-token";
/** Default application (and bot user) id: a snowflake from 2023-11-14. */
const DEFAULT_APPLICATION_ID = snowflakeAt(Date.UTC(2023, 10, 14, 12), 0x21001).toString();
const BOT_USERNAME = "Guildhall";
const IDENTIFY_TOTAL = 1000;
const DAY_MS = 86_400_000;
const CHURN_TICK_MS = 25;

interface Churn {
  timer: NodeJS.Timeout;
  rate: number;
  /** Share of updates aimed at staff, or null for no weighting. */
  staffShare: number | null;
  /** Fractional updates carried to the next tick. */
  due: number;
  last: number;
  rng: Rng;
}

/** Concrete {@link Emulator}; use {@link startEmulator} to get a listening one. */
export class EmulatorServer implements Emulator {
  readonly token: string;
  readonly applicationId: string;
  readonly allowedPrivilegedIntents: number;
  readonly heartbeatIntervalMs: number;
  private readonly log: (line: string) => void;
  private readonly server: Server;
  private readonly gateway: Gateway;
  private readonly guildsById = new Map<string, GuildState>();
  private readonly churns = new Map<string, Churn>();
  private readonly identifies: number[] = [];
  private readonly signingKey: KeyObject;
  private readonly verifyKey: string;
  private readonly ownerUser: APIUser;
  private readonly commandStore: CommandStore;
  private readonly hub: InteractionHub;
  private port = 0;

  constructor(options: EmulatorOptions = {}) {
    const opts = v.object(options, "options");
    this.token = opts.token === undefined ? DEFAULT_TOKEN : v.str(opts.token, "token", 1, 200);
    this.applicationId = opts.applicationId === undefined ? DEFAULT_APPLICATION_ID : v.snowflake(opts.applicationId, "applicationId");
    this.allowedPrivilegedIntents =
      v.int(opts.allowedPrivilegedIntents, "allowedPrivilegedIntents", 0, 2 ** 31 - 1, PRIVILEGED_INTENTS) & PRIVILEGED_INTENTS;
    this.heartbeatIntervalMs = v.int(opts.heartbeatIntervalMs, "heartbeatIntervalMs", 10, 600_000, 41_250);
    const sessionTtlMs = v.int(opts.sessionTtlMs, "sessionTtlMs", 0, 86_400_000, 60_000);
    const memberRequestWindowMs = v.int(opts.memberRequestWindowMs, "memberRequestWindowMs", 0, 3_600_000, 30_000);
    const responseWindowMs = v.int(opts.interactionResponseWindowMs, "interactionResponseWindowMs", 1, 3_600_000, 3_000);
    const tokenTtlMs = v.int(opts.interactionTokenTtlMs, "interactionTokenTtlMs", 1, 86_400_000, 900_000);
    this.log = options.log ?? (() => {});

    // A fixed Ed25519 key per application id so verify_key stays stable across restarts.
    const seed = Buffer.alloc(32);
    for (let i = 0; i < 8; i++) seed.writeUInt32BE(hash3(Number(BigInt(this.applicationId) % 2n ** 52n), i, 11), i * 4);
    this.signingKey = createPrivateKey({
      key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]),
      format: "der",
      type: "pkcs8",
    });
    this.verifyKey = createPublicKey(this.signingKey).export({ format: "der", type: "spki" }).subarray(-32).toString("hex");
    this.ownerUser = {
      ...userObject({
        userId: snowflakeAt(Date.UTC(2019, 2, 3), 0x21002).toString(),
        username: "emulator-owner",
        globalName: "Emulator Owner",
        avatar: null,
        bot: false,
        nick: null,
        roles: [],
        joinedAt: discordTimestamp(0),
        premiumSince: null,
        pending: false,
      }),
    };

    const self = this;
    this.gateway = new Gateway({
      token: this.token,
      allowedPrivilegedIntents: this.allowedPrivilegedIntents,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      sessionTtlMs,
      memberRequestWindowMs,
      get gatewayUrl() {
        return self.gatewayUrl;
      },
      botUser: () => this.botUser(),
      application: () => ({ id: this.applicationId, flags: applicationFlags(this.allowedPrivilegedIntents) }),
      guilds: () => this.guildsById.values(),
      guild: (id) => this.guildsById.get(id),
      onIdentify: () => this.identifies.push(Date.now()),
      onMemberChunk: options.onMemberChunk ?? (() => {}),
      log: this.log,
    });

    this.commandStore = new CommandStore(this.applicationId);
    this.hub = new InteractionHub({
      applicationId: this.applicationId,
      botUser: () => this.publicBotUser(),
      guild: (id) => this.guildsById.get(id),
      commands: this.commandStore,
      dispatchToGuild: (guild, t, d, intent) => this.gateway.dispatchToGuild(guild, t, d, intent),
      responseWindowMs,
      tokenTtlMs,
      log: this.log,
    });

    const rest = createRestHandler({
      token: this.token,
      get gatewayUrl() {
        return self.gatewayUrl;
      },
      get cdnUrl() {
        return self.cdnUrl;
      },
      applicationId: this.applicationId,
      commands: this.commandStore,
      interactions: this.hub,
      allowedPrivilegedIntents: this.allowedPrivilegedIntents,
      guild: (id) => this.guildsById.get(id),
      guilds: () => this.guildsById.values(),
      botUser: () => this.botUser(),
      extraUser: (id) => (id === this.ownerUser.id ? this.ownerUser : undefined),
      application: () => this.application(),
      sessionStartLimit: () => this.sessionStartLimit(),
    });
    const control = createControlHandler(this);

    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const path = url.pathname;
      if (path === "/api" || path.startsWith("/api/")) rest(req, res, path.slice(4), url.searchParams);
      else if (path.startsWith("/cdn/")) this.cdn(req, res, path.slice(4));
      else if (path === "/_emulator" || path.startsWith("/_emulator/")) {
        if (!isLoopback(req)) sendJson(res, 403, { error: "the control API only answers loopback clients" });
        else control(req, res, path, url.searchParams);
      } else sendJson(res, 404, { message: "404: Not Found", code: 0 });
    });
    this.server.on("upgrade", (req, socket, head) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (url.pathname === "/gateway" || url.pathname === "/gateway/") this.gateway.handleUpgrade(req, socket, head, url);
      else socket.destroy();
    });
  }

  /** Starts listening on 127.0.0.1:`port` (0 = any free port). */
  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.log(`emulator listening on ${this.url}`);
  }

  /** http://127.0.0.1:PORT (valid after {@link listen}). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  /** {@link url} + "/api": the `api` option for discord.js and @discordjs/rest. */
  get apiUrl(): string {
    return `${this.url}/api`;
  }
  /** {@link url} + "/cdn": the `cdn` option. */
  get cdnUrl(): string {
    return `${this.url}/cdn`;
  }
  /** ws://127.0.0.1:PORT/gateway, named by GET /gateway/bot and READY's resume_gateway_url. */
  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  private botUser(): APIUser {
    return botUserObject(this.applicationId, BOT_USERNAME);
  }

  private publicBotUser(): APIUser {
    const { verified: _v, mfa_enabled: _m, email: _e, locale: _l, premium_type: _p, ...bot } = this.botUser();
    return bot;
  }

  private application(): unknown {
    const { verified: _v, mfa_enabled: _m, email: _e, locale: _l, premium_type: _p, ...bot } = this.botUser();
    return applicationObject({
      id: this.applicationId,
      name: `${BOT_USERNAME} (emulator)`,
      flags: applicationFlags(this.allowedPrivilegedIntents),
      verifyKey: this.verifyKey,
      bot,
      owner: this.ownerUser,
      guildCount: this.guildsById.size,
    });
  }

  private sessionStartLimit(): { total: number; remaining: number; resetAfterMs: number } {
    const now = Date.now();
    while (this.identifies.length > 0 && (this.identifies[0] as number) <= now - DAY_MS) this.identifies.shift();
    const oldest = this.identifies[0];
    return {
      total: IDENTIFY_TOTAL,
      remaining: Math.max(0, IDENTIFY_TOTAL - this.identifies.length),
      resetAfterMs: oldest === undefined ? DAY_MS : oldest + DAY_MS - now,
    };
  }

  /** /cdn/avatars/{user}/{hash}.{ext}, /cdn/embed/avatars/{n}.png, /cdn/guilds/{g}/users/{u}/avatars/{hash}.{ext}. */
  private cdn(req: IncomingMessage, res: ServerResponse, path: string): void {
    const ok =
      /^\/avatars\/[0-9]+\/(a_)?[0-9a-f]{32}\.(png|webp|jpg|jpeg|gif)$/.test(path) ||
      /^\/embed\/avatars\/[0-5]\.png$/.test(path) ||
      /^\/guilds\/[0-9]+\/users\/[0-9]+\/avatars\/(a_)?[0-9a-f]{32}\.(png|webp|jpg|jpeg|gif)$/.test(path);
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendJson(res, 405, { message: "405: Method Not Allowed", code: 0 });
      return;
    }
    if (!ok) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("404: Not Found");
      return;
    }
    const png = avatarPng(path.replace(/\.[a-z]+$/, ""));
    res.writeHead(200, { "content-type": "image/png", "content-length": png.length, "cache-control": "public, max-age=86400" });
    res.end(req.method === "HEAD" ? undefined : png);
  }

  private requireGuild(guildId: string): GuildState {
    const guild = typeof guildId === "string" ? this.guildsById.get(guildId) : undefined;
    if (!guild) throw new EmulatorError(404, `Unknown Guild ${String(guildId)}`);
    return guild;
  }

  /** See {@link Emulator.seedGuild}. */
  seedGuild(options: SeedOptions): SeededGuild {
    const o = v.object(options, "seed options");
    v.onlyKeys(o, ["seed", "members", "staff", "admins", "guildId", "name", "onlineRatio", "now"], "seed options");
    const seed = v.int(o.seed, "seed", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    const members = v.int(o.members, "members", 1, 10_000_000);
    const staff = v.int(o.staff, "staff", 0, members - 1, Math.min(10, members - 1));
    const admins = v.int(o.admins, "admins", 0, Math.min(100, members - 1), Math.min(2, members - 1));
    const guildId = o.guildId === undefined ? guildIdForSeed(seed) : v.snowflake(o.guildId, "guildId");
    const name = o.name === undefined ? guildNameForSeed(seed) : v.str(o.name, "name", 2, 100);
    const onlineRatio = v.num(o.onlineRatio, "onlineRatio", 0, 1, 0.3);
    const now = v.num(o.now, "now", Date.UTC(2018, 0, 1), 8.64e15, startOfUtcDay(Date.now()));
    if (this.guildsById.has(guildId)) throw new EmulatorError(409, `guildId ${guildId} is already seeded`);

    const spec = guildSpec({ seed, guildId, members, staff, admins, onlineRatio, now });
    const guild = new GuildState(spec, name, { userId: this.applicationId, username: BOT_USERNAME });
    this.guildsById.set(guildId, guild);
    void guild.warmOnlineCount();
    this.log(`seeded guild ${guildId} "${name}" with ${members} members (seed ${seed})`);
    this.gateway.announceGuild(guild);
    return this.seeded(guild);
  }

  private seeded(guild: GuildState): SeededGuild {
    return {
      guildId: guild.id,
      name: guild.name,
      memberCount: guild.memberCount,
      roles: guild.roles.filter((r) => r.id !== guild.id).map((r) => ({ id: r.id, name: r.name })),
      staffRoleId: guild.spec.staffRoleId,
      staff: guild.staff(),
      adminRoleId: guild.spec.adminRoleId,
      admins: guild.admins().filter((id) => guild.hasMember(id)),
      ownerId: guild.ownerId,
      seed: guild.spec.seed,
      now: guild.spec.now,
    };
  }

  /** See {@link Emulator.guild}. */
  guild(guildId: string): GuildSummary {
    const guild = this.requireGuild(guildId);
    const churn = this.churns.get(guild.id);
    return {
      ...this.seeded(guild),
      onlineCount: guild.onlineCount,
      churn: churn ? { updatesPerSecond: churn.rate, staffShare: churn.staffShare } : null,
    };
  }

  /** Every seeded guild's summary. */
  guilds(): GuildSummary[] {
    return [...this.guildsById.keys()].map((id) => this.guild(id));
  }

  /** See {@link Emulator.setPresence}; follows https://discord.com/developers/docs/events/gateway-events#presence-update. */
  setPresence(guildId: string, userId: string, presence: PresenceInput): void {
    const guild = this.requireGuild(guildId);
    v.snowflake(userId, "userId");
    this.applyPresence(guild, userId, toPresenceRecord(presence));
  }

  /** Stores the presence and dispatches PRESENCE_UPDATE (with the full user when they were offline). */
  private applyPresence(guild: GuildState, userId: string, presence: PresenceRecord): void {
    const previous = guild.setPresence(userId, presence);
    // Clients drop presences of users they do not know; Discord sends the whole user when one comes online.
    const user = previous.status === "offline" ? guild.member(userId) : undefined;
    this.gateway.dispatchToGuild(
      guild,
      GatewayDispatchEvents.PresenceUpdate,
      presenceObject(guild.id, userId, presence, user),
      GatewayIntentBits.GuildPresences,
    );
  }

  /** See {@link Emulator.startChurn}; a 25 ms timer sends the updates that fell due since the last tick. */
  startChurn(guildId: string, options: ChurnOptions): void {
    const guild = this.requireGuild(guildId);
    const o = v.object(options, "churn options");
    v.onlyKeys(o, ["updatesPerSecond", "staffOnly", "staffShare"], "churn options");
    const rate = v.num(o.updatesPerSecond, "updatesPerSecond", 0.001, 10_000);
    const staffOnly = o.staffOnly === undefined ? false : v.bool(o.staffOnly, "staffOnly");
    const staffShare = staffOnly ? 1 : o.staffShare === undefined ? null : v.num(o.staffShare, "staffShare", 0, 1);
    this.stopChurn(guild.id);
    const churn: Churn = {
      rate,
      staffShare,
      due: 0,
      last: Date.now(),
      rng: new Rng(hash3(guild.spec.seed, this.churns.size, 7)),
      timer: setInterval(() => this.churnTick(guild, churn), CHURN_TICK_MS),
    };
    churn.timer.unref();
    this.churns.set(guild.id, churn);
  }

  private churnTick(guild: GuildState, churn: Churn): void {
    const now = Date.now();
    churn.due += (churn.rate * (now - churn.last)) / 1000;
    churn.last = now;
    const count = Math.min(Math.floor(churn.due), 1000);
    churn.due = Math.min(churn.due - count, 1000);
    const random = () => churn.rng.next();
    for (let i = 0; i < count; i++) {
      // Without staffShare every member is equally likely, staff included.
      const staffPick = churn.staffShare !== null && guild.spec.staffCount > 0 && random() < churn.staffShare;
      const userId = guild.randomMemberId(random, staffPick);
      if (!userId) continue;
      const current = guild.presence(userId);
      const next = current.status !== "offline" && random() < 0.25 ? OFFLINE : randomOnlinePresence(churn.rng, now);
      this.applyPresence(guild, userId, next);
    }
  }

  /** See {@link Emulator.stopChurn}. */
  stopChurn(guildId: string): void {
    const churn = this.churns.get(guildId);
    if (!churn) return;
    clearInterval(churn.timer);
    this.churns.delete(guildId);
  }

  /** See {@link Emulator.member}. */
  member(guildId: string, userId: string): MemberRecord | undefined {
    return this.requireGuild(guildId).member(userId);
  }

  /** See {@link Emulator.addMember}; follows https://discord.com/developers/docs/events/gateway-events#guild-member-add. */
  addMember(guildId: string, member: MemberInput = {}): MemberRecord {
    const guild = this.requireGuild(guildId);
    const o = v.object(member, "member");
    v.onlyKeys(o, ["userId", "username", "globalName", "avatar", "bot", "nick", "roles", "joinedAt", "pending"], "member");
    const userId = o.userId === undefined ? newSnowflake() : v.snowflake(o.userId, "userId");
    const rng = new Rng(hash3(Number(BigInt(userId) % 2n ** 52n), 0, 5));
    // A user who was a member before (generated, or added and removed) rejoins as the same user:
    // same name and avatar, a fresh member (no nick or roles, joined_at now).
    const known = o.userId === undefined ? undefined : guild.userRecord(userId);
    const record: MemberRecord = {
      userId,
      username:
        o.username !== undefined
          ? validUsername(o.username)
          : known
            ? known.username
            : `${rng.pick(ADJECTIVES)}${rng.pick(NOUNS)}${userId.slice(-4)}`,
      globalName: o.globalName !== undefined ? v.strOrNull(o.globalName, "globalName", 1, 32) : (known?.globalName ?? null),
      avatar: o.avatar !== undefined ? validAvatar(o.avatar) : known ? known.avatar : rng.hex(32),
      bot: o.bot !== undefined ? v.bool(o.bot, "bot") : (known?.bot ?? false),
      nick: o.nick === undefined ? null : v.strOrNull(o.nick, "nick", 1, 32),
      roles: o.roles === undefined ? [] : validRoles(guild, o.roles),
      joinedAt: o.joinedAt === undefined ? discordTimestamp(Date.now()) : validTimestamp(o.joinedAt, "joinedAt"),
      premiumSince: null,
      pending: o.pending === undefined ? false : v.bool(o.pending, "pending"),
    };
    guild.addMember(record);
    this.gateway.dispatchToGuild(
      guild,
      GatewayDispatchEvents.GuildMemberAdd,
      { ...memberObject(record), guild_id: guild.id },
      GatewayIntentBits.GuildMembers,
    );
    return { ...record, roles: [...record.roles] };
  }

  /** See {@link Emulator.updateMember}; follows https://discord.com/developers/docs/events/gateway-events#guild-member-update. */
  updateMember(guildId: string, userId: string, patch: MemberPatch): void {
    const guild = this.requireGuild(guildId);
    const o = v.object(patch, "member patch");
    v.onlyKeys(o, ["nick", "roles"], "member patch");
    const clean: MemberPatch = {};
    if (o.nick !== undefined) clean.nick = v.strOrNull(o.nick, "nick", 1, 32);
    if (o.roles !== undefined) clean.roles = validRoles(guild, o.roles, guild.member(userId)?.roles);
    const record = guild.updateMember(userId, clean);
    this.gateway.dispatchToGuild(
      guild,
      GatewayDispatchEvents.GuildMemberUpdate,
      { ...memberObject(record), guild_id: guild.id },
      GatewayIntentBits.GuildMembers,
    );
  }

  /** See {@link Emulator.removeMember}; follows https://discord.com/developers/docs/events/gateway-events#guild-member-remove. */
  removeMember(guildId: string, userId: string): void {
    const guild = this.requireGuild(guildId);
    if (userId === guild.botUserId) throw new EmulatorError(400, "userId is the bot; the bot cannot leave a seeded guild");
    const record = guild.removeMember(userId);
    this.gateway.dispatchToGuild(
      guild,
      GatewayDispatchEvents.GuildMemberRemove,
      { guild_id: guild.id, user: userObject(record) },
      GatewayIntentBits.GuildMembers,
    );
  }

  /** See {@link Emulator.applyMemberChanges}; events follow https://discord.com/developers/docs/events/gateway-events#guild-member-add (and -update, -remove). */
  applyMemberChanges(guildId: string, changes: MemberChanges): MemberChangesResult {
    const guild = this.requireGuild(guildId);
    const o = v.object(changes, "member changes");
    v.onlyKeys(o, ["leave", "join", "update", "seed"], "member changes");
    const leave = v.int(o.leave, "leave", 0, 1_000_000, 0);
    const join = v.int(o.join, "join", 0, 100_000, 0);
    const update = v.int(o.update, "update", 0, 1_000_000, 0);
    const seed = v.int(o.seed, "seed", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 0);
    // The bot, the owner and the seeded admins stay: they are the fixtures of permission tests.
    const keep = new Set([guild.botUserId, guild.ownerId, ...guild.admins()]);
    const eligible = guild.memberCount - [...keep].filter((id) => guild.hasMember(id)).length;
    if (leave + update > eligible) {
      throw new EmulatorError(
        400,
        `leave + update must be at most ${eligible} (members other than the bot, the owner and the admins), got ${leave + update}`,
      );
    }
    const rng = new Rng(hash3(seed, guild.spec.seed, 31));
    const picked = guild.sampleMemberIds(() => rng.next(), leave + update, keep);
    const left = picked.slice(0, leave);
    const updated = picked.slice(leave);
    for (const userId of left) this.removeMember(guild.id, userId);

    const joined: string[] = [];
    for (let k = 0; k < join; k++) {
      const h = hash3(seed, k, 37);
      // Created 2020..2025, low bits from the hash; bump until the id is new to the guild.
      let id = snowflakeAt(Date.UTC(2020, 0, 1) + (h % 157_680_000) * 1000 + 1, hash3(seed, k, 41));
      while (guild.userRecord(id.toString()) !== undefined || guild.hasMember(id.toString())) id += 1n;
      joined.push(this.addMember(guild.id, { userId: id.toString() }).userId);
    }

    const ordinary = guild.spec.memberRoleIds;
    updated.forEach((userId, k) => {
      const current = guild.member(userId) as MemberRecord;
      if (k % 2 === 0) {
        let nick: string | null = `${capitalize(rng.pick(ADJECTIVES))} ${capitalize(rng.pick(NOUNS))}`;
        if (current.nick !== null && rng.next() < 0.3) nick = null;
        if (nick === current.nick) nick = `${nick ?? "Renamed"} II`;
        this.updateMember(guild.id, userId, { nick });
      } else {
        const role = ordinary[rng.int(ordinary.length)] as string;
        const roles = current.roles.includes(role) ? current.roles.filter((r) => r !== role) : [...current.roles, role];
        this.updateMember(guild.id, userId, { roles });
      }
    });
    this.log(`member changes in ${guild.id}: ${left.length} left, ${joined.length} joined, ${updated.length} updated (seed ${seed})`);
    return { left, joined, updated };
  }

  /** See {@link Emulator.commands}. Throws 404 for an unknown guild. */
  commands(guildId?: string): ApplicationCommand[] {
    if (guildId !== undefined) this.requireGuild(guildId);
    return this.commandStore.list(guildId ?? null).map((c) => structuredClone(c.json));
  }

  /** See {@link Emulator.invokeCommand}. */
  invokeCommand(
    guildId: string,
    userId: string,
    commandName: string,
    options: Record<string, CommandOptionValue> = {},
    invoke: InvokeOptions = {},
  ): string {
    const i = v.object(invoke, "invoke options");
    v.onlyKeys(i, ["channelId", "ignoreCommandPermissions"], "invoke options");
    if (i.channelId !== undefined) v.snowflake(i.channelId, "channelId");
    if (i.ignoreCommandPermissions !== undefined) v.bool(i.ignoreCommandPermissions, "ignoreCommandPermissions");
    return this.hub.invokeCommand(guildId, userId, commandName, options, invoke);
  }

  /** See {@link Emulator.clickButton}. */
  clickButton(guildId: string, userId: string, messageId: string, customId: string): string {
    return this.hub.clickButton(guildId, userId, messageId, customId);
  }

  /** See {@link Emulator.interaction}. */
  interaction(interactionId: string): InteractionRecord {
    return this.hub.record(interactionId);
  }

  /** See {@link Emulator.waitForInteraction}. */
  waitForInteraction(
    interactionId: string,
    predicate: (record: InteractionRecord) => boolean,
    timeoutMs = 5_000,
  ): Promise<InteractionRecord> {
    return pollUntil(() => this.hub.record(interactionId), predicate, timeoutMs, 10, `interaction ${interactionId}`);
  }

  /** See {@link Emulator.dropConnections}. Throws 400 unless `code` is 1000 or 3000..4999. */
  dropConnections(code?: number): void {
    if (code !== undefined && code !== 1000 && (typeof code !== "number" || !Number.isInteger(code) || code < 3000 || code > 4999)) {
      throw new EmulatorError(400, "code must be 1000 or an integer between 3000 and 4999");
    }
    this.log(`dropping gateway connections${code === undefined ? "" : ` with ${code}`}`);
    this.gateway.dropConnections(code);
  }

  /** See {@link Emulator.sessions}. */
  sessions(): ReadonlyArray<SessionInfo> {
    return this.gateway.sessions();
  }

  /** See {@link Emulator.close}. */
  async close(): Promise<void> {
    for (const id of [...this.churns.keys()]) this.stopChurn(id);
    this.gateway.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/**
 * Calls `read` every `everyMs` until `predicate` holds on its result; rejects after `timeoutMs` with an
 * Error that shows the last result, or at once with whatever `read` throws.
 */
export async function pollUntil<T>(
  read: () => T | Promise<T>,
  predicate: (value: T) => boolean,
  timeoutMs: number,
  everyMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value)) return value;
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last state: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(everyMs, Math.max(1, deadline - Date.now()))));
  }
}

function isLoopback(req: IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? "";
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1";
}

function validUsername(value: unknown): string {
  const name = v.str(value, "username", 2, 32);
  if (!/^[a-z0-9_.]+$/.test(name)) throw new EmulatorError(400, "username may only hold a-z, 0-9, _ and .");
  return name;
}

function validAvatar(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== "string" || !/^(a_)?[0-9a-f]{32}$/.test(value))
    throw new EmulatorError(400, "avatar must be null or 32 hex characters");
  return value;
}

function validTimestamp(value: unknown, field: string): string {
  if (typeof value !== "string" || Number.isNaN(Date.parse(value))) throw new EmulatorError(400, `${field} must be an ISO 8601 timestamp`);
  return value;
}

/** Role ids that exist in the guild, not @everyone; managed roles only if the member already has them. */
function validRoles(guild: GuildState, value: unknown, current: string[] = []): string[] {
  if (!Array.isArray(value)) throw new EmulatorError(400, "roles must be an array of role snowflakes");
  const assignable = guild.assignableRoleIds();
  const out: string[] = [];
  for (const id of value) {
    if (typeof id !== "string" || !(assignable.has(id) || (current.includes(id) && guild.role(id)))) {
      throw new EmulatorError(400, `roles contains ${JSON.stringify(id)}, not an assignable role of guild ${guild.id}`);
    }
    if (!out.includes(id)) out.push(id);
  }
  return out;
}

const STATUSES = ["online", "idle", "dnd", "offline"] as const;

/** Converts control input into Discord's presence shape; throws 400 naming the bad field. */
export function toPresenceRecord(input: PresenceInput): PresenceRecord {
  const o = v.object(input, "presence");
  v.onlyKeys(o, ["status", "customStatus", "activities", "clientStatus"], "presence");
  const status = v.oneOf(o.status, "status", STATUSES) as PresenceUpdateReceiveStatus;
  const now = Date.now();
  const activities: GatewayActivity[] = [];
  if (o.customStatus !== undefined && o.customStatus !== null) {
    activities.push(customStatusActivity(v.str(o.customStatus, "customStatus", 1, 128), now));
  }
  if (o.activities !== undefined) {
    if (!Array.isArray(o.activities) || o.activities.length > 10)
      throw new EmulatorError(400, "activities must be an array of at most 10 activities");
    o.activities.forEach((raw: unknown, i: number) => {
      const a = v.object(raw, `activities[${i}]`);
      v.onlyKeys(a, ["name", "type", "state"], `activities[${i}]`);
      const name = v.str(a.name, `activities[${i}].name`, 1, 128);
      const type = v.int(a.type, `activities[${i}].type`, 0, 5) as ActivityType;
      const state = a.state === undefined ? undefined : v.strOrNull(a.state, `activities[${i}].state`, 0, 128);
      if (type === ActivityType.Custom) {
        activities.push(customStatusActivity(state ?? name, now));
        return;
      }
      const activity: GatewayActivity = { id: new Rng(hash3(now, i, 13)).hex(16), name, type, created_at: now, timestamps: { start: now } };
      if (state !== undefined) activity.state = state;
      activities.push(activity);
    });
  }
  let clientStatus: GatewayPresenceClientStatus = status === "offline" ? {} : { desktop: status };
  if (o.clientStatus !== undefined) {
    const c = v.object(o.clientStatus, "clientStatus");
    v.onlyKeys(c, ["desktop", "mobile", "web"], "clientStatus");
    clientStatus = {};
    for (const platform of ["desktop", "mobile", "web"] as const) {
      if (c[platform] !== undefined)
        clientStatus[platform] = v.oneOf(c[platform], `clientStatus.${platform}`, ["online", "idle", "dnd"]) as PresenceUpdateReceiveStatus;
    }
  }
  if (status === "offline") return OFFLINE;
  return { status, activities, client_status: clientStatus };
}

/**
 * Starts an emulator on 127.0.0.1 and resolves once it listens.
 * Throws EmulatorError (400) for invalid options, or the listen error (e.g. EADDRINUSE).
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const port = v.int(options.port, "port", 0, 65_535, 0);
  const emulator = new EmulatorServer(options);
  await emulator.listen(port);
  return emulator;
}
