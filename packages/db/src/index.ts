/**
 * @guildhall/db: the Drizzle schema, committed SQL migrations and the `Database` service
 * (postgres.js when DATABASE_URL is set, embedded PGlite otherwise).
 */
export { Database, DatabaseError, type DatabaseConfig, type Db } from "./Database";
export { executeRows } from "./execute";
export * as schema from "./schema";
export type { PresenceStatus, StoredActivity, StoredClientStatus } from "./schema";
