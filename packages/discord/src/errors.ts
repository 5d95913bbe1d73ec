/**
 * The two kinds of failure a Discord REST call ends in, and the one place that sorts them.
 *
 * - {@link DiscordPermanentError}: retrying cannot help (a 4xx other than 429: unknown guild,
 *   member, role, channel or webhook, missing access or permissions, invalid body, a limit
 *   reached, a refused token). A job records it and never retries it: tools that retried such
 *   failures piled up tens of thousands of doomed calls.
 * - {@link DiscordTransientError}: the same call may succeed later (429 rate limited, 5xx,
 *   network error, timeout). The caller's job retries it, with backoff, after `retryAfterMs`
 *   when Discord said how long to wait.
 *
 * Both carry the HTTP status (0 when no answer came), Discord's JSON error code (null when the
 * answer had none), the method, the route with its ids (never a token: webhook and
 * interaction tokens read `:token`) and Discord's message.
 * https://discord.com/developers/docs/topics/opcodes-and-status-codes#json
 */
import { DiscordAPIError, HTTPError, RateLimitError } from "@discordjs/rest";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { Schema } from "effect";

const fields = {
  /** HTTP status of Discord's answer; 0 when none came (network error, timeout, a call refused before sending). */
  status: Schema.Number,
  /** Discord's JSON error code (10004 Unknown Guild, 50013 Missing Permissions, ...); null when the answer carried none. */
  code: Schema.NullOr(Schema.Number),
  /** HTTP method: GET, POST, PUT, PATCH, DELETE. */
  method: Schema.String,
  /** The route with its ids, without the `/api/v10` prefix or query, e.g. `/guilds/123/members/456`; tokens read `:token`. */
  route: Schema.String,
  /** Discord's message (with the failing fields of a 50035 Invalid Form Body), or what went wrong on the way. */
  message: Schema.String,
};

/**
 * Discord refused the call and the same call will be refused again: never retry it. Fix the
 * input, the bot's permissions or role position, or drop the work.
 */
export class DiscordPermanentError extends Schema.TaggedError<DiscordPermanentError>()("DiscordPermanentError", fields) {}

/**
 * The call failed for a reason that passes: 429 (rate limited beyond what the port waits
 * for), 5xx, a network error or a timeout. Retry it later; `retryAfterMs` (ms) is Discord's
 * wait for a 429 and null otherwise.
 */
export class DiscordTransientError extends Schema.TaggedError<DiscordTransientError>()("DiscordTransientError", {
  ...fields,
  /** For a 429: how long to wait before the same call can succeed (ms, Discord's `retry_after` plus the client's 50 ms margin). */
  retryAfterMs: Schema.NullOr(Schema.Number),
}) {}

/** Every failure of a Discord REST call. */
export type DiscordError = DiscordPermanentError | DiscordTransientError;

/** True for a failure that must never be retried. */
export const isPermanent = (error: unknown): error is DiscordPermanentError => error instanceof DiscordPermanentError;

/** True for a failure worth retrying later (see {@link DiscordTransientError}). */
export const isTransient = (error: unknown): error is DiscordTransientError => error instanceof DiscordTransientError;

/** True for either kind of Discord failure. */
export const isDiscordError = (error: unknown): error is DiscordError => isPermanent(error) || isTransient(error);

/**
 * One line for logs, run reasons and the Jobs page, without tokens: the kind, the HTTP status
 * (0 = no answer), Discord's code when there is one, the message, the call; e.g.
 * `permanent: 403 / 50001 Missing Access (GET /guilds/1/members)`.
 */
export const describeDiscordError = (error: DiscordError): string => {
  const kind = isPermanent(error) ? "permanent" : "transient";
  const code = error.code === null ? "" : ` / ${error.code}`;
  return `${kind}: ${error.status}${code} ${error.message} (${error.method} ${error.route})`;
};

/**
 * Discord's JSON error codes that no retry can fix, by name. Any 4xx other than 429 is
 * permanent too; these are permanent whatever status they come with.
 * https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes
 */
