/**
 * Member sync at scale: a full sync of a 1,000,000-member guild through the real bot (its own
 * process) into the server (its own process, the local Postgres), then a re-sync after 1% of
 * members changed, 0.5% left and 0.5% joined while no bot was watching. Beside it, the
 * baseline the old Django view used: one ORM select + insert-or-update per member, measured
 * on a sample in the same run and extrapolated.
 */
import { startEmulator } from "@guildhall/emulator";
import { Database, schema } from "@guildhall/db";
import { and, eq } from "drizzle-orm";
import { Effect, ManagedRuntime } from "effect";
import postgres from "postgres";
import { startChild } from "./child";
import { table } from "./stats";

export interface SyncBenchOptions {
  readonly members: number;
  readonly baselineSample: number;
  readonly postgresUrl: string;
}

interface SyncReport {
  run: { status: string; created: number; updated: number; rejoined: number; markedLeft: number; unchanged: number; rowsReceived: number; reason: string | null };
  startedAt: number;
  firstChunkAt: number | null;
  lastChunkAt: number;
  endedAt: number;
  peakRssBytes: number;
  error?: string;
}

const ADMIN = { email: "bench@guildhall.invalid", password: "bench-password-123", name: "Bench" };

/** Runs the member sync benchmark and returns the printed report. */
export const runMemberSyncBench = async (options: SyncBenchOptions): Promise<string> => {
  const emulator = await startEmulator({ memberRequestWindowMs: 0 });
  const guild = emulator.seedGuild({ seed: 99, members: options.members, staff: 10, name: "Big Guild" });
  const admin = postgres(options.postgresUrl, { max: 1, onnotice: () => {} });
  const dbName = `guildhall_syncbench_${process.pid}_${Date.now()}`;
  await admin.unsafe(`create database ${dbName}`);
  const databaseUrl = options.postgresUrl.replace(/\/[^/]*$/, `/${dbName}`);
  const server = await startChild<{ url: string; botKey: string }>("./server-process.ts", {
    databaseUrl,
    admin: ADMIN,
    guild: {
      guildId: guild.guildId,
      name: guild.name,
      staff: guild.staff.map((s) => ({ discordId: s.userId, name: s.globalName ?? s.username, handle: s.username })),
    },
  });
  const botInput = { token: emulator.token, apiUrl: emulator.apiUrl, serverUrl: server.ready.url, botKey: server.ready.botKey };
  const lines: string[] = [];
  try {
    let bot = await startChild<{ ok: true }>("./sync-bot-process.ts", botInput);
    const full = await bot.request<SyncReport>({ type: "sync", guildId: guild.guildId });
    if (full.error) throw new Error(`full sync failed: ${full.error}`);
    await bot.stop();

    const changes = emulator.applyMemberChanges(guild.guildId, {
      update: Math.round(options.members * 0.01),
      leave: Math.round(options.members * 0.005),
      join: Math.round(options.members * 0.005),
      seed: 7,
    });
    bot = await startChild<{ ok: true }>("./sync-bot-process.ts", botInput);
    const resync = await bot.request<SyncReport>({ type: "sync", guildId: guild.guildId });
    if (resync.error) throw new Error(`re-sync failed: ${resync.error}`);
    await bot.stop();

    const baseline = await naiveBaseline(databaseUrl, guild.guildId, options.baselineSample);
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const rate = (rows: number, ms: number) => `${Math.round(rows / (ms / 1000)).toLocaleString("en")} rows/s`;
    const fullMs = full.endedAt - full.startedAt;
    lines.push(
      `Member sync of a ${options.members.toLocaleString("en")}-member guild (bot and server in their own processes, local Postgres)`,
      "",
      table(
        ["run", "outcome", "created", "updated", "left", "joined/rejoined", "unchanged", "request->committed", "rate", "last chunk->committed", "bot peak RSS"],
        [full, resync].map((r, i) => [
          i === 0 ? "full sync" : "re-sync (1% changed, 0.5% left, 0.5% joined)",
          r.run.status,
          r.run.created.toLocaleString("en"),
          r.run.updated.toLocaleString("en"),
          r.run.markedLeft.toLocaleString("en"),
          r.run.rejoined.toLocaleString("en"),
          r.run.unchanged.toLocaleString("en"),
          seconds(r.endedAt - r.startedAt),
          rate(r.run.rowsReceived, r.endedAt - r.startedAt),
          `${Math.round(r.endedAt - r.lastChunkAt)} ms`,
          `${Math.round(r.peakRssBytes / 1_048_576)} MB`,
        ]),
      ),
      "",
      `Expected changes on re-sync: ${changes.updated.length} updated, ${changes.left.length} left, ${changes.joined.length} joined.`,
      `Baseline (per-row ORM select + insert/update, as the old Django view): ${rate(options.baselineSample, baseline)} on ${options.baselineSample.toLocaleString("en")} rows` +
        ` -> a full sync would take ${seconds((options.members / options.baselineSample) * baseline)} (project: ${seconds(fullMs)}, ` +
        `${((options.members / options.baselineSample) * baseline / fullMs).toFixed(1)}x faster).`,
      `Targets: full sync <= 30 s (${fullMs <= 30_000 ? "met" : "MISSED"}); re-sync committed <= 2 s after the snapshot completed ` +
        `(${resync.endedAt - resync.lastChunkAt <= 2_000 ? "met" : "MISSED"}); bot peak RSS <= 250 MB (${Math.max(full.peakRssBytes, resync.peakRssBytes) <= 250 * 1_048_576 ? "met" : "MISSED"}).`,
    );
  } finally {
    await server.stop();
    await emulator.close();
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
  return lines.join("\n");
};

/** The old way: for each member, SELECT it, then INSERT or UPDATE it, one statement at a time. Returns ms. */
const naiveBaseline = async (databaseUrl: string, guildId: string, sample: number): Promise<number> => {
  const runtime = ManagedRuntime.make(Database.layer({ url: databaseUrl, max: 1 }));
  const { db } = await runtime.runPromise(Database.use(Effect.succeed));
  const m = schema.guildMembers;
  const fakeGuild = `${guildId.slice(0, -1)}${(Number(guildId.at(-1)) + 1) % 10}`;
  await db.insert(schema.guilds).values({ id: fakeGuild, organizationId: "default", name: "baseline", icon: null }).onConflictDoNothing();
  const started = performance.now();
  for (let i = 0; i < sample; i++) {
    const userId = String(500_000_000_000_000_000n + BigInt(i));
    const row = { guildId: fakeGuild, userId, username: `user${i}`, globalName: null, nick: null, avatar: null, roleIds: ["1"], joinedAt: new Date(), isBot: false };
    const existing = await db.select().from(m).where(and(eq(m.guildId, fakeGuild), eq(m.userId, userId)));
    if (existing[0]) await db.update(m).set(row).where(and(eq(m.guildId, fakeGuild), eq(m.userId, userId)));
    else await db.insert(m).values(row);
  }
  const elapsed = performance.now() - started;
  await runtime.dispose();
  return elapsed;
};
