import type { SQL } from "drizzle-orm";
import type { Db } from "./Database";

/**
 * Runs a raw SQL query and returns its rows as plain objects (column names as Postgres
 * returns them). Hides the one difference between the drivers: postgres.js answers with an
 * array, PGlite with `{ rows }`. Rejects with the driver's error.
 */
export const executeRows = async <Row extends Record<string, unknown>>(db: Db, query: SQL): Promise<Array<Row>> => {
  const result = (await db.execute(query)) as unknown;
  if (Array.isArray(result)) return result as Array<Row>;
  return ((result as { rows?: Array<Row> }).rows ?? []) as Array<Row>;
};
