/**
 * The bot's one logger: levels and formatting from Effect's Logger, so its lines read like the
 * server's (logfmt: `timestamp=... level=WARN fiber=#4 message="..." app=bot`). The bot is
 * callback code (discord.js events), so each call runs one log effect synchronously against a
 * context built once: no fiber outlives it, and lines below the level cost one comparison.
 */
import { DEFAULT_LOG_LEVEL } from "@guildhall/api/logging";
import { Context, Effect, Logger, type LogLevel, References } from "effect";

/** Logs a line at a level. Calling it directly logs at Info. */
export interface BotLogger {
  (line: string): void;
  readonly debug: (line: string) => void;
  readonly info: (line: string) => void;
  readonly warn: (line: string) => void;
  readonly error: (line: string) => void;
}

/** Options for {@link makeBotLogger}. */
export interface BotLoggerOptions {
  /** The least severe level written (default Info). */
  readonly level?: LogLevel.LogLevel | undefined;
  /**
   * Where formatted lines go. Default: the console, Info and below on stdout, Warn and above on
   * stderr. Tests pass a collector (or `() => {}` for silence).
   */
  readonly sink?: ((line: string) => void) | undefined;
}

/** A {@link BotLogger} writing at `options.level` and above to `options.sink`. Never throws. */
export const makeBotLogger = (options: BotLoggerOptions = {}): BotLogger => {
  const { sink } = options;
  const logger = sink ? Logger.make((entry) => sink(Logger.formatLogFmt.log(entry))) : Logger.withLeveledConsole(Logger.formatLogFmt);
  const run = Effect.runSyncWith(
    Context.make(Logger.CurrentLoggers, new Set([logger])).pipe(
      Context.add(References.MinimumLogLevel, options.level ?? DEFAULT_LOG_LEVEL),
      Context.add(References.CurrentLogAnnotations, { app: "bot" }),
    ),
  );
  const at = (level: LogLevel.Severity) => (line: string) => {
    try {
      run(Effect.logWithLevel(level)(line));
    } catch {
      // A failing sink must not take a gateway handler down with it.
    }
  };
  return Object.assign(at("Info"), { debug: at("Debug"), info: at("Info"), warn: at("Warn"), error: at("Error") });
};
