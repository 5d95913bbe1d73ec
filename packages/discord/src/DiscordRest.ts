import { REST } from "@discordjs/rest";
import {
  type APIGuild,
  type RESTGetAPIChannelMessageResult,
  type RESTGetAPICurrentUserResult,
  type RESTGetAPIGatewayBotResult,
  type RESTGetAPIGuildChannelsResult,
  type RESTGetAPIGuildMemberResult,
  type RESTGetAPIGuildMembersResult,
  type RESTGetAPIGuildResult,
  type RESTGetAPIGuildRolesResult,
  type RESTGetCurrentUserGuildMemberResult,
  type RESTPatchAPIGuildMemberJSONBody,
  type RESTPatchAPIGuildMemberResult,
  type RESTPatchAPIWebhookWithTokenMessageJSONBody,
  type RESTPostAPIChannelInviteJSONBody,
  type RESTPostAPIChannelInviteResult,
  type RESTPostAPIChannelMessageJSONBody,
  type RESTPostAPIWebhookWithTokenJSONBody,
  type RESTPostAPIWebhookWithTokenWaitResult,
  type RESTPostOAuth2AccessTokenResult,
  Routes,
} from "discord-api-types/v10";
import { Context, Effect, Layer, Option, Stream } from "effect";
import type { DiscordError } from "./errors";
import { makeRequester } from "./request";

/** Where and how the port talks to Discord. */
export interface DiscordRestConfig {
  /** The bot token. Never logged, never in an error. */
  readonly token: string;
  /** Discord's REST base without the version, e.g. `http://127.0.0.1:3001/api` for the emulator; default `https://discord.com/api`. */
  readonly api?: string | undefined;
  /** How long one attempt may take before it fails transient (ms). Default 15,000. */
  readonly timeoutMs?: number | undefined;
  /**
   * The longest rate-limit wait the port sits through for a caller (ms). Default 15,000.
   * Shorter waits (a bucket's window, such as member roles' 10 per 10 s) are waited out in the
   * queue; a longer one fails the call at once with a transient 429 carrying `retryAfterMs`, so
   * the job is rescheduled instead of holding its worker.
   */
  readonly maxRateLimitWaitMs?: number | undefined;
}

/** Options of a call that Discord records in the guild's audit log. */
export interface AuditLogOptions {
  /**
   * Why, shown in the guild's audit log: sent as `X-Audit-Log-Reason` (URL-encoded; cut to 512
   * characters). https://discord.com/developers/docs/resources/audit-log
   */
  readonly reason?: string | undefined;
}

