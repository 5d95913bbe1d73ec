import { randomBytes } from "node:crypto";
import { Database, type DatabaseConfig } from "@guildhall/db";
import { DiscordPermanentError, DiscordRest, type DiscordRestConfig } from "@guildhall/discord";
import { Jobs, type JobsOptions } from "@guildhall/jobs";
import {
  Bot,
  DomainEvents,
  FirstSightSync,
  GuildInvites,
  Integrations,
  type IntegrationsConfig,
  IntegrationsSettings,
  keyIdOf,
  Reconciler,
  RoleMenus,
  SecretBox,
  type SecretKey,
  SyncLayer,
  Webhooks,
} from "@guildhall/sync";
import { Effect, Layer, Logger, type LogLevel, ManagedRuntime, References, Stream } from "effect";
import { DEFAULT_LOG_LEVEL } from "./logging";
import type { ApiRuntime } from "./trpc";
import { WORKERS } from "./workers";

/** A fresh random key for {@link SecretBox}. */
const randomSecretKey = (): SecretKey => {
  const key = randomBytes(32);
  return { id: keyIdOf(key), key };
};

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
   * How the server calls Discord with the bot token (role reconciliation, the bot leaving a guild
   * whose integration is deleted): the token and, for the emulator, its API base. Absent: role
   * changes fail permanent with "Discord is not configured".
   */
  readonly discord?: DiscordRestConfig | undefined;
  /**
   * Where Discord's REST API is for calls that need no bot token (webhook deliveries, OAuth2 token
   * exchange, refresh and revoke): the emulator's `http://127.0.0.1:PORT/api` in tests and the
   * demo; default `discord.api`, else Discord's. Webhook URLs under it are accepted besides discord.com's.
   */
  readonly webhookApi?: string | undefined;
  /**
   * The key ring of the one encryption at rest (SecretBox: integrations' OAuth2 tokens, webhook
   * tokens); the first seals, every one opens. Default: one random key (sealed values then live
   * as long as the process).
   */
  readonly secretKeys?: ReadonlyArray<SecretKey>;
  /**
   * The OAuth2 client and callback URL of bot installs, read at each use (the
   * callback URL is known once the port is open); absent or null: installs answer
   * IntegrationsNotConfigured.
   */
  readonly integrations?: (() => IntegrationsConfig | null) | undefined;
}

/** The Discord port of a server without a token: every call fails permanent, so runs record why instead of retrying. */
const unconfiguredDiscord: Layer.Layer<DiscordRest> = Layer.succeed(DiscordRest)(
  (() => {
    const fail = () =>
      Effect.fail(
        new DiscordPermanentError({ status: 0, code: null, method: "-", route: "-", message: "Discord is not configured (DISCORD_TOKEN)" }),
      );
    return DiscordRest.of({
      gatewayBot: fail,
      me: fail,
      guild: fail,
      roles: fail,
      member: fail,
      memberPage: fail,
      memberPages: () => Stream.fromEffect(fail()),
      editMember: fail,
      addMemberRole: fail,
      removeMemberRole: fail,
      executeWebhook: fail,
      interactionCallback: fail,
      editOriginalResponse: fail,
      oauthToken: fail,
      revokeOAuthToken: fail,
      currentUser: fail,
      currentUserGuildMember: fail,
      leaveGuild: fail,
      channels: fail,
      createMessage: fail,
      deleteMessage: fail,
      createChannelInvite: fail,
    });
  })(),
);

/**
 * Queues the webhook deliveries of every batch of domain events this instance hears of (every
 * instance hears every batch: the deliveries' `singletonKey` keeps one job each), for as long as
 * the runtime lives. The `webhooks.sweep` schedule catches what a stopped instance left.
 */
const webhookDispatch = Layer.effectDiscard(
  Effect.gen(function* () {
    const log = yield* DomainEvents;
    const webhooks = yield* Webhooks;
    const runFork = Effect.runForkWith(yield* Effect.context<never>());
    const unsubscribe = log.subscribe((events) => {
      runFork(
        webhooks
          .enqueuePending({ eventIds: events.map((e) => e.id) })
          .pipe(Effect.catch((error) => Effect.logWarning(`webhooks: queueing deliveries failed (${error._tag}); the sweep retries`))),
      );
    });
    yield* Effect.addFinalizer(() => Effect.sync(unsubscribe));
  }),
);

/**
 * The one runtime a server process runs procedures and jobs on: the sync services and the Jobs
 * service (pg-boss) over the Database (postgres.js or PGlite, migrated on build), with a worker
 * for every server queue (./workers.ts), logging through {@link loggingLayer}. Dispose it to
 * stop: the workers first (running handlers get the Jobs service's bounded grace period), then
 * pg-boss, then the connections. Building it fails with `DatabaseError` when the database cannot
 * be opened or migrated, or pg-boss cannot start.
 */
export const makeRuntime = (config: RuntimeConfig, logging: LoggingOptions = {}): ApiRuntime => {
  const { jobs, firstSightSync = true, discord, webhookApi, secretKeys, integrations, ...database } = config;
  const discordLayer = discord ? DiscordRest.layer(discord) : unconfiguredDiscord;
  const keys = secretKeys && secretKeys.length > 0 ? secretKeys : [randomSecretKey()];
  const hookApi = webhookApi ?? discord?.api;
  // Webhooks and installs mostly call Discord without the bot token (the webhook's or the grant's
  // own token authorizes them); the bot token, when there is one, serves the bot leaving a guild.
  const openDiscord = DiscordRest.layer({ token: discord?.token ?? "", api: hookApi });
  const box = SecretBox.layer(keys);
  const webhooks = Webhooks.layer({ apiBase: hookApi }).pipe(Layer.provide(Layer.mergeAll(openDiscord, box)));
  const installs = Integrations.layer.pipe(
    Layer.provide(Layer.mergeAll(openDiscord, box)),
    Layer.provide(Layer.succeed(IntegrationsSettings)(integrations ?? (() => null))),
  );
  const services = Layer.mergeAll(
    Bot.layer.pipe(Layer.provide(Layer.succeed(FirstSightSync)(firstSightSync))),
    Reconciler.layer,
    GuildInvites.layer.pipe(Layer.provideMerge(RoleMenus.layer)),
    webhooks,
    installs,
  ).pipe(Layer.provideMerge(Layer.mergeAll(SyncLayer, Jobs.layer(jobs), discordLayer)));
  return ManagedRuntime.make(
    Layer.mergeAll(Jobs.workers(WORKERS), webhookDispatch).pipe(
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
