/**
 * What a REST route is, for rest.ts's pipeline and the route tables of rest/<resource>.ts: the
 * `Route`, the `RestRequest` it handles, the `Reply` it answers with, and Discord's error bodies.
 * https://discord.com/developers/docs/reference#http-api
 */
import type { IncomingHttpHeaders } from "node:http";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { DiscordHttpError } from "../discorderrors";
import type { BucketName } from "../ratelimits";

/** Query string of a request. */
export type Query = URLSearchParams;
/** Path parameters by name (`:guild_id` -> `guild_id`), URL-decoded. */
export type Params = Record<string, string>;

/** A route's answer. */
export interface Reply {
  status: number;
  /** JSON body (omitted: empty body). */
  body?: unknown;
  /** Already-serialised JSON body. */
  bytes?: Buffer;
  /** Extra response headers (the pipeline adds the X-RateLimit-* ones). */
  headers?: Record<string, string>;
}

/**
 * One request as a route sees it: `body` is the parsed JSON (or payload_json), or for a `form` route
 * the `application/x-www-form-urlencoded` fields (last value wins); `files` the uploaded files as attachments.
 */
export interface RestRequest {
  params: Params;
  query: Query;
  body: unknown;
  files: unknown[];
  /** The request headers (Authorization for bearer and Basic auth, Content-Type). */
  headers: IncomingHttpHeaders;
}

/** One REST route: method, `/a/:b` pattern below /api/v10, and its handler. */
export interface Route {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  pattern: string;
  /**
   * Whether `Authorization: Bot <token>` is required. Routes that take other credentials (interaction
   * and webhook tokens, OAuth2 client credentials, bearer tokens) say false and check them themselves.
   */
  auth: boolean;
  /** The body is `application/x-www-form-urlencoded` (the OAuth2 token routes), not JSON. */
  form?: boolean;
  /**
   * The named rate-limit bucket the route shares (ratelimits.ts), e.g. "memberRoles" for both role PUT and
   * DELETE; without one the route has a bucket of its own with the default limits.
   */
  bucket?: BucketName;
  handle(request: RestRequest): Reply | Promise<Reply>;
}

/** A Discord JSON error body: `{message, code}` (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json). */
export function error(status: number, code: number, message: string): Reply {
  return { status, body: { message, code } };
}

/** 404 / 10004 Unknown Guild. */
export const unknownGuild = (): Reply => error(404, RESTJSONErrorCodes.UnknownGuild, "Unknown Guild");
/** 404 / 10007 Unknown Member. */
export const unknownMember = (): Reply => error(404, RESTJSONErrorCodes.UnknownMember, "Unknown Member");
/** 404 / 10013 Unknown User. */
export const unknownUser = (): Reply => error(404, RESTJSONErrorCodes.UnknownUser, "Unknown User");
/** 403 / 50001 Missing Access, thrown. */
export const missingAccess = (): DiscordHttpError => new DiscordHttpError(403, RESTJSONErrorCodes.MissingAccess, "Missing Access");
/** 401 `{message: "401: Unauthorized", code: 0}`: a missing, wrong, expired or revoked token, or one without the route's scope. */
export const unauthorized = (): Reply => error(401, 0, "401: Unauthorized");

/** 50035 Invalid Form Body with Discord's nested `errors` (field -> `_errors: [{code, message}]`). */
export function invalidForm(field: string, code: string, message: string): Reply {
  return {
    status: 400,
    body: {
      message: "Invalid Form Body",
      code: RESTJSONErrorCodes.InvalidFormBodyOrContentType,
      errors: { [field]: { _errors: [{ code, message }] } },
    },
  };
}

/** Parses an integer query parameter within [min, max]; returns the number or a 50035 reply. */
export function intParam(query: Query, name: string, fallback: number, min: number, max: number): number | Reply {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^-?[0-9]+$/.test(raw.trim())) return invalidForm(name, "NUMBER_TYPE_COERCE", `Value "${raw}" is not int.`);
  const value = Number(raw);
  if (value < min) return invalidForm(name, "NUMBER_TYPE_MIN", `int value should be greater than or equal to ${min}.`);
  if (value > max) return invalidForm(name, "NUMBER_TYPE_MAX", `int value should be less than or equal to ${max}.`);
  return value;
}

/** Discord's boolean query strings: True/true/1 and False/false/0 (https://discord.com/developers/docs/reference#boolean-query-strings). */
export function boolParam(query: Query, name: string): boolean {
  const raw = query.get(name);
  return raw !== null && ["true", "1"].includes(raw.toLowerCase());
}

/** The token of an `Authorization: Bearer <token>` header, or undefined for any other header. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? "");
  return match?.[1];
}
