/**
 * The database stage of a member sync on its own: `MemberSync.applyChunk` fed 1,000-member
 * chunks with two in flight (as the server receives them from the bot), then `complete`, on a
 * fresh database. Run by `npm run bench -- sync`; prints rows/s for a full sync from empty
 * and for a re-sync where 1% changed, 0.5% left and 0.5% joined.
 */
import { Database } from "@guildhall/db";
import { Directory, type MemberSnapshot, MemberSync, SyncLayer } from "@guildhall/sync";
import { Effect, Layer, ManagedRuntime } from "effect";

export interface DbStageResult {
  readonly label: string;
  readonly rows: number;
  /** From the first chunk sent to the last chunk committed (ms). */
  readonly chunksMs: number;
  /** The `complete` call: marking absent members left and closing the run (ms). */
  readonly completeMs: number;
  readonly run: { created: number; updated: number; rejoined: number; unchanged: number; markedLeft: number; status: string };
}

const ROLE_A = "900000000000000001";
const ROLE_B = "900000000000000002";

/** A deterministic member `n` at `version` (a higher version changes its nickname and roles). */
export const benchMember = (n: number, version = 0): MemberSnapshot => ({
  userId: String(400_000_000_000_000_000n + BigInt(n)),
  username: `member_${n.toString(36)}`,
  globalName: n % 4 === 0 ? null : `Member ${n}`,
  nick: version > 0 ? `nick ${version}` : n % 3 === 0 ? `nick${n}` : null,
  avatar: n % 2 === 0 ? n.toString(16).padStart(32, "0") : null,
  roleIds: version > 0 ? [ROLE_A, ROLE_B] : n % 5 === 0 ? [ROLE_A] : [],
  joinedAt: new Date(Date.UTC(2020, 0, 1) + (n % 100_000) * 60_000).toISOString(),
  isBot: n % 997 === 0,
  pending: false,
  premiumSince: null,
  communicationDisabledUntil: null,
});

/** Applies `snapshot` as one run with `inFlight` chunks in flight; returns timings and counts. */
const syncOnce = (
  guildId: string,
  label: string,
  snapshot: (index: number) => ReadonlyArray<MemberSnapshot>,
  chunkCount: number,
  inFlight: number,
) =>
  Effect.gen(function* () {
    const sync = yield* MemberSync;
    // The chunks are built before the clock starts, as JSON (what the server receives), so the
    // stage measured is parsing and applying them, and no million-object heap slows the GC.
    let rows = 0;
    const prepared = Array.from({ length: chunkCount }, (_, i) => {
      const members = snapshot(i);
      rows += members.length;
      return JSON.stringify(members);
    });
    const run = yield* sync.start({ guildId, trigger: "api", source: "gateway", requestedBy: null });
    const started = performance.now();
    yield* Effect.forEach(
      prepared,
      (json, chunkIndex) =>
        sync.applyChunk({ runId: run.id, chunkIndex, chunkCount, members: JSON.parse(json) as ReadonlyArray<MemberSnapshot> }),
      { concurrency: inFlight, discard: true },
    );
    const chunksDone = performance.now();
    const done = yield* sync.complete(run.id);
    return {
      label,
      rows,
      chunksMs: chunksDone - started,
      completeMs: performance.now() - chunksDone,
      run: done,
    } satisfies DbStageResult;
  });

/** Runs the database stage on `databaseUrl` (an empty, migrated-on-start database). */
export const runDbStage = async (options: { databaseUrl: string; members: number; chunkSize?: number; inFlight?: number }) => {
  const size = options.chunkSize ?? 1_000;
  const inFlight = options.inFlight ?? 2;
  const runtime = ManagedRuntime.make(SyncLayer.pipe(Layer.provideMerge(Database.layer({ url: options.databaseUrl, max: 4 }))));
  const guildId = "300000000000000077";
  try {
    return await runtime.runPromise(
      Effect.gen(function* () {
        const directory = yield* Directory;
        yield* directory.ensureOrganization({ id: "bench", name: "Bench", slug: "bench" });
        yield* directory.ensureGuild("bench", { id: guildId, name: "DB stage", icon: null });
        const chunkCount = Math.ceil(options.members / size);
        const chunk = (i: number) =>
          Array.from({ length: Math.min(size, options.members - i * size) }, (_, k) => benchMember(i * size + k));
        const full = yield* syncOnce(guildId, "full sync (empty mirror)", chunk, chunkCount, inFlight);
        // Re-sync: 1% changed (every 100th), 0.5% left (every 200th, offset 1), 0.5% joined (new ids past the end).
        const resyncMember = (n: number) => (n % 200 === 1 ? null : benchMember(n, n % 100 === 0 ? 1 : 0));
        const joined = Math.round(options.members * 0.005);
        const all = [
          ...Array.from({ length: options.members }, (_, n) => n),
          ...Array.from({ length: joined }, (_, k) => options.members + k),
        ];
        const resyncCount = Math.ceil(all.length / size);
        const resync = yield* syncOnce(
          guildId,
          "re-sync (1% changed, 0.5% left, 0.5% joined)",
          (i) => all.slice(i * size, (i + 1) * size).flatMap((n) => resyncMember(n) ?? []),
          resyncCount,
          inFlight,
        );
        return [full, resync];
      }),
    );
  } finally {
    await runtime.dispose();
  }
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.BENCH_DB_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const postgres = (await import("postgres")).default;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const name = `guildhall_dbstage_${process.pid}`;
  await admin.unsafe(`create database ${name}`);
  try {
    const results = await runDbStage({
      databaseUrl: url.replace(/\/[^/]*$/, `/${name}`),
      members: Number(process.env.BENCH_SYNC_MEMBERS ?? 100_000),
    });
    for (const r of results) {
      console.log(
        `${r.label}: ${r.rows} rows, chunks ${Math.round(r.chunksMs)} ms = ${Math.round(r.rows / (r.chunksMs / 1000))} rows/s, complete ${Math.round(r.completeMs)} ms`,
        r.run.created,
        r.run.updated,
        r.run.rejoined,
        r.run.markedLeft,
        r.run.unchanged,
      );
    }
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}
