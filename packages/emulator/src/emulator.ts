/**
 * The emulator process: one node:http server on 127.0.0.1 serving REST (/api), CDN (/cdn), the
 * control API (/_emulator) and the gateway (WebSocket upgrade on /gateway). This module wires the
 * parts together and holds the public {@link Emulator} API, each method a thin call into the module
 * that owns the behaviour (see README.md, "Layout").
 */
import type { IncomingMessage, Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIRole } from "discord-api-types/v10";
import { GatewayDispatchEvents } from "discord-api-types/v10";
import type { RoleInput, RolePosition } from "./admintypes";
import { Application, defaultClientSecret, IdentifyBudget } from "./application";
import type { AuditEntry, AuditFilter } from "./audit";
import { AuditLog } from "./audit";
import { createAuthorizeHandler } from "./authorize";
import { serveCdn } from "./cdn";
import { PresenceChurn } from "./churn";
import { CommandStore } from "./commands";
import { createControlHandler } from "./control";
import { InteractionEndpoint } from "./delivery";
import { DiscordHttpError } from "./discorderrors";
import { EmulatorError } from "./errors";
import { Gateway } from "./gateway";
import type { GuildDispatch } from "./guilds";
import { Guilds, seededGuild } from "./guilds";
import { sendJson } from "./http";
import * as inputs from "./inputs";
import { Installs } from "./installs";
import type { EndpointVerdict, OAuth2Info, WebhookInput, WebhookRecord } from "./integrationtypes";
import { InteractionHub } from "./interactions";
import type { InviteRecord } from "./invites";
import { Invites } from "./invites";
import { Membership } from "./members";
import { MessageStore } from "./messages";
import { OAuth2 } from "./oauth2";
import { guildObject } from "./payloads";
import { pollUntil } from "./poll";
import { Presences } from "./presences";
import type { RateLimitOptions, RateLimitReport, RateLimitSettings } from "./ratelimits";
import { RateLimiter, rateLimitSettings } from "./ratelimits";
import { createRestHandler } from "./rest";
import { applicationRoutes } from "./rest/applications";
import { inviteRoutes } from "./rest/invites";
import { memberRoutes } from "./rest/members";
import { oauth2Routes } from "./rest/oauth2";
import { roleRoutes } from "./rest/roles";
import { userRoutes } from "./rest/users";
import { webhookRoutes } from "./rest/webhooks";
import { GuildRoles, roleInput, rolePositions, rolesInOrder } from "./roles";
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
  MemberUpdateShape,
  PresenceInput,
  SeededGuild,
  SeedOptions,
  SessionInfo,
} from "./types";
import { Users } from "./users";
import * as v from "./validate";
import { Webhooks } from "./webhooks";

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
  readonly clientSecret: string;
  private readonly users: Users;
  private readonly installs: Installs;
  private readonly oauth: OAuth2;
  private readonly webhookStore: Webhooks;
  private readonly endpoint: InteractionEndpoint;
  private readonly rateLimiter: RateLimiter;
  private readonly audit = new AuditLog();
  private readonly roleStore: GuildRoles;
  private readonly inviteStore: Invites;
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
      guilds: () => guilds.joinedValues(),
      guild: (id) => guilds.joined(id),
      onIdentify: () => this.identifies.record(),
      onMemberChunk: options.onMemberChunk ?? (() => {}),
      log: this.log,
    });
    // Nothing of a guild reaches the bot's sessions while the bot is not a member of it.
    const dispatch: GuildDispatch = (guild, t, d, intent) => {
      if (guild.hasMember(guild.botUserId)) this.gateway.dispatchToGuild(guild, t, d, intent);
    };

    this.presences = new Presences(dispatch);
    this.churn = new PresenceChurn(this.presences);
    this.membership = new Membership(dispatch, this.log);
    this.roleStore = new GuildRoles(dispatch, this.log);
    this.inviteStore = new Invites({ dispatch, botUser: () => this.app.publicBotUser(), log: this.log });
    this.rateLimiter = new RateLimiter(rateLimitSettings(options.rateLimits));
    this.commandStore = new CommandStore(this.applicationId);
    this.messages = new MessageStore({
      applicationId: this.applicationId,
      botUser: () => this.app.publicBotUser(),
      guild: (id) => guilds.get(id),
      dispatch,
    });
    this.users = new Users({ guilds: () => guilds.values(), owner: this.app.owner });
    this.installs = new Installs({
      bot: this.app.botIdentity,
      announceGuild: (guild) => this.gateway.announceGuild(guild),
      dispatchAlways: (guild, t, d, intent) => this.gateway.dispatchToGuild(guild, t, d, intent),
      log: this.log,
    });
    this.webhookStore = new Webhooks({
      applicationId: this.applicationId,
      get apiUrl() {
        return self.apiUrl;
      },
      guild: (id) => guilds.get(id),
      user: (id) => this.users.find(id),
      messages: this.messages,
      log: this.log,
    });
    this.clientSecret = settings.clientSecret ?? defaultClientSecret(this.applicationId);
    this.oauth = new OAuth2(
      {
        clientId: this.applicationId,
        clientSecret: this.clientSecret,
        redirectUris: settings.redirectUris,
        codeTtlMs: settings.oauth2CodeTtlMs,
        tokenTtlMs: settings.oauth2TokenTtlMs,
      },
      {
        guildObject: (id) => {
          const guild = guilds.get(id);
          return guild ? guildObject(guild, false) : null;
        },
        webhookObject: (id) => {
          const webhook = this.webhookStore.get(id);
          return webhook ? this.webhookStore.object(webhook) : null;
        },
      },
      this.log,
    );
    this.endpoint = new InteractionEndpoint({
      applicationId: this.applicationId,
      signingKey: this.app.signingKey,
      responseWindowMs: settings.interactionResponseWindowMs,
      get cdnUrl() {
        return self.cdnUrl;
      },
      respond: (id, token, body, files) => {
        this.hub.callback(id, token, body, false, files);
      },
      fail: (id) => this.hub.fail(id),
      log: this.log,
    });
    this.hub = new InteractionHub({
      applicationId: this.applicationId,
      guild: (id) => guilds.joined(id),
      commands: this.commandStore,
      messages: this.messages,
      // With an interactions endpoint URL, interactions are POSTed there instead of INTERACTION_CREATE.
      dispatch: (guild, t, d, intent) => {
        if (t === GatewayDispatchEvents.InteractionCreate && this.endpoint.endpointUrl !== null)
          this.endpoint.deliver(d as { id: string; token: string });
        else dispatch(guild, t, d, intent);
      },
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
      guild: (id) => guilds.joined(id),
      guilds: () => guilds.joinedValues(),
      knownGuild: (id) => guilds.get(id),
      botUser: () => this.app.botUser(),
      extraUser: (id) => this.app.user(id),
      application: () => this.applicationObject(),
      sessionStartLimit: () => this.identifies.sessionStartLimit(),
      rateLimiter: this.rateLimiter,
      routes: [
        ...memberRoutes({ guild: (id) => guilds.joined(id), membership: this.membership, audit: this.audit }),
        ...roleRoutes({ guild: (id) => guilds.joined(id), roles: this.roleStore, audit: this.audit }),
        ...inviteRoutes({
          guild: (id) => guilds.joined(id),
          guilds: () => guilds.joinedValues(),
          invites: this.inviteStore,
          audit: this.audit,
        }),
        ...userRoutes({
          token: this.token,
          oauth: this.oauth,
          users: this.users,
          installs: this.installs,
          botUser: () => this.app.botUser(),
          guilds: () => guilds.values(),
        }),
        ...oauth2Routes({ oauth: this.oauth, users: this.users, application: () => this.applicationObject() }),
        ...webhookRoutes({ applicationId: this.applicationId, webhooks: this.webhookStore, interactions: this.hub }),
        ...applicationRoutes({ endpoint: this.endpoint, application: () => this.applicationObject() }),
      ],
    });
    const authorize = createAuthorizeHandler({
      applicationId: this.applicationId,
      applicationName: this.app.name,
      oauth: this.oauth,
      users: this.users,
      installs: this.installs,
      guild: (id) => guilds.get(id),
      createWebhook: (guild, channelId, userId) => this.webhookStore.create(guild, channelId, this.app.name, userId).id,
      log: this.log,
    });
    const control = createControlHandler(this);

    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const path = url.pathname;
      if (path === "/oauth2/authorize" || path === "/api/oauth2/authorize" || path === "/api/v10/oauth2/authorize")
        authorize(req, res, url);
      else if (path === "/api" || path.startsWith("/api/")) rest(req, res, path.slice(4), url.searchParams);
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
    if (settings.withBot) this.gateway.announceGuild(guild);
    return seededGuild(guild);
  }

  /** See {@link Emulator.guild}. */
  guild(guildId: string): GuildSummary {
    const guild = this.guildList.require(guildId);
    return {
      ...seededGuild(guild),
      onlineCount: guild.onlineCount,
      churn: this.churn.status(guild.id),
      botMember: this.installs.isInstalled(guild),
    };
  }

  /** Every seeded guild's summary. */
  guilds(): GuildSummary[] {
    return [...this.guildList.values()].map((guild) => this.guild(guild.id));
  }

  // ---------------------------------------------------------------------------------------------
  // Integrations: OAuth2, webhooks, the interactions endpoint, the bot joining and leaving guilds

  /** See {@link Emulator.publicKey}. */
  get publicKey(): string {
    return this.app.verifyKey;
  }

  /** The application object with what OAuth2 and the endpoint hold now (GET /applications/@me). */
  private applicationObject(): unknown {
    return {
      ...(this.app.object(this.guildList.joinedCount()) as Record<string, unknown>),
      redirect_uris: this.oauth.redirectUris,
      interactions_endpoint_url: this.endpoint.endpointUrl,
    };
  }

  /** See {@link Emulator.oauth2}. */
  oauth2(): OAuth2Info {
    return {
      clientId: this.oauth.clientId,
      clientSecret: this.oauth.clientSecret,
      redirectUris: this.oauth.redirectUris,
      signedInUserId: this.oauth.signedInUserId,
      codeTtlMs: this.oauth.codeTtlMs,
      tokenTtlMs: this.oauth.tokenTtlMs,
      authorizeUrl: `${this.url}/oauth2/authorize`,
      tokenUrl: `${this.apiUrl}/v10/oauth2/token`,
    };
  }

  /** See {@link Emulator.setOAuthUser}. */
  setOAuthUser(userId: string | null): void {
    if (userId !== null && !this.users.find(v.snowflake(userId, "userId")))
      throw new EmulatorError(
        400,
        `userId ${userId} is not a user the emulator knows (a non-bot member of a guild, or the application owner)`,
      );
    this.oauth.setSignedInUser(userId);
  }

  /** See {@link Emulator.setRedirectUris}. */
  setRedirectUris(uris: string[]): void {
    this.oauth.setRedirectUris(inputs.redirectUris(uris));
  }

  /** See {@link Emulator.setInteractionsEndpoint}; follows https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint. */
  setInteractionsEndpoint(url: string | null): Promise<EndpointVerdict> {
    return this.endpoint.set(url);
  }

  /** See {@link Emulator.validateInteractionsEndpoint}. */
  validateInteractionsEndpoint(): Promise<EndpointVerdict> {
    return this.endpoint.validate();
  }

  /** See {@link Emulator.probeInteractionsEndpoint}. */
  probeInteractionsEndpoint(): Promise<EndpointVerdict> {
    return this.endpoint.probe();
  }

  /** See {@link Emulator.webhooks}. */
  webhooks(): WebhookRecord[] {
    return this.webhookStore.list();
  }

  /** See {@link Emulator.webhook}. */
  webhook(webhookId: string): WebhookRecord {
    return this.webhookStore.record(webhookId);
  }

  /** See {@link Emulator.createWebhook}; follows https://discord.com/developers/docs/resources/webhook#create-webhook. */
  createWebhook(guildId: string, input: WebhookInput): WebhookRecord {
    const guild = this.guildList.require(guildId);
    const o = v.object(input, "webhook");
    v.onlyKeys(o, ["channelId", "name"], "webhook");
    const channelId = v.snowflake(o.channelId, "channelId");
    const name = o.name === undefined ? this.app.name : v.str(o.name, "name", 1, 80);
    return this.webhookStore.record(this.webhookStore.create(guild, channelId, name, null).id);
  }

  /** See {@link Emulator.deleteWebhook}. */
  deleteWebhook(webhookId: string): void {
    this.webhookStore.delete(webhookId);
  }

  /** See {@link Emulator.addBotToGuild}; GUILD_CREATE follows https://discord.com/developers/docs/events/gateway-events#guild-create. */
  addBotToGuild(guildId: string, permissions?: string): void {
    const guild = this.guildList.require(guildId);
    if (this.installs.isInstalled(guild)) throw new EmulatorError(409, `the bot is already in guild ${guild.id}`);
    if (permissions !== undefined && (typeof permissions !== "string" || !/^[0-9]{1,20}$/.test(permissions)))
      throw new EmulatorError(400, "permissions must be a permission integer as a string");
    this.installs.join(guild, permissions === undefined ? 8n : BigInt(permissions));
  }

  /** See {@link Emulator.removeBotFromGuild}; follows https://discord.com/developers/docs/events/gateway-events#guild-delete. */
  removeBotFromGuild(guildId: string): void {
    this.installs.leave(this.guildList.require(guildId));
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

  /** See {@link Emulator.sendMemberUpdate}; follows https://discord.com/developers/docs/events/gateway-events#guild-member-update. */
  sendMemberUpdate(guildId: string, userId: string, shape: MemberUpdateShape): Record<string, unknown> {
    const guild = this.guildList.require(guildId);
    return this.membership.sendUpdate(guild, userId, inputs.memberUpdateShape(shape));
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

  /** See {@link Emulator.clickSelect}. */
  clickSelect(guildId: string, userId: string, messageId: string, customId: string, values: string[]): string {
    return this.hub.clickSelect(guildId, userId, messageId, customId, values);
  }

  // ---------------------------------------------------------------------------------------------
  // Guild administration: roles, the audit log, invites, rate limits (admintypes.ts)

  /** See {@link Emulator.roles}. */
  roles(guildId: string): APIRole[] {
    return rolesInOrder(this.guildList.require(guildId)).map((r) => structuredClone(r));
  }

  /** See {@link Emulator.createRole}; follows https://discord.com/developers/docs/resources/guild#create-guild-role. */
  createRole(guildId: string, input: RoleInput): APIRole {
    const guild = this.guildList.require(guildId);
    const fields = roleInput(input);
    return structuredClone(asControlError(() => this.roleStore.create(guild, fields)));
  }

  /** See {@link Emulator.editRole}; follows https://discord.com/developers/docs/resources/guild#modify-guild-role. */
  editRole(guildId: string, roleId: string, patch: RoleInput): APIRole {
    const guild = this.guildList.require(guildId);
    const fields = roleInput(patch, "role patch");
    return structuredClone(asControlError(() => this.roleStore.edit(guild, roleId, fields)));
  }

  /** See {@link Emulator.deleteRole}; follows https://discord.com/developers/docs/resources/guild#delete-guild-role. */
  deleteRole(guildId: string, roleId: string): void {
    const guild = this.guildList.require(guildId);
    asControlError(() => this.roleStore.delete(guild, roleId));
  }

  /** See {@link Emulator.setRolePositions}; follows https://discord.com/developers/docs/resources/guild#modify-guild-role-positions. */
  setRolePositions(guildId: string, positions: RolePosition[]): APIRole[] {
    const guild = this.guildList.require(guildId);
    const moves = rolePositions(positions);
    return asControlError(() => this.roleStore.move(guild, moves)).map((r) => structuredClone(r));
  }

  /** See {@link Emulator.auditLog}. */
  auditLog(guildId: string, filter: AuditFilter = {}): AuditEntry[] {
    const guild = this.guildList.require(guildId);
    const f = v.object(filter, "filter");
    v.onlyKeys(f, ["actionType", "targetId", "userId"], "filter");
    return this.audit.list(guild.id, filter).map((e) => structuredClone(e));
  }

  /** See {@link Emulator.invites}. */
  invites(guildId: string): InviteRecord[] {
    return this.inviteStore.records(this.guildList.require(guildId).id);
  }

  /** See {@link Emulator.rateLimits}. */
  rateLimits(): RateLimitReport {
    return this.rateLimiter.report();
  }

  /** See {@link Emulator.setRateLimits}. */
  setRateLimits(options: RateLimitOptions): RateLimitSettings {
    return this.rateLimiter.configure(options);
  }

  /** See {@link Emulator.resetRateLimits}. */
  resetRateLimits(): void {
    this.rateLimiter.reset();
  }

  /** See {@link Emulator.interaction}. */
  interaction(interactionId: string): InteractionRecord {
    return { ...this.hub.record(interactionId), delivery: this.endpoint.outcome(interactionId) ?? { via: "gateway" } };
  }

  /** See {@link Emulator.waitForInteraction}. */
  waitForInteraction(
    interactionId: string,
    predicate: (record: InteractionRecord) => boolean,
    timeoutMs = 5_000,
  ): Promise<InteractionRecord> {
    return pollUntil(() => this.interaction(interactionId), predicate, timeoutMs, 10, `interaction ${interactionId}`);
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

/** Runs a change the control API asked for; Discord's errors (10011 Unknown Role, 30005, 50028) become EmulatorErrors with their status. */
function asControlError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DiscordHttpError) throw new EmulatorError(err.status === 404 ? 404 : 400, `${err.message} (${err.code})`);
    throw err;
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
