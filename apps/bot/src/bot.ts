import { createClient } from "@guildhall/api/client";
import { DiscordRestClient } from "@guildhall/discord";
import { Client, Events, GatewayIntentBits, Options, Status } from "discord.js";
import { GatewayDispatchEvents, type GatewayDispatchPayload, GatewayOpcodes } from "discord-api-types/v10";
import type { LogLevel } from "effect";
import { followCommands } from "./commandFollower";
import { syncMembersCommand } from "./commands/syncMembers";
import type { BotContext, MemberEvent } from "./context";
import { type DeadLetter, type DeadLetterSummary, mergeDeadLetters } from "./deadLetter";
import { onGuildCreate } from "./events/guildCreate";
import { onGuildDelete } from "./events/guildDelete";
import { onGuildMemberAdd, onGuildMemberRemove, onGuildMemberUpdate } from "./events/guildMemberEvents";
import { onGuildMembersChunk } from "./events/guildMembersChunk";
import { botInteractionServices, onInteractionCreate } from "./events/interactionCreate";
import { onPresenceUpdate } from "./events/presenceUpdate";
import { type Failure, Forwarder, PresenceForwarder } from "./forwarder";
import { type FatalClose, fatalClose, fatalLogin, loginBackoff } from "./gatewayClose";
import { guardChunkMembers, guardDispatch } from "./gatewayGuard";
import { EarlyPingShardingStrategy } from "./gatewayPing";
import { type BotLogger, makeBotLogger } from "./log";
import { MemberSyncRunner } from "./memberSync";
import { type SpoolEntry, takeSpool, writeSpool } from "./spool";

/** Options for {@link startBot}. */
export interface BotOptions {
  /** The Discord bot token. Never logged. */
  readonly token: string;
  /** Guildhall's server origin, e.g. `http://127.0.0.1:3000`. */
  readonly serverUrl: string;
  /** The bot key the server expects. Never logged. */
  readonly botKey: string;
  /** Discord's REST base without the version (`http://127.0.0.1:3001/api` for the emulator); default Discord's. */
  readonly apiUrl?: string | undefined;
  /** Discord's CDN base; default Discord's. */
  readonly cdnUrl?: string | undefined;
  /** How often the bot reports its health (ms). Default 10,000. */
  readonly heartbeatMs?: number;
  /** How long presence updates wait to be batched (ms). Default 10. */
  readonly flushMs?: number;
  /**
   * The bot's state directory (GUILDHALL_BOT_STATE_DIR): what could not be delivered before a
   * shutdown is kept there (spool.ts) and replayed at the next start, before any new event.
   * Absent: nothing is kept, and what is undelivered at shutdown is dead-lettered.
   */
  readonly stateDir?: string | undefined;
  /** How long `close` keeps delivering what is queued before it stops (ms). Default 10,000. */
  readonly shutdownDrainMs?: number;
  /** Where log lines go (formatted, one per call); default the console. Tests pass `() => {}`. */
  readonly log?: (line: string) => void;
  /** The least severe level logged (default Info); see apps/bot/src/log.ts. */
  readonly logLevel?: LogLevel.LogLevel | undefined;
  /** Delays between login attempts after a transient failure (ms): `firstMs` doubling up to `maxMs`; default 1 s to 60 s. */
  readonly loginRetry?: { readonly firstMs?: number; readonly maxMs?: number } | undefined;
  /** Aborting it while the bot retries its login stops the retries: `startBot` rejects (what it held goes to the spool). */
  readonly signal?: AbortSignal | undefined;
}

/** What {@link RunningBot.close} did with what was still queued. */
export interface ShutdownReport {
  /** Updates (presences, member events, dead letter reports) not delivered within the drain time. */
  readonly undelivered: number;
  /** The spool they were written to, or null (nothing left, no state directory, or it could not be written). */
  readonly spoolPath: string | null;
  /** Undelivered updates that could not be kept either, and were dead-lettered (logged and counted, not reported). */
  readonly abandoned: number;
}

