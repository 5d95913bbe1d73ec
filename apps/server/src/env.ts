/**
 * The server's configuration: the one place that reads `process.env`, validated at start-up.
 * A bad value stops the server with a message naming the variable; secrets are never printed.
 */
import type { BlockList } from "node:net";
import { DEFAULT_LOG_LEVEL, LogLevelSetting } from "@guildhall/api/logging";
import { InvalidEncryptionKeys, parseEncryptionKeys } from "@guildhall/sync";
import { Cause, type LogLevel, Option, Schema } from "effect";
import { InvalidProxyList, parseTrustedProxies } from "./http";

/** Each failing variable with what is wrong, e.g. `Expected an integer\n  at ["PORT"]`. Values are not echoed. */
const describeFailure = (cause: Cause.Cause<Schema.SchemaError>): string =>
  Option.match(Cause.findErrorOption(cause), { onNone: () => Cause.pretty(cause), onSome: (error) => error.message });

const Port = Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 65_535 }));

const Env = Schema.Struct({
  PORT: Schema.optional(Port),
  HOST: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
  DATABASE_URL: Schema.optional(Schema.String.check(Schema.isPattern(/^postgres(ql)?:\/\//, { message: "must be a postgres:// URL" }))),
  GUILDHALL_DATA_DIR: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
  GUILDHALL_PUBLIC_URL: Schema.optional(Schema.String.check(Schema.isPattern(/^https?:\/\//, { message: "must be an http(s) URL" }))),
  GUILDHALL_BOT_KEY: Schema.optional(Schema.String.check(Schema.isMinLength(24))),
  GUILDHALL_SESSION_SECRET: Schema.optional(Schema.String.check(Schema.isMinLength(32))),
  GUILDHALL_ENCRYPTION_KEY: Schema.optional(Schema.String),
  GUILDHALL_WEB_DIST: Schema.optional(Schema.String),
  GUILDHALL_LOG_LEVEL: Schema.optional(LogLevelSetting),
  GUILDHALL_ADMIN_EMAIL: Schema.optional(
    Schema.String.check(Schema.isPattern(/^[^@\s]+@[^@\s]+$/, { message: "must be an email address" })),
  ),
  GUILDHALL_ADMIN_PASSWORD: Schema.optional(Schema.String.check(Schema.isMinLength(8))),
  GUILDHALL_TRUSTED_PROXIES: Schema.optional(Schema.String),
  GUILDHALL_DEBUG_ERRORS: Schema.optional(Schema.Literals(["0", "1", "false", "true"])),
  DISCORD_TOKEN: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
  DISCORD_API_URL: Schema.optional(Schema.String.check(Schema.isPattern(/^https?:\/\//, { message: "must be an http(s) URL" }))),
  DISCORD_CLIENT_ID: Schema.optional(
    Schema.String.check(Schema.isPattern(/^[1-9][0-9]{16,19}$/, { message: "must be the application id (a snowflake)" })),
  ),
  DISCORD_CLIENT_SECRET: Schema.optional(Schema.String.check(Schema.isMinLength(8))),
  GUILDHALL_TOKEN_KEYS: Schema.optional(Schema.String),
  GUILDHALL_SIGN_IN_LIMIT: Schema.optional(
    Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 100_000 })),
  ),
  DISCORD_PUBLIC_KEY: Schema.optional(
    Schema.String.check(
      Schema.isPattern(/^[0-9a-fA-F]{64}$/, { message: "must be the application's Ed25519 public key: 64 hex characters" }),
    ),
  ),
});

/** The email of the first admin when GUILDHALL_ADMIN_EMAIL is unset. */
export const DEFAULT_ADMIN_EMAIL = "admin@guildhall.local";

/** Validated server settings. Secrets may be absent: the server then keeps generated ones in its data dir. */
export interface ServerEnv {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly publicUrl: string | undefined;
  readonly botKey: string | undefined;
  readonly sessionSecret: string | undefined;
  /**
   * The key ring of the one encryption at rest (integrations' OAuth2 tokens, webhook tokens):
   * GUILDHALL_ENCRYPTION_KEY, then the deprecated GUILDHALL_TOKEN_KEYS, as `id:base64key` or
   * bare-key entries, comma-separated, the first current (checked here). Undefined when neither
   * is set: the server generates a key and keeps it in its data dir. A secret: never printed.
   */
  readonly encryptionKey: string | undefined;
  readonly webDist: string | undefined;
  /** The least severe level logged (GUILDHALL_LOG_LEVEL, default Info). */
  readonly logLevel: LogLevel.LogLevel;
  /**
   * The first admin's sign-in: `email`, and `password` when the operator set one (a secret:
   * never printed). Without it the server generates a password and prints it once.
   */
  readonly admin: { readonly email: string; readonly password: string | undefined };
  /**
   * The reverse proxies whose `X-Forwarded-For` is believed (GUILDHALL_TRUSTED_PROXIES), or null:
   * then the client is the socket's peer, whatever the headers say.
   */
  readonly trustedProxies: BlockList | null;
  /** tRPC error answers carry stack traces (GUILDHALL_DEBUG_ERRORS=1); default false. */
  readonly debugErrors: boolean;
  /**
   * Sign-in attempts allowed per client address per 60 s (GUILDHALL_SIGN_IN_LIMIT), or undefined
   * for the default SIGN_IN_LIMIT of @guildhall/api (10 a minute).
   */
  readonly signInLimit: { readonly windowS: number; readonly max: number } | undefined;
  /** The server's own Discord calls (role reconciliation, the bot leaving a guild whose integration is deleted): DISCORD_TOKEN (a secret) and DISCORD_API_URL (default Discord's); undefined without a token. */
  readonly discord: { readonly token: string; readonly api: string | undefined } | undefined;
  /**
   * The Discord application's Ed25519 public key, 64 hex characters (DISCORD_PUBLIC_KEY), which
   * `POST /api/interactions` verifies requests with; undefined: that endpoint is off (404).
   */
  readonly discordPublicKey: string | undefined;
  /**
   * The Discord application's OAuth2 client (DISCORD_CLIENT_ID, a snowflake, and
   * DISCORD_CLIENT_SECRET: both or neither), for Sign in with Discord and for installing the bot
   * from the Integrations page; undefined: both are off. The secret is never printed.
   */
  readonly discordClient: { readonly clientId: string; readonly clientSecret: string } | undefined;
}

/** Thrown when the environment is invalid; `message` names each bad variable. */
export class EnvError extends Error {
  override readonly name = "EnvError";
}

/**
 * Reads and validates the server's variables from `source` (default `process.env`):
 * PORT (default 3000), HOST (default 127.0.0.1), DATABASE_URL (absent: embedded PGlite),
 * GUILDHALL_DATA_DIR (default `.guildhall`), GUILDHALL_PUBLIC_URL, GUILDHALL_BOT_KEY (>= 24
 * chars), GUILDHALL_SESSION_SECRET (>= 32 chars), GUILDHALL_ENCRYPTION_KEY (the AES-256 key ring
 * of every secret at rest, integrations' OAuth2 tokens and webhook tokens: comma-separated
 * `id:base64key` entries or bare keys of 64 hex digits / base64 of 32 bytes, the first current;
 * GUILDHALL_TOKEN_KEYS, its deprecated alias, is appended to it), GUILDHALL_WEB_DIST, GUILDHALL_LOG_LEVEL
 * (trace, debug, info, warn, error, fatal or none, any case; default info),
 * GUILDHALL_ADMIN_EMAIL (default admin@guildhall.local), GUILDHALL_ADMIN_PASSWORD (>= 8 chars),
 * GUILDHALL_TRUSTED_PROXIES (addresses and CIDR ranges of the reverse proxies in front of the
 * server, comma or space separated: only their `X-Forwarded-For` is believed; default none),
 * GUILDHALL_DEBUG_ERRORS (1 or true: tRPC errors carry stack traces; default off),
 * GUILDHALL_SIGN_IN_LIMIT (sign-in attempts per client address per minute, 1-100000; default 10),
 * DISCORD_TOKEN and DISCORD_API_URL (the server's own Discord calls: role reconciliation),
 * DISCORD_PUBLIC_KEY (the application's Ed25519 public key, 64 hex characters; absent: no interactions endpoint),
 * DISCORD_CLIENT_ID + DISCORD_CLIENT_SECRET (Discord's OAuth2 application, both or neither: Sign in
 * with Discord and bot installs).
 * Throws `EnvError`, naming each bad variable without echoing its value.
 */
export const readServerEnv = (source: Record<string, string | undefined> = process.env): ServerEnv => {
  const picked = Object.fromEntries(
    Object.keys(Env.fields).flatMap((key) => (source[key] !== undefined && source[key] !== "" ? [[key, source[key]]] : [])),
  );
  const result = Schema.decodeUnknownExit(Env)(picked, { errors: "all" });
  if (result._tag === "Failure") {
    throw new EnvError(`Invalid environment:\n${describeFailure(result.cause)}`);
  }
  const env = result.value;
  let trustedProxies: BlockList | null = null;
  const proxies = (env.GUILDHALL_TRUSTED_PROXIES ?? "").split(/[\s,]+/).filter((entry) => entry !== "");
  if (proxies.length > 0) {
    try {
      trustedProxies = parseTrustedProxies(proxies);
    } catch (error) {
      if (!(error instanceof InvalidProxyList)) throw error;
      // The list names network addresses, not secrets: the bad entry is shown.
      throw new EnvError(`Invalid environment:\n${error.message}\n  at ["GUILDHALL_TRUSTED_PROXIES"]`);
    }
  }
  if ((env.DISCORD_CLIENT_ID === undefined) !== (env.DISCORD_CLIENT_SECRET === undefined)) {
    const missing = env.DISCORD_CLIENT_ID === undefined ? "DISCORD_CLIENT_ID" : "DISCORD_CLIENT_SECRET";
    throw new EnvError(`Invalid environment:\nDISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET go together\n  at ["${missing}"]`);
  }
  // One key ring: GUILDHALL_ENCRYPTION_KEY first (its first entry seals), then the deprecated GUILDHALL_TOKEN_KEYS.
  for (const name of ["GUILDHALL_ENCRYPTION_KEY", "GUILDHALL_TOKEN_KEYS"] as const) {
    const value = env[name];
    if (value === undefined) continue;
    try {
      parseEncryptionKeys(value);
    } catch (error) {
      if (!(error instanceof InvalidEncryptionKeys)) throw error;
      // The message names the entry or key id, never key material.
      throw new EnvError(`Invalid environment:\n${error.message}\n  at ["${name}"]`);
    }
  }
  const keyRing = [env.GUILDHALL_ENCRYPTION_KEY, env.GUILDHALL_TOKEN_KEYS].filter((v) => v !== undefined).join(",");
  if (keyRing !== "") {
    try {
      parseEncryptionKeys(keyRing);
    } catch (error) {
      if (!(error instanceof InvalidEncryptionKeys)) throw error;
      throw new EnvError(`Invalid environment:\n${error.message}\n  at ["GUILDHALL_TOKEN_KEYS"]`);
    }
  }
  return {
    port: env.PORT ?? 3000,
    host: env.HOST ?? "127.0.0.1",
    databaseUrl: env.DATABASE_URL,
    dataDir: env.GUILDHALL_DATA_DIR ?? ".guildhall",
    publicUrl: env.GUILDHALL_PUBLIC_URL,
    botKey: env.GUILDHALL_BOT_KEY,
    sessionSecret: env.GUILDHALL_SESSION_SECRET,
    encryptionKey: keyRing === "" ? undefined : keyRing,
    webDist: env.GUILDHALL_WEB_DIST,
    logLevel: env.GUILDHALL_LOG_LEVEL ?? DEFAULT_LOG_LEVEL,
    admin: { email: env.GUILDHALL_ADMIN_EMAIL ?? DEFAULT_ADMIN_EMAIL, password: env.GUILDHALL_ADMIN_PASSWORD },
    trustedProxies,
    debugErrors: env.GUILDHALL_DEBUG_ERRORS === "1" || env.GUILDHALL_DEBUG_ERRORS === "true",
    signInLimit: env.GUILDHALL_SIGN_IN_LIMIT === undefined ? undefined : { windowS: 60, max: env.GUILDHALL_SIGN_IN_LIMIT },
    discord: env.DISCORD_TOKEN === undefined ? undefined : { token: env.DISCORD_TOKEN, api: env.DISCORD_API_URL },
    discordPublicKey: env.DISCORD_PUBLIC_KEY,
    discordClient:
      env.DISCORD_CLIENT_ID !== undefined && env.DISCORD_CLIENT_SECRET !== undefined
        ? { clientId: env.DISCORD_CLIENT_ID, clientSecret: env.DISCORD_CLIENT_SECRET }
        : undefined,
  };
};
