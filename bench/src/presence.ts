/**
 * Presence latency: from the emulator writing PRESENCE_UPDATE on the gateway to a tRPC
 * subscriber receiving the change, through the real bot (its own process), the server (its
 * own process; Postgres or PGlite, LISTEN/NOTIFY) and 100 subscribers (one more process, one
 * WebSocket each). Beside it, the baseline: the staleness the old 2-minute poll would have
 * had for the very same events.
 */

import { randomUUID } from "node:crypto";
import { signIn } from "@guildhall/api";
import { startEmulator } from "@guildhall/emulator";
import postgres from "postgres";
import { startChild } from "./child";
import { ms, percentile, table } from "./stats";

export interface PresenceBenchOptions {
  readonly rates: ReadonlyArray<number>;
  readonly seconds: number;
  readonly subscribers: number;
  readonly database: "postgres" | "pglite";
  readonly postgresUrl: string;
}

export interface PresenceRow {
  readonly database: string;
  readonly rate: number;
  readonly sent: number;
  readonly delivered: number;
  readonly expected: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** p99 of the first stage alone: emulator -> bot (ms resolution, the bot's clock). */
  readonly toBotP99: number;
  readonly baselineP50: number;
  readonly baselineP99: number;
  readonly serverRssMb: number | null;
  readonly botRssMb: number;
}

const OLD_POLL_INTERVAL_MS = 120_000;
const ADMIN = { email: "bench@guildhall.invalid", password: "bench-password-123", name: "Bench" };
const now = () => performance.timeOrigin + performance.now();
const sleep = (delayMs: number) => new Promise((r) => setTimeout(r, delayMs));

/** Runs the presence benchmark; returns one row per rate. */
export const runPresenceBench = async (options: PresenceBenchOptions): Promise<PresenceRow[]> => {
  const emulator = await startEmulator();
  const guild = emulator.seedGuild({ seed: 7, members: 500, staff: 25, name: "Bench Guild" });
  let dbName: string | null = null;
  const admin = postgres(options.postgresUrl, { max: 1, onnotice: () => {} });
  let databaseUrl: string | undefined;
  if (options.database === "postgres") {
    dbName = `guildhall_bench_${process.pid}_${Date.now()}`;
    await admin.unsafe(`create database ${dbName}`);
    databaseUrl = options.postgresUrl.replace(/\/[^/]*$/, `/${dbName}`);
  }
  const server = await startChild<{ url: string; port: number; botKey: string }>("./server-process.ts", {
    databaseUrl,
    admin: ADMIN,
    guild: {
      guildId: guild.guildId,
      name: guild.name,
      staff: guild.staff.map((s) => ({ discordId: s.userId, name: s.globalName ?? s.username, handle: s.username })),
    },
  });
  const bot = await startChild<{ ok: true }>("./bot-process.ts", {
    token: emulator.token,
    apiUrl: emulator.apiUrl,
    serverUrl: server.ready.url,
    botKey: server.ready.botKey,
  });
  const cookie = await signIn(server.ready.url, ADMIN);
  const subscribers = await startChild<{ connected: number }>("./subscribers.ts", {
    url: server.ready.url,
    cookie,
    subscribers: options.subscribers,
  });
  if (subscribers.ready.connected !== options.subscribers) {
    throw new Error(`only ${subscribers.ready.connected} of ${options.subscribers} subscribers connected`);
  }

  const rows: PresenceRow[] = [];
  const statuses = ["online", "idle", "dnd"] as const;
  try {
    for (const rate of options.rates) {
      const run = randomUUID().slice(0, 8);
      await subscribers.request({ type: "start", run });
      await server.request({ type: "stats" });
      await bot.request({ type: "stats" });
      // Warm-up at the same rate, unmeasured: JIT, connection pools, caches.
      const drive = async (seconds: number, marker: string) => {
        const sentAt: number[] = [];
        const start = now();
        let sent = 0;
        while (now() - start < seconds * 1_000) {
          const due = Math.floor(((now() - start) / 1_000) * rate);
          for (; sent < due; sent++) {
            const member = guild.staff[sent % guild.staff.length]!;
            const t = now();
            emulator.setPresence(guild.guildId, member.userId, {
              status: statuses[sent % statuses.length]!,
              customStatus: `bench:${marker}:${t}`,
            });
            sentAt.push(t);
          }
          await sleep(2);
        }
        return sentAt;
      };
      await drive(2, "warmup");
      const sentAt = await drive(options.seconds, run);
      await sleep(3_000);
      type Loop = { p99: number; max: number };
      const {
        latencies,
        toBot,
        loop: subscribersLoop,
      } = await subscribers.request<{ latencies: number[]; toBot: number[]; loop: Loop }>({ type: "collect" });
      const botStats = await bot.request<{ rssBytes: number; loop: Loop }>({ type: "stats" });
      const serverStats = await server.request<{ rssBytes: number; loop: Loop }>({ type: "stats" });
      if (process.env.BENCH_VERBOSE) {
        console.log(
          `event-loop delay p99/max (ms): server ${serverStats.loop.p99.toFixed(0)}/${serverStats.loop.max.toFixed(0)}, bot ${botStats.loop.p99.toFixed(0)}/${botStats.loop.max.toFixed(0)}, subscribers ${subscribersLoop.p99.toFixed(0)}/${subscribersLoop.max.toFixed(0)}`,
        );
      }
      // The old system polled every 2 minutes: a change became visible at the next poll. Over
      // the same events, and every poll phase (0.5 s apart), that is how stale the roster was.
      const staleness: number[] = [];
      for (let phase = 0; phase < OLD_POLL_INTERVAL_MS; phase += 500) {
        for (const t of sentAt) staleness.push((((phase - t) % OLD_POLL_INTERVAL_MS) + OLD_POLL_INTERVAL_MS) % OLD_POLL_INTERVAL_MS);
      }
      rows.push({
        database: options.database,
        rate,
        sent: sentAt.length,
        delivered: latencies.length,
        expected: sentAt.length * options.subscribers,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: percentile(latencies, 100),
        toBotP99: percentile(toBot, 99),
        baselineP50: percentile(staleness, 50),
        baselineP99: percentile(staleness, 99),
        serverRssMb: Math.round(serverStats.rssBytes / 1_048_576),
        botRssMb: Math.round(botStats.rssBytes / 1_048_576),
      });
    }
  } finally {
    await subscribers.stop();
    await bot.stop();
    await server.stop();
    await emulator.close();
    if (dbName) await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
  return rows;
};

/** Renders presence rows with the baseline beside each. */
export const presenceReport = (rows: ReadonlyArray<PresenceRow>, subscribers: number): string =>
  [
    `Presence latency: emulator PRESENCE_UPDATE -> tRPC subscriber (${subscribers} subscribers in a separate process)`,
    `Baseline: the old 2-minute poll (Celery beat), staleness of the same events. Target: p99 <= 100 ms at 1,000 updates/s.`,
    "",
    table(
      [
        "database",
        "updates/s",
        "sent",
        "delivered",
        "p50",
        "p99",
        "max",
        "p99 to bot",
        "baseline p50",
        "baseline p99",
        "p99 vs baseline",
        "bot RSS",
      ],
      rows.map((r) => [
        r.database,
        r.rate.toLocaleString("en"),
        r.sent.toLocaleString("en"),
        `${r.delivered.toLocaleString("en")}/${r.expected.toLocaleString("en")}`,
        ms(r.p50),
        ms(r.p99),
        ms(r.max),
        ms(r.toBotP99),
        ms(r.baselineP50),
        ms(r.baselineP99),
        `${Math.round(r.baselineP99 / r.p99).toLocaleString("en")}x fresher`,
        `${r.botRssMb} MB`,
      ]),
    ),
  ].join("\n");
