/**
 * Member sync at scale: a full sync of a 1,000,000-member guild through the real bot (its own
 * process) into the server (its own process, the local Postgres), then a re-sync after 1% of
 * members changed, 0.5% left and 0.5% joined while no bot was watching. Beside it, the
 * baseline the old Django view used: one ORM select + insert-or-update per member, measured
 * on a sample in the same run and extrapolated.
 */

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Database, schema } from "@guildhall/db";
import { startEmulator } from "@guildhall/emulator";
import { and, eq } from "drizzle-orm";
import { Effect, ManagedRuntime } from "effect";
import postgres from "postgres";
import { startChild } from "./child";
import { runDbStage } from "./dbStage";
import { table } from "./stats";

export interface SyncBenchOptions {
  readonly members: number;
  readonly baselineSample: number;
  readonly postgresUrl: string;
}

interface SyncReport {
  run: {
    status: string;
    created: number;
    updated: number;
    rejoined: number;
    markedLeft: number;
    unchanged: number;
    rowsReceived: number;
    reason: string | null;
  };
  startedAt: number;
  firstChunkAt: number | null;
  lastChunkAt: number;
  endedAt: number;
  peakRssBytes: number;
  /** High-water marks of the bot's V8 heap and of its off-heap Buffers (sampled every 50 ms). */
  peakHeapBytes: number;
  peakExternalBytes: number;
  error?: string;
}

const ADMIN = { email: "bench@guildhall.invalid", password: "bench-password-123", name: "Bench" };

/**
 * Rows of guild_members written since `since` (epoch ms): every writer sets date_modified, and
 * date_created on insert, so this counts exactly the rows a sync inserted or updated.
 */
const rowsWrittenSince = async (sql: postgres.Sql, since: number) => {
  const [row] = await sql<Array<{ inserted: number; updated: number }>>`
    select count(*) filter (where date_created >= ${new Date(since)})::int as inserted,
           count(*) filter (where date_created < ${new Date(since)} and date_modified >= ${new Date(since)})::int as updated
    from guild_members`;
  return { inserted: row?.inserted ?? 0, updated: row?.updated ?? 0 };
};

