/**
 * The router fuzz on PGlite: every procedure of appRouter, as anonymous, staff, admin, bot and
 * API tokens (read, read_write),
 * over HTTP and WebSocket (subscriptions over SSE and WebSocket), with inputs derived from its
 * schema and hostile values mixed in. See ./walk.ts for what each case asserts.
 */
import { walkRouter } from "./walk";

walkRouter({ what: "router on PGlite", counts: { http: 30, ws: 10, sse: 12 } });
