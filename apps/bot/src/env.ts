/**
 * The bot's configuration: the one place that reads `process.env`, validated at start-up.
 * Secrets (DISCORD_TOKEN, GUILDHALL_BOT_KEY) are never printed.
 */
import { Cause, Option, Schema } from "effect";

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
  GUILDHALL_BOT_STATE_DIR: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
});

/** Validated bot settings. */
export interface BotEnv {
  readonly token: string;
  readonly botKey: string;
  readonly serverUrl: string;
  readonly apiUrl: string | undefined;
  readonly cdnUrl: string | undefined;
  /** Where the bot keeps what it could not deliver before stopping (see spool.ts). */
  readonly stateDir: string;
}

/**
 * Reads DISCORD_TOKEN and GUILDHALL_BOT_KEY (required; main.ts fills the token from the emulator when unset), GUILDHALL_SERVER_URL (default
 * http://127.0.0.1:3000), DISCORD_API_URL / DISCORD_CDN_URL (default Discord's own; set them
 * to an emulator's `/api` and `/cdn`), GUILDHALL_BOT_STATE_DIR (the bot's state directory,
 * where undelivered updates wait for the next start; default `.guildhall/bot`, relative to the
 * working directory). Throws an Error naming each bad variable.
 */
export const readBotEnv = (source: Record<string, string | undefined> = process.env): BotEnv => {
  const picked = Object.fromEntries(Object.keys(Env.fields).flatMap((key) => (source[key] ? [[key, source[key]]] : [])));
  const result = Schema.decodeUnknownExit(Env)(picked, { errors: "all" });
  if (result._tag === "Failure") throw new Error(`Invalid environment:\n${describeFailure(result.cause)}`);
  const env = result.value;
  return {
    token: env.DISCORD_TOKEN,
    botKey: env.GUILDHALL_BOT_KEY,
    serverUrl: env.GUILDHALL_SERVER_URL ?? "http://127.0.0.1:3000",
    apiUrl: env.DISCORD_API_URL,
    cdnUrl: env.DISCORD_CDN_URL,
    stateDir: env.GUILDHALL_BOT_STATE_DIR ?? ".guildhall/bot",
  };
};