/** A running bot. `close` logs out of the gateway and closes the server connection. */
export interface RunningBot {
  readonly client: Client;
  /** Resolves when every presence update received so far has reached the server. */
  readonly drain: () => Promise<void>;
  /** Full member syncs (also reachable through the server's `members.sync` command). */
  readonly memberSync: MemberSyncRunner;
  /** Resolves when every member event received so far has reached the server. */
  readonly drainMemberEvents: () => Promise<void>;
  /**
   * Presence counters (`received`, `forwarded`, `pending`, `coalesced`), the same for member
   * events, the newest gateway event (epoch ms), and dead letters of all queues since start.
   */
  readonly stats: () => {
    received: number;
    forwarded: number;
    pending: number;
    coalesced: number;
    lastEventAt: number | null;
    memberEvents: { received: number; forwarded: number; pending: number };
    deadLetters: number;
  };
  /** Updates the server refused for good since start (presences and member events): counts by queue and the newest 100. */
  readonly deadLetters: () => DeadLetterSummary;
  /**
   * The gateway close the bot cannot recover from (a refused token, disallowed intents, ...),
   * with what to do, or null while it is healthy. Once set the bot stays disconnected, keeps
   * reporting it in its heartbeats (the bot panel shows it), and takes no server commands.
   */
  readonly fatal: () => FatalClose | null;
  /**
   * Stops: disconnects from the gateway first (nothing new comes in), keeps delivering what is
   * queued for at most `shutdownDrainMs`, then writes what is left to the spool in `stateDir`
   * (or dead-letters it), and closes the server connection. Resolves within the drain time plus
   * the time to write the spool, whether or not the server answers. Calling it again returns
   * the same promise.
   */
  readonly close: () => Promise<ShutdownReport>;
}

/** Members the bot keeps cached per guild: its own, plus a few recently seen. */
const MEMBER_CACHE_SIZE = 100;

/** A login that failed for a reason that may pass (the network, a 5xx): worth another try. `undelivered` is what the attempt held. */
class LoginFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly undelivered: ReadonlyArray<SpoolEntry>,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** Resolves after `ms`, or rejects at once when `signal` aborts. */
const pause = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error("the bot was stopped before it could connect to Discord"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error("the bot was stopped before it could connect to Discord"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/**
 * Connects to Discord (or the emulator) with the Guilds, GuildMembers and GuildPresences
 * intents and caches tuned so memory does not grow with guild size (no presence cache,
 * bounded member and user caches). Forwards presences to the server in batches, reports
 * health every `heartbeatMs`, follows the server's command queue (acknowledging each command
 * when done, see ./commandFollower.ts), and lets discord.js
 * resume after a dropped connection.
 *
 * A login that fails for a reason that may pass (the network, Discord's 5xx) is retried with
 * backoff (`loginRetry`: 1 s doubling to 60 s), each failure logged; `signal` stops the retries
 * (the promise then rejects). A close no retry can fix (a refused token, close 4004 or 401 at
 * login; disallowed intents, 4014; see ./gatewayClose.ts), at login or later, is logged at
 * Error with what to do, and puts the bot in a fatal state (`fatal()`): it resolves (or stays)
 * disconnected and reports the close in its heartbeats, for the bot panel.
 */
export const startBot = async (options: BotOptions): Promise<RunningBot> => {
  const log = makeBotLogger({ level: options.logLevel, sink: options.log });
  let carried: ReadonlyArray<SpoolEntry> = [];
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect(options, log, carried);
    } catch (error) {
      if (!(error instanceof LoginFailed)) throw error;
      carried = error.undelivered;
      // Kept on disk while waiting, so a process killed now loses nothing; the next attempt reads it back.
      if (options.stateDir && carried.length > 0) {
        carried = await writeSpool(options.stateDir, carried).then(
          () => [],
          () => carried,
        );
      }
      const delay = loginBackoff(attempt, options.loginRetry);
      log.warn(`could not connect to Discord (${error.message}): retrying in ${(delay / 1000).toFixed(1)} s (attempt ${attempt})`);
      await pause(delay, options.signal).catch((stopped: unknown) => {
        if (carried.length > 0)
          log.error(`dropped ${carried.length} undelivered update(s): stopped before connecting, and no state directory`);
        throw stopped;
      });
    }
  }
};

