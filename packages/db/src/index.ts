/**
 * @guildhall/db: the Drizzle schema, committed SQL migrations and the `Database` service
 * (postgres.js when DATABASE_URL is set, embedded PGlite otherwise).
 */
export {
  Database,
  type DatabaseConfig,
  type DatabaseConnection,
  DatabaseError,
  type Db,
  databaseError,
  describeDatabaseFailure,
  keepPrivate,
} from "./Database";
export { executeRows } from "./execute";
export type { PresenceStatus, StoredActivity, StoredClientStatus } from "./schema";
export * as schema from "./schema";
