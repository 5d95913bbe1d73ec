import type { GuildhallClient } from "@guildhall/api/client";
import type { BotCommand } from "@guildhall/sync";
import { type Client, Events, type Guild } from "discord.js";
import { describeRun, PROGRESS_EVERY_MS } from "./commands/syncMembers";
import type { BotLogger } from "./log";
import type { MemberSyncRunner, SyncRunState } from "./memberSync";

/** How long a command for a guild the bot has not received yet waits for its GUILD_CREATE (ms). */
export const GUILD_WAIT_MS = 30_000;

/**
 * Discord answers at most one REQUEST_GUILD_MEMBERS for all members per guild per 30 s (more
 * get RATE_LIMITED), so a member sync command waits until 30 s after the previous one it ran ended.
 * https://discord.com/developers/docs/events/gateway-events#request-guild-members
 */
export const FULL_MEMBER_REQUEST_INTERVAL_MS = 30_000;

/** What the follower needs from the bot. */
export interface CommandFollowerDeps {
  readonly client: Client;
  readonly server: GuildhallClient;
  readonly memberSync: MemberSyncRunner;
  readonly requestPresences: (guildId: string, userIds: ReadonlyArray<string>) => void;
  readonly log: BotLogger;
  /**
   * Edits an interaction's original response (`PATCH /webhooks/{application.id}/{token}/messages/@original`):
   * a member sync asked for by /sync_members (over the gateway or HTTP) shows its progress there.
   */
  readonly editOriginal?: (applicationId: string, token: string, content: string) => Promise<void>;
  /** Overrides {@link GUILD_WAIT_MS} (tests). */
  readonly guildWaitMs?: number;
}

/** A running follower; `close` stops taking commands (ones in progress still finish and are acknowledged). */
export interface CommandFollower {
  readonly close: () => void;
  /** Resolves when every command taken so far has been handled and acknowledged. */
  readonly idle: () => Promise<void>;
}

/**
 * Follows the server's command queue (`bot.commands`) and acknowledges each command with
 * `bot.commandDone` once handled: `completed`, or `failed` with the reason (the server retries
 * it with backoff, then dead-letters it).
 *
 * - A command for a guild the bot is not ready in yet waits for it (its GUILD_CREATE) up to
 *   `GUILD_WAIT_MS`, then fails with "the bot is not in guild ...".
 * - Member syncs of one guild run one after another, each at least 30 s after the previous
 *   one ended (Discord's limit); a sync that ends other than `completed` fails its command.
 * - A command handed out again while the bot still runs it (its delivery expired) is not run
 *   twice: the running one acknowledges the newest attempt.
 */
