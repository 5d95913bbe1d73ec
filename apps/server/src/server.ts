import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ApiRuntime,
  type Auth,
  appRouter,
  type ContextDeps,
  createAuth,
  createContext,
  logTo,
  makeRuntime,
  type RuntimeConfig,
  sharingJsonEncoder,
} from "@guildhall/api";
import { Database, describeDatabaseFailure } from "@guildhall/db";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { toNodeHandler } from "better-auth/node";
import { sql } from "drizzle-orm";
import { Effect, type LogLevel } from "effect";
import sirv from "sirv";
import { WebSocketServer } from "ws";
import { handleLegacyMemberSync } from "./legacy";

/** Settings for {@link startServer}; see apps/server/src/env.ts for where they come from. */
export interface ServerOptions {
  readonly port: number;
  readonly host: string;
  /** Postgres URL; absent means embedded PGlite under `dataDir` (or in memory with `"memory://"`). */
  readonly databaseUrl?: string | undefined;
  /** Where PGlite data and generated secrets live. `"memory://"` keeps everything in memory (tests). */
  readonly dataDir: string;
  /** The origin browsers use; default `http://localhost:PORT`. */
  readonly publicUrl?: string | undefined;
  readonly botKey?: string | undefined;
  readonly sessionSecret?: string | undefined;
  /** The built SPA (apps/web/dist); not served when missing. */
  readonly webDist?: string | undefined;
  /** Discord's CDN base for avatar URLs (the emulator's `/cdn` in demo mode); default Discord's. */
  readonly discordCdnUrl?: string | undefined;
  /** The least severe level the server logs (default Info). */
  readonly logLevel?: LogLevel.LogLevel | undefined;
  /**
   * Queue a member sync for a linked guild the bot reports before any member sync of it
   * completed (default true), so a fresh install opens on a populated Members page.
   */
  readonly firstSightSync?: boolean | undefined;
  /** Job queue timings (pg-boss); the defaults suit production, tests shorten them. */
  readonly jobs?: RuntimeConfig["jobs"];
  /** Called once the runtime and auth exist, before the port opens: demo seeding goes here. */
  readonly onReady?: (services: { runtime: ApiRuntime; auth: Auth }) => Promise<void>;
}

/** A running server. `url` is its origin; `close` stops it and closes the database. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly botKey: string;
  readonly runtime: ApiRuntime;
  readonly auth: Auth;
  readonly close: () => Promise<void>;
}

const defaultWebDist = fileURLToPath(new URL("../../web/dist", import.meta.url));

/**
 * Secrets from the environment when given, otherwise generated once and kept in
 * `<dataDir>/secrets.json` (mode 0600) so sessions and the bot key survive restarts.
 */
const loadSecrets = (options: ServerOptions): { botKey: string; sessionSecret: string } => {
  const generate = () => randomBytes(32).toString("base64url");
  if (options.dataDir === "memory://") {
    return { botKey: options.botKey ?? generate(), sessionSecret: options.sessionSecret ?? generate() };
  }
  const file = join(options.dataDir, "secrets.json");
  let stored: { botKey?: string; sessionSecret?: string } = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, "utf8")) as typeof stored;
  const secrets = {
    botKey: options.botKey ?? stored.botKey ?? generate(),
    sessionSecret: options.sessionSecret ?? stored.sessionSecret ?? generate(),
  };
  if (secrets.botKey !== stored.botKey || secrets.sessionSecret !== stored.sessionSecret) {
    mkdirSync(options.dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  }
  return secrets;
};

const headersOf = (req: IncomingMessage): Headers => {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  return headers;
};

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
};

/**
 * Starts Guildhall's server on one port: tRPC over HTTP (`/trpc`) and WebSocket (`/trpc`,
 * subscriptions), the auth endpoints (`/api/auth/*`), `/healthz` and the built SPA (with
 * index.html for client-side routes). Opens and migrates the database first, and starts the job
 * queue (pg-boss) with its workers and schedules: the member sync scheduler, the stale sync
 * expiry and the presence prune all run as jobs (see @guildhall/jobs' catalogue).
 * Rejects when the database cannot be opened, pg-boss cannot start, or the port is taken.
 */
