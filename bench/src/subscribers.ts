/**
 * Bench child: N staff clients, each with its own WebSocket and its own `roster.live`
 * subscription. Every change whose custom status is a bench marker (`bench:<run>:<sentAt>`)
 * yields one latency sample: receive time minus the send time the marker carries (ms; both
 * clocks are `performance.timeOrigin + performance.now()` on this machine).
 */
import { createClient, type GuildhallClient } from "@guildhall/api";
import { childInput, takeLoopDelay, tellParent } from "./child";

interface Input {
  url: string;
  cookie: string;
  subscribers: number;
}

const now = () => performance.timeOrigin + performance.now();
const input = childInput<Input>();
const clients: GuildhallClient[] = [];
let latencies: number[] = [];
/** Per sample, the part from the emulator to the bot (the bot stamps `observedAt` when it reads the event). */
let toBot: number[] = [];
let run = "";
let connected = 0;

for (let i = 0; i < input.subscribers; i++) {
  const client = createClient({ url: input.url, cookie: input.cookie });
  clients.push(client);
  let started = false;
  client.trpc.roster.live.subscribe(
    {},
    {
      onStarted: () => {
        if (!started) connected++;
        started = true;
      },
      onData: ({ data }) => {
        if (data.type !== "presences") return;
        const receivedAt = now();
        for (const change of data.changes) {
          const marker = change.customStatus;
          if (!marker?.startsWith("bench:")) continue;
          const [, markerRun, sentAt] = marker.split(":");
          if (markerRun !== run) continue;
          latencies.push(receivedAt - Number(sentAt));
          toBot.push(Date.parse(change.observedAt) - Number(sentAt));
        }
      },
      onError: (error) => console.error("[subscribers] error:", error.message),
    },
  );
}

const waitConnected = async () => {
  const deadline = Date.now() + 30_000;
  while (connected < input.subscribers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
};
await waitConnected();
tellParent({ connected });

process.on("message", (message: { type: "start"; run: string } | { type: "collect" }) => {
  if (message.type === "start") {
    run = message.run;
    latencies = [];
    toBot = [];
    tellParent({ ok: true });
  } else {
    tellParent({ latencies, toBot, rssBytes: process.memoryUsage().rss, loop: takeLoopDelay() });
    latencies = [];
    toBot = [];
  }
});
process.once("SIGTERM", () => {
  for (const client of clients) client.close();
  process.exit(0);
});