/** Runs the member sync benchmark and returns the printed report. */
export const runMemberSyncBench = async (options: SyncBenchOptions): Promise<string> => {
  // When each run's first and last GUILD_MEMBERS_CHUNK left the emulator (epoch ms).
  const chunkTimes = new Map<string, { first: number; last: number }>();
  const emulator = await startEmulator({
    memberRequestWindowMs: 0,
    onMemberChunk: (event) => {
      const key = event.nonce ?? "";
      const seen = chunkTimes.get(key);
      chunkTimes.set(key, { first: seen?.first ?? event.sentAt, last: event.sentAt });
    },
  });
  const guild = emulator.seedGuild({ seed: 99, members: options.members, staff: 10, name: "Big Guild" });
  const admin = postgres(options.postgresUrl, { max: 1, onnotice: () => {} });
  const dbName = `guildhall_syncbench_${process.pid}_${Date.now()}`;
  const stageDbName = `${dbName}_stage`;
  await admin.unsafe(`create database ${dbName}`);
  await admin.unsafe(`create database ${stageDbName}`);
  const databaseUrl = options.postgresUrl.replace(/\/[^/]*$/, `/${dbName}`);
  const benchDb = postgres(databaseUrl, { max: 1, onnotice: () => {} });
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
  // The bot runs as it is deployed: bundled by apps/bot/scripts/build.mjs, started by plain node.
  const botEntry = fileURLToPath(new URL("../dist/sync-bot-process.mjs", import.meta.url));
  await promisify(execFile)(process.execPath, [
    fileURLToPath(new URL("../../apps/bot/scripts/build.mjs", import.meta.url)),
    fileURLToPath(new URL("./sync-bot-process.ts", import.meta.url)),
    botEntry,
  ]);
  const lines: string[] = [];
  const syncOnce = async () => {
    chunkTimes.clear();
    const bot = await startChild<{ ok: true; rssBytes: number }>(botEntry, botInput);
    const report = await bot.request<SyncReport>({ type: "sync", guildId: guild.guildId });
    await bot.stop();
    if (report.error) throw new Error(`sync failed: ${report.error}`);
    const [times] = [...chunkTimes.values()];
    return {
      ...report,
      startRssBytes: bot.ready.rssBytes,
      firstChunkSentAt: times?.first ?? report.startedAt,
      lastChunkSentAt: times?.last ?? report.startedAt,
    };
  };
  try {
    const full = await syncOnce();
    const changes = emulator.applyMemberChanges(guild.guildId, {
      update: Math.round(options.members * 0.01),
      leave: Math.round(options.members * 0.005),
      join: Math.round(options.members * 0.005),
      seed: 7,
    });
    const resyncFrom = Date.now();
    const resync = await syncOnce();
    const written = await rowsWrittenSince(benchDb, resyncFrom);
    await server.stop();

    const baseline = await naiveBaseline(databaseUrl, guild.guildId, options.baselineSample);
    const stage = await runDbStage({ databaseUrl: options.postgresUrl.replace(/\/[^/]*$/, `/${stageDbName}`), members: options.members });

    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const perSecond = (rows: number, ms: number) => Math.round(rows / (ms / 1000));
    const rate = (rows: number, ms: number) => `${perSecond(rows, ms).toLocaleString("en")} rows/s`;
    const n = (value: number) => value.toLocaleString("en");
    const fullMs = full.endedAt - full.firstChunkSentAt;
    const completeMs = resync.endedAt - resync.lastChunkAt;
    const peakRss = Math.max(full.peakRssBytes, resync.peakRssBytes);
    const stageFull = stage[0]!;
    const stageRate = perSecond(stageFull.rows, stageFull.chunksMs);
    const baselineRate = perSecond(options.baselineSample, baseline);
    const expectedWrites = { inserted: changes.joined.length, updated: changes.updated.length + changes.left.length };
    lines.push(
      `Member sync of a ${n(options.members)}-member guild: emulator -> bot (its own process) -> server (its own process) -> local Postgres`,
      "",
      table(
        [
          "run",
          "outcome",
          "created",
          "updated",
          "left",
          "rejoined",
          "unchanged",
          "first chunk sent->committed",
          "rate",
          "chunks sent in",
          "last chunk applied->committed",
          "bot RSS start/peak",
          "bot heap/buffers peak",
        ],
        [full, resync].map((r, i) => [
          i === 0 ? "full sync (empty mirror)" : "re-sync (1% changed, 0.5% left, 0.5% joined)",
          r.run.status,
          n(r.run.created),
          n(r.run.updated),
          n(r.run.markedLeft),
          n(r.run.rejoined),
          n(r.run.unchanged),
          seconds(r.endedAt - r.firstChunkSentAt),
          rate(r.run.rowsReceived, r.endedAt - r.firstChunkSentAt),
          seconds(r.lastChunkSentAt - r.firstChunkSentAt),
          `${Math.round(r.endedAt - r.lastChunkAt)} ms`,
          `${Math.round(r.startRssBytes / 1_048_576)} / ${Math.round(r.peakRssBytes / 1_048_576)} MB`,
          `${Math.round(r.peakHeapBytes / 1_048_576)} / ${Math.round(r.peakExternalBytes / 1_048_576)} MB`,
        ]),
      ),
      "",
      `Expected changes on re-sync: ${n(changes.updated.length)} updated, ${n(changes.left.length)} left, ${n(changes.joined.length)} joined.`,
      `Rows the re-sync wrote to guild_members (by date_created / date_modified): ${n(written.inserted)} inserted, ${n(written.updated)} updated ` +
        `(changed rows: ${n(expectedWrites.inserted)} joined, ${n(expectedWrites.updated)} changed or left).`,
      "",
      `Database stage alone (MemberSync fed 1,000-member chunks, two in flight, on a fresh database, same process):`,
      table(
        ["run", "rows", "chunks applied in", "rate", "complete (mark left, close run)"],
        stage.map((r) => [r.label, n(r.rows), seconds(r.chunksMs), rate(r.rows, r.chunksMs), `${Math.round(r.completeMs)} ms`]),
      ),
      "",
      `Baseline (per-row ORM select + insert/update, as the old Django view): ${n(baselineRate)} rows/s on ${n(options.baselineSample)} rows` +
        ` -> a full sync would take ${seconds((options.members / options.baselineSample) * baseline)}` +
        ` (project end to end: ${seconds(fullMs)}, ${(((options.members / options.baselineSample) * baseline) / fullMs).toFixed(1)}x faster;` +
        ` database stage: ${n(stageRate)} rows/s, ${(stageRate / baselineRate).toFixed(0)}x).`,
      `Targets: full sync <= 30 s end to end (${fullMs <= 30_000 ? "met" : "MISSED"}: ${seconds(fullMs)}); ` +
        `database stage >= 80,000 rows/s (${stageRate >= 80_000 ? "met" : "MISSED"}: ${n(stageRate)}); ` +
        `re-sync committed <= 2 s after the snapshot was complete (${completeMs <= 2_000 ? "met" : "MISSED"}: ${Math.round(completeMs)} ms), ` +
        `writing only changed rows (${written.inserted === expectedWrites.inserted && written.updated === expectedWrites.updated ? "met" : "MISSED"}); ` +
        `bot peak RSS <= 250 MB (${peakRss <= 250 * 1_048_576 ? "met" : "MISSED"}: ${Math.round(peakRss / 1_048_576)} MB).`,
    );
  } finally {
    await server.stop();
    await emulator.close();
    await benchDb.end();
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.unsafe(`drop database if exists ${stageDbName} with (force)`);
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
    const row = {
      guildId: fakeGuild,
      userId,
      username: `user${i}`,
      globalName: null,
      nick: null,
      avatar: null,
      roleIds: ["1"],
      joinedAt: new Date(),
      isBot: false,
    };
    const existing = await db
      .select()
      .from(m)
      .where(and(eq(m.guildId, fakeGuild), eq(m.userId, userId)));
    if (existing[0])
      await db
        .update(m)
        .set(row)
        .where(and(eq(m.guildId, fakeGuild), eq(m.userId, userId)));
    else await db.insert(m).values(row);
  }
  const elapsed = performance.now() - started;
  await runtime.dispose();
  return elapsed;
};
