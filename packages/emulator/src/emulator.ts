/**
 * The emulator process: one node:http server on 127.0.0.1 serving REST (/api), CDN (/cdn), the
 * control API (/_emulator) and the gateway (WebSocket upgrade on /gateway). This module wires the
 * parts together and holds the public {@link Emulator} API, each method a thin call into the module
 * that owns the behaviour (see README.md, "Layout").
 */
import type { IncomingMessage, Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Application, IdentifyBudget } from "./application";
import { serveCdn } from "./cdn";
import { PresenceChurn } from "./churn";
import { CommandStore } from "./commands";
import { createControlHandler } from "./control";
import { Gateway } from "./gateway";
import type { GuildDispatch } from "./guilds";
import { Guilds, seededGuild } from "./guilds";
import { sendJson } from "./http";
import * as inputs from "./inputs";
import { InteractionHub } from "./interactions";
import { Membership } from "./members";
import { MessageStore } from "./messages";
import { pollUntil } from "./poll";
import { Presences } from "./presences";
import { createRestHandler } from "./rest";
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

/** Concrete {@link Emulator}; use {@link startEmulator} to get a listening one. */
export class EmulatorServer implements Emulator {
  readonly token: string;
  readonly applicationId: string;
  readonly allowedPrivilegedIntents: number;
  readonly heartbeatIntervalMs: number;
  private readonly log: (line: string) => void;
  private readonly server: Server;
  private readonly app: Application;
  private readonly identifies = new IdentifyBudget();
  private readonly guildList = new Guilds();
  private readonly gateway: Gateway;
  private readonly presences: Presences;
  private readonly churn: PresenceChurn;
  private readonly membership: Membership;
  private readonly commandStore: CommandStore;
  private readonly messages: MessageStore;
  private readonly hub: InteractionHub;
  private port = 0;

