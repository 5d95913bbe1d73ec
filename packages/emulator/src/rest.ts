/**
 * REST v10 under /api/v10: the routes discord.js and @discordjs/rest use, with Discord's
 * error bodies and X-RateLimit-* headers.
 * https://discord.com/developers/docs/reference#http-api
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { APIUser, RESTGetAPIGatewayBotResult, RESTGetAPIGatewayResult } from "discord-api-types/v10";
import { GatewayIntentBits, RESTJSONErrorCodes } from "discord-api-types/v10";
import type { GuildState } from "./guild";
import { matchPath, sendJson } from "./http";
import { guildObject, memberObject, userObject } from "./payloads";
import { isSnowflake } from "./snowflake";

/** What the REST routes need from the emulator. */
export interface RestContext {
  readonly token: string;
  readonly gatewayUrl: string;
  readonly allowedPrivilegedIntents: number;
  guild(id: string): GuildState | undefined;
  guilds(): Iterable<GuildState>;
  /** The bot user with its private fields (GET /users/@me). */
  botUser(): APIUser;
  /** Any other user the emulator knows (application owner), by id. */
  extraUser(id: string): APIUser | undefined;
  application(): unknown;
  /** IDENTIFY budget for session_start_limit. */
  sessionStartLimit(): { total: number; remaining: number; resetAfterMs: number };
}

type Query = URLSearchParams;
type Params = Record<string, string>;
interface Reply {
  status: number;
  body: unknown;
}
interface Route {
  method: "GET";
  pattern: string;
  auth: boolean;
  handle(params: Params, query: Query): Reply;
}

/** A Discord JSON error body: `{message, code}` (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json). */
function error(status: number, code: number, message: string): Reply {
  return { status, body: { message, code } };
}

const unknownGuild = () => error(404, RESTJSONErrorCodes.UnknownGuild, "Unknown Guild");
const unknownMember = () => error(404, RESTJSONErrorCodes.UnknownMember, "Unknown Member");
const unknownUser = () => error(404, RESTJSONErrorCodes.UnknownUser, "Unknown User");

/** 50035 Invalid Form Body with Discord's nested `errors` (field -> `_errors: [{code, message}]`). */
function invalidForm(field: string, code: string, message: string): Reply {
  return {
    status: 400,
    body: { message: "Invalid Form Body", code: RESTJSONErrorCodes.InvalidFormBodyOrContentType, errors: { [field]: { _errors: [{ code, message }] } } },
  };
}

/** Parses an integer query parameter within [min, max]; returns the number or a 50035 reply. */
function intParam(query: Query, name: string, fallback: number, min: number, max: number): number | Reply {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^-?[0-9]+$/.test(raw.trim())) return invalidForm(name, "NUMBER_TYPE_COERCE", `Value "${raw}" is not int.`);
  const value = Number(raw);
  if (value < min) return invalidForm(name, "NUMBER_TYPE_MIN", `int value should be greater than or equal to ${min}.`);
  if (value > max) return invalidForm(name, "NUMBER_TYPE_MAX", `int value should be less than or equal to ${max}.`);
  return value;
}

/** A per-route bucket: `limit` requests per `windowMs`, keyed by route and top-level resource. */
class Buckets {
  private readonly windows = new Map<string, { resetAt: number; used: number }>();

  constructor(
    private readonly limit = 50,
    private readonly windowMs = 1_000,
  ) {}

  /** Counts one request and returns the X-RateLimit-* headers Discord would send. */
  take(route: string, major: string): Record<string, string> {
    const now = Date.now();
    const key = `${route}:${major}`;
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { resetAt: now + this.windowMs, used: 0 };
      this.windows.set(key, window);
      if (this.windows.size > 10_000) this.prune(now);
    }
    window.used += 1;
    return {
      "x-ratelimit-limit": String(this.limit),
      "x-ratelimit-remaining": String(Math.max(0, this.limit - window.used)),
      "x-ratelimit-reset": (window.resetAt / 1000).toFixed(3),
      "x-ratelimit-reset-after": ((window.resetAt - now) / 1000).toFixed(3),
      "x-ratelimit-bucket": createHash("sha1").update(route).digest("hex").slice(0, 32),
    };
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}

/**
 * Builds the handler for requests whose path starts with /api. `path` is the part after /api
 * (e.g. "/v10/guilds/1"). Answers 401 for a missing/wrong `Authorization: Bot <token>`,
 * 404 `{message: "404: Not Found", code: 0}` for unknown routes.
 */
