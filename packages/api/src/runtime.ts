import { Database, type DatabaseConfig } from "@guildhall/db";
import { Jobs, type JobsOptions } from "@guildhall/jobs";
import { Bot, FirstSightSync, SyncLayer } from "@guildhall/sync";
import { Layer, ManagedRuntime } from "effect";
import type { ApiRuntime } from "./trpc";
import { WORKERS } from "./workers";

/** What {@link makeRuntime} builds on: where the data lives, plus job and first-sight settings. */
export interface RuntimeConfig extends DatabaseConfig {
  /** Timings of the job queue (defaults suit production; tests shorten them). */
  readonly jobs?: JobsOptions;
  /**
   * Queue a member sync for a linked guild the bot reports before any member sync of it
   * completed (default true). Benchmarks that time their own syncs turn it off.
   */
  readonly firstSightSync?: boolean;
}

/**
 * The one runtime a server process runs procedures and jobs on: the sync services and the Jobs
 * service (pg-boss) over the Database (postgres.js or PGlite, migrated on build), with a worker
 * for every server queue (./workers.ts). Dispose it to stop: the workers first (running handlers
 * get the Jobs service's bounded grace period), then pg-boss, then the connections.
 * Building it fails with `DatabaseError` when the database cannot be opened or migrated, or
 * pg-boss cannot start.
 */
export const makeRuntime = (config: RuntimeConfig): ApiRuntime => {
  const { jobs, firstSightSync = true, ...database } = config;
  const services = Bot.layer.pipe(
    Layer.provide(Layer.succeed(FirstSightSync)(firstSightSync)),
    Layer.provideMerge(Layer.mergeAll(SyncLayer, Jobs.layer(jobs))),
  );
  return ManagedRuntime.make(Jobs.workers(WORKERS).pipe(Layer.provideMerge(services), Layer.provideMerge(Database.layer(database))));
};
