import { createClient } from "@guildhall/api/client";
import { Client, Events, GatewayIntentBits, Options, Status } from "discord.js";
import { GatewayDispatchEvents, type GatewayDispatchPayload, GatewayOpcodes } from "discord-api-types/v10";
import { followCommands } from "./commandFollower";
import { handleSyncMembers, syncMembersCommand } from "./commands/syncMembers";
import type { BotContext, MemberEvent } from "./context";
import { onGuildCreate } from "./events/guildCreate";
import { onGuildMemberRemove, onGuildMemberUpsert } from "./events/guildMemberEvents";
import { onGuildMembersChunk } from "./events/guildMembersChunk";
import { onPresenceUpdate } from "./events/presenceUpdate";
import { Forwarder, PresenceForwarder } from "./forwarder";
import { MemberSyncRunner } from "./memberSync";

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
  readonly log?: (line: string) => void;
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
  readonly stats: () => { forwarded: number; pending: number; coalesced: number; lastEventAt: number | null };
  readonly close: () => Promise<void>;
}

/** Members the bot keeps cached per guild: its own, plus a few recently seen. */
const MEMBER_CACHE_SIZE = 100;

/**
 * Connects to Discord (or the emulator) with the Guilds, GuildMembers and GuildPresences
 * intents and caches tuned so memory does not grow with guild size (no presence cache,
 * bounded member and user caches). Forwards presences to the server in batches, reports
 * health every `heartbeatMs`, follows the server's command queue (acknowledging each command
 * when done, see ./commandFollower.ts), and lets discord.js
 * resume after a dropped connection. Rejects when login fails (bad token: Discord close 4004;
 * disallowed intents: 4014).
 */
export const startBot = async (options: BotOptions): Promise<RunningBot> => {
  const log = options.log ?? ((line: string) => console.log(`[bot] ${line}`));
  const startedAt = Date.now();
  let lastEventAt: number | null = null;

  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers, GatewayIntentBits.GuildPresences],
    rest: {
      ...(options.apiUrl ? { api: options.apiUrl } : {}),
      ...(options.cdnUrl ? { cdn: options.cdnUrl } : {}),
    },
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
  const forwarder = new PresenceForwarder({
    push: (updates) => server.trpc.bot.pushPresences.mutate({ updates: [...updates] }),
    flushMs: options.flushMs ?? 10,
    onError: (error) => log(`presence push failed, will retry: ${error instanceof Error ? error.message : String(error)}`),
  });

  const memberEvents = new Forwarder<MemberEvent>({
    push: (events) => server.trpc.bot.memberEvents.mutate({ events: [...events] }),
    keyOf: (event) => `${event.guildId}:${event.type === "upsert" ? event.member.userId : event.userId}`,
    flushMs: 20,
    onError: (error) => log(`member event push failed, will retry: ${error instanceof Error ? error.message : String(error)}`),
  });
  const memberSync = new MemberSyncRunner(client, server, log);
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
      if (!guild) return log(`presence request for unknown guild ${guildId} skipped`);
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
      case GatewayDispatchEvents.GuildMembersChunk:
        if (memberSync.onChunk(packet.d)) return;
        return onGuildMembersChunk(ctx, packet.d);
      case GatewayDispatchEvents.GuildMemberAdd:
      case GatewayDispatchEvents.GuildMemberUpdate:
        return onGuildMemberUpsert(ctx, packet.d);
      case GatewayDispatchEvents.GuildMemberRemove:
        return onGuildMemberRemove(ctx, packet.d);
      case GatewayDispatchEvents.RateLimited:
        return memberSync.onRateLimited(packet.d);
    }
  });

  const heartbeat = async () => {
    for (const shard of client.ws.shards.values()) {
      try {
        await server.trpc.bot.heartbeat.mutate({
          shardId: shard.id,
          shardCount: client.options.shardCount ?? 1,
          status: Status[shard.status] ?? String(shard.status),
          connected: shard.status === Status.Ready,
          pingMs: shard.ping >= 0 ? shard.ping : null,
          guilds: client.guilds.cache
            .filter((g) => g.shardId === shard.id)
            .map((g) => ({ id: g.id, name: g.name.slice(0, 100), icon: g.icon })),
          lastEventAt,
          startedAt,
        });
      } catch (error) {
        log(`heartbeat failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const beat = () => void heartbeat();
  client.on(Events.ShardReady, beat);
  client.on(Events.ShardResume, (id) => {
    log(`shard ${id} resumed`);
    beat();
  });
  client.on(Events.ShardDisconnect, () => {
    memberSync.onDisconnect();
    beat();
  });
  client.on(Events.ShardReconnecting, (id) => {
    log(`shard ${id} reconnecting`);
    memberSync.onDisconnect();
    beat();
  });
  client.on(Events.Error, (error) => log(`client error: ${error.message}`));
  client.on(Events.InteractionCreate, (interaction) => {
    if (interaction.isChatInputCommand() && interaction.commandName === syncMembersCommand.name) {
      void handleSyncMembers(ctx, interaction).catch((error: unknown) =>
        log(`/sync_members failed: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  });
  // Guild commands appear at once (global ones can take an hour to propagate). A heartbeat at
  // once tells the server about the new guild (it links it, and syncs it on first sight).
  client.on(Events.GuildCreate, (guild) => {
    beat();
    void guild.commands
      .set([syncMembersCommand])
      .catch((error: unknown) => log(`could not register commands in ${guild.id}: ${String(error)}`));
  });

  // The server's commands (member syncs, presence resyncs), each acknowledged when handled.
  const commands = followCommands({ client, server, memberSync, requestPresences: ctx.requestPresences, log });

  try {
    await client.login(options.token);
  } catch (error) {
    commands.close();
    forwarder.close();
    server.close();
    await client.destroy();
    throw error;
  }
  await new Promise<void>((resolve) => (client.isReady() ? resolve() : client.once(Events.ClientReady, () => resolve())));
  log(`connected as ${client.user?.tag ?? "?"} to ${client.guilds.cache.size} guild(s)`);
  await Promise.all(
    client.guilds.cache.map((guild) =>
      guild.commands
        .set([syncMembersCommand])
        .catch((error: unknown) => log(`could not register commands in ${guild.id}: ${String(error)}`)),
    ),
  );
  beat();
  const interval = setInterval(beat, options.heartbeatMs ?? 10_000);

  return {
    client,
    drain: () => forwarder.drain(),
    memberSync,
    drainMemberEvents: () => memberEvents.drain(),
    stats: () => ({ forwarded: forwarder.forwarded, pending: forwarder.pending, coalesced: forwarder.coalesced, lastEventAt }),
    close: async () => {
      clearInterval(interval);
      commands.close();
      await forwarder.drain().catch(() => {});
      await memberEvents.drain().catch(() => {});
      forwarder.close();
      memberEvents.close();
      await client.destroy();
      server.close();
    },
  };
};
