/**
 * REST v10 under /api/v10: the routes discord.js and @discordjs/rest use, with Discord's
 * error bodies and X-RateLimit-* headers.
 * https://discord.com/developers/docs/reference#http-api
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { APIUser, RESTGetAPIGatewayBotResult, RESTGetAPIGatewayResult } from "discord-api-types/v10";
import { ChannelType, GatewayIntentBits, RESTJSONErrorCodes } from "discord-api-types/v10";
import type { CommandStore } from "./commands";
import { DiscordHttpError } from "./discorderrors";
import type { GuildState } from "./guild";
import type { UploadedFile } from "./http";
import { BodyError, InvalidJsonError, matchPath, readBody, readForm, sendEmpty, sendJson, sendJsonBytes } from "./http";
import type { InteractionHub } from "./interactions";
import { JsonWriter } from "./jsonwriter";
import { guildObject, memberObject, userObject } from "./payloads";
import { RateLimiter } from "./ratelimits";
import type { Params, Query, Reply, Route } from "./rest/route";
import { boolParam, error, intParam, invalidForm, missingAccess, unknownGuild, unknownMember, unknownUser } from "./rest/route";
import { isSnowflake, newSnowflake } from "./snowflake";

/** What the REST routes need from the emulator. */
export interface RestContext {
  readonly token: string;
  readonly gatewayUrl: string;
  readonly cdnUrl: string;
  readonly applicationId: string;
  readonly allowedPrivilegedIntents: number;
  readonly commands: CommandStore;
  readonly interactions: InteractionHub;
  guild(id: string): GuildState | undefined;
  guilds(): Iterable<GuildState>;
  /** The bot user with its private fields (GET /users/@me). */
  botUser(): APIUser;
  /** Any other user the emulator knows (application owner), by id. */
  extraUser(id: string): APIUser | undefined;
  application(): unknown;
  /** IDENTIFY budget for session_start_limit. */
  sessionStartLimit(): { total: number; remaining: number; resetAfterMs: number };
  /** Route tables of rest/<resource>.ts, matched before the ones here. */
  readonly routes?: ReadonlyArray<Route>;
  /** A guild the emulator holds whether or not the bot is in it (`guild` only finds the bot's guilds). */
  knownGuild?(id: string): GuildState | undefined;
  /** The rate limits (ratelimits.ts); default: Discord's, private to this handler. */
  readonly rateLimiter?: RateLimiter;
}

/** List Guild Members writes up to 1000 members per request into this buffer, then copies them out. */
const listWriter = new JsonWriter(1 << 20);

/**
 * Builds the handler for requests whose path starts with /api. `path` is the part after /api
 * (e.g. "/v10/guilds/1"). Answers 401 for a missing/wrong `Authorization: Bot <token>` on routes
 * that need it, 404 `{message: "404: Not Found", code: 0}` for unknown routes, 405 for a wrong method,
 * 400 / 50109 for a body that is not JSON.
 */
