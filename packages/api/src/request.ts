/**
 * Failures of a request itself, before any domain service runs: a bad value, a body too large,
 * a wrong key, a wrong method. REST handlers (the legacy endpoint, and the HTTP endpoints to
 * come) fail with these and answer through `answerFor` (errors.ts), like procedures do.
 */
import { Effect, Schema } from "effect";

/** A value of the request is invalid; `field` is its dotted path (`members.3.joined_at`, `X-Guild-Id`, `body`). */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  field: Schema.String,
  message: Schema.String,
}) {}

/** The request body is larger than the endpoint takes; `message` says the limit and what to use instead. */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  message: Schema.String,
}) {}

/** The request's API key is missing or wrong; `header` names where it goes. The key itself is never kept. */
export class InvalidApiKey extends Schema.TaggedError<InvalidApiKey>()("InvalidApiKey", {
  header: Schema.String,
}) {}

/** The endpoint does not take this HTTP method; `allowed` is the one it takes. */
export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()("MethodNotAllowed", {
  allowed: Schema.String,
}) {}

/**
 * A browser request that a session cookie would authenticate came from a page of another
 * origin (cross-site request forgery); `origin` is what the request named (its `Origin`, the
 * origin of its `Referer`, or `Sec-Fetch-Site: <value>`).
 */
export class ForeignOrigin extends Schema.TaggedError<ForeignOrigin>()("ForeignOrigin", {
  origin: Schema.String,
}) {}

/** The endpoint does not take the request's `Content-Type`; `allowed` names the one it takes. */
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()("UnsupportedMediaType", {
  contentType: Schema.String,
  allowed: Schema.String,
}) {}

/** No endpoint answers `method` at `path` (an API path the server does not have). */
export class UnknownEndpoint extends Schema.TaggedError<UnknownEndpoint>()("UnknownEndpoint", {
  method: Schema.String,
  path: Schema.String,
}) {}

/**
 * A request to the interactions endpoint whose Ed25519 signature does not hold: `reason` says what
 * (missing or malformed headers, a timestamp out of the 5-minute window, a signature that does not
 * verify). https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers
 */
export class InvalidSignature extends Schema.TaggedError<InvalidSignature>()("InvalidSignature", {
  reason: Schema.String,
}) {}

/** The interactions endpoint was called but the server has no application public key (DISCORD_PUBLIC_KEY). */
export class InteractionsNotConfigured extends Schema.TaggedError<InteractionsNotConfigured>()("InteractionsNotConfigured", {}) {}

/** Each schema's Standard Schema form, built once. */
const standardSchemas = new WeakMap<object, ReturnType<typeof Schema.toStandardSchemaV1>["~standard"]>();

/** At most this many issues are named in one message. */
const MAX_ISSUES = 5;

const pathOf = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined): string =>
  (path ?? []).map((segment) => String(typeof segment === "object" && segment !== null ? segment.key : segment)).join(".");

/**
 * Decodes `value` with `schema` (cleaning and checking it as the schema says). Fails with
 * InvalidInput whose `field` is the first failing field's dotted path (`prefix` when the root
 * itself fails) and whose message names each failing field (`members.0.joined_at: must be ...`),
 * at most five.
 */
export const validateInput = <S extends Schema.Codec<unknown, unknown>>(
  schema: S,
  value: unknown,
  prefix = "body",
): Effect.Effect<S["Type"], InvalidInput> =>
  Effect.suspend(() => {
    let standard = standardSchemas.get(schema);
    if (!standard) {
      standard = Schema.toStandardSchemaV1(schema, { parseOptions: { errors: "all" } })["~standard"] as typeof standard & object;
      standardSchemas.set(schema, standard);
    }
    const result = standard.validate(value);
    if (result instanceof Promise) return Effect.die(new Error("validateInput takes synchronous schemas only"));
    if (!result.issues) return Effect.succeed(result.value as S["Type"]);
    const issues = result.issues.map((issue) => ({ path: pathOf(issue.path) || prefix, message: issue.message }));
    const named = issues.slice(0, MAX_ISSUES).map((issue) => `${issue.path}: ${issue.message}`);
    if (issues.length > MAX_ISSUES) named.push(`and ${issues.length - MAX_ISSUES} more`);
    return Effect.fail(new InvalidInput({ field: issues[0]?.path ?? prefix, message: named.join("; ") }));
  });