/** One login attempt of {@link startBot}, replaying `carried` (what an earlier attempt held) first; rejects with LoginFailed when it may be retried. */
const connect = async (options: BotOptions, log: BotLogger, carried: ReadonlyArray<SpoolEntry>): Promise<RunningBot> => {
  const startedAt = Date.now();
  let lastEventAt: number | null = null;
  // Reports health once the early heartbeat has measured the ping (gatewayPing.ts); set below.
  let reportHealth = () => {};

  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers, GatewayIntentBits.GuildPresences],
    rest: {
      ...(options.apiUrl ? { api: options.apiUrl } : {}),
      ...(options.cdnUrl ? { cdn: options.cdnUrl } : {}),
    },
    // One heartbeat right after READY/RESUMED, so the ping is known in moments, not after the first
    // jittered heartbeat (up to ~41 s).
    ws: { buildStrategy: (manager) => new EarlyPingShardingStrategy(manager, { onPing: () => reportHealth() }) },
    makeCache: Options.cacheWithLimits({
      ...Options.DefaultMakeCacheSettings,
      PresenceManager: 0,
      GuildMemberManager: { maxSize: MEMBER_CACHE_SIZE, keepOverLimit: (member) => member.id === member.client.user.id },
      UserManager: { maxSize: MEMBER_CACHE_SIZE, keepOverLimit: (user) => user.id === user.client.user.id },
      MessageManager: 0,
      ReactionManager: 0,
      VoiceStateManager: 0,
      GuildEmojiManager: 0,
      GuildStickerManager: 0,
      GuildScheduledEventManager: 0,
      StageInstanceManager: 0,
      ThreadMemberManager: 0,
      GuildInviteManager: 0,
      GuildBanManager: 0,
    }),
    sweepers: {
      ...Options.DefaultSweeperSettings,
      users: { interval: 300, filter: () => (user) => user.id !== user.client.user.id },
    },
  });

  const server = createClient({
    url: options.serverUrl,
    botKey: options.botKey,
    allOverWebSocket: true,
  });
  // Asked before an item is given up for a 500: a healthy server (its database answering) means
  // the error is the item's own; an unhealthy one means the item waits, like any transient failure.
  const healthz = `${options.serverUrl.replace(/\/$/, "")}/healthz`;
  const serverHealthy = () =>
    fetch(healthz, { signal: AbortSignal.timeout(5_000) }).then(
      (response) => response.ok,
      () => false,
    );

  // Dead letters go to the server (bot.reportDeadLetter) through a forwarder of their own, so a
  // report survives a server restart and, at shutdown, the spool.
  const reports = new Forwarder<DeadLetter>({
    kind: "deadLetter",
    push: (letters, signal) => server.trpc.bot.reportDeadLetter.mutate({ letters: [...letters] }, { signal }),
    keyOf: (letter) => `${letter.kind}:${letter.key}:${letter.at}`,
    describe: (letter) => `the dead letter of ${letter.summary}`,
    maxBatch: 100,
    flushMs: 50,
    onError: (failure) => log.warn(`dead letter report failed, will retry: ${failure.message}`),
    onDeadLetter: (letter) => log.error(`the server refused ${letter.summary} (${letter.code}: ${letter.error})`),
  });
  const onDeadLetter = (letter: DeadLetter) => {
    log.error(`gave up ${letter.summary} after ${letter.attempts} push(es) (${letter.code}: ${letter.error})`);
    reports.add(letter);
  };
  const retrying = (what: string) => (failure: Failure) => log.warn(`${what} push failed, will retry: ${failure.message}`);

  const forwarder = new PresenceForwarder({
    push: (updates, signal) => server.trpc.bot.pushPresences.mutate({ updates: [...updates] }, { signal }),
    flushMs: options.flushMs ?? 10,
    serverHealthy,
    onError: retrying("presence"),
    onDeadLetter,
  });

  const memberEvents = new Forwarder<MemberEvent>({
    kind: "memberEvent",
    push: (events, signal) => server.trpc.bot.memberEvents.mutate({ events: [...events] }, { signal }),
    keyOf: (event) => `${event.guildId}:${event.type === "upsert" ? event.member.userId : event.userId}`,
    describe: (event) =>
      event.type === "upsert"
        ? `member update of user ${event.member.userId} in guild ${event.guildId}`
        : `member removal of user ${event.userId} in guild ${event.guildId}`,
    flushMs: 20,
    serverHealthy,
    onError: retrying("member event"),
    onDeadLetter,
  });

  // What the last run could not deliver goes first, in order, before any new event.
  const queues: ReadonlyArray<{ readonly kind: string; add(item: never): void; stop(ms: number): Promise<Array<unknown>> }> = [
    forwarder,
    memberEvents,
    reports,
  ];
  if (options.stateDir) {
    try {
      const spool = await takeSpool(options.stateDir);
      let replayed = 0;
      for (const entry of spool.entries) {
        const queue = queues.find((q) => q.kind === entry.queue);
        if (!queue) continue;
        queue.add(entry.item as never);
        replayed++;
      }
      const unreadable = spool.unreadable + spool.entries.length - replayed;
      if (replayed > 0) log.info(`replaying ${replayed} update(s) kept at the last shutdown`);
      if (unreadable > 0) log.warn(`dropped ${unreadable} unreadable line(s) of the spool in ${options.stateDir}`);
    } catch (error) {
      log.warn(`could not read the spool in ${options.stateDir}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const entry of carried) queues.find((q) => q.kind === entry.queue)?.add(entry.item as never);
  const memberSync = new MemberSyncRunner(client, server, log);
  // Interaction callbacks and response edits: routes authorized by the interaction's token.
  const discord = DiscordRestClient.make({ token: options.token, api: options.apiUrl });
  const interactionServices = botInteractionServices(server, discord, log);
  const pendingNonces = new Set<string>();
  let nonceCounter = 0;
  const ctx: BotContext = {
    client,
    server,
    forwarder,
    memberEvents,
    memberSync,
    log,
    pendingNonces,
    requestPresences: (guildId, userIds) => {
      const guild = client.guilds.cache.get(guildId);
      if (!guild) return log.warn(`presence request for unknown guild ${guildId} skipped`);
      for (let i = 0; i < userIds.length; i += 100) {
        const nonce = `gh-presence-${++nonceCounter}`;
        pendingNonces.add(nonce);
        // Op 8 REQUEST_GUILD_MEMBERS (https://discord.com/developers/docs/events/gateway-events#request-guild-members).
        guild.shard.send({
          op: GatewayOpcodes.RequestGuildMembers,
          d: { guild_id: guildId, user_ids: userIds.slice(i, i + 100), presences: true, nonce },
        });
      }
    },
  };

  client.on(Events.Raw, (packet: GatewayDispatchPayload) => {
    lastEventAt = Date.now();
    switch (packet.t) {
      case GatewayDispatchEvents.PresenceUpdate:
        return onPresenceUpdate(ctx, packet.d);
      case GatewayDispatchEvents.GuildCreate:
        return void onGuildCreate(ctx, packet.d);
      case GatewayDispatchEvents.GuildDelete:
        return void onGuildDelete(ctx, packet.d);
      case GatewayDispatchEvents.GuildMembersChunk:
        if (memberSync.onChunk(packet.d)) return;
        return onGuildMembersChunk(ctx, packet.d);
      case GatewayDispatchEvents.GuildMemberAdd:
        return onGuildMemberAdd(ctx, packet.d);
      case GatewayDispatchEvents.GuildMemberUpdate:
        return onGuildMemberUpdate(ctx, packet.d);
      case GatewayDispatchEvents.GuildMemberRemove:
        return onGuildMemberRemove(ctx, packet.d);
      case GatewayDispatchEvents.RateLimited:
        return memberSync.onRateLimited(packet.d);
      case GatewayDispatchEvents.InteractionCreate:
        return void onInteractionCreate(packet.d, interactionServices, discord, log);
    }
  });
  // A dispatch without the types Discord documents is dropped before the handler above or discord.js reads it.
  client.prependListener(Events.Raw, guardDispatch(log));
  client.on(Events.Raw, guardChunkMembers(log));

  // A close no reconnect fixes (gatewayClose.ts): set once, then reported by every heartbeat.
  let fatal: FatalClose | null = null;
  const enterFatal = (found: FatalClose) => {
    if (fatal) return;
    fatal = found;
    log.error(`disconnected from Discord for good: ${found.reason}`);
    // Without the gateway the bot cannot carry commands out: they wait in the queue for a healthy bot.
    commands.close();
    beat();
  };

  const heartbeat = async () => {
    const shards = [...client.ws.shards.values()];
    // A fatal close at login may leave no shard behind: the bot still reports, as shard 0.
    const reports = shards.length === 0 && fatal ? [{ id: 0, status: Status.Disconnected, ping: -1 }] : shards;
    for (const shard of reports) {
      try {
        await server.trpc.bot.heartbeat.mutate({
          shardId: shard.id,
          shardCount: client.options.shardCount ?? 1,
          status: Status[shard.status] ?? String(shard.status),
          connected: shard.status === Status.Ready && fatal === null,
          pingMs: shard.ping >= 0 ? shard.ping : null,
          guilds: client.guilds.cache
            .filter((g) => g.shardId === shard.id)
            .map((g) => ({ id: g.id, name: g.name.slice(0, 100), icon: g.icon })),
          lastEventAt,
          startedAt,
          fatal,
        });
      } catch (error) {
        log.warn(`heartbeat failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const beat = () => void heartbeat();
  reportHealth = beat;
  client.on(Events.ShardReady, beat);
  client.on(Events.ShardResume, (id) => {
    log.info(`shard ${id} resumed`);
    beat();
  });
  client.on(Events.ShardDisconnect, (event, id) => {
    memberSync.onDisconnect();
    const found = fatalClose(event.code);
    if (found) {
      log.error(`shard ${id} closed by Discord with ${event.code}`);
      enterFatal(found);
    }
    beat();
  });
  client.on(Events.ShardReconnecting, (id) => {
    log.info(`shard ${id} reconnecting`);
    memberSync.onDisconnect();
    beat();
  });
  client.on(Events.Error, (error) => log.error(`client error: ${error.message}`));
  // Guild commands appear at once (global ones can take an hour to propagate). A heartbeat at
  // once tells the server about the new guild (it links it, and syncs it on first sight).
  client.on(Events.GuildCreate, (guild) => {
    beat();
    void guild.commands
      .set([syncMembersCommand])
      .catch((error: unknown) => log.warn(`could not register commands in ${guild.id}: ${String(error)}`));
  });

  // The server's commands (member syncs, presence resyncs), each acknowledged when handled.
  const commands = followCommands({
    client,
    server,
    memberSync,
    requestPresences: ctx.requestPresences,
    log,
    editOriginal: (applicationId, token, content) => discord.run((d) => d.editOriginalResponse(applicationId, token, { content })),
  });

  try {
    await client.login(options.token);
  } catch (error) {
    const found = fatalLogin(error, fatal);
    if (!found) {
      // Worth another try: hand what this attempt held to the next one.
      commands.close();
      const held = await Promise.all(queues.map((q) => q.stop(0).then((items) => items.map((item) => ({ queue: q.kind, item })))));
      server.close();
      await client.destroy();
      await discord.dispose();
      throw new LoginFailed(error, held.flat());
    }
    enterFatal(found);
  }
  if (fatal === null) {
    await new Promise<void>((resolve) => (client.isReady() ? resolve() : client.once(Events.ClientReady, () => resolve())));
    log.info(`connected as ${client.user?.tag ?? "?"} to ${client.guilds.cache.size} guild(s)`);
    await Promise.all(
      client.guilds.cache.map((guild) =>
        guild.commands
          .set([syncMembersCommand])
          .catch((error: unknown) => log.warn(`could not register commands in ${guild.id}: ${String(error)}`)),
      ),
    );
  }
  beat();
  const interval = setInterval(beat, options.heartbeatMs ?? 10_000);

  const deadLetters = () => mergeDeadLetters([forwarder.deadLetters(), memberEvents.deadLetters()]);

  const shutdown = async (): Promise<ShutdownReport> => {
    clearInterval(interval);
    commands.close();
    // Nothing new comes in from here on: what is queued now is all there is to deliver.
    await client.destroy();
    const deadline = Date.now() + (options.shutdownDrainMs ?? 10_000);
    const [presences, events] = await Promise.all([forwarder.stop(deadline - Date.now()), memberEvents.stop(deadline - Date.now())]);
    // Dead letters found while draining are reported last, within what is left of the time.
    const letters = await reports.stop(Math.max(0, deadline - Date.now()));
    server.close();
    await discord.dispose();
    const left: Array<SpoolEntry> = [
      ...presences.map((item) => ({ queue: forwarder.kind, item })),
      ...events.map((item) => ({ queue: memberEvents.kind, item })),
      ...letters.map((item) => ({ queue: reports.kind, item })),
    ];
    if (left.length === 0) return { undelivered: 0, spoolPath: null, abandoned: 0 };
    let reason = "undelivered at shutdown, and no state directory to keep it in";
    if (options.stateDir) {
      try {
        const spoolPath = await writeSpool(options.stateDir, left);
        log.info(`kept ${left.length} undelivered update(s) in ${spoolPath} for the next start`);
        return { undelivered: left.length, spoolPath, abandoned: 0 };
      } catch (error) {
        reason = `undelivered at shutdown, and the spool could not be written: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    forwarder.abandon(presences, reason);
    memberEvents.abandon(events, reason);
    log.error(
      `dropped ${left.length} undelivered update(s) (${presences.length} presences, ${events.length} member events, ` +
        `${letters.length} dead letter reports): ${reason}`,
    );
    return { undelivered: left.length, spoolPath: null, abandoned: left.length };
  };
  let closing: Promise<ShutdownReport> | null = null;

  return {
    client,
    drain: () => forwarder.drain(),
    memberSync,
    drainMemberEvents: () => memberEvents.drain(),
    stats: () => ({
      received: forwarder.received,
      forwarded: forwarder.forwarded,
      pending: forwarder.pending,
      coalesced: forwarder.coalesced,
      lastEventAt,
      memberEvents: { received: memberEvents.received, forwarded: memberEvents.forwarded, pending: memberEvents.pending },
      deadLetters: deadLetters().total,
    }),
    deadLetters,
    fatal: () => fatal,
    close: () => {
      closing ??= shutdown();
      return closing;
    },
  };
};
