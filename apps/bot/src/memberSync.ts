import type { MemberSnapshot } from "@guildhall/api";
import type { GuildhallClient } from "@guildhall/api/client";
import { packMembers } from "@guildhall/api/pack";
import { DiscordRestClient, describeDiscordError, isDiscordError } from "@guildhall/discord";
import type { Client } from "discord.js";
import { type APIGuildMember, type GatewayGuildMembersChunkDispatchData, GatewayOpcodes } from "discord-api-types/v10";
import { ChunkQueue, type PackedChunk } from "./chunkQueue";
import { toMemberSnapshot, toRoleSnapshot } from "./members";

/** A sync run as the server reports it (see @guildhall/sync's SyncRun). */
export type SyncRunState = Awaited<ReturnType<GuildhallClient["trpc"]["bot"]["syncComplete"]["mutate"]>>;

/** Options for one full member sync. */
export interface MemberSyncRequest {
  readonly guildId: string;
  readonly trigger: "command" | "button" | "schedule" | "api";
  readonly requestedBy: string | null;
  /** `gateway`: REQUEST_GUILD_MEMBERS chunks (default); `rest`: List Guild Members pages. */
  readonly source?: "gateway" | "rest";
  /** Called as the run advances (at most every `progressEveryMs`) and when it ends. */
  readonly onProgress?: (run: SyncRunState) => void;
}

/**
 * The members of a chunk or page as MemberSnapshots, all or nothing: throws an Error naming
 * `where` and the member's index when one has no `user` with a valid id. Such a member cannot
 * be skipped: the snapshot would then lack them, and completing it would mark them left, so
 * the run must end incomplete instead (nobody marked left), with this reason.
 */
export const snapshotsOf = (members: ReadonlyArray<unknown>, where: string): MemberSnapshot[] => {
  const snapshots: MemberSnapshot[] = new Array(members.length);
  for (let i = 0; i < members.length; i++) {
    const snapshot = toMemberSnapshot(members[i] as APIGuildMember);
    if (!snapshot) {
      throw new Error(
        `${where}: member ${i} has no user with a valid id; the snapshot cannot be complete without it, so nobody was marked left`,
      );
    }
    snapshots[i] = snapshot;
  }
  return snapshots;
};

/** Gives up on a gateway sync that received no chunk for this long (ms). */
const CHUNK_TIMEOUT_MS = 20_000;
/** Chunks pushed to the server at once. */
const PUSH_CONCURRENCY = 2;
/** Packed chunks a sync holds in memory (bytes); more wait in a temporary file. */
const HELD_BYTES = 16 * 1024 * 1024;

interface ActiveSync {
  readonly runId: string;
  readonly guildId: string;
  chunkCount: number | null;
  received: number;
  pushed: number;
  inFlight: number;
  /** Chunks packed and not pushed yet (bytes, not objects; beyond HELD_BYTES, in a temporary file). */
  readonly waiting: ChunkQueue;
  /** Chunks received and not packed yet (packing is synchronous, so at most the one in hand). */
  packing: number;
  timer: NodeJS.Timeout | null;
  settled: boolean;
  readonly done: (error: Error | null) => void;
  readonly onProgress?: ((run: SyncRunState) => void) | undefined;
}

/**
 * Full member syncs, run by the bot and applied by the server chunk by chunk.
 *
 * Gateway source: the bot sends its own REQUEST_GUILD_MEMBERS (op 8, all members, a nonce of
 * its own) and streams every GUILD_MEMBERS_CHUNK to the server as it arrives (never one
 * giant payload), at most two pushes in flight. Discord sends chunks faster than the server
 * applies them, so the chunks waiting for a push are held packed (raw DEFLATE of their JSON,
 * about 100 bytes a member), 16 MB of them in memory and the rest in a temporary file, and
 * sent packed; discord.js never sees their members (see
 * `onChunk`), so memory stays flat whatever the guild's size. Discord's RATE_LIMITED answer (one full
 * request per guild per 30 s), a dropped connection or 20 s without a chunk end the run as
 * incomplete, so nobody is marked left. REST source: List Guild Members pages of 1,000, through
 * the Discord port (@guildhall/discord).
 * https://discord.com/developers/docs/events/gateway-events#request-guild-members
 */
