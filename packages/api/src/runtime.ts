import { Database, type DatabaseConfig } from "@guildhall/db";
import { SyncLayer } from "@guildhall/sync";
import { Effect, Layer, Logger, type LogLevel, ManagedRuntime, References } from "effect";
import { DEFAULT_LOG_LEVEL } from "./logging";
import type { ApiRuntime } from "./trpc";

/** How a server process logs. */
export interface LoggingOptions {
  /** The least severe level written (Effect's names: "Trace" to "Fatal", "All", "None"). Default "Info". */
  readonly logLevel?: LogLevel.LogLevel | undefined;
  /**
   * Where entries go. Default: one logfmt line each (`timestamp=... level=WARN fiber=#12
   * message="..."`) on the console, Info and below to stdout, Warn and above to stderr. Tests
   * pass a collecting logger. Every entry carries `app=server`.
   */
  readonly logger?: Logger.Logger<unknown, unknown> | undefined;
}

/** The one logger of a server process: {@link LoggingOptions}' logger at its minimum level. */
export const loggingLayer = (options: LoggingOptions = {}): Layer.Layer<never> =>
  Layer.mergeAll(
    Logger.layer([options.logger ?? Logger.withLeveledConsole(Logger.formatLogFmt)]),
    Layer.succeed(References.MinimumLogLevel, options.logLevel ?? DEFAULT_LOG_LEVEL),
    // The launcher runs server and bot in one process: say whose line it is (the bot's say app=bot).
    Layer.succeed(References.CurrentLogAnnotations, { app: "server" }),
  );

/**
 * The one runtime a server process runs procedures on: the sync services over the
 * Database (postgres.js or PGlite, migrated on build), logging through {@link loggingLayer}.
 * Dispose it to close connections. Building it fails with `DatabaseError` when the database
 * cannot be opened or migrated.
 */
export const makeRuntime = (config: DatabaseConfig, logging: LoggingOptions = {}): ApiRuntime =>
  ManagedRuntime.make(SyncLayer.pipe(Layer.provideMerge(Database.layer(config)), Layer.provideMerge(loggingLayer(logging))));

/**
 * Logs from code outside Effect (HTTP handlers, tRPC's onError, start-up scripts) through the
 * runtime's logger and level: `logTo(runtime, "Warn", "message", { key: value })`. Never
 * rejects; resolves once the entry is written (or dropped below the minimum level).
 * Pass no secrets and no SQL parameters.
 */
export const logTo = (
  runtime: ApiRuntime,
  level: LogLevel.Severity,
  message: string,
  annotations: Readonly<Record<string, unknown>> = {},
): Promise<void> => runtime.runPromise(Effect.logWithLevel(level)(message).pipe(Effect.annotateLogs(annotations))).catch(() => undefined);
