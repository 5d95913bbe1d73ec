/**
 * One Discord REST call as an Effect: the only place that hands a request to @discordjs/rest.
 * Every operation of the port is a {@link RequestSpec} plus its result type, so a new route
 * (scheduled events, messages, invites, webhooks, interaction callbacks, OAuth2) is a few lines
 * in DiscordRest.ts.
 */
import { type REST, RequestMethod, type RouteLike } from "@discordjs/rest";
import { Effect } from "effect";
import { classify, type DiscordError, DiscordPermanentError, safeRoute } from "./errors";
import { isSnowflake, SNOWFLAKE_MESSAGE } from "./snowflake";

/** Discord's limit on an audit log reason: 512 characters (UTF-16 code units). */
export const AUDIT_LOG_REASON_MAX = 512;

/** One request to Discord's REST API. */
export interface RequestSpec {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** The route from discord-api-types' `Routes`, without `/api/v10` (e.g. `Routes.guildMember(g, u)`). */
  readonly route: RouteLike;
  /** Ids interpolated into `route`, by name: each must be a snowflake, else the call fails permanent without being sent. */
  readonly ids?: Readonly<Record<string, string>>;
  readonly query?: URLSearchParams | undefined;
  /** JSON body. */
  readonly body?: unknown;
  /**
   * Sent as `X-Audit-Log-Reason` (URL-encoded by @discordjs/rest, as Discord requires), cut to
   * 512 characters. Only for routes whose Discord doc says "supports the X-Audit-Log-Reason header".
   */
  readonly reason?: string | undefined;
  /**
   * `bot` (default): `Authorization: Bot <token>`. `none`: no Authorization, for routes
   * authorized by a token in the path (webhook execute, interaction callbacks and follow-ups).
   */
  readonly auth?: "bot" | "none";
  /**
   * Extra headers, for OAuth2 routes: `Authorization: Basic` (client credentials) or
   * `Authorization: Bearer` (a user's access token) with `auth: "none"`. Put the secret values in
   * `secrets` too.
   */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** A form-urlencoded body (OAuth2's token routes take no JSON), sent as is instead of `body`. */
  readonly form?: URLSearchParams | undefined;
  /** Extra strings to keep out of errors (a webhook or interaction token in the path). */
  readonly secrets?: ReadonlyArray<string>;
}

/** What {@link makeRequester} needs besides the client. */
export interface RequesterOptions {
  /** The bot token, kept out of every error. */
  readonly token: string;
  /** The client's per-attempt timeout (ms), named in the message of a timeout. */
  readonly timeoutMs: number;
}

/** Runs one request; succeeds with Discord's JSON (or an empty ArrayBuffer for 204), fails with a {@link DiscordError}. */
export type Requester = <A>(spec: RequestSpec) => Effect.Effect<A, DiscordError>;

const METHODS = {
  GET: RequestMethod.Get,
  POST: RequestMethod.Post,
  PUT: RequestMethod.Put,
  PATCH: RequestMethod.Patch,
  DELETE: RequestMethod.Delete,
} as const;

/** Cuts `reason` to {@link AUDIT_LOG_REASON_MAX} code units without splitting a surrogate pair; empty means none. */
export const auditLogReason = (reason: string | undefined): string | undefined => {
  if (reason === undefined || reason.length === 0) return undefined;
  if (reason.length <= AUDIT_LOG_REASON_MAX) return reason;
  const cut = reason.slice(0, AUDIT_LOG_REASON_MAX);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
};

/**
 * The requester over `rest`. Interrupting the returned effect aborts the request (or takes it
 * out of the rate-limit queue) through the AbortSignal Effect hands to the promise.
 */
export const makeRequester =
  (rest: REST, options: RequesterOptions): Requester =>
  <A>(spec: RequestSpec) => {
    const secrets = [options.token, ...(spec.secrets ?? [])];
    const failed = { method: spec.method, route: spec.route, secrets, timeoutMs: options.timeoutMs };
    for (const [name, value] of Object.entries(spec.ids ?? {})) {
      if (!isSnowflake(value)) {
        return Effect.fail(
          new DiscordPermanentError({
            status: 0,
            code: null,
            method: spec.method,
            route: safeRoute(spec.route).slice(0, 200),
            message: `${name} ${SNOWFLAKE_MESSAGE}; nothing was sent`,
          }),
        );
      }
    }
    const reason = auditLogReason(spec.reason);
    return Effect.tryPromise({
      try: (signal) =>
        rest.request({
          method: METHODS[spec.method],
          fullRoute: spec.route,
          ...(spec.query ? { query: spec.query } : {}),
          ...(spec.body !== undefined ? { body: spec.body } : {}),
          ...(spec.form !== undefined
            ? {
                body: spec.form.toString(),
                passThroughBody: true,
                headers: { "Content-Type": "application/x-www-form-urlencoded", ...spec.headers },
              }
            : spec.headers !== undefined
              ? { headers: { ...spec.headers } }
              : {}),
          ...(reason ? { reason } : {}),
          ...(spec.auth === "none" ? { auth: false } : {}),
          signal,
        }) as Promise<A>,
      catch: (cause) => classify(cause, failed),
    });
  };
