/**
 * @guildhall/jobs: durable jobs and schedules on pg-boss, over the server's database (Postgres,
 * or embedded PGlite through pg-boss's adapter). `QUEUES` (./queues.ts) declares every queue;
 * the `Jobs` service sends, works, fetches for the bot, and lets admins see, retry and discard.
 */
export * from "./errors";
export * from "./Jobs";
export * from "./Queue";
export * from "./queues";