export function createRestHandler(ctx: RestContext): (req: IncomingMessage, res: ServerResponse, path: string, query: Query) => void {
  const buckets = new Buckets();

  const withGuild = (params: Params, fn: (guild: GuildState) => Reply): Reply => {
    const guildId = params.guild_id ?? "";
    const guild = isSnowflake(guildId) ? ctx.guild(guildId) : undefined;
    return guild ? fn(guild) : unknownGuild();
  };

  const routes: Route[] = [
    {
      method: "GET", pattern: "/gateway", auth: false,
      handle: () => ({ status: 200, body: { url: ctx.gatewayUrl } satisfies RESTGetAPIGatewayResult }),
    },
    {
      // https://discord.com/developers/docs/events/gateway#get-gateway-bot
      method: "GET", pattern: "/gateway/bot", auth: true,
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
    { method: "GET", pattern: "/users/@me", auth: true, handle: () => ({ status: 200, body: ctx.botUser() }) },
    {
      method: "GET", pattern: "/users/:user_id", auth: true,
      handle: ({ user_id = "" }) => {
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
    {
      // https://discord.com/developers/docs/resources/guild#get-guild
      method: "GET", pattern: "/guilds/:guild_id", auth: true,
      handle: (params, query) => withGuild(params, (guild) => ({ status: 200, body: guildObject(guild, query.get("with_counts") === "true") })),
    },
    {
      method: "GET", pattern: "/guilds/:guild_id/roles", auth: true,
      handle: (params) => withGuild(params, (guild) => ({ status: 200, body: guild.roles })),
    },
    {
      method: "GET", pattern: "/guilds/:guild_id/roles/:role_id", auth: true,
      handle: (params) =>
        withGuild(params, (guild) => {
          const role = guild.role(params.role_id ?? "");
          return role ? { status: 200, body: role } : error(404, RESTJSONErrorCodes.UnknownRole, "Unknown Role");
        }),
    },
    {
      method: "GET", pattern: "/guilds/:guild_id/channels", auth: true,
      handle: (params) => withGuild(params, (guild) => ({ status: 200, body: guild.channels })),
    },
    {
      // https://discord.com/developers/docs/resources/guild#list-guild-members
      method: "GET", pattern: "/guilds/:guild_id/members", auth: true,
      handle: (params, query) =>
        withGuild(params, (guild) => {
          if (!(ctx.allowedPrivilegedIntents & GatewayIntentBits.GuildMembers)) return error(403, RESTJSONErrorCodes.MissingAccess, "Missing Access");
          const limit = intParam(query, "limit", 1, 1, 1000);
          if (typeof limit !== "number") return limit;
          const afterRaw = query.get("after") ?? "0";
          if (!isSnowflake(afterRaw)) return invalidForm("after", "NUMBER_TYPE_COERCE", `Value "${afterRaw}" is not snowflake.`);
          return { status: 200, body: guild.list(BigInt(afterRaw), limit).map(memberObject) };
        }),
    },
    {
      // https://discord.com/developers/docs/resources/guild#search-guild-members
      method: "GET", pattern: "/guilds/:guild_id/members/search", auth: true,
      handle: (params, query) =>
        withGuild(params, (guild) => {
          const q = query.get("query");
          if (q === null) return invalidForm("query", "BASE_TYPE_REQUIRED", "This field is required");
          const limit = intParam(query, "limit", 1, 1, 1000);
          if (typeof limit !== "number") return limit;
          return { status: 200, body: guild.search(q, limit).map(memberObject) };
        }),
    },
    {
      // https://discord.com/developers/docs/resources/guild#get-guild-member
      method: "GET", pattern: "/guilds/:guild_id/members/:user_id", auth: true,
      handle: (params) =>
        withGuild(params, (guild) => {
          const userId = params.user_id ?? "";
          const record = isSnowflake(userId) ? guild.member(userId) : undefined;
          return record ? { status: 200, body: memberObject(record) } : unknownMember();
        }),
    },
  ];

  const authorized = (req: IncomingMessage): boolean => req.headers.authorization === `Bot ${ctx.token}`;

  return (req, res, path, query) => {
    const versioned = /^\/v10(\/.*)$/.exec(path);
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
      const major = params.guild_id ?? "";
      const headers = buckets.take(`${candidate.method} ${candidate.pattern}`, major);
      const reply = candidate.handle(params, query);
      sendJson(res, reply.status, reply.body, headers);
      return;
    }
    if (pathMatched) sendJson(res, 405, { message: "405: Method Not Allowed", code: 0 });
    else sendJson(res, 404, { message: "404: Not Found", code: 0 });
  };
}