export function createRestHandler(ctx: RestContext): (req: IncomingMessage, res: ServerResponse, path: string, query: Query) => void {
  const limiter = ctx.rateLimiter ?? new RateLimiter();

  const withGuild = (params: Params, fn: (guild: GuildState) => Reply): Reply => {
    const guildId = params.guild_id ?? "";
    const guild = isSnowflake(guildId) ? ctx.guild(guildId) : undefined;
    return guild ? fn(guild) : unknownGuild();
  };

  /** The command scope of /applications/{application_id}[/guilds/{guild_id}]: null = global. 403 for another application or guild. */
  const commandScope = (params: Params): string | null => {
    if (params.application_id !== ctx.applicationId) throw missingAccess();
    if (params.guild_id === undefined) return null;
    if (!isSnowflake(params.guild_id) || !ctx.guild(params.guild_id)) throw missingAccess();
    return params.guild_id;
  };

  /** A text channel of a seeded guild, or 404 / 10003 Unknown Channel. */
  const textChannel = (channelId: string | undefined): GuildState => {
    for (const guild of ctx.guilds()) {
      const channel = guild.channels.find((c) => c.id === channelId);
      if (channel) {
        if (channel.type !== ChannelType.GuildText) throw new DiscordHttpError(400, 50008, "Cannot send messages in a non-text channel");
        return guild;
      }
    }
    throw new DiscordHttpError(404, RESTJSONErrorCodes.UnknownChannel, "Unknown Channel");
  };

  const commandRoutes = (prefix: string): Route[] => [
    {
      // https://discord.com/developers/docs/interactions/application-commands#get-global-application-commands
      method: "GET",
      pattern: `${prefix}/commands`,
      auth: true,
      handle: ({ params }) => ({ status: 200, body: ctx.commands.list(commandScope(params)).map((c) => c.json) }),
    },
    {
      // https://discord.com/developers/docs/interactions/application-commands#create-global-application-command
      method: "POST",
      pattern: `${prefix}/commands`,
      auth: true,
      handle: ({ params, body }) => {
        const { command, created } = ctx.commands.create(commandScope(params), body);
        return { status: created ? 201 : 200, body: command.json };
      },
    },
    {
      // https://discord.com/developers/docs/interactions/application-commands#bulk-overwrite-global-application-commands
      method: "PUT",
      pattern: `${prefix}/commands`,
      auth: true,
      handle: ({ params, body }) => ({ status: 200, body: ctx.commands.overwrite(commandScope(params), body).map((c) => c.json) }),
    },
    {
      method: "GET",
      pattern: `${prefix}/commands/:command_id`,
      auth: true,
      handle: ({ params }) => {
        const command = ctx.commands.get(commandScope(params), params.command_id ?? "");
        return command ? { status: 200, body: command.json } : error(404, 10063, "Unknown application command");
      },
    },
    {
      method: "PATCH",
      pattern: `${prefix}/commands/:command_id`,
      auth: true,
      handle: ({ params, body }) => ({ status: 200, body: ctx.commands.edit(commandScope(params), params.command_id ?? "", body).json }),
    },
    {
      method: "DELETE",
      pattern: `${prefix}/commands/:command_id`,
      auth: true,
      handle: ({ params }) => {
        ctx.commands.delete(commandScope(params), params.command_id ?? "");
        return { status: 204 };
      },
    },
  ];

  const routes: Route[] = [
    ...(ctx.routes ?? []),
    {
      method: "GET",
      pattern: "/gateway",
      auth: false,
      handle: () => ({ status: 200, body: { url: ctx.gatewayUrl } satisfies RESTGetAPIGatewayResult }),
    },
    {
      // https://discord.com/developers/docs/events/gateway#get-gateway-bot
      method: "GET",
      pattern: "/gateway/bot",
      auth: true,
      handle: () => {
        const limit = ctx.sessionStartLimit();
        const body: RESTGetAPIGatewayBotResult = {
          url: ctx.gatewayUrl,
          shards: 1,
          session_start_limit: { total: limit.total, remaining: limit.remaining, reset_after: limit.resetAfterMs, max_concurrency: 1 },
        };
        return { status: 200, body };
      },
    },
    {
      method: "GET",
      pattern: "/users/:user_id",
      auth: true,
      handle: ({ params: { user_id = "" } }) => {
        if (!isSnowflake(user_id)) return unknownUser();
        const bot = ctx.botUser();
        if (user_id === bot.id) {
          const { verified: _v, mfa_enabled: _m, email: _e, locale: _l, premium_type: _p, ...publicFields } = bot;
          return { status: 200, body: publicFields };
        }
        const extra = ctx.extraUser(user_id);
        if (extra) return { status: 200, body: extra };
        for (const guild of ctx.guilds()) {
          const record = guild.userRecord(user_id);
          if (record) return { status: 200, body: userObject(record) };
        }
        return unknownUser();
      },
    },
    { method: "GET", pattern: "/applications/@me", auth: true, handle: () => ({ status: 200, body: ctx.application() }) },
    ...commandRoutes("/applications/:application_id"),
    ...commandRoutes("/applications/:application_id/guilds/:guild_id"),
    {
      // https://discord.com/developers/docs/interactions/receiving-and-responding#create-interaction-response
      method: "POST",
      pattern: "/interactions/:interaction_id/:interaction_token/callback",
      auth: false,
      handle: ({ params, query, body, files }) => {
        const out = ctx.interactions.callback(
          params.interaction_id ?? "",
          params.interaction_token ?? "",
          body,
          boolParam(query, "with_response"),
          files,
        );
        return out === undefined ? { status: 204 } : { status: 200, body: out };
      },
    },
    {
      // Get Original Interaction Response / Get Followup Message (message_id "@original" or an id)
      method: "GET",
      pattern: "/webhooks/:webhook_id/:webhook_token/messages/:message_id",
      auth: false,
      handle: ({ params }) => ({
        status: 200,
        body: ctx.interactions.getWebhookMessage(params.webhook_id ?? "", params.webhook_token ?? "", params.message_id ?? ""),
      }),
    },
    {
      method: "PATCH",
      pattern: "/webhooks/:webhook_id/:webhook_token/messages/:message_id",
      auth: false,
      handle: ({ params, body, files }) => ({
        status: 200,
        body: ctx.interactions.editWebhookMessage(
          params.webhook_id ?? "",
          params.webhook_token ?? "",
          params.message_id ?? "",
          body,
          files,
        ),
      }),
    },
    {
      method: "DELETE",
      pattern: "/webhooks/:webhook_id/:webhook_token/messages/:message_id",
      auth: false,
      handle: ({ params }) => {
        ctx.interactions.deleteWebhookMessage(params.webhook_id ?? "", params.webhook_token ?? "", params.message_id ?? "");
        return { status: 204 };
      },
    },
    {
      // https://discord.com/developers/docs/resources/message#create-message
      method: "POST",
      pattern: "/channels/:channel_id/messages",
      auth: true,
      handle: ({ params, body, files }) => {
        const guild = textChannel(params.channel_id);
        return { status: 200, body: ctx.interactions.createChannelMessage(guild, params.channel_id ?? "", body, files) };
      },
    },
    {
      method: "GET",
      pattern: "/channels/:channel_id/messages/:message_id",
      auth: true,
      handle: ({ params }) => {
        textChannel(params.channel_id);
        return { status: 200, body: ctx.interactions.channelMessage(params.channel_id ?? "", params.message_id ?? "") };
      },
    },
    {
      method: "PATCH",
      pattern: "/channels/:channel_id/messages/:message_id",
      auth: true,
      handle: ({ params, body, files }) => {
        const guild = textChannel(params.channel_id);
        return {
          status: 200,
          body: ctx.interactions.editChannelMessage(guild, params.channel_id ?? "", params.message_id ?? "", body, files),
        };
      },
    },
    {
      method: "DELETE",
      pattern: "/channels/:channel_id/messages/:message_id",
      auth: true,
      handle: ({ params }) => {
        const guild = textChannel(params.channel_id);
        ctx.interactions.deleteChannelMessage(guild, params.channel_id ?? "", params.message_id ?? "");
        return { status: 204 };
      },
    },
    {
      // https://discord.com/developers/docs/resources/guild#get-guild
      method: "GET",
      pattern: "/guilds/:guild_id",
      auth: true,
      handle: ({ params, query }) =>
        withGuild(params, (guild) => ({ status: 200, body: guildObject(guild, query.get("with_counts") === "true") })),
    },
    {
      method: "GET",
      pattern: "/guilds/:guild_id/roles",
      auth: true,
      handle: ({ params }) => withGuild(params, (guild) => ({ status: 200, body: guild.roles })),
    },
    {
      method: "GET",
      pattern: "/guilds/:guild_id/roles/:role_id",
      auth: true,
      handle: ({ params }) =>
        withGuild(params, (guild) => {
          const role = guild.role(params.role_id ?? "");
          return role ? { status: 200, body: role } : error(404, RESTJSONErrorCodes.UnknownRole, "Unknown Role");
        }),
    },
    {
      method: "GET",
      pattern: "/guilds/:guild_id/channels",
      auth: true,
      handle: ({ params }) => withGuild(params, (guild) => ({ status: 200, body: guild.channels })),
    },
    {
      // https://discord.com/developers/docs/resources/guild#list-guild-members
      // Seeks by arithmetic from `after` and writes the JSON directly: constant cost at any guild size.
      method: "GET",
      pattern: "/guilds/:guild_id/members",
      auth: true,
      handle: ({ params, query }) =>
        withGuild(params, (guild) => {
          if (!(ctx.allowedPrivilegedIntents & GatewayIntentBits.GuildMembers))
            return error(403, RESTJSONErrorCodes.MissingAccess, "Missing Access");
          const limit = intParam(query, "limit", 1, 1, 1000);
          if (typeof limit !== "number") return limit;
          const afterRaw = query.get("after") ?? "0";
          if (!isSnowflake(afterRaw)) return invalidForm("after", "NUMBER_TYPE_COERCE", `Value "${afterRaw}" is not snowflake.`);
          listWriter.reset();
          listWriter.ascii("[");
          guild.writeMembers(listWriter, BigInt(afterRaw), limit);
          listWriter.ascii("]");
          return { status: 200, bytes: listWriter.bytes() };
        }),
    },
    {
      // https://discord.com/developers/docs/resources/guild#search-guild-members
      method: "GET",
      pattern: "/guilds/:guild_id/members/search",
      auth: true,
      handle: async ({ params, query }) => {
        const guild = isSnowflake(params.guild_id ?? "") ? ctx.guild(params.guild_id ?? "") : undefined;
        if (!guild) return unknownGuild();
        const q = query.get("query");
        if (q === null) return invalidForm("query", "BASE_TYPE_REQUIRED", "This field is required");
        const limit = intParam(query, "limit", 1, 1, 1000);
        if (typeof limit !== "number") return limit;
        return { status: 200, body: (await guild.searchAsync(q, limit)).map(memberObject) };
      },
    },
    {
      // https://discord.com/developers/docs/resources/guild#get-guild-member
      method: "GET",
      pattern: "/guilds/:guild_id/members/:user_id",
      auth: true,
      handle: ({ params }) =>
        withGuild(params, (guild) => {
          const userId = params.user_id ?? "";
          const record = isSnowflake(userId) ? guild.member(userId) : undefined;
          return record ? { status: 200, body: memberObject(record) } : unknownMember();
        }),
    },
  ];

  const authorized = (req: IncomingMessage): boolean => req.headers.authorization === `Bot ${ctx.token}`;
  const attachments = (files: UploadedFile[]): unknown[] =>
    files
      .map((f, i) => {
        const id = newSnowflake();
        const url = `${ctx.cdnUrl}/attachments/${id}/${encodeURIComponent(f.filename)}`;
        return { id, filename: f.filename, size: f.size, url, proxy_url: url, content_type: f.contentType, field: f.field, index: i };
      })
      .map(({ field: _f, index: _i, ...attachment }) => attachment);

  const serve = async (req: IncomingMessage, res: ServerResponse, route: Route, params: Params, query: Query): Promise<void> => {
    // Interaction and webhook routes are limited per interaction / webhook token, the rest per guild or channel.
    const major =
      params.guild_id ??
      params.channel_id ??
      params.interaction_id ??
      (params.webhook_id !== undefined ? `${params.webhook_id}/${params.webhook_token ?? ""}` : "");
    // The global limit counts bot-token requests, interaction callbacks excepted (Discord's rule).
    const global = authorized(req) && !route.pattern.startsWith("/interactions/");
    // A limited request is answered before its body is read (node discards the rest of it).
    const decision = limiter.take(`${route.method} ${route.pattern}`, route.bucket, major, global);
    if (decision.limited) {
      sendJson(res, 429, decision.reply.body, decision.reply.headers);
      return;
    }
    const headers = decision.headers;
    let reply: Reply;
    try {
      const hasBody = route.method === "POST" || route.method === "PUT" || route.method === "PATCH";
      const { json, files } = !hasBody ? { json: undefined, files: [] } : route.form ? await readForm(req) : await readBody(req);
      const gone = params.guild_id !== undefined && route.pattern.startsWith("/guilds/:guild_id/") && !ctx.guild(params.guild_id);
      // A guild the bot is not in: 10004 for the guild itself, 403 / 50001 for what is in it (as Discord answers since 2023).
      if (gone && ctx.knownGuild?.(params.guild_id ?? "")) throw missingAccess();
      reply = await route.handle({ params, query, body: json, files: attachments(files), headers: req.headers });
    } catch (err) {
      if (err instanceof DiscordHttpError) reply = { status: err.status, body: err.body() };
      else if (err instanceof InvalidJsonError) reply = error(400, 50109, "The request body contains invalid JSON.");
      else if (err instanceof BodyError) reply = error(413, 40005, "Request entity too large");
      else
        reply = {
          status: 500,
          body: { message: `500: Internal Server Error (${err instanceof Error ? err.message : String(err)})`, code: 0 },
        };
    }
    const allHeaders = reply.headers ? { ...headers, ...reply.headers } : headers;
    if (reply.bytes) sendJsonBytes(res, reply.status, reply.bytes, allHeaders);
    else if (reply.body === undefined) sendEmpty(res, reply.status, allHeaders);
    else sendJson(res, reply.status, reply.body, allHeaders);
  };

  return (req, res, path, query) => {
    // Unversioned /api/... is served as v10 (better-auth's Discord provider calls /api/oauth2/token and /api/users/@me).
    const versioned = /^(?:\/v10)?(\/.*)$/.exec(path);
    const route = versioned?.[1] ?? "";
    let pathMatched = false;
    for (const candidate of routes) {
      const params = versioned ? matchPath(candidate.pattern, route) : null;
      if (!params) continue;
      pathMatched = true;
      if (candidate.method !== req.method) continue;
      if (candidate.auth && !authorized(req)) {
        sendJson(res, 401, { message: "401: Unauthorized", code: 0 });
        return;
      }
      void serve(req, res, candidate, params, query);
      return;
    }
    if (pathMatched) sendJson(res, 405, { message: "405: Method Not Allowed", code: 0 });
    else sendJson(res, 404, { message: "404: Not Found", code: 0 });
  };
}
