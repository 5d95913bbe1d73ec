/**
 * The router fuzz once more on Postgres (a database of its own on TEST_DATABASE_URL's server),
 * with fewer cases: what differs there is the driver, the connection pool and real concurrent
 * sessions (advisory locks and transactions are checked across sessions).
 */
import { walkRouter } from "./walk";

walkRouter({
  what: "router on Postgres",
  counts: { http: 10, ws: 4, sse: 4 },
  postgresUrl: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
});
