/** Bench child: the bot, connected to the emulator and the server. Answers "stats" and "drain" requests. */
import { startBot } from "@guildhall/bot";
import { childInput, takeLoopDelay, tellParent } from "./child";

interface Input {
  token: string;
  apiUrl: string;
  serverUrl: string;
  botKey: string;
}

const input = childInput<Input>();
const bot = await startBot({ ...input, flushMs: Number(process.env.BENCH_FLUSH_MS ?? 10), log: () => {} });
tellParent({ ok: true });
process.on("message", (message: { type: string }) => {
  if (message.type === "stats") tellParent({ ...bot.stats(), rssBytes: process.memoryUsage().rss, loop: takeLoopDelay() });
  if (message.type === "drain") void bot.drain().then(() => tellParent({ ok: true }));
});
process.once("SIGTERM", () => void bot.close().finally(() => process.exit(0)));
