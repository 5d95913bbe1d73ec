/** `npm run db:migrate`'s configuration: the one place this package reads `process.env`. */
import { resolve } from "node:path";

/**
 * DATABASE_URL (unset or empty: embedded PGlite) and GUILDHALL_DATA_DIR (default `.guildhall`;
 * PGlite lives in its `pglite` folder), as the server reads them.
 */
export const readMigrateEnv = (
  source: Record<string, string | undefined> = process.env,
): { readonly url: string | undefined; readonly dataDir: string } => ({
  url: source.DATABASE_URL || undefined,
  dataDir: resolve(source.GUILDHALL_DATA_DIR || ".guildhall", "pglite"),
});