export class MemberSyncRunner {
  private readonly active = new Map<string, ActiveSync>();
  private counter = 0;
  private rest: DiscordRestClient | null = null;

  constructor(
    private readonly client: Client,
    private readonly server: GuildhallClient,
    private readonly log: (line: string) => void,
  ) {}

  /** Runs one sync to its end; resolves with the final run (completed or incomplete). Rejects when the server refuses to start one (CONFLICT: already running). */
  async run(request: MemberSyncRequest): Promise<SyncRunState> {
    const guild = this.client.guilds.cache.get(request.guildId);
    if (!guild) throw new Error(`the bot is not in guild ${request.guildId}`);
    const source = request.source ?? "gateway";
    const nonce = `gh-sync-${(++this.counter).toString(36)}-${Date.now().toString(36)}`;
    const run = await this.server.trpc.bot.syncBegin.mutate({
      guildId: request.guildId,
      trigger: request.trigger,
      source,
      requestedBy: request.requestedBy,
      nonce,
      roles: guild.roles.cache.map((role) =>
        toRoleSnapshot({
          id: role.id,
          name: role.name,
          color: role.color,
          position: role.position,
          managed: role.managed,
          permissions: role.permissions.bitfield.toString(),
        }),
      ),
    });
    request.onProgress?.(run);
    try {
      if (source === "rest") return await this.viaRest(run.id, request);
      return await this.viaGateway(run.id, nonce, request);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.log(`member sync of ${request.guildId} ended early: ${reason}`);
      const ended = await this.server.trpc.bot.syncAbort.mutate({ runId: run.id, reason: reason.slice(0, 500) });
      request.onProgress?.(ended);
      return ended;
    }
  }

  /**
   * GUILD_MEMBERS_CHUNK for one of this runner's nonces: returns false for any other chunk.
   * Called from the client's `raw` event, which discord.js emits before its own handler runs:
   * the runner takes the members out of the packet (`data.members` becomes empty), so
   * discord.js builds no GuildMember or User for a sync chunk and caches nothing. A member
   * without a valid `user` ends the run early (incomplete, nobody marked left), naming the
   * chunk and the member's index: never skipped, which would mark that member left.
   */
  onChunk(data: GatewayGuildMembersChunkDispatchData): boolean {
    const sync = data.nonce ? this.active.get(data.nonce) : undefined;
    if (!sync || sync.settled) return false;
    const raw = data.members;
    (data as { members: unknown[] }).members = [];
    sync.chunkCount = data.chunk_count;
    sync.received++;
    this.armTimer(sync);
    let members: MemberSnapshot[];
    try {
      members = snapshotsOf(raw, `GUILD_MEMBERS_CHUNK ${data.chunk_index} (of ${data.chunk_count})`);
    } catch (error) {
      this.settle(sync, error as Error);
      return true;
    }
    sync.packing++;
    packMembers(members).then(
      (packed) => {
        sync.packing--;
        if (sync.settled) return;
        try {
          sync.waiting.push({ index: data.chunk_index, count: data.chunk_count, packed });
        } catch (error) {
          return this.settle(
            sync,
            new Error(`holding chunk ${data.chunk_index} failed: ${error instanceof Error ? error.message : String(error)}`),
          );
        }
        this.pump(sync);
      },
      (error: unknown) => {
        sync.packing--;
        this.settle(sync, new Error(`packing chunk ${data.chunk_index} failed: ${error instanceof Error ? error.message : String(error)}`));
      },
    );
    return true;
  }

  /** RATE_LIMITED (`{opcode: 8, retry_after, meta: {guild_id, nonce}}`) for one of this runner's requests. */
  onRateLimited(data: { opcode?: number; retry_after?: number; meta?: { nonce?: string } }): void {
    const sync = data.meta?.nonce ? this.active.get(data.meta.nonce) : undefined;
    if (!sync) return;
    this.settle(
      sync,
      new Error(`rate limited by Discord: one full member request per guild per 30 s; retry after ${Math.ceil(data.retry_after ?? 30)} s`),
    );
  }

  /** The gateway connection dropped: running gateway syncs cannot receive their remaining chunks. */
  onDisconnect(): void {
    for (const sync of this.active.values()) this.settle(sync, new Error("the gateway connection dropped during the sync"));
  }