  constructor(options: EmulatorOptions = {}) {
    const settings = inputs.emulatorSettings(options);
    this.token = settings.token;
    this.applicationId = settings.applicationId;
    this.allowedPrivilegedIntents = settings.allowedPrivilegedIntents;
    this.heartbeatIntervalMs = settings.heartbeatIntervalMs;
    this.log = settings.log;
    this.app = new Application(this.applicationId, this.allowedPrivilegedIntents);
    const guilds = this.guildList;
    const self = this;

    this.gateway = new Gateway({
      token: this.token,
      allowedPrivilegedIntents: this.allowedPrivilegedIntents,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      sessionTtlMs: settings.sessionTtlMs,
      memberRequestWindowMs: settings.memberRequestWindowMs,
      get gatewayUrl() {
        return self.gatewayUrl;
      },
      botUser: () => this.app.botUser(),
      application: () => ({ id: this.app.id, flags: this.app.flags }),
      guilds: () => guilds.values(),
      guild: (id) => guilds.get(id),
      onIdentify: () => this.identifies.record(),
      onMemberChunk: options.onMemberChunk ?? (() => {}),
      log: this.log,
    });
    const dispatch: GuildDispatch = (guild, t, d, intent) => this.gateway.dispatchToGuild(guild, t, d, intent);

    this.presences = new Presences(dispatch);
    this.churn = new PresenceChurn(this.presences);
    this.membership = new Membership(dispatch, this.log);
    this.commandStore = new CommandStore(this.applicationId);
    this.messages = new MessageStore({
      applicationId: this.applicationId,
      botUser: () => this.app.publicBotUser(),
      guild: (id) => guilds.get(id),
      dispatch,
    });
    this.hub = new InteractionHub({
      applicationId: this.applicationId,
      guild: (id) => guilds.get(id),
      commands: this.commandStore,
      messages: this.messages,
      dispatch,
      responseWindowMs: settings.interactionResponseWindowMs,
      tokenTtlMs: settings.interactionTokenTtlMs,
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
      guild: (id) => guilds.get(id),
      guilds: () => guilds.values(),
      botUser: () => this.app.botUser(),
      extraUser: (id) => this.app.user(id),
      application: () => this.app.object(guilds.size),
      sessionStartLimit: () => this.identifies.sessionStartLimit(),
    });
    const control = createControlHandler(this);

    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const path = url.pathname;
      if (path === "/api" || path.startsWith("/api/")) rest(req, res, path.slice(4), url.searchParams);
      else if (path.startsWith("/cdn/")) serveCdn(req, res, path.slice(4));
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

  /** Starts listening on 127.0.0.1:`port` (0 = any free port). Rejects with the listen error (e.g. EADDRINUSE). */
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

  /** See {@link Emulator.seedGuild}. */
  seedGuild(options: SeedOptions): SeededGuild {
    const settings = inputs.seedSettings(options);
    const guild = this.guildList.seed(settings, this.app.botIdentity);
    this.log(`seeded guild ${guild.id} "${guild.name}" with ${settings.members} members (seed ${settings.seed})`);
    this.gateway.announceGuild(guild);
    return seededGuild(guild);
  }

  /** See {@link Emulator.guild}. */
  guild(guildId: string): GuildSummary {
    const guild = this.guildList.require(guildId);
    return { ...seededGuild(guild), onlineCount: guild.onlineCount, churn: this.churn.status(guild.id) };
  }

  /** Every seeded guild's summary. */
  guilds(): GuildSummary[] {
    return [...this.guildList.values()].map((guild) => this.guild(guild.id));
  }

  /** See {@link Emulator.setPresence}; follows https://discord.com/developers/docs/events/gateway-events#presence-update. */
  setPresence(guildId: string, userId: string, presence: PresenceInput): void {
    const guild = this.guildList.require(guildId);
    v.snowflake(userId, "userId");
    this.presences.apply(guild, userId, inputs.toPresenceRecord(presence));
  }

  /** See {@link Emulator.startChurn}. */
  startChurn(guildId: string, options: ChurnOptions): void {
    const guild = this.guildList.require(guildId);
    this.churn.start(guild, inputs.churnSettings(options));
  }

  /** See {@link Emulator.stopChurn}. */
  stopChurn(guildId: string): void {
    this.churn.stop(guildId);
  }

  /** See {@link Emulator.member}. */
  member(guildId: string, userId: string): MemberRecord | undefined {
    return this.guildList.require(guildId).member(userId);
  }

  /** See {@link Emulator.addMember}; follows https://discord.com/developers/docs/events/gateway-events#guild-member-add. */
  addMember(guildId: string, member: MemberInput = {}): MemberRecord {
    const guild = this.guildList.require(guildId);
    return this.membership.add(guild, inputs.memberFields(guild, member));
  }

  /** See {@link Emulator.updateMember}; follows https://discord.com/developers/docs/events/gateway-events#guild-member-update. */
  updateMember(guildId: string, userId: string, patch: MemberPatch): void {
    const guild = this.guildList.require(guildId);
    this.membership.update(guild, userId, inputs.memberPatch(guild, userId, patch));
  }

  /** See {@link Emulator.removeMember}; follows https://discord.com/developers/docs/events/gateway-events#guild-member-remove. */
  removeMember(guildId: string, userId: string): void {
    this.membership.remove(this.guildList.require(guildId), userId);
  }

  /** See {@link Emulator.applyMemberChanges}; events follow https://discord.com/developers/docs/events/gateway-events#guild-member-add (and -update, -remove). */
  applyMemberChanges(guildId: string, changes: MemberChanges): MemberChangesResult {
    const guild = this.guildList.require(guildId);
    return this.membership.applyChanges(guild, inputs.memberChanges(changes));
  }

  /** See {@link Emulator.commands}. Throws 404 for an unknown guild. */
  commands(guildId?: string): ApplicationCommand[] {
    if (guildId !== undefined) this.guildList.require(guildId);
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
    return this.hub.invokeCommand(guildId, userId, commandName, options, inputs.invokeOptions(invoke));
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
    const checked = inputs.dropCode(code);
    this.log(`dropping gateway connections${checked === undefined ? "" : ` with ${checked}`}`);
    this.gateway.dropConnections(checked);
  }

  /** See {@link Emulator.dispatchRaw}. */
  dispatchRaw(guildId: string, type: string, data: unknown): number {
    const guild = this.guildList.require(guildId);
    return this.gateway.dispatchRaw(guild, inputs.dispatchType(type), data);
  }

  /** See {@link Emulator.sessions}. */
  sessions(): ReadonlyArray<SessionInfo> {
    return this.gateway.sessions();
  }

  /** See {@link Emulator.close}. */
  async close(): Promise<void> {
    this.churn.stopAll();
    this.gateway.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function isLoopback(req: IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? "";
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1";
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
