/**
 * Child process of stream-members.ts (forked with `--import tsx`, talks back over IPC).
 *
 * Mode "stream": a raw `ws` gateway client that IDENTIFYs with GUILDS | GUILD_MEMBERS, sends one
 * REQUEST_GUILD_MEMBERS for everyone (query "", limit 0) and counts the GUILD_MEMBERS_CHUNKs; then
 * sends a second one, which the emulator must answer with RATE_LIMITED.
 * Mode "probe": times control API and REST calls against the emulator every 50 ms until told to stop,
 * to show whether the emulator stays responsive while it streams.
 */
import type { GatewayReceivePayload } from "discord-api-types/v10";
import { GatewayDispatchEvents, GatewayOpcodes } from "discord-api-types/v10";
import WebSocket from "ws";

interface StreamArgs {
  mode: "stream";
  gatewayUrl: string;
  token: string;
  guildId: string;
  presences: boolean;
}
interface ProbeArgs {
  mode: "probe";
  url: string;
  token: string;
  guildId: string;
  /** Highest generated member index, for random `after` values. */
  members: number;
}

/** What the stream child reports (times in ms, sizes in bytes). */
export interface StreamResult {
  members: number;
  chunks: number;
  chunkCount: number;
  bytes: number;
  presences: number;
  ascending: boolean;
  requestToFirstChunkMs: number;
  firstToLastChunkMs: number;
  /** Largest gap between two consecutive chunks. */
  maxChunkGapMs: number;
  rateLimited: { opcode: number; retry_after: number; meta: { guild_id: string; nonce?: string } } | null;
  /** CPU time this client process used from the request to the last chunk (user + system). */
  cpuMs: number;
}

/** What the probe child reports. */
export interface ProbeResult {
  samples: number;
  controlMs: { p50: number; max: number };
  restMembersMs: { p50: number; max: number };
}

function send(message: unknown): void {
  process.send?.(message);
}

function stream(args: StreamArgs): void {
  const ws = new WebSocket(`${args.gatewayUrl}?v=10&encoding=json`, { perMessageDeflate: false });
  let members = 0;
  let chunks = 0;
  let chunkCount = -1;
  let bytes = 0;
  let presences = 0;
  let ascending = true;
  let lastId = "";
  let requestedAt = 0;
  let firstAt = 0;
  let lastAt = 0;
  let maxGap = 0;
  let heartbeat: NodeJS.Timeout | undefined;
  let cpuAtRequest = process.cpuUsage();
  let cpuMs = 0;

  const isAfter = (a: string, b: string) => a.length > b.length || (a.length === b.length && a > b);

  ws.on("message", (data: Buffer) => {
    const now = performance.now();
    bytes += data.length;
    const frame = JSON.parse(data.toString()) as GatewayReceivePayload;
    if (frame.op === GatewayOpcodes.Hello) {
      heartbeat = setInterval(() => ws.send(JSON.stringify({ op: 1, d: null })), frame.d.heartbeat_interval);
      ws.send(
        JSON.stringify({
          op: 2,
          d: {
            token: args.token,
            intents: 1 | 2 | (args.presences ? 256 : 0),
            properties: { os: "linux", browser: "stream", device: "stream" },
          },
        }),
      );
      return;
    }
    if (frame.op !== GatewayOpcodes.Dispatch) return;
    if (frame.t === GatewayDispatchEvents.GuildCreate && frame.d.id === args.guildId) {
      bytes = 0;
      requestedAt = performance.now();
      cpuAtRequest = process.cpuUsage();
      ws.send(JSON.stringify({ op: 8, d: { guild_id: args.guildId, query: "", limit: 0, presences: args.presences, nonce: "all-1" } }));
      return;
    }
    if (frame.t === GatewayDispatchEvents.GuildMembersChunk && frame.d.nonce === "all-1") {
      if (chunks === 0) firstAt = now;
      else maxGap = Math.max(maxGap, now - lastAt);
      lastAt = now;
      if (frame.d.chunk_index !== chunks) ascending = false;
      chunks += 1;
      chunkCount = frame.d.chunk_count;
      for (const m of frame.d.members) {
        if (!isAfter(m.user.id, lastId)) ascending = false;
        lastId = m.user.id;
      }
      members += frame.d.members.length;
      presences += frame.d.presences?.length ?? 0;
      if (chunks === chunkCount) {
        const cpu = process.cpuUsage(cpuAtRequest);
        cpuMs = (cpu.user + cpu.system) / 1000;
        // A second whole-list request inside the window: the emulator must refuse it.
        ws.send(JSON.stringify({ op: 8, d: { guild_id: args.guildId, query: "", limit: 0, nonce: "all-2" } }));
      }
      return;
    }
    if (frame.t === GatewayDispatchEvents.RateLimited) {
      const result: StreamResult = {
        members,
        chunks,
        chunkCount,
        bytes,
        presences,
        ascending,
        requestToFirstChunkMs: firstAt - requestedAt,
        firstToLastChunkMs: lastAt - firstAt,
        maxChunkGapMs: maxGap,
        rateLimited: frame.d,
        cpuMs,
      };
      send({ type: "result", result });
      clearInterval(heartbeat);
      ws.close(1000);
    }
  });
  ws.on("error", (err) => send({ type: "error", message: err.message }));
}

async function probe(args: ProbeArgs): Promise<void> {
  const control: number[] = [];
  const rest: number[] = [];
  let stopped = false;
  process.on("message", (m: { type?: string }) => {
    if (m.type === "stop") stopped = true;
  });
  send({ type: "ready" });
  const epoch = 1_420_070_400_000n;
  while (!stopped) {
    const t0 = performance.now();
    const r1 = await fetch(`${args.url}/_emulator/guilds/${args.guildId}`);
    await r1.arrayBuffer();
    const t1 = performance.now();
    // A random `after` inside the generated id range (ids are about 90 s apart from mid-2015 on).
    const after = ((BigInt(Date.UTC(2015, 6, 1) + Math.floor(Math.random() * args.members) * 90_000) - epoch) << 22n).toString();
    const r2 = await fetch(`${args.url}/api/v10/guilds/${args.guildId}/members?limit=1000&after=${after}`, {
      headers: { authorization: `Bot ${args.token}` },
    });
    await r2.arrayBuffer();
    const t2 = performance.now();
    if (!r1.ok || !r2.ok) send({ type: "error", message: `probe got ${r1.status} / ${r2.status}` });
    control.push(t1 - t0);
    rest.push(t2 - t1);
    await new Promise((r) => setTimeout(r, 50));
  }
  const stats = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { p50: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
  };
  const result: ProbeResult = { samples: control.length, controlMs: stats(control), restMembersMs: stats(rest) };
  send({ type: "result", result });
  process.disconnect?.();
}

const args = JSON.parse(process.argv[2] ?? "{}") as StreamArgs | ProbeArgs;
if (args.mode === "stream") stream(args);
else if (args.mode === "probe") void probe(args);
else throw new Error('usage: stream-client.ts \'{"mode":"stream"|"probe",...}\'');
