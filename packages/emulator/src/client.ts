/**
 * EmulatorControl: a typed fetch client for the control API, for processes that did not start
 * the emulator themselves (e2e tests, benchmarks, the demo launcher).
 */

import type { APIRole } from "discord-api-types/v10";
import type { RoleInput, RolePosition } from "./admintypes";
import type { AuditEntry, AuditFilter } from "./audit";
import type { EndpointVerdict, OAuth2Info, WebhookInput, WebhookRecord } from "./integrationtypes";
import type { InviteRecord } from "./invites";
import type { RateLimitOptions, RateLimitReport, RateLimitSettings } from "./ratelimits";
import type {
  ApplicationCommand,
  ChurnOptions,
  CommandOptionValue,
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

/** Where an emulator listens and how to authenticate against it (GET /_emulator). */
export interface EmulatorInfo {
  url: string;
  apiUrl: string;
  cdnUrl: string;
  gatewayUrl: string;
  applicationId: string;
  token: string;
  /** The OAuth2 client id (the application id). */
  clientId: string;
  clientSecret: string;
  /** The application's Ed25519 public key in hex (`verify_key`). */
  publicKey: string;
}

/** A control API call that did not succeed; `status` is the HTTP status, `message` the emulator's `error`. */
export class EmulatorControlError extends Error {
  override readonly name = "EmulatorControlError";

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Typed client for /_emulator; every method rejects with EmulatorControlError on a non-2xx answer. */
export class EmulatorControl {
  private readonly base: string;

  /** @param baseUrl the emulator's url, e.g. "http://127.0.0.1:3001" (a trailing slash is fine). */
  constructor(baseUrl: string) {
    this.base = baseUrl.replace(/\/+$/, "");
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const res = await fetch(`${this.base}/_emulator${path}`, init);
    const text = await res.text();
    const data: unknown = text === "" ? undefined : JSON.parse(text);
    if (!res.ok) {
      const message =
        typeof data === "object" && data !== null && "error" in data ? String((data as { error: unknown }).error) : `HTTP ${res.status}`;
      throw new EmulatorControlError(res.status, message);
    }
    return data as T;
  }

  private static seg(id: string): string {
    return encodeURIComponent(id);
  }

  /** GET /_emulator: URLs, application id, bot token, OAuth2 client credentials and the public key. */
  info(): Promise<EmulatorInfo> {
    return this.call("GET", "");
  }

  /** GET /_emulator/oauth2: client id and secret, redirect URIs, the default signed-in user, code and token lifetimes, URLs. */
  oauth2(): Promise<OAuth2Info> {
    return this.call("GET", "/oauth2");
  }

  /**
   * PUT /_emulator/oauth2/user: who the authorize page signs in by default (null: nobody, the page asks).
   * 400 unless the id names a non-bot user some guild knows, or the application owner.
   */
  async setOAuthUser(userId: string | null): Promise<void> {
    await this.call("PUT", "/oauth2/user", { userId });
  }

  /** PUT /_emulator/oauth2/redirect-uris: replaces the registered redirect URIs. 400 naming a bad entry. */
  async setRedirectUris(redirectUris: string[]): Promise<void> {
    await this.call("PUT", "/oauth2/redirect-uris", { redirectUris });
  }

  /**
   * PUT /_emulator/interactions-endpoint: sets the interactions endpoint URL after Discord's checks (PING
   * answered with PONG, invalid signatures refused with 401), or removes it with null. Resolves to the
   * verdict; a URL that fails is not saved (`endpointUrl` says what is set).
   */
  setInteractionsEndpoint(url: string | null): Promise<EndpointVerdict> {
    return this.call("PUT", "/interactions-endpoint", { url });
  }

  /** POST /_emulator/interactions-endpoint/validate: the checks again, nothing changed. 409 when no URL is set. */
  validateInteractionsEndpoint(): Promise<EndpointVerdict> {
    return this.call("POST", "/interactions-endpoint/validate");
  }

  /** POST /_emulator/interactions-endpoint/probe: Discord's bad-signature probes; a failing endpoint loses its URL. 409 when none is set. */
  probeInteractionsEndpoint(): Promise<EndpointVerdict> {
    return this.call("POST", "/interactions-endpoint/probe");
  }

  /** GET /_emulator/webhooks: every incoming webhook, deleted ones included, with the messages posted through it. */
  webhooks(): Promise<WebhookRecord[]> {
    return this.call("GET", "/webhooks");
  }

  /** GET /_emulator/webhooks/:id. 404 unknown id. */
  webhook(webhookId: string): Promise<WebhookRecord> {
    return this.call("GET", `/webhooks/${EmulatorControl.seg(webhookId)}`);
  }

  /** POST /_emulator/guilds/:g/webhooks: creates an incoming webhook in a text channel. 404 guild, 400 naming the field. */
  createWebhook(guildId: string, input: WebhookInput): Promise<WebhookRecord> {
    return this.call("POST", `/guilds/${EmulatorControl.seg(guildId)}/webhooks`, input);
  }

  /** DELETE /_emulator/webhooks/:id: executing it then answers 404 / 10015 Unknown Webhook. 404 unknown or deleted. */
  async deleteWebhook(webhookId: string): Promise<void> {
    await this.call("DELETE", `/webhooks/${EmulatorControl.seg(webhookId)}`);
  }

  /** PUT /_emulator/guilds/:g/bot: adds the bot (GUILD_CREATE) with `permissions` on its role (default ADMINISTRATOR). 404 guild, 409 already there. */
  async addBotToGuild(guildId: string, permissions?: string): Promise<void> {
    await this.call("PUT", `/guilds/${EmulatorControl.seg(guildId)}/bot`, permissions === undefined ? {} : { permissions });
  }

  /** DELETE /_emulator/guilds/:g/bot: removes the bot (GUILD_DELETE without `unavailable`). 404 guild, 409 not there. */
  async removeBotFromGuild(guildId: string): Promise<void> {
    await this.call("DELETE", `/guilds/${EmulatorControl.seg(guildId)}/bot`);
  }

  /** POST /_emulator/guilds: seeds a guild (see Emulator.seedGuild). 400 bad options, 409 existing id. */
  seedGuild(options: SeedOptions): Promise<SeededGuild> {
    return this.call("POST", "/guilds", options);
  }

  /** GET /_emulator/guilds/:id: the guild as it is now. 404 unknown guild. */
  guild(guildId: string): Promise<GuildSummary> {
    return this.call("GET", `/guilds/${EmulatorControl.seg(guildId)}`);
  }

  /** GET /_emulator/guilds: every seeded guild. */
  guilds(): Promise<GuildSummary[]> {
    return this.call("GET", "/guilds");
  }

  /** PUT /_emulator/guilds/:g/members/:u/presence: sets a presence, dispatching PRESENCE_UPDATE. */
  async setPresence(guildId: string, userId: string, presence: PresenceInput): Promise<void> {
    await this.call("PUT", `/guilds/${EmulatorControl.seg(guildId)}/members/${EmulatorControl.seg(userId)}/presence`, presence);
  }

  /** POST /_emulator/guilds/:g/churn: random presence changes at `updatesPerSecond`. */
  async startChurn(guildId: string, options: ChurnOptions): Promise<void> {
    await this.call("POST", `/guilds/${EmulatorControl.seg(guildId)}/churn`, options);
  }

  /** DELETE /_emulator/guilds/:g/churn. */
  async stopChurn(guildId: string): Promise<void> {
    await this.call("DELETE", `/guilds/${EmulatorControl.seg(guildId)}/churn`);
  }

  /** GET /_emulator/guilds/:g/members/:u: the member, or undefined when not a member. */
  async member(guildId: string, userId: string): Promise<MemberRecord | undefined> {
    try {
      return await this.call<MemberRecord>("GET", `/guilds/${EmulatorControl.seg(guildId)}/members/${EmulatorControl.seg(userId)}`);
    } catch (err) {
      if (err instanceof EmulatorControlError && err.status === 404 && err.message.startsWith("Unknown Member")) return undefined;
      throw err;
    }
  }

  /** POST /_emulator/guilds/:g/members: adds a member, dispatching GUILD_MEMBER_ADD. */
  addMember(guildId: string, member: MemberInput = {}): Promise<MemberRecord> {
    return this.call("POST", `/guilds/${EmulatorControl.seg(guildId)}/members`, member);
  }

  /** PATCH /_emulator/guilds/:g/members/:u: nick/roles, dispatching GUILD_MEMBER_UPDATE; resolves to the updated member. */
  updateMember(guildId: string, userId: string, patch: MemberPatch): Promise<MemberRecord> {
    return this.call("PATCH", `/guilds/${EmulatorControl.seg(guildId)}/members/${EmulatorControl.seg(userId)}`, patch);
  }

  /**
   * POST /_emulator/guilds/:g/members/:u/update-event `{omit?, set?}`: dispatches a GUILD_MEMBER_UPDATE
   * shaped as a partial or faulty peer sends it, changing nothing stored (see Emulator.sendMemberUpdate).
   * Resolves to the payload dispatched.
   */
  sendMemberUpdate(guildId: string, userId: string, shape: MemberUpdateShape): Promise<Record<string, unknown>> {
    return this.call("POST", `/guilds/${EmulatorControl.seg(guildId)}/members/${EmulatorControl.seg(userId)}/update-event`, shape);
  }

  /** DELETE /_emulator/guilds/:g/members/:u: removes a member, dispatching GUILD_MEMBER_REMOVE. */
  async removeMember(guildId: string, userId: string): Promise<void> {
    await this.call("DELETE", `/guilds/${EmulatorControl.seg(guildId)}/members/${EmulatorControl.seg(userId)}`);
  }

  /** POST /_emulator/gateway/drop: closes every gateway socket (see Emulator.dropConnections). */
  async dropConnections(code?: number): Promise<void> {
    await this.call("POST", "/gateway/drop", code === undefined ? {} : { code });
  }

  /** GET /_emulator/sessions. */
  sessions(): Promise<SessionInfo[]> {
    return this.call("GET", "/sessions");
  }

  /**
   * POST /_emulator/guilds/:g/member-changes: `leave` members leave, `join` join, `update` change nick
   * or roles (GUILD_MEMBER_REMOVE / _ADD / _UPDATE), deterministic in `seed` (see Emulator.applyMemberChanges).
   * Resolves to the affected user ids. 404 unknown guild, 400 naming the bad field.
   */
  applyMemberChanges(guildId: string, changes: MemberChanges): Promise<MemberChangesResult> {
    return this.call("POST", `/guilds/${EmulatorControl.seg(guildId)}/member-changes`, changes);
  }

  /**
   * POST /_emulator/guilds/:g/dispatch `{t, d}`: dispatches gateway event `t` with `d` exactly as given
   * to the sessions of the guild's shard (see Emulator.dispatchRaw). Resolves to how many sessions got it.
   * 404 unknown guild, 400 a bad `t`.
   */
  async dispatchRaw(guildId: string, type: string, data: unknown): Promise<number> {
    const { sessions } = await this.call<{ sessions: number }>("POST", `/guilds/${EmulatorControl.seg(guildId)}/dispatch`, {
      t: type,
      d: data,
    });
    return sessions;
  }

  /** GET /_emulator/commands[?guildId=]: the registered application commands (global without `guildId`). */
  commands(guildId?: string): Promise<ApplicationCommand[]> {
    return this.call("GET", guildId === undefined ? "/commands" : `/commands?guildId=${encodeURIComponent(guildId)}`);
  }

  /**
   * POST /_emulator/guilds/:g/interactions `{userId, command, options, ...}`: uses a slash command as a member
   * (see Emulator.invokeCommand); resolves to the interaction id. 400 naming `userId`, `command`,
   * `options.<name>` or `channelId`; 403 when the member lacks the command's default_member_permissions.
   */
  async invokeCommand(
    guildId: string,
    userId: string,
    command: string,
    options: Record<string, CommandOptionValue> = {},
    invoke: InvokeOptions = {},
  ): Promise<string> {
    const body = { userId, command, options, ...invoke };
    return (await this.call<{ interactionId: string }>("POST", `/guilds/${EmulatorControl.seg(guildId)}/interactions`, body)).interactionId;
  }

  /**
   * POST /_emulator/guilds/:g/interactions `{userId, messageId, customId}`: clicks a button as a member
   * (see Emulator.clickButton); resolves to the interaction id. 400 naming `userId`, `messageId` or `customId`.
   */
  async clickButton(guildId: string, userId: string, messageId: string, customId: string): Promise<string> {
    return (
      await this.call<{ interactionId: string }>("POST", `/guilds/${EmulatorControl.seg(guildId)}/interactions`, {
        userId,
        messageId,
        customId,
      })
    ).interactionId;
  }

  /**
   * POST /_emulator/guilds/:g/interactions `{userId, messageId, customId, values}`: chooses `values` in a select
   * menu as a member (see Emulator.clickSelect); resolves to the interaction id. 400 naming `userId`,
   * `messageId`, `customId` or `values`.
   */
  async clickSelect(guildId: string, userId: string, messageId: string, customId: string, values: string[]): Promise<string> {
    return (
      await this.call<{ interactionId: string }>("POST", `/guilds/${EmulatorControl.seg(guildId)}/interactions`, {
        userId,
        messageId,
        customId,
        values,
      })
    ).interactionId;
  }

  /** GET /_emulator/guilds/:g/roles: the guild's roles from @everyone (position 0) to the top. 404 unknown guild. */
  roles(guildId: string): Promise<APIRole[]> {
    return this.call("GET", `/guilds/${EmulatorControl.seg(guildId)}/roles`);
  }

  /** POST /_emulator/guilds/:g/roles: creates a role (GUILD_ROLE_CREATE); see Emulator.createRole. 404 guild, 400 naming the field. */
  createRole(guildId: string, input: RoleInput): Promise<APIRole> {
    return this.call("POST", `/guilds/${EmulatorControl.seg(guildId)}/roles`, input);
  }

  /** PATCH /_emulator/guilds/:g/roles/:r: changes or moves a role (GUILD_ROLE_UPDATE). 404 guild or role, 400 naming the field. */
  editRole(guildId: string, roleId: string, patch: RoleInput): Promise<APIRole> {
    return this.call("PATCH", `/guilds/${EmulatorControl.seg(guildId)}/roles/${EmulatorControl.seg(roleId)}`, patch);
  }

  /** DELETE /_emulator/guilds/:g/roles/:r: deletes a role; it leaves every member (GUILD_ROLE_DELETE). 404 guild or role, 400 @everyone. */
  async deleteRole(guildId: string, roleId: string): Promise<void> {
    await this.call("DELETE", `/guilds/${EmulatorControl.seg(guildId)}/roles/${EmulatorControl.seg(roleId)}`);
  }

  /** PATCH /_emulator/guilds/:g/roles `[{id, position}]`: moves roles; resolves to the roles bottom to top. 404, 400. */
  setRolePositions(guildId: string, positions: RolePosition[]): Promise<APIRole[]> {
    return this.call("PATCH", `/guilds/${EmulatorControl.seg(guildId)}/roles`, positions);
  }

  /** GET /_emulator/guilds/:g/audit-log[?actionType&targetId&userId]: what the bot changed, oldest first, with its reasons. 404 guild. */
  auditLog(guildId: string, filter: AuditFilter = {}): Promise<AuditEntry[]> {
    const query = new URLSearchParams();
    if (filter.actionType !== undefined) query.set("actionType", String(filter.actionType));
    if (filter.targetId !== undefined) query.set("targetId", filter.targetId);
    if (filter.userId !== undefined) query.set("userId", filter.userId);
    const qs = query.toString();
    return this.call("GET", `/guilds/${EmulatorControl.seg(guildId)}/audit-log${qs ? `?${qs}` : ""}`);
  }

  /** GET /_emulator/guilds/:g/invites: every invite the bot made in the guild (code, url, settings, expired). 404 guild. */
  invites(guildId: string): Promise<InviteRecord[]> {
    return this.call("GET", `/guilds/${EmulatorControl.seg(guildId)}/invites`);
  }

  /** GET /_emulator/rate-limits: the limits in force and every bucket's requests and 429s since the last reset. */
  rateLimits(): Promise<RateLimitReport> {
    return this.call("GET", "/rate-limits");
  }

  /** PUT /_emulator/rate-limits: changes limits (anything left out stays); resolves to the limits now in force. 400 naming the field. */
  setRateLimits(options: RateLimitOptions): Promise<RateLimitSettings> {
    return this.call("PUT", "/rate-limits", options);
  }

  /** POST /_emulator/rate-limits/reset: zeroes the counters and windows. */
  async resetRateLimits(): Promise<void> {
    await this.call("POST", "/rate-limits/reset");
  }

  /** GET /_emulator/interactions/:id: what happened to an interaction so far. 404 unknown id. */
  interaction(interactionId: string): Promise<InteractionRecord> {
    return this.call("GET", `/interactions/${EmulatorControl.seg(interactionId)}`);
  }

  /**
   * Polls GET /_emulator/interactions/:id (every 25 ms) until `predicate` holds, e.g.
   * `(r) => r.original?.content.includes("Synced") ?? false`. Rejects after `timeoutMs` (default 5000)
   * with an Error showing the last record, or with EmulatorControlError 404 for an unknown id.
   */
  async waitForInteraction(
    interactionId: string,
    predicate: (record: InteractionRecord) => boolean,
    timeoutMs = 5_000,
  ): Promise<InteractionRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const record = await this.interaction(interactionId);
      if (predicate(record)) return record;
      if (Date.now() >= deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for interaction ${interactionId}; last state: ${JSON.stringify(record)}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(25, Math.max(1, deadline - Date.now()))));
    }
  }
}
