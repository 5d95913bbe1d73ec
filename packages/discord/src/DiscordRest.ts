import { DiscordAPIError, HTTPError, REST } from "@discordjs/rest";
import { type APIGuild, type APIGuildMember, type APIRole, type RESTGetAPIGatewayBotResult, Routes } from "discord-api-types/v10";
import { Context, Effect, Layer, Option, Schema, Stream } from "effect";

/**
 * Discord answered with an error (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json).
 * `code` is Discord's JSON error code (10004 Unknown Guild, 10007 Unknown Member, 50001 Missing
 * Access, 50013 Missing Permissions, ...) or 0; `status` the HTTP status; `route` the method and path.
 */
export class DiscordRequestError extends Schema.TaggedError<DiscordRequestError>()("DiscordRequestError", {
  status: Schema.Number,
  code: Schema.Number,
  message: Schema.String,
  route: Schema.String,
}) {}

/** Where the port talks to: Discord by default, or an emulator (`api` without `/v10`). */
export interface DiscordRestConfig {
  /** The bot token. Never logged. */
  readonly token: string;
  /** e.g. `http://127.0.0.1:3001/api`; default Discord's `https://discord.com/api`. */
  readonly api?: string | undefined;
  /** Request timeout (ms). Default 15,000. */
  readonly timeoutMs?: number | undefined;
}

/** Members per page of List Guild Members: Discord's maximum. */
export const MEMBER_PAGE_LIMIT = 1_000;

/**
 * The Discord port: Discord's REST API as Effect operations, over @discordjs/rest, which
 * handles per-route buckets, the global limit and 429 retries. Every operation fails with
 * `DiscordRequestError` when Discord (or the network) says no.
 */
export class DiscordRest extends Context.Service<
  DiscordRest,
  {
    /** `GET /gateway/bot`: the gateway URL, recommended shards, session start limit (https://discord.com/developers/docs/events/gateway#get-gateway-bot). */
    readonly gatewayBot: () => Effect.Effect<RESTGetAPIGatewayBotResult, DiscordRequestError>;
    /** `GET /guilds/{id}?with_counts=true` (https://discord.com/developers/docs/resources/guild#get-guild). */
    readonly guild: (guildId: string) => Effect.Effect<APIGuild, DiscordRequestError>;
    /** `GET /guilds/{id}/roles` (https://discord.com/developers/docs/resources/guild#get-guild-roles). */
    readonly roles: (guildId: string) => Effect.Effect<ReadonlyArray<APIRole>, DiscordRequestError>;
    /** `GET /guilds/{id}/members/{user}` (https://discord.com/developers/docs/resources/guild#get-guild-member). */
    readonly member: (guildId: string, userId: string) => Effect.Effect<APIGuildMember, DiscordRequestError>;
    /**
     * Every member of a guild, page by page through List Guild Members (`limit` 1,000, `after`
     * the last user id; ascending by user id), as a stream of pages: memory stays at one page.
     * Needs the GUILD_MEMBERS intent. https://discord.com/developers/docs/resources/guild#list-guild-members
     */
    readonly memberPages: (guildId: string) => Stream.Stream<ReadonlyArray<APIGuildMember>, DiscordRequestError>;
  }
>()("@guildhall/discord/DiscordRest") {
  /** The port over a @discordjs/rest client configured from `config`. */
  static readonly layer = (config: DiscordRestConfig): Layer.Layer<DiscordRest> => Layer.sync(DiscordRest, () => make(config));
}

const make = (config: DiscordRestConfig) => {
  const rest = new REST({
    version: "10",
    timeout: config.timeoutMs ?? 15_000,
    ...(config.api ? { api: config.api } : {}),
  }).setToken(config.token);

  const get = <A>(route: `/${string}`, query?: URLSearchParams) =>
    Effect.tryPromise({
      try: () => rest.get(route, query ? { query } : {}) as Promise<A>,
      catch: (cause) => toError(cause, `GET ${route}`),
    });

  const memberPages = (guildId: string) =>
    Stream.paginate("0", (after) =>
      get<Array<APIGuildMember>>(Routes.guildMembers(guildId), new URLSearchParams({ limit: String(MEMBER_PAGE_LIMIT), after })).pipe(
        Effect.map((page) => {
          const last = page.at(-1)?.user.id;
          // Each step emits one page; a full page means there may be more after its last id.
          return [[page], page.length === MEMBER_PAGE_LIMIT && last ? Option.some(last) : Option.none()] as const;
        }),
      ),
    ).pipe(Stream.filter((page) => page.length > 0));

  return DiscordRest.of({
    gatewayBot: () => get<RESTGetAPIGatewayBotResult>(Routes.gatewayBot()),
    guild: (guildId) => get<APIGuild>(Routes.guild(guildId), new URLSearchParams({ with_counts: "true" })),
    roles: (guildId) => get<Array<APIRole>>(Routes.guildRoles(guildId)),
    member: (guildId, userId) => get<APIGuildMember>(Routes.guildMember(guildId, userId)),
    memberPages,
  });
};

const toError = (cause: unknown, route: string): DiscordRequestError => {
  if (cause instanceof DiscordAPIError) {
    return new DiscordRequestError({
      status: cause.status,
      code: typeof cause.code === "number" ? cause.code : 0,
      message: cause.message,
      route,
    });
  }
  if (cause instanceof HTTPError) {
    return new DiscordRequestError({ status: cause.status, code: 0, message: cause.message, route });
  }
  return new DiscordRequestError({ status: 0, code: 0, message: cause instanceof Error ? cause.message : String(cause), route });
};
