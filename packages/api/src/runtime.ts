import { Database, type DatabaseConfig } from "@guildhall/db";
import { SyncLayer } from "@guildhall/sync";
import { Layer, ManagedRuntime } from "effect";
import type { ApiRuntime } from "./trpc";

/**
 * The one runtime a server process runs procedures on: the sync services over the
 * Database (postgres.js or PGlite, migrated on build). Dispose it to close connections.
 * Building it fails with `DatabaseError` when the database cannot be opened or migrated.
 */
export const makeRuntime = (config: DatabaseConfig): ApiRuntime =>
  ManagedRuntime.make(SyncLayer.pipe(Layer.provideMerge(Database.layer(config))));
