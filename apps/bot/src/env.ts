/**
 * The bot's configuration: the one place that reads `process.env`, validated at start-up.
 * Secrets (DISCORD_TOKEN, GUILDHALL_BOT_KEY, the emulator's token) are never printed.
 */
import { DEFAULT_LOG_LEVEL, LogLevelSetting } from "@guildhall/api/logging";
import { Cause, type LogLevel, Option, Schema } from "effect";

/** Each failing variable with what is wrong, e.g. `Expected an integer\n  at ["PORT"]`. Values are not echoed. */
const describeFailure = (cause: Cause.Cause<Schema.SchemaError>): string =>
  Option.match(Cause.findErrorOption(cause), { onNone: () => Cause.pretty(cause), onSome: (error) => error.message });

const Url = Schema.String.check(Schema.isPattern(/^https?:\/\//, { message: "must be an http(s) URL" }));

const Env = Schema.Struct({
  DISCORD_TOKEN: Schema.String.check(Schema.isMinLength(1)),
  GUILDHALL_BOT_KEY: Schema.String.check(Schema.isMinLength(24)),
  GUILDHALL_SERVER_URL: Schema.optional(Url),
  DISCORD_API_URL: Schema.optional(Url),
  DISCORD_CDN_URL: Schema.optional(Url),
  GUILDHALL_LOG_LEVEL: Schema.optional(LogLevelSetting),
  GUILDHALL_BOT_STATE_DIR: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
});

/** The emulator's control API answer (GET /_emulator) the bot needs: where to connect, and the token. */
const EmulatorInfo = Schema.Struct({
  url: Url,
  apiUrl: Url,
  cdnUrl: Url,
  token: Schema.String.check(Schema.isMinLength(1)),
});

/** Where `npm run emulator` listens when EMULATOR_URL is unset. */
export const DEFAULT_EMULATOR_URL = "http://127.0.0.1:3001";

/** Validated bot settings. */
export interface BotEnv {
  readonly token: string;
  readonly botKey: string;
  readonly serverUrl: string;
  readonly apiUrl: string | undefined;
  readonly cdnUrl: string | undefined;
  /** The least severe level logged (GUILDHALL_LOG_LEVEL, default Info). */
  readonly logLevel: LogLevel.LogLevel;
  /** Where the bot keeps what it could not deliver before stopping (see spool.ts). */
  readonly stateDir: string;
}

/** The environment is invalid, or names an emulator that does not answer; `message` says which variable, never a value. */
export class BotEnvError extends Error {
  override readonly name = "BotEnvError";
}

/**
 * Reads DISCORD_TOKEN and GUILDHALL_BOT_KEY (required), GUILDHALL_SERVER_URL (default
 * http://127.0.0.1:3000), DISCORD_API_URL / DISCORD_CDN_URL (default Discord's own; set them
 * to an emulator's `/api` and `/cdn`), GUILDHALL_LOG_LEVEL (trace ... fatal, none; default
 * info), GUILDHALL_BOT_STATE_DIR (the bot's state directory, where undelivered updates wait for
 * the next start; default `.guildhall/bot`, relative to the working directory). Empty variables
 * count as unset. Throws `BotEnvError` naming each bad variable.
 */
export const readBotEnv = (source: Record<string, string | undefined> = process.env): BotEnv => {
  const picked = Object.fromEntries(Object.keys(Env.fields).flatMap((key) => (source[key] ? [[key, source[key]]] : [])));
  const result = Schema.decodeUnknownExit(Env)(picked, { errors: "all" });
  if (result._tag === "Failure") throw new BotEnvError(`Invalid environment:\n${describeFailure(result.cause)}`);
  const env = result.value;
  return {
    token: env.DISCORD_TOKEN,
    botKey: env.GUILDHALL_BOT_KEY,
    serverUrl: env.GUILDHALL_SERVER_URL ?? "http://127.0.0.1:3000",
    apiUrl: env.DISCORD_API_URL,
    cdnUrl: env.DISCORD_CDN_URL,
    logLevel: env.GUILDHALL_LOG_LEVEL ?? DEFAULT_LOG_LEVEL,
    stateDir: env.GUILDHALL_BOT_STATE_DIR ?? ".guildhall/bot",
  };
};

/**
 * Like {@link readBotEnv}, but without DISCORD_TOKEN the bot runs against the Discord emulator
 * at EMULATOR_URL (default {@link DEFAULT_EMULATOR_URL}): its token and REST / CDN URLs come
 * from the emulator's control API over plain HTTP (GET `<EMULATOR_URL>/_emulator`), so the bot
 * never loads the emulator's code. `fetchImpl` is for tests. Rejects with `BotEnvError` when a
 * variable is bad or the emulator does not answer (naming EMULATOR_URL and the cause).
 * Resolves to the settings and, when discovered, the emulator's URL (`emulatorUrl`).
 */
export const loadBotEnv = async (
  source: Record<string, string | undefined> = process.env,
  fetchImpl: typeof fetch = fetch,
): Promise<BotEnv & { readonly emulatorUrl: string | null }> => {
  if (source.DISCORD_TOKEN) return { ...readBotEnv(source), emulatorUrl: null };
  const base = source.EMULATOR_URL || DEFAULT_EMULATOR_URL;
  if (!/^https?:\/\//.test(base)) throw new BotEnvError('Invalid environment:\nmust be an http(s) URL\n  at ["EMULATOR_URL"]');
  const endpoint = `${base.replace(/\/+$/, "")}/_emulator`;
  let answer: unknown;
  try {
    const response = await fetchImpl(endpoint);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    answer = await response.json();
  } catch (error) {
    const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    throw new BotEnvError(
      `No DISCORD_TOKEN, and the Discord emulator at EMULATOR_URL (${base}) does not answer (${cause}). ` +
        "Set DISCORD_TOKEN to connect to Discord, or start the emulator (npm run emulator) or set EMULATOR_URL.",
    );
  }
  const info = Schema.decodeUnknownExit(EmulatorInfo)(answer, { errors: "all" });
  if (info._tag === "Failure") {
    throw new BotEnvError(`The emulator at EMULATOR_URL (${base}) answered with something else:\n${describeFailure(info.cause)}`);
  }
  const env = readBotEnv({
    ...source,
    DISCORD_TOKEN: info.value.token,
    DISCORD_API_URL: info.value.apiUrl,
    DISCORD_CDN_URL: info.value.cdnUrl,
  });
  return { ...env, emulatorUrl: info.value.url };
};