export const startServer = async (options: ServerOptions): Promise<RunningServer> => {
  const secrets = loadSecrets(options);
  const dataDir = options.dataDir === "memory://" ? "memory://" : resolve(options.dataDir, "pglite");
  const runtime = makeRuntime(
    { url: options.databaseUrl, dataDir, firstSightSync: options.firstSightSync ?? true, jobs: options.jobs },
    { logLevel: options.logLevel },
  );
  const database = await runtime.runPromise(Database.use(Effect.succeed));

  // The port is opened first (answering 503 until ready) so that a random port (0) is known
  // before auth is configured: better-auth checks request origins against it.
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server = createServer((req, res) => {
    if (handle) return handle(req, res);
    json(res, 503, { error: "Starting up." });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolvePromise());
  });
  const port = (server.address() as AddressInfo).port;

  const publicUrl = options.publicUrl ?? `http://localhost:${port}`;
  const auth = createAuth(database.db, {
    secret: secrets.sessionSecret,
    baseURL: publicUrl,
    trustedOrigins: [publicUrl, `http://localhost:${port}`, `http://127.0.0.1:${port}`, "http://localhost:5173"],
  });
  await options.onReady?.({ runtime, auth });

  const deps: ContextDeps = { runtime, auth, botKey: secrets.botKey };
  const trpcHandler = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    createContext: ({ req }) => createContext(deps, { headers: headersOf(req) }),
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR")
        void logTo(runtime, "Error", `tRPC ${path ?? "?"}: ${describeDatabaseFailure(error.cause ?? error).message}`);
    },
  });
  const authHandler = toNodeHandler(auth);
  const webDist = options.webDist ?? defaultWebDist;
  const staticHandler = existsSync(join(webDist, "index.html")) ? sirv(webDist, { single: true, etag: true, gzip: false }) : null;
  const startedAt = Date.now();

  handle = (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/trpc" || path.startsWith("/trpc/")) return void trpcHandler(req, res);
    if (path.startsWith("/api/auth/")) return void authHandler(req, res);
    if (path === "/api/dbot/sync_guild_members") return void handleLegacyMemberSync(deps, req, res);
    // Public, non-secret settings the SPA needs before anything else.
    if (path === "/api/config") return json(res, 200, { discordCdnUrl: options.discordCdnUrl ?? "https://cdn.discordapp.com" });
    if (path === "/healthz") {
      // Healthy means: the process answers and the database does.
      runtime.runPromise(database.use("healthz", (db) => db.execute(sql`select 1`))).then(
        () => json(res, 200, { ok: true, database: database.kind, uptime_s: Math.round((Date.now() - startedAt) / 1000) }),
        () => json(res, 503, { ok: false, database: database.kind, error: "database unreachable" }),
      );
      return;
    }
    if (staticHandler) return staticHandler(req, res, () => json(res, 404, { error: "Not found" }));
    json(res, 404, { error: "Not found. The SPA is not built: run `npm run build -w @guildhall/web`." });
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 });
  const wssHandler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: ({ req, info }) => createContext(deps, { headers: headersOf(req), connectionParams: info.connectionParams }),
    keepAlive: { enabled: true, pingMs: 15_000, pongWaitMs: 5_000 },
    // One presence batch goes to every subscriber of a guild: serialize it once.
    experimental_encoder: sharingJsonEncoder,
  });
  server.on("upgrade", (req, socket, head) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/trpc") return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    botKey: secrets.botKey,
    runtime,
    auth,
    close: async () => {
      wssHandler.broadcastReconnectNotification();
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      // Stops the job workers (running handlers get a bounded grace), pg-boss, then the database.
      await runtime.dispose();
    },
  };
};
