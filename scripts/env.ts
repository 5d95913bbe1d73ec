/**
 * The `npm start` launcher's configuration: the one place scripts/start.ts reads `process.env`.
 * The server's and the bot's variables go through their own readers (apps/server/src/env.ts,
 * apps/bot/src/env.ts); the launcher adds its own two. Secrets are never echoed.
 */
import { join } from "node:path";
import { type BotEnv, readBotEnv } from "@guildhall/bot";
import { readServerEnv, type ServerEnv } from "@guildhall/server";
import { Cause, Option, Schema } from "effect";

const Launcher = Schema.Struct({
  /** Presence changes per second in the demo guild (0 turns churn off). */
  GUILDHALL_DEMO_CHURN: Schema.optional(Schema.NumberFromString.check(Schema.isBetween({ minimum: 0, maximum: 1_000 }))),
  /** The emulator's port (0: any free port). */
  EMULATOR_PORT: Schema.optional(Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 65_535 }))),
});

/** The demo admin's password when GUILDHALL_ADMIN_PASSWORD is unset: known, so a newcomer can sign in. */
export const DEMO_ADMIN_PASSWORD = "guildhall-demo";

/** What the launcher runs with. */
export interface LauncherEnv {
  readonly server: ServerEnv;
  /** Demo presence changes per second (default 2). */
  readonly demoChurnPerSecond: number;
  /** The emulator's port (default 0: any free port). */
  readonly emulatorPort: number;
  /**
   * With DISCORD_TOKEN: the bot's settings, given the server's bot key for when
   * GUILDHALL_BOT_KEY is unset. Without it, null: the launcher runs the emulator.
   */
  readonly discord: ((serverBotKey: string) => BotEnv) | null;
  /**
   * The bot's state directory, where what it could not deliver at a shutdown waits for the next
   * start: GUILDHALL_BOT_STATE_DIR when set, else `<GUILDHALL_DATA_DIR>/bot`; undefined with
   * `GUILDHALL_DATA_DIR=memory://` (nothing kept: what is undelivered at shutdown is dead-lettered).
   */
  readonly botStateDir: string | undefined;
}

/** Reads and validates the launcher's environment from `source`; throws naming each bad variable (values not echoed). */
export const readLauncherEnv = (source: Record<string, string | undefined> = process.env): LauncherEnv => {
  const picked = Object.fromEntries(
    Object.keys(Launcher.fields).flatMap((key) => (source[key] !== undefined && source[key] !== "" ? [[key, source[key]]] : [])),
  );
  const result = Schema.decodeUnknownExit(Launcher)(picked, { errors: "all" });
  if (result._tag === "Failure") {
    const detail = Option.match(Cause.findErrorOption(result.cause), {
      onNone: () => Cause.pretty(result.cause),
      onSome: (error) => error.message,
    });
    throw new Error(`Invalid environment:\n${detail}`);
  }
  const server = readServerEnv(source);
  return {
    server,
    demoChurnPerSecond: result.value.GUILDHALL_DEMO_CHURN ?? 2,
    emulatorPort: result.value.EMULATOR_PORT ?? 0,
    discord: source.DISCORD_TOKEN
      ? (serverBotKey) => readBotEnv({ ...source, GUILDHALL_BOT_KEY: source.GUILDHALL_BOT_KEY || serverBotKey })
      : null,
    botStateDir: source.GUILDHALL_BOT_STATE_DIR || (server.dataDir === "memory://" ? undefined : join(server.dataDir, "bot")),
  };
};
