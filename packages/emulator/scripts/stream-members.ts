/**
 * Measures how fast a full REQUEST_GUILD_MEMBERS streams out of the emulator to a gateway client
 * in another process, and whether the emulator stays responsive meanwhile.
 *
 *   cd /work/main && npx tsx packages/emulator/scripts/stream-members.ts [members=1000000] [--presences]
 *
 * This process runs the emulator (seeding one guild of `members`, the bot included) and samples its
 * own event-loop delay; a forked child (stream-client.ts, mode "stream") connects with a raw `ws`
 * client, requests every member and counts them; a second child (mode "probe") times the control
 * API and REST `GET /guilds/{id}/members?limit=1000&after=` every 50 ms during the stream.
 * Prints one JSON report; exits 1 if a member is missing or the second request was not rate limited.
 */

import type { ChildProcess } from "node:child_process";
import { fork } from "node:child_process";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../src/index";
import type { ProbeResult, StreamResult } from "./stream-client";

const members = Number(process.argv.slice(2).find((a) => /^[0-9]+$/.test(a)) ?? 1_000_000);
const presences = process.argv.includes("--presences");
const CHILD = fileURLToPath(new URL("./stream-client.ts", import.meta.url));

function child(args: unknown): ChildProcess {
  return fork(CHILD, [JSON.stringify(args)], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

function message<T>(proc: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    proc.on("message", (m: { type: string; result?: T; message?: string }) => {
      if (m.type === type) resolve(m.result as T);
      else if (m.type === "error") reject(new Error(m.message));
    });
    proc.on("exit", (code) => reject(new Error(`child exited with ${code} before "${type}"`)));
  });
}

const emulator = await startEmulator();
const seedStart = performance.now();
const guild = emulator.seedGuild({ seed: 1, members, staff: 25 });
const seedMs = performance.now() - seedStart;

const probeProc = child({ mode: "probe", url: emulator.url, token: emulator.token, guildId: guild.guildId, members });
await message(probeProc, "ready");
const probeDone = message<ProbeResult>(probeProc, "result");

// Event-loop stalls of the emulator process while it streams.
const histogram = monitorEventLoopDelay({ resolution: 5 });
let maxGapMs = 0;
let last = performance.now();
const ticker = setInterval(() => {
  const now = performance.now();
  maxGapMs = Math.max(maxGapMs, now - last - 5);
  last = now;
}, 5);
histogram.enable();

const streamProc = child({ mode: "stream", gatewayUrl: emulator.gatewayUrl, token: emulator.token, guildId: guild.guildId, presences });
const started = performance.now();
const cpuBefore = process.cpuUsage();
const result = await message<StreamResult>(streamProc, "result");
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
histogram.disable();
clearInterval(ticker);
probeProc.send({ type: "stop" });
const probe = await probeDone;
const rss = process.memoryUsage().rss;
await emulator.close();
streamProc.kill();

const report = {
  members,
  presences,
  node: process.version,
  seedMs: Math.round(seedMs),
  stream: {
    membersReceived: result.members,
    chunks: `${result.chunks}/${result.chunkCount}`,
    ascendingAndInOrder: result.ascending,
    megabytes: Math.round(result.bytes / 1e5) / 10,
    presencesReceived: result.presences,
    requestToFirstChunkMs: Math.round(result.requestToFirstChunkMs),
    firstToLastChunkMs: Math.round(result.firstToLastChunkMs),
    maxChunkGapMs: Math.round(result.maxChunkGapMs),
    membersPerSecond: Math.round(result.members / (result.firstToLastChunkMs / 1000)),
    wallMs: Math.round(wallMs),
    clientCpuMs: Math.round(result.cpuMs),
  },
  secondRequest: result.rateLimited,
  emulatorEventLoop: {
    maxDelayMs: Math.round(histogram.max / 1e6),
    p99DelayMs: Math.round(histogram.percentile(99) / 1e6),
    maxTimerGapMs: Math.round(maxGapMs),
  },
  emulatorCpuMs: Math.round((cpu.user + cpu.system) / 1000),
  emulatorRssMb: Math.round(rss / 1e6),
  probeDuringStream: probe,
};
console.log(JSON.stringify(report, null, 2));
const ok = result.members === members && result.chunks === result.chunkCount && result.ascending && result.rateLimited?.opcode === 8;
process.exit(ok ? 0 : 1);