  private viaGateway(runId: string, nonce: string, request: MemberSyncRequest): Promise<SyncRunState> {
    return new Promise<SyncRunState>((resolve, reject) => {
      const sync: ActiveSync = {
        runId,
        guildId: request.guildId,
        chunkCount: null,
        received: 0,
        pushed: 0,
        inFlight: 0,
        waiting: new ChunkQueue(HELD_BYTES),
        packing: 0,
        timer: null,
        settled: false,
        onProgress: request.onProgress,
        done: (error) => {
          this.active.delete(nonce);
          if (sync.timer) clearTimeout(sync.timer);
          if (error) return reject(error);
          this.server.trpc.bot.syncComplete.mutate({ runId }).then(resolve, reject);
        },
      };
      this.active.set(nonce, sync);
      this.armTimer(sync);
      this.client.guilds.cache.get(request.guildId)!.shard.send({
        op: GatewayOpcodes.RequestGuildMembers,
        d: { guild_id: request.guildId, query: "", limit: 0, presences: false, nonce },
      });
    }).then((run) => {
      request.onProgress?.(run);
      return run;
    });
  }

  /**
   * List Guild Members through the Discord port (@guildhall/discord): pages of 1,000, each
   * pushed to the server before the next is asked for. A page Discord refuses, or a page with
   * a member lacking a valid `user` (see {@link snapshotsOf}), ends the run early (incomplete,
   * nobody marked left) with the reason: the port's account, or the page and member index.
   */
  private async viaRest(runId: string, request: MemberSyncRequest): Promise<SyncRunState> {
    const pages = await this.discord()
      .forEachMemberPage(request.guildId, async (page, index) => {
        const result = await this.server.trpc.bot.syncChunk.mutate({
          runId,
          chunkIndex: index,
          chunkCount: null,
          members: snapshotsOf(page, `List Guild Members page ${index}`),
        });
        request.onProgress?.(result.run);
      })
      .catch((error: unknown) => {
        throw isDiscordError(error) ? new Error(`List Guild Members failed: ${describeDiscordError(error)}`) : error;
      });
    const run = await this.server.trpc.bot.syncComplete.mutate({ runId, chunkCount: Math.max(pages, 1) });
    request.onProgress?.(run);
    return run;
  }

  /** The Discord port for REST syncs: one client (one rate-limit queue) per runner, made on first use from the logged-in client's token and REST base. */
  private discord(): DiscordRestClient {
    this.rest ??= DiscordRestClient.make({ token: this.client.token ?? "", api: this.client.options.rest?.api });
    return this.rest;
  }

  private pump(sync: ActiveSync): void {
    while (!sync.settled && sync.inFlight < PUSH_CONCURRENCY && sync.waiting.size > 0) {
      let chunk: PackedChunk;
      try {
        chunk = sync.waiting.shift()!;
      } catch (error) {
        this.settle(sync, new Error(`reading a held chunk failed: ${error instanceof Error ? error.message : String(error)}`));
        return;
      }
      sync.inFlight++;
      this.server.trpc.bot.syncChunk
        .mutate({ runId: sync.runId, chunkIndex: chunk.index, chunkCount: chunk.count, packed: chunk.packed.toString("base64") })
        .then((result) => {
          sync.inFlight--;
          sync.pushed++;
          sync.onProgress?.(result.run);
          if (sync.chunkCount !== null && sync.pushed === sync.chunkCount) this.settle(sync, null);
          else this.pump(sync);
        })
        .catch((error: unknown) => {
          sync.inFlight--;
          this.settle(
            sync,
            new Error(`the server refused chunk ${chunk.index}: ${error instanceof Error ? error.message : String(error)}`),
          );
        });
    }
  }

  private armTimer(sync: ActiveSync): void {
    if (sync.timer) clearTimeout(sync.timer);
    sync.timer = setTimeout(() => {
      if (sync.chunkCount === null || sync.received < sync.chunkCount) {
        this.settle(
          sync,
          new Error(`no member chunk for ${CHUNK_TIMEOUT_MS / 1000} s (${sync.received} of ${sync.chunkCount ?? "?"} received)`),
        );
      }
    }, CHUNK_TIMEOUT_MS);
  }

  private settle(sync: ActiveSync, error: Error | null): void {
    if (sync.settled) return;
    sync.settled = true;
    sync.waiting.close();
    sync.done(error);
  }
}