export const followCommands = (deps: CommandFollowerDeps): CommandFollower => {
  const { client, server, log } = deps;
  const guildWaitMs = deps.guildWaitMs ?? GUILD_WAIT_MS;
  const running = new Map<string, { attempt: number }>();
  const handling = new Set<Promise<void>>();
  // Per guild: the member sync command running or waiting last, and when the last one started.
  const syncChains = new Map<string, Promise<unknown>>();
  const lastFullRequestAt = new Map<string, number>();

  /** Resolves once the client is ready and has `guildId` available; rejects after `guildWaitMs`. */
  const guildReady = (guildId: string): Promise<Guild> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const guild = client.isReady() ? client.guilds.cache.get(guildId) : undefined;
        if (!guild?.available) return false;
        cleanup();
        resolve(guild);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`the bot is not in guild ${guildId} (waited ${Math.round(guildWaitMs / 1000)} s for it)`));
      }, guildWaitMs);
      const onEvent = () => void check();
      const cleanup = () => {
        clearTimeout(timer);
        client.off(Events.ClientReady, onEvent);
        client.off(Events.GuildCreate, onEvent);
        client.off(Events.GuildAvailable, onEvent);
      };
      client.on(Events.ClientReady, onEvent);
      client.on(Events.GuildCreate, onEvent);
      client.on(Events.GuildAvailable, onEvent);
      check();
    });

  /**
   * For a sync asked for by an interaction: edits its response with the run's progress (at most
   * every PROGRESS_EVERY_MS, one edit at a time, in order), then with how it ended. A failed edit
   * (the token expired after 15 minutes) is logged and changes nothing else.
   */
  const followUp = (command: Extract<BotCommand, { kind: "members.sync" }>) => {
    const target = command.payload.followUp;
    const editOriginal = deps.editOriginal;
    if (!target || !editOriginal) return null;
    let lastEdit = 0;
    let edits = Promise.resolve();
    const edit = (content: string) => {
      edits = edits
        .then(() => editOriginal(target.applicationId, target.token, content))
        .catch((error: unknown) =>
          log.warn(`could not edit the /sync_members response: ${error instanceof Error ? error.message : String(error)}`),
        );
    };
    return {
      onProgress: (run: SyncRunState) => {
        if (run.status === "running" && Date.now() - lastEdit >= PROGRESS_EVERY_MS) {
          lastEdit = Date.now();
          edit(describeRun(run));
        }
      },
      done: edit,
      settled: () => edits,
    };
  };

  const runMemberSync = (command: Extract<BotCommand, { kind: "members.sync" }>): Promise<SyncRunState> => {
    const previous = syncChains.get(command.guildId) ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(async () => {
        const wait = (lastFullRequestAt.get(command.guildId) ?? 0) + FULL_MEMBER_REQUEST_INTERVAL_MS - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const progress = followUp(command);
        try {
          const run = await deps.memberSync.run({
            guildId: command.guildId,
            trigger: command.payload.trigger,
            requestedBy: command.requestedBy,
            ...(command.payload.source ? { source: command.payload.source } : {}),
            ...(progress ? { onProgress: progress.onProgress } : {}),
          });
          progress?.done(describeRun(run));
          await progress?.settled();
          return run;
        } catch (error) {
          progress?.done(`The member sync could not run: ${error instanceof Error ? error.message : String(error)}`);
          await progress?.settled();
          throw error;
        } finally {
          // Counted from the end: Discord's window starts when the request reaches it, a little after the run began.
          lastFullRequestAt.set(command.guildId, Date.now());
        }
      });
    syncChains.set(command.guildId, next);
    void next.finally(() => {
      if (syncChains.get(command.guildId) === next) syncChains.delete(command.guildId);
    });
    return next;
  };

  const handle = async (command: BotCommand): Promise<void> => {
    const current = running.get(command.id);
    if (current) {
      current.attempt = Math.max(current.attempt, command.attempt);
      log.info(`command ${command.id} (${command.kind}) handed out again while still running; it runs once`);
      return;
    }
    const entry = { attempt: command.attempt };
    running.set(command.id, entry);
    let outcome: "completed" | "failed" = "completed";
    let error: string | undefined;
    try {
      await guildReady(command.guildId);
      if (command.kind === "presence.resync") {
        log.info(`resync of ${command.payload.userIds.length} presences requested`);
        deps.requestPresences(command.guildId, command.payload.userIds);
      } else {
        log.info(`member sync of ${command.guildId} requested (${command.payload.trigger})`);
        const run = await runMemberSync(command);
        log.info(`member sync ${run.id}: ${run.status}${run.reason ? ` (${run.reason})` : ""}`);
        if (run.status !== "completed") {
          outcome = "failed";
          error = `member sync ${run.id} ended ${run.status}${run.reason ? `: ${run.reason}` : ""}`;
        }
      }
    } catch (cause) {
      outcome = "failed";
      error = cause instanceof Error ? cause.message : String(cause);
      log.warn(`command ${command.kind} for ${command.guildId} failed: ${error}`);
    } finally {
      running.delete(command.id);
    }
    try {
      await server.trpc.bot.commandDone.mutate({
        id: command.id,
        attempt: entry.attempt,
        outcome,
        ...(error === undefined ? {} : { error: error.slice(0, 2_000) }),
      });
    } catch (cause) {
      // Not acknowledged: the server hands it out again after its expiry.
      log.warn(`could not acknowledge command ${command.id}: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  };

  const subscription = server.trpc.bot.commands.subscribe(
    {},
    {
      onData: ({ data }) => {
        const done = handle(data);
        handling.add(done);
        void done.finally(() => handling.delete(done));
      },
      onError: (error) => log.error(`command subscription error: ${error.message}`),
    },
  );

  return {
    close: () => subscription.unsubscribe(),
    idle: async () => {
      while (handling.size > 0) await Promise.allSettled([...handling]);
    },
  };
};
