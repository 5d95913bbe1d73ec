/**
 * `npm run db:migrate`: applies the committed migrations to DATABASE_URL (or to the embedded
 * PGlite under GUILDHALL_DATA_DIR, default .guildhall) and exits. The server also migrates on
 * start; this exists for deploy pipelines and CI. Exits 1, naming the failing step, on error.
 */

import { Effect } from "effect";
import { Database } from "./Database";
import { readMigrateEnv } from "./env";

const { url, dataDir } = readMigrateEnv();

// Building the Database layer migrates; using it once and closing is the whole job.
const program = Database.use((db) => Effect.succeed(db.kind)).pipe(Effect.provide(Database.layer({ url, dataDir })));

Effect.runPromise(program).then(
  (kind) => console.log(`[db] migrations applied (${kind === "postgres" ? "Postgres" : `PGlite in ${dataDir}`})`),
  (error: unknown) => {
    console.error(`[db] migration failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
