import { Database, type DatabaseConfig } from "@guildhall/db";
import { DiscordRest, type DiscordRestConfig } from "@guildhall/discord";
import { Jobs, type JobsOptions } from "@guildhall/jobs";
import { Bot, FirstSightSync, Integrations, type IntegrationsConfig, IntegrationsSettings, SyncLayer } from "@guildhall/sync";
import { Effect, Layer, Logger, type LogLevel, ManagedRuntime, References } from "effect";
import { DEFAULT_LOG_LEVEL } from "./logging";
import type { ApiRuntime } from "./trpc";
import { WORKERS } from "./workers";

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

/** What {@link makeRuntime} builds on: where the data lives, plus job and first-sight settings. */
export interface RuntimeConfig extends DatabaseConfig {
  /** Timings of the job queue (defaults suit production; tests shorten them). */
  readonly jobs?: JobsOptions;
  /**
   * Queue a member sync for a linked guild the bot reports before any member sync of it
   * completed (default true). Benchmarks that time their own syncs turn it off.
   */
  readonly firstSightSync?: boolean;
  /**
   * The Discord port the server's own calls use (OAuth2 token exchange, revoke and refresh, the
   * bot leaving a guild): the bot token (may be empty: then only the OAuth2 routes work) and the
   * API base. Default: discord.com with no token.
   */
  readonly discord?: DiscordRestConfig | undefined;
  /**
   * The OAuth2 client, callback URL and token keys of bot installs, read at each use (the
   * callback URL is known once the port is open); absent or null: installs answer
   * IntegrationsNotConfigured.
   */
  readonly integrations?: (() => IntegrationsConfig | null) | undefined;
}

/**
 * The one runtime a server process runs procedures and jobs on: the sync services and the Jobs
 * service (pg-boss) over the Database (postgres.js or PGlite, migrated on build), with a worker
 * for every server queue (./workers.ts), logging through {@link loggingLayer}. Dispose it to
 * stop: the workers first (running handlers get the Jobs service's bounded grace period), then
 * pg-boss, then the connections. Building it fails with `DatabaseError` when the database cannot
 * be opened or migrated, or pg-boss cannot start.
 */
export const makeRuntime = (config: RuntimeConfig, logging: LoggingOptions = {}): ApiRuntime => {
  const { jobs, firstSightSync = true, discord, integrations, ...database } = config;
  const services = Layer.mergeAll(Bot.layer.pipe(Layer.provide(Layer.succeed(FirstSightSync)(firstSightSync))), Integrations.layer).pipe(
    Layer.provide(DiscordRest.layer(discord ?? { token: "" })),
    Layer.provide(Layer.succeed(IntegrationsSettings)(integrations ?? (() => null))),
    Layer.provideMerge(Layer.mergeAll(SyncLayer, Jobs.layer(jobs))),
  );
  return ManagedRuntime.make(
    Jobs.workers(WORKERS).pipe(
      Layer.provideMerge(services),
      Layer.provideMerge(Database.layer(database)),
      Layer.provideMerge(loggingLayer(logging)),
    ),
  );
};

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
