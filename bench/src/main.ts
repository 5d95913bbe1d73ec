/**
 * `npm run bench`: every benchmark, each printing the project beside its baseline measured in
 * the same run. `npm run bench -- presence` runs one. Results also go to bench/results/.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { runMemberSyncBench } from "./memberSync";
import { presenceReport, runPresenceBench } from "./presence";
import { runRolesBench } from "./roles";

const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);
const postgresUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const results: Record<string, unknown> = { at: new Date().toISOString(), cpus: (await import("node:os")).cpus().length };

if (wanted("presence")) {
  // BENCH_SUBSCRIBERS / BENCH_RATES / BENCH_DATABASES narrow a run while investigating.
  const subscribers = Number(process.env.BENCH_SUBSCRIBERS ?? 100);
  const rates = (process.env.BENCH_RATES ?? "200,1000").split(",").map(Number);
  const databases = (process.env.BENCH_DATABASES ?? "postgres,pglite").split(",") as Array<"postgres" | "pglite">;
  const rows = [];
  for (const database of databases) {
    rows.push(...(await runPresenceBench({ rates, seconds: 10, subscribers, database, postgresUrl })));
  }
  console.log(`\n${presenceReport(rows, subscribers)}\n`);
  const at1000 = rows.filter((r) => r.rate === 1_000);
  for (const row of at1000) {
    console.log(
      `target p99 <= 100 ms at 1,000 updates/s (${row.database}): ${row.p99 <= 100 ? "met" : "MISSED"} (${Math.round(row.p99)} ms)`,
    );
  }
  results.presence = rows;
}

if (wanted("sync")) {
  const report = await runMemberSyncBench({
    members: Number(process.env.BENCH_SYNC_MEMBERS ?? 1_000_000),
    baselineSample: 5_000,
    postgresUrl,
  });
  console.log(`\n${report}\n`);
  results.sync = report;
}

if (wanted("roles")) {
  // BENCH_ROLES_MEMBERS narrows the apply stage (default 20,000 members, 5% drift).
  const result = await runRolesBench({ members: Number(process.env.BENCH_ROLES_MEMBERS ?? 20_000) });
  console.log(`\n${result.report}\n`);
  results.roles = result;
}

mkdirSync(new URL("../results", import.meta.url), { recursive: true });
writeFileSync(new URL(`../results/bench-${Date.now()}.json`, import.meta.url), JSON.stringify(results, null, 2));
