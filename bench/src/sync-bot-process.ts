/**
 * Bench child: a bot that runs full member syncs on request and reports its peak RSS
 * (VmHWM, the kernel's high-water mark) so the parent can check the memory target.
 */

import { readFileSync } from "node:fs";
import { startBot } from "@guildhall/bot";
import { childInput, tellParent } from "./child";

interface Input {
  token: string;
  apiUrl: string;
  serverUrl: string;
  botKey: string;
}

const peakRssBytes = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) * 1024;
const now = () => performance.timeOrigin + performance.now();

const input = childInput<Input>();
const bot = await startBot({ ...input, log: () => {} });
tellParent({ ok: true, rssBytes: process.memoryUsage().rss });
process.on("message", (message: { type: "sync"; guildId: string }) => {
  if (message.type !== "sync") return;
  const startedAt = now();
  // The heap and off-heap (Buffer) high-water marks during the sync, sampled every 50 ms.
  const peak = { heapUsed: 0, external: 0 };
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peak.heapUsed = Math.max(peak.heapUsed, usage.heapUsed);
    peak.external = Math.max(peak.external, usage.external);
  }, 50);
  let lastChunkAt = startedAt;
  let firstChunkAt: number | null = null;
  bot.memberSync
    .run({
      guildId: message.guildId,
      trigger: "api",
      requestedBy: null,
      onProgress: (run) => {
        if (run.status !== "running") return;
        firstChunkAt ??= now();
        lastChunkAt = now();
      },
    })
    .then((run) => {
      const endedAt = now();
      clearInterval(sampler);
      tellParent({
        run,
        startedAt,
        firstChunkAt,
        lastChunkAt,
        endedAt,
        peakRssBytes: peakRssBytes(),
        peakHeapBytes: peak.heapUsed,
        peakExternalBytes: peak.external,
      });
    })
    .catch((error: unknown) => tellParent({ error: error instanceof Error ? error.message : String(error) }));
});
process.once("SIGTERM", () => void bot.close().finally(() => process.exit(0)));
