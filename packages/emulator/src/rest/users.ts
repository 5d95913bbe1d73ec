/**
 * REST routes of the current user, for the bot token and for OAuth2 bearer tokens: Get Current User
 * (`identify`; `email` adds email and verified), Get Current User Guilds (`guilds`), Get Current User
 * Guild Member (`guilds.members.read`), and Leave Guild (the bot). A bearer token that is unknown,
 * expired, revoked or lacks the route's scope gets 401.
 * https://discord.com/developers/docs/resources/user
 */
import type { IncomingHttpHeaders } from "node:http";
import type { APIUser } from "discord-api-types/v10";
import type { GuildState } from "../guild";
import type { Installs } from "../installs";
import type { OAuth2 } from "../oauth2";
import { memberObject } from "../payloads";
import { isSnowflake } from "../snowflake";
import type { Users } from "../users";
import type { Reply, Route } from "./route";
import { bearerToken, intParam, invalidForm, unauthorized, unknownGuild } from "./route";

/** What the user routes need. */
export interface UserRoutesContext {
  /** The bot token (`Authorization: Bot <token>`). */
  readonly token: string;
  readonly oauth: OAuth2;
  readonly users: Users;
  readonly installs: Installs;
  /** The bot user with its private fields. */
  botUser(): APIUser;
  /** Every guild the emulator holds, the bot's or not, in seeding order. */
  guilds(): Iterable<GuildState>;
}

/** Who is calling: the bot, a bearer grant (user id and scopes), or nobody valid. */
type Caller = { kind: "bot" } | { kind: "user"; userId: string; scopes: ReadonlyArray<string> } | null;

/** The route table: GET /users/@me, GET /users/@me/guilds, GET /users/@me/guilds/{id}/member, DELETE /users/@me/guilds/{id}. */
export function userRoutes(ctx: UserRoutesContext): Route[] {
  const caller = (headers: IncomingHttpHeaders): Caller => {
    if (headers.authorization === `Bot ${ctx.token}`) return { kind: "bot" };
    const grant = ctx.oauth.bearer(bearerToken(headers));
    return grant ? { kind: "user", userId: grant.userId, scopes: grant.scopes } : null;
  };
  /** The bearer caller if it holds `scope`, else null. */
  const userWith = (headers: IncomingHttpHeaders, scope: string): { userId: string; scopes: ReadonlyArray<string> } | null => {
    const who = caller(headers);
    return who?.kind === "user" && who.scopes.includes(scope) ? who : null;
  };

  /** A partial guild of GET /users/@me/guilds for `userId`. */
  const partialGuild = (guild: GuildState, userId: string, withCounts: boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = {
      id: guild.id,
      name: guild.name,
      icon: null,
      banner: null,
      owner: guild.ownerId === userId,
      permissions: guild.permissions(userId) ?? "0",
      features: [],
    };
    if (withCounts) {
      out.approximate_member_count = guild.memberCount;
      out.approximate_presence_count = guild.onlineCount;
    }
    return out;
  };

  return [
    {
      // https://discord.com/developers/docs/resources/user#get-current-user
      method: "GET",
      pattern: "/users/@me",
      auth: false,
      handle: ({ headers }) => {
        const who = caller(headers);
        if (who?.kind === "bot") return { status: 200, body: ctx.botUser() };
        if (!who?.scopes.includes("identify")) return unauthorized();
        const user = ctx.users.find(who.userId);
        if (!user) return unauthorized();
        if (who.scopes.includes("email")) return { status: 200, body: user };
        const { email: _e, verified: _v, ...withoutEmail } = user;
        return { status: 200, body: withoutEmail };
      },
    },
    {
      // https://discord.com/developers/docs/resources/user#get-current-user-guilds
      method: "GET",
      pattern: "/users/@me/guilds",
      auth: false,
      handle: ({ headers, query }) => {
        const who = caller(headers);
        if (!who || (who.kind === "user" && !who.scopes.includes("guilds"))) return unauthorized();
        const userId = who.kind === "bot" ? ctx.botUser().id : who.userId;
        const limit = intParam(query, "limit", 200, 1, 200);
        if (typeof limit !== "number") return limit;
        const bound = (name: "before" | "after"): bigint | null | Reply => {
          const raw = query.get(name);
          if (raw === null) return null;
          return isSnowflake(raw) ? BigInt(raw) : invalidForm(name, "NUMBER_TYPE_COERCE", `Value "${raw}" is not snowflake.`);
        };
        const before = bound("before");
        const after = bound("after");
        if (typeof before === "object" && before !== null) return before;
        if (typeof after === "object" && after !== null) return after;
        const withCounts = ["true", "1"].includes((query.get("with_counts") ?? "").toLowerCase());
        let mine = [...ctx.guilds()]
          .filter((g) => g.hasMember(userId))
          .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
          .filter((g) => (after === null || BigInt(g.id) > after) && (before === null || BigInt(g.id) < before));
        // Discord pages by id: `before` takes the last `limit` below it, otherwise the first `limit`.
        mine = before !== null && after === null ? mine.slice(-limit) : mine.slice(0, limit);
        return { status: 200, body: mine.map((g) => partialGuild(g, userId, withCounts)) };
      },
    },
    {
      // https://discord.com/developers/docs/resources/user#get-current-user-guild-member
      method: "GET",
      pattern: "/users/@me/guilds/:guild_id/member",
      auth: false,
      handle: ({ headers, params }) => {
        const who = userWith(headers, "guilds.members.read");
        if (!who) return unauthorized();
        const guildId = params.guild_id ?? "";
        const guild = isSnowflake(guildId) ? [...ctx.guilds()].find((g) => g.id === guildId) : undefined;
        const member = guild?.member(who.userId);
        return member ? { status: 200, body: memberObject(member) } : unknownGuild();
      },
    },
    {
      // https://discord.com/developers/docs/resources/user#leave-guild (the bot, e.g. discord.js guild.leave())
      method: "DELETE",
      pattern: "/users/@me/guilds/:guild_id",
      auth: true,
      handle: ({ params }) => {
        const guildId = params.guild_id ?? "";
        const guild = isSnowflake(guildId) ? [...ctx.guilds()].find((g) => g.id === guildId) : undefined;
        if (!guild || !ctx.installs.isInstalled(guild)) return unknownGuild();
        ctx.installs.leave(guild);
        return { status: 204 };
      },
    },
  ];
}