/** The application's OAuth2 client credentials (the client secret is never logged, never in an error). */
export interface OAuthClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * Discord's access token response (https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-access-token-response):
 * `expires_in` in seconds; `guild` for a grant with the `bot` scope (the guild the bot was added
 * to: the truth, where the redirect's `guild_id` is only a hint).
 */
export type OAuthTokenResult = RESTPostOAuth2AccessTokenResult & { readonly guild?: APIGuild };

/** Members per page of List Guild Members: Discord's maximum. */
export const MEMBER_PAGE_LIMIT = 1_000;

/** Default per-attempt timeout (ms). */
export const DEFAULT_TIMEOUT_MS = 15_000;
/** Default longest rate-limit wait (ms), see {@link DiscordRestConfig.maxRateLimitWaitMs}. */
export const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 15_000;

/**
 * The Discord port: the one way Guildhall calls Discord's REST API, as Effect operations over
 * @discordjs/rest. Every operation fails with {@link DiscordError}: `DiscordPermanentError`
 * (never retry) or `DiscordTransientError` (retry later; the job does, with backoff). Ids are
 * snowflake strings; one that is not fails permanent before anything is sent.
 *
 * Rate limits: @discordjs/rest keeps Discord's per-route buckets and the global 50 requests/s
 * from the `X-RateLimit-*` headers and queues calls to fit, so after the first answer of a
 * bucket no call meets a 429 it could have avoided.
 *
 * Adding a route (the next issues' scheduled events, messages, invites, webhooks, OAuth2,
 * interaction callbacks) is a method here with its Discord doc link, and a few lines in `make`:
 *
 * ```ts
 * const createScheduledEvent = Effect.fn("DiscordRest.createScheduledEvent")(function* (
 *   guildId: string, body: RESTPostAPIGuildScheduledEventJSONBody, options?: AuditLogOptions,
 * ) {
 *   return yield* call<RESTPostAPIGuildScheduledEventResult>({
 *     method: "POST", route: Routes.guildScheduledEvents(guildId), ids: { guildId }, body, reason: options?.reason,
 *   });
 * });
 * ```
 *
 * A route authorized by a token in its path (execute webhook, interaction callback and
 * follow-ups) passes `auth: "none"` and `secrets: [token]`, and errors show it as `:token`.
 */
export class DiscordRest extends Context.Service<
  DiscordRest,
  {
    /** `GET /gateway/bot`: the gateway URL, recommended shards, session start limit. https://discord.com/developers/docs/events/gateway#get-gateway-bot */
    readonly gatewayBot: () => Effect.Effect<RESTGetAPIGatewayBotResult, DiscordError>;
    /** `GET /users/@me`: the bot's own user (its id is the bot's member id in every guild). https://discord.com/developers/docs/resources/user#get-current-user */
    readonly me: () => Effect.Effect<RESTGetAPICurrentUserResult, DiscordError>;
    /** `GET /guilds/{guild}?with_counts=true`: the guild with approximate member and presence counts. https://discord.com/developers/docs/resources/guild#get-guild */
    readonly guild: (guildId: string) => Effect.Effect<RESTGetAPIGuildResult, DiscordError>;
    /** `GET /guilds/{guild}/roles`: every role of the guild, @everyone included. https://discord.com/developers/docs/resources/guild#get-guild-roles */
    readonly roles: (guildId: string) => Effect.Effect<RESTGetAPIGuildRolesResult, DiscordError>;
    /** `GET /guilds/{guild}/members/{user}`; 10007 Unknown Member (permanent) when the user is not a member. https://discord.com/developers/docs/resources/guild#get-guild-member */
    readonly member: (guildId: string, userId: string) => Effect.Effect<RESTGetAPIGuildMemberResult, DiscordError>;
    /**
     * `GET /guilds/{guild}/members?limit&after`: one page of List Guild Members, ascending by user
     * id, the members whose user id is above `after` (default "0"); `limit` 1..1,000 (default
     * 1,000). Needs the GUILD_MEMBERS intent (50001 Missing Access otherwise).
     * https://discord.com/developers/docs/resources/guild#list-guild-members
     */
    readonly memberPage: (
      guildId: string,
      page?: { readonly after?: string | undefined; readonly limit?: number | undefined },
    ) => Effect.Effect<RESTGetAPIGuildMembersResult, DiscordError>;
    /**
     * Every member of a guild as a stream of pages of List Guild Members (1,000 a page, each
     * page asked for after the previous one was pulled): memory stays at one page. Ends after
     * the first page shorter than 1,000; emits no empty page. Fails as {@link memberPage} does.
     * https://discord.com/developers/docs/resources/guild#list-guild-members
     */
    readonly memberPages: (guildId: string) => Stream.Stream<RESTGetAPIGuildMembersResult, DiscordError>;
    /**
     * `PATCH /guilds/{guild}/members/{user}`: nick, roles (the WHOLE list: it must carry managed
     * roles unchanged), mute, deaf, channel_id, communication_disabled_until, flags. Returns the
     * member. 50013 Missing Permissions when a role or the member is not below the bot's highest role.
     * https://discord.com/developers/docs/resources/guild#modify-guild-member
     */
    readonly editMember: (
      guildId: string,
      userId: string,
      body: RESTPatchAPIGuildMemberJSONBody,
      options?: AuditLogOptions,
    ) => Effect.Effect<RESTPatchAPIGuildMemberResult, DiscordError>;
    /**
     * `PUT /guilds/{guild}/members/{user}/roles/{role}` (204): grants one role. Idempotent.
     * 10011 Unknown Role, 50028 Invalid Role (managed), 50013 when the role is not below the bot's highest.
     * https://discord.com/developers/docs/resources/guild#add-guild-member-role
     */
    readonly addMemberRole: (
      guildId: string,
      userId: string,
      roleId: string,
      options?: AuditLogOptions,
    ) => Effect.Effect<void, DiscordError>;
    /**
     * `DELETE /guilds/{guild}/members/{user}/roles/{role}` (204): removes one role. Idempotent.
     * https://discord.com/developers/docs/resources/guild#remove-guild-member-role
     */
    readonly removeMemberRole: (
      guildId: string,
      userId: string,
      roleId: string,
      options?: AuditLogOptions,
    ) => Effect.Effect<void, DiscordError>;
    /**
     * `POST /webhooks/{webhook}/{token}?wait=true`: Execute Webhook (no bot token: the webhook's
     * token in the path authorizes it, and is kept out of every error as `:token`). Returns the
     * message created. 404 / 10015 Unknown Webhook when it was deleted, 401 / 50027 Invalid
     * Webhook Token (both permanent), 400 / 50035 for a body outside Discord's limits.
     * https://discord.com/developers/docs/resources/webhook#execute-webhook
     */
    readonly executeWebhook: (
      webhookId: string,
      token: string,
      body: RESTPostAPIWebhookWithTokenJSONBody,
    ) => Effect.Effect<RESTPostAPIWebhookWithTokenWaitResult, DiscordError>;
    /**
     * `POST /interactions/{id}/{token}/callback`: the first response to an interaction (within 3 s
     * of it; types 1, 4-7). Authorized by the token in the path (no bot token sent); the token never
     * shows in an error. https://discord.com/developers/docs/interactions/receiving-and-responding#create-interaction-response
     */
    readonly interactionCallback: (interactionId: string, token: string, body: unknown) => Effect.Effect<void, DiscordError>;
    /**
     * `PATCH /webhooks/{application.id}/{token}/messages/@original`: edits the first response of an
     * interaction (its token works 15 minutes). Authorized by the token in the path; the token never
     * shows in an error. https://discord.com/developers/docs/interactions/receiving-and-responding#edit-original-interaction-response
     */
    readonly editOriginalResponse: (
      applicationId: string,
      token: string,
      body: RESTPatchAPIWebhookWithTokenMessageJSONBody,
    ) => Effect.Effect<void, DiscordError>;
    /**
     * `POST /oauth2/token` (form-urlencoded, client credentials by HTTP Basic): the
     * `authorization_code` grant (`{grant_type, code, redirect_uri}`) or the `refresh_token` grant
     * (`{grant_type, refresh_token}`). Resolves to the token response (see {@link OAuthTokenResult}).
     * An invalid code or refresh token is a permanent 400 (`invalid_grant`); wrong credentials 401.
     * https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-access-token-exchange-example
     */
    readonly oauthToken: (
      client: OAuthClient,
      grant:
        | { readonly grant_type: "authorization_code"; readonly code: string; readonly redirect_uri: string }
        | { readonly grant_type: "refresh_token"; readonly refresh_token: string },
    ) => Effect.Effect<OAuthTokenResult, DiscordError>;
    /**
     * `POST /oauth2/token/revoke`: revokes `token` (access or refresh) and with it every token of
     * that authorization. An unknown token is not an error.
     * https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-token-revocation-example
     */
    readonly revokeOAuthToken: (
      client: OAuthClient,
      token: string,
      hint: "access_token" | "refresh_token",
    ) => Effect.Effect<void, DiscordError>;
    /**
     * `GET /users/@me` with a user's OAuth2 access token (scope `identify`): who authorized.
     * 401 (permanent) for an unknown, expired or revoked token or one without the scope.
     * https://discord.com/developers/docs/resources/user#get-current-user
     */
    readonly currentUser: (accessToken: string) => Effect.Effect<RESTGetAPICurrentUserResult, DiscordError>;
    /**
     * `GET /users/@me/guilds/{guild}/member` with a user's OAuth2 access token (scope
     * `guilds.members.read`): that user's member object in the guild (roles as ids); 10004
     * Unknown Guild (permanent) when the user is not a member.
     * https://discord.com/developers/docs/resources/user#get-current-user-guild-member
     */
    readonly currentUserGuildMember: (
      accessToken: string,
      guildId: string,
    ) => Effect.Effect<RESTGetCurrentUserGuildMemberResult, DiscordError>;
    /**
     * `DELETE /users/@me/guilds/{guild}` with the bot token (204): the bot leaves the guild.
     * 10004 Unknown Guild (permanent) when it is not there.
     * https://discord.com/developers/docs/resources/user#leave-guild
     */
    readonly leaveGuild: (guildId: string) => Effect.Effect<void, DiscordError>;
    /**
     * `GET /guilds/{guild}/channels`: the guild's channels (without threads), each with its
     * `permission_overwrites`. https://discord.com/developers/docs/resources/guild#get-guild-channels
     */
    readonly channels: (guildId: string) => Effect.Effect<RESTGetAPIGuildChannelsResult, DiscordError>;
    /**
     * `POST /channels/{channel}/messages`: posts a message (needs View Channel and Send Messages).
     * A Components V2 message sets `flags: 1 << 15` (IS_COMPONENTS_V2) and carries its text in
     * components (type 10 text display, 17 container, 1 action rows with selects): no `content`,
     * no `embeds`. Returns the message. 50013 Missing Permissions, 10003 Unknown Channel, 50035
     * for a body outside Discord's limits (all permanent).
     * https://discord.com/developers/docs/resources/message#create-message,
     * https://discord.com/developers/docs/components/reference
     */
    readonly createMessage: (
      channelId: string,
      body: RESTPostAPIChannelMessageJSONBody,
    ) => Effect.Effect<RESTGetAPIChannelMessageResult, DiscordError>;
    /**
     * `DELETE /channels/{channel}/messages/{message}` (204): deletes a message (the bot's own
     * needs no permission). 10008 Unknown Message when it is gone (permanent).
     * https://discord.com/developers/docs/resources/message#delete-message
     */
    readonly deleteMessage: (channelId: string, messageId: string, options?: AuditLogOptions) => Effect.Effect<void, DiscordError>;
    /**
     * `POST /channels/{channel}/invites`: creates an invite (needs Create Instant Invite in the
     * channel). `max_age` in seconds (0: never expires), `max_uses` (0: unlimited); without
     * `unique` a live invite with the same settings is answered instead of a new one. Returns
     * the invite (`code`; its URL is `https://discord.gg/<code>`).
     * https://discord.com/developers/docs/resources/channel#create-channel-invite
     */
    readonly createChannelInvite: (
      channelId: string,
      body: RESTPostAPIChannelInviteJSONBody,
      options?: AuditLogOptions,
    ) => Effect.Effect<RESTPostAPIChannelInviteResult, DiscordError>;
  }
>()("@guildhall/discord/DiscordRest") {
  /**
   * The port over its own @discordjs/rest client configured from `config` (see
   * {@link DiscordRestConfig}); the client's sweep timers stop when the layer's scope closes.
   */
  static readonly layer = (config: DiscordRestConfig): Layer.Layer<DiscordRest> =>
    Layer.effect(
      DiscordRest,
      Effect.acquireRelease(
        Effect.sync(() => restClient(config)),
        (rest) =>
          Effect.sync(() => {
            rest.clearHashSweeper();
            rest.clearHandlerSweeper();
          }),
      ).pipe(Effect.map((rest) => make(rest, config))),
    );
}

/**
 * The @discordjs/rest client, and what it does by itself versus what it leaves to the caller.
 * A Discord side effect runs as a job (pg-boss), which retries with backoff, records the
 * attempt and dead-letters what keeps failing; so the client must answer promptly and typed
 * rather than retry quietly for minutes:
 * - `retries: 0`: no retry of a 5xx, a timeout or a reset connection (the default, 3, re-sends
 *   at once, with no backoff, unseen by the job). They surface as DiscordTransientError.
 * - `rejectOnRateLimit`: a rate-limit wait up to `maxRateLimitWaitMs` is sat through in the
 *   queue (the bucket pacing Discord asks for, and the `retry_after` of an unexpected 429); a
 *   longer one rejects at once, and surfaces as a transient 429 with `retryAfterMs`.
 * - `timeout`: per attempt (default 15 s); a timeout surfaces as transient.
 * - 4xx are never retried by the client; they surface as DiscordPermanentError.
 * - `version: "10"`: the types come from discord-api-types/v10. `api`: Discord or the emulator.
 * Internal to the package (the index does not export it); tests use it to reach routes the port does not wrap yet.
 */
export const restClient = (config: DiscordRestConfig): REST => {
  const maxWait = config.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
  return new REST({
    version: "10",
    retries: 0,
    timeout: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    rejectOnRateLimit: (limit) => limit.retryAfter > maxWait,
    ...(config.api ? { api: config.api } : {}),
  }).setToken(config.token);
};

const make = (rest: REST, config: DiscordRestConfig): typeof DiscordRest.Service => {
  const call = makeRequester(rest, { token: config.token, timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS });

  const gatewayBot = Effect.fn("DiscordRest.gatewayBot")(function* () {
    return yield* call<RESTGetAPIGatewayBotResult>({ method: "GET", route: Routes.gatewayBot() });
  });

  const me = Effect.fn("DiscordRest.me")(function* () {
    return yield* call<RESTGetAPICurrentUserResult>({ method: "GET", route: Routes.user() });
  });

  const guild = Effect.fn("DiscordRest.guild")(function* (guildId: string) {
    return yield* call<RESTGetAPIGuildResult>({
      method: "GET",
      route: Routes.guild(guildId),
      ids: { guildId },
      query: new URLSearchParams({ with_counts: "true" }),
    });
  });

  const roles = Effect.fn("DiscordRest.roles")(function* (guildId: string) {
    return yield* call<RESTGetAPIGuildRolesResult>({ method: "GET", route: Routes.guildRoles(guildId), ids: { guildId } });
  });

  const member = Effect.fn("DiscordRest.member")(function* (guildId: string, userId: string) {
    return yield* call<RESTGetAPIGuildMemberResult>({
      method: "GET",
      route: Routes.guildMember(guildId, userId),
      ids: { guildId, userId },
    });
  });

  const memberPage = Effect.fn("DiscordRest.memberPage")(function* (
    guildId: string,
    page?: { readonly after?: string | undefined; readonly limit?: number | undefined },
  ) {
    return yield* call<RESTGetAPIGuildMembersResult>({
      method: "GET",
      route: Routes.guildMembers(guildId),
      ids: { guildId },
      query: new URLSearchParams({ limit: String(page?.limit ?? MEMBER_PAGE_LIMIT), after: page?.after ?? "0" }),
    });
  });

  const memberPages = (guildId: string) =>
    Stream.paginate("0", (after: string) =>
      memberPage(guildId, { after, limit: MEMBER_PAGE_LIMIT }).pipe(
        Effect.map((page) => {
          const last = page.at(-1)?.user.id;
          // A full page means there may be more members after its last user id.
          const next = page.length === MEMBER_PAGE_LIMIT && last !== undefined ? Option.some(last) : Option.none<string>();
          return [page.length > 0 ? [page] : [], next] as const;
        }),
      ),
    );

  const editMember = Effect.fn("DiscordRest.editMember")(function* (
    guildId: string,
    userId: string,
    body: RESTPatchAPIGuildMemberJSONBody,
    options?: AuditLogOptions,
  ) {
    return yield* call<RESTPatchAPIGuildMemberResult>({
      method: "PATCH",
      route: Routes.guildMember(guildId, userId),
      ids: { guildId, userId },
      body,
      reason: options?.reason,
    });
  });

  const addMemberRole = Effect.fn("DiscordRest.addMemberRole")(function* (
    guildId: string,
    userId: string,
    roleId: string,
    options?: AuditLogOptions,
  ) {
    yield* call<unknown>({
      method: "PUT",
      route: Routes.guildMemberRole(guildId, userId, roleId),
      ids: { guildId, userId, roleId },
      reason: options?.reason,
    });
  });

  const removeMemberRole = Effect.fn("DiscordRest.removeMemberRole")(function* (
    guildId: string,
    userId: string,
    roleId: string,
    options?: AuditLogOptions,
  ) {
    yield* call<unknown>({
      method: "DELETE",
      route: Routes.guildMemberRole(guildId, userId, roleId),
      ids: { guildId, userId, roleId },
      reason: options?.reason,
    });
  });

  const executeWebhook = Effect.fn("DiscordRest.executeWebhook")(function* (
    webhookId: string,
    token: string,
    body: RESTPostAPIWebhookWithTokenJSONBody,
  ) {
    return yield* call<RESTPostAPIWebhookWithTokenWaitResult>({
      method: "POST",
      route: Routes.webhook(webhookId, token),
      ids: { webhookId },
      query: new URLSearchParams({ wait: "true" }),
      body,
      auth: "none",
      secrets: [token],
    });
  });

  const interactionCallback = Effect.fn("DiscordRest.interactionCallback")(function* (interactionId: string, token: string, body: unknown) {
    yield* call<unknown>({
      method: "POST",
      route: Routes.interactionCallback(interactionId, token),
      ids: { interactionId },
      body,
      auth: "none",
      secrets: [token],
    });
  });

  const editOriginalResponse = Effect.fn("DiscordRest.editOriginalResponse")(function* (
    applicationId: string,
    token: string,
    body: RESTPatchAPIWebhookWithTokenMessageJSONBody,
  ) {
    yield* call<unknown>({
      method: "PATCH",
      route: Routes.webhookMessage(applicationId, token, "@original"),
      ids: { applicationId },
      body,
      auth: "none",
      secrets: [token],
    });
  });

  const basic = (client: OAuthClient) =>
    `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString("base64")}`;

  const oauthToken = Effect.fn("DiscordRest.oauthToken")(function* (
    client: OAuthClient,
    grant:
      | { readonly grant_type: "authorization_code"; readonly code: string; readonly redirect_uri: string }
      | { readonly grant_type: "refresh_token"; readonly refresh_token: string },
  ) {
    const authorization = basic(client);
    return yield* call<OAuthTokenResult>({
      method: "POST",
      route: Routes.oauth2TokenExchange(),
      auth: "none",
      headers: { Authorization: authorization },
      form: new URLSearchParams({ ...grant }),
      secrets: [client.clientSecret, authorization, ...Object.values(grant)],
    });
  });

  const revokeOAuthToken = Effect.fn("DiscordRest.revokeOAuthToken")(function* (
    client: OAuthClient,
    token: string,
    hint: "access_token" | "refresh_token",
  ) {
    const authorization = basic(client);
    yield* call<unknown>({
      method: "POST",
      route: Routes.oauth2TokenRevocation(),
      auth: "none",
      headers: { Authorization: authorization },
      form: new URLSearchParams({ token, token_type_hint: hint }),
      secrets: [client.clientSecret, authorization, token],
    });
  });

  const currentUser = Effect.fn("DiscordRest.currentUser")(function* (accessToken: string) {
    return yield* call<RESTGetAPICurrentUserResult>({
      method: "GET",
      // Literal: through Routes.user("@me") the call reached the emulator as /users/%40me (its user-id route, 401).
      route: "/users/@me",
      auth: "none",
      headers: { Authorization: `Bearer ${accessToken}` },
      secrets: [accessToken],
    });
  });

  const currentUserGuildMember = Effect.fn("DiscordRest.currentUserGuildMember")(function* (accessToken: string, guildId: string) {
    return yield* call<RESTGetCurrentUserGuildMemberResult>({
      method: "GET",
      route: Routes.userGuildMember(guildId),
      ids: { guildId },
      auth: "none",
      headers: { Authorization: `Bearer ${accessToken}` },
      secrets: [accessToken],
    });
  });

  const leaveGuild = Effect.fn("DiscordRest.leaveGuild")(function* (guildId: string) {
    yield* call<unknown>({ method: "DELETE", route: Routes.userGuild(guildId), ids: { guildId } });
  });

  const channels = Effect.fn("DiscordRest.channels")(function* (guildId: string) {
    return yield* call<RESTGetAPIGuildChannelsResult>({ method: "GET", route: Routes.guildChannels(guildId), ids: { guildId } });
  });

  const createMessage = Effect.fn("DiscordRest.createMessage")(function* (channelId: string, body: RESTPostAPIChannelMessageJSONBody) {
    return yield* call<RESTGetAPIChannelMessageResult>({
      method: "POST",
      route: Routes.channelMessages(channelId),
      ids: { channelId },
      body,
    });
  });

  const deleteMessage = Effect.fn("DiscordRest.deleteMessage")(function* (channelId: string, messageId: string, options?: AuditLogOptions) {
    yield* call<unknown>({
      method: "DELETE",
      route: Routes.channelMessage(channelId, messageId),
      ids: { channelId, messageId },
      reason: options?.reason,
    });
  });

  const createChannelInvite = Effect.fn("DiscordRest.createChannelInvite")(function* (
    channelId: string,
    body: RESTPostAPIChannelInviteJSONBody,
    options?: AuditLogOptions,
  ) {
    return yield* call<RESTPostAPIChannelInviteResult>({
      method: "POST",
      route: Routes.channelInvites(channelId),
      ids: { channelId },
      body,
      reason: options?.reason,
    });
  });

  return DiscordRest.of({
    channels,
    createMessage,
    deleteMessage,
    createChannelInvite,
    gatewayBot,
    me,
    oauthToken,
    revokeOAuthToken,
    currentUser,
    currentUserGuildMember,
    leaveGuild,
    guild,
    roles,
    member,
    memberPage,
    memberPages,
    editMember,
    addMemberRole,
    removeMemberRole,
    executeWebhook,
    interactionCallback,
    editOriginalResponse,
  });
};