export const PERMANENT_CODES: ReadonlyMap<number, string> = new Map([
  [RESTJSONErrorCodes.UnknownChannel, "Unknown Channel"],
  [RESTJSONErrorCodes.UnknownGuild, "Unknown Guild"],
  [RESTJSONErrorCodes.UnknownMember, "Unknown Member"],
  [RESTJSONErrorCodes.UnknownRole, "Unknown Role"],
  [RESTJSONErrorCodes.UnknownWebhook, "Unknown Webhook"],
  [RESTJSONErrorCodes.MaximumNumberOfGuildRolesReached, "Maximum number of guild roles reached (250)"],
  [
    RESTJSONErrorCodes.MaximumNumberOfUncompletedGuildScheduledEventsReached,
    "Maximum number of uncompleted guild scheduled events reached (100)",
  ],
  [RESTJSONErrorCodes.MissingAccess, "Missing Access"],
  [RESTJSONErrorCodes.MissingPermissions, "Missing Permissions"],
  [RESTJSONErrorCodes.InvalidRole, "Invalid Role"],
  [RESTJSONErrorCodes.InvalidFormBodyOrContentType, "Invalid Form Body"],
  [RESTJSONErrorCodes.CannotUpdateAFinishedEvent, "Cannot update a finished event"],
]);

/** What the classifier needs to know about the call that failed. */
export interface FailedCall {
  readonly method: string;
  /** The route as sent, tokens included: {@link safeRoute} removes them. */
  readonly route: string;
  /** Strings that must never appear in an error (the bot token, a webhook or interaction token). */
  readonly secrets: ReadonlyArray<string>;
  /** The per-attempt timeout the REST client was given (ms), for the message of a timeout. */
  readonly timeoutMs: number;
}

/**
 * The route without the tokens Discord puts in paths: `/webhooks/{id}/{token}...` and
 * `/interactions/{id}/{token}/...` read `/webhooks/{id}/:token...`.
 */
export const safeRoute = (route: string): string => route.replace(/^\/(webhooks|interactions)\/([^/]+)\/[^/]+/, "/$1/$2/:token");

const scrub = (text: string, secrets: ReadonlyArray<string>): string =>
  secrets.reduce((out, secret) => (secret.length > 0 ? out.replaceAll(secret, "[redacted]") : out), text);

/** @discordjs/rest throws this without a token: none was set, or it dropped it after a 401 (so no later call reaches Discord with it). */
const TOKEN_DROPPED = "Expected token to be set for this request";

/**
 * Sorts whatever a @discordjs/rest call rejected with into one of the two kinds:
 * - `RateLimitError` (the wait exceeded what the port accepts, see `maxRateLimitWaitMs`): transient 429;
 * - `HTTPError` (5xx after the client's own retries, which the port sets to none): transient;
 * - `DiscordAPIError` (a 4xx with Discord's JSON body): permanent, except 429;
 * - no token (none configured, or dropped after an earlier 401): permanent 401, sent nowhere;
 * - anything else (connection refused or reset, DNS, a timeout abort): transient, status 0.
 */
export const classify = (cause: unknown, call: FailedCall): DiscordError => {
  const base = { method: call.method.toUpperCase(), route: safeRoute(call.route) };
  if (cause instanceof RateLimitError) {
    return new DiscordTransientError({
      ...base,
      status: 429,
      code: null,
      retryAfterMs: Math.max(0, Math.ceil(cause.retryAfter)),
      message: `rate limited${cause.global ? " (global limit)" : ""} (scope ${cause.scope}): retry after ${Math.ceil(cause.retryAfter)} ms`,
    });
  }
  if (cause instanceof DiscordAPIError) {
    const code = typeof cause.code === "number" ? cause.code : null;
    const message = scrub(cause.message, call.secrets);
    const permanent = (code !== null && PERMANENT_CODES.has(code)) || (cause.status >= 400 && cause.status < 500 && cause.status !== 429);
    return permanent
      ? new DiscordPermanentError({ ...base, status: cause.status, code, message })
      : new DiscordTransientError({ ...base, status: cause.status, code, message, retryAfterMs: null });
  }
  if (cause instanceof HTTPError) {
    const message = `${cause.status} ${scrub(cause.message, call.secrets)}`.trim();
    return cause.status >= 400 && cause.status < 500 && cause.status !== 429
      ? new DiscordPermanentError({ ...base, status: cause.status, code: null, message })
      : new DiscordTransientError({ ...base, status: cause.status, code: null, message, retryAfterMs: null });
  }
  const error = cause instanceof Error ? cause : new Error(String(cause));
  if (error.message.startsWith(TOKEN_DROPPED)) {
    return new DiscordPermanentError({
      ...base,
      status: 401,
      code: null,
      message:
        "no bot token to send: none was configured, or Discord refused it (401) and no call is sent with it again; replace the token",
    });
  }
  if (error.name === "AbortError") {
    return new DiscordTransientError({
      ...base,
      status: 0,
      code: null,
      message: `no answer within ${call.timeoutMs} ms`,
      retryAfterMs: null,
    });
  }
  const detail = error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
  return new DiscordTransientError({ ...base, status: 0, code: null, message: scrub(detail, call.secrets), retryAfterMs: null });
};
