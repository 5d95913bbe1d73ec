import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, BlockList } from "node:net";
import { join, resolve } from "node:path";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  type ApiRuntime,
  type Auth,
  answerFor,
  appRouter,
  BOT_KEY_HEADER,
  botKeyMatches,
  CLIENT_ADDRESS_HEADER,
  type ContextDeps,
  createAuth,
  createContext,
  DISCORD_OAUTH_URLS,
  type DomainError,
  logTo,
  MethodNotAllowed,
  makeRuntime,
  type RuntimeConfig,
  serverInteractionServices,
  sharingJsonEncoder,
  UnknownEndpoint,
} from "@guildhall/api";
import { Database, describeDatabaseFailure, keepPrivate } from "@guildhall/db";
import { DiscordRestClient } from "@guildhall/discord";
import {
  generateEncryptionKey,
  INSTALL_CALLBACK_PATH,
  type IntegrationsConfig,
  parseEncryptionKeys,
  Reconciler,
  type SecretKey,
} from "@guildhall/sync";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { sql } from "drizzle-orm";
import { Effect, type LogLevel } from "effect";
import sirv from "sirv";
import { WebSocketServer } from "ws";
import {
  BODY_LIMITS,
  checkOrigin,
  checkSignInOrigin,
  checkTrpcContentType,
  clientAddress,
  readBody,
  tooLarge,
  trustedOrigins,
} from "./http";
import { handleInstallCallback } from "./install";
import { ed25519PublicKey, handleInteractions } from "./interactions";
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
  /**
   * Discord's REST API base (the emulator's `http://127.0.0.1:PORT/api` in the demo and tests;
   * default Discord's, without the version): webhook deliveries go there, webhook URLs under it
   * are accepted, and interaction responses are edited there after a deferral.
   */
  readonly discordApiUrl?: string | undefined;
  /**
   * The key ring of the one encryption at rest, SecretBox (integrations' OAuth2 tokens, webhook
   * tokens): GUILDHALL_ENCRYPTION_KEY, comma-separated `id:base64key` entries or bare keys (64
   * hex digits, base64 of 32 bytes), the first current. Absent: one generated and kept in
   * `<dataDir>/secrets.json`. Keys the data dir kept from earlier versions (a generated webhook
   * key, generated token keys) stay in the ring after these, so what they sealed still opens.
   */
  readonly encryptionKey?: string | undefined;
  /** Discord's CDN base for avatar URLs (the emulator's `/cdn` in demo mode); default Discord's. */
  readonly discordCdnUrl?: string | undefined;
  /** How the server calls Discord (role reconciliation): the bot token and API base (the emulator's in demo mode). Absent: not configured. */
  readonly discord?: { readonly token: string; readonly api?: string | undefined } | undefined;
  /** The least severe level the server logs (default Info). */
  readonly logLevel?: LogLevel.LogLevel | undefined;
  /**
   * Queue a member sync for a linked guild the bot reports before any member sync of it
   * completed (default true), so a fresh install opens on a populated Members page.
   */
  readonly firstSightSync?: boolean | undefined;
  /** Job queue timings (pg-boss); the defaults suit production, tests shorten them. */
  readonly jobs?: RuntimeConfig["jobs"];
  /**
   * The reverse proxies whose `X-Forwarded-For` is believed when they are the socket's peer
   * (GUILDHALL_TRUSTED_PROXIES); default none: the client is the socket's peer.
   */
  readonly trustedProxies?: BlockList | null | undefined;
  /** tRPC error answers carry stack traces (GUILDHALL_DEBUG_ERRORS); default false. */
  readonly debugErrors?: boolean | undefined;
  /** Sign-in attempts allowed per client address; default SIGN_IN_LIMIT of @guildhall/api (10 a minute). */
  readonly signInLimit?: { readonly windowS: number; readonly max: number } | undefined;
  /**
   * The Discord application's OAuth2 client (DISCORD_CLIENT_ID, DISCORD_CLIENT_SECRET): Sign in
   * with Discord and bot installs (Integrations page) both use it; absent: both are off. The
   * secret is never logged.
   */
  readonly discordClient?: { readonly clientId: string; readonly clientSecret: string } | undefined;
  /**
   * Where Discord's OAuth2 is for sign-in: the authorize page and the versioned REST base
   * (`/oauth2/token`, `/users/@me`). Default discord.com; the emulator's in tests and the demo.
   */
  readonly discordOAuth?: { readonly authorizeUrl: string; readonly apiUrl: string } | undefined;
  /**
   * The Discord application's Ed25519 public key (64 hex characters, DISCORD_PUBLIC_KEY): the
   * interactions endpoint `POST /api/interactions` verifies requests with it. Absent: the endpoint answers 404.
   */
  readonly discordPublicKey?: string | undefined;
  /** Discord's authorize page (the emulator's `/oauth2/authorize`); default `https://discord.com/oauth2/authorize`. */
  readonly discordAuthorizeUrl?: string | undefined;
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

/** better-auth's log levels as Effect's. */
const LOG_LEVELS = { debug: "Debug", info: "Info", warn: "Warn", error: "Error" } as const;

const defaultWebDist = fileURLToPath(new URL("../../web/dist", import.meta.url));

/**
 * Secrets from the environment when given, otherwise generated once and kept in
 * `<dataDir>/secrets.json` (mode 0600) so sessions, the bot key and sealed values survive
 * restarts. The data dir is made private first (keepPrivate). `encryptionKeys`: the key ring,
 * the operator's (or the generated) keys first, then any key an earlier version kept there
 * (`encryptionKey`: the webhook key, `tokenKeys`: the OAuth2 token keys), for opening only.
 */
const loadSecrets = (options: ServerOptions): { botKey: string; sessionSecret: string; encryptionKeys: ReadonlyArray<SecretKey> } => {
  const generate = () => randomBytes(32).toString("base64url");
  if (options.dataDir === "memory://") {
    return {
      botKey: options.botKey ?? generate(),
      sessionSecret: options.sessionSecret ?? generate(),
      encryptionKeys: keyRingOf(options.encryptionKey ?? generateEncryptionKey(), []),
    };
  }
  keepPrivate(options.dataDir);
  const file = join(options.dataDir, "secrets.json");
  let stored: { botKey?: string; sessionSecret?: string; encryptionKey?: string; tokenKeys?: string } = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, "utf8")) as typeof stored;
  // An operator's keys are not written to disk; a generated one is kept so sealed values survive restarts.
  const generated = options.encryptionKey === undefined && stored.encryptionKey === undefined ? generateEncryptionKey() : undefined;
  const primary = options.encryptionKey ?? stored.encryptionKey ?? generated!;
  const secrets = {
    botKey: options.botKey ?? stored.botKey ?? generate(),
    sessionSecret: options.sessionSecret ?? stored.sessionSecret ?? generate(),
    encryptionKeys: keyRingOf(primary, [stored.encryptionKey, stored.tokenKeys]),
  };
  const toStore = {
    botKey: secrets.botKey,
    sessionSecret: secrets.sessionSecret,
    encryptionKey: stored.encryptionKey ?? generated,
    tokenKeys: stored.tokenKeys,
  };
  if (
    toStore.botKey !== stored.botKey ||
    toStore.sessionSecret !== stored.sessionSecret ||
    toStore.encryptionKey !== stored.encryptionKey
  ) {
    writeFileSync(file, JSON.stringify(toStore), { mode: 0o600 });
  }
  return secrets;
};

/**
 * The key ring: `primary`'s keys (see `ServerOptions.encryptionKey`; its first seals), then
 * those of `kept` whose id is not taken yet. Throws InvalidEncryptionKeys (naming the entry,
 * never key material) when `primary` is not a key list.
 */
const keyRingOf = (primary: string, kept: ReadonlyArray<string | undefined>): ReadonlyArray<SecretKey> => {
  const keys = [...parseEncryptionKeys(primary)];
  for (const text of kept) {
    if (text === undefined) continue;
    for (const key of parseEncryptionKeys(text)) if (!keys.some((k) => k.id === key.id)) keys.push(key);
  }
  return keys;
};

const headersOf = (req: IncomingMessage): Headers => {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  return headers;
};

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
};

/**
 * Answers a refused request `{error}` with the status errors.ts gives `error`. `close` ends the
 * connection after the answer: for a body left unread, which must not be taken for the next request.
 */
const refuse = (res: ServerResponse, error: DomainError, options: { close?: boolean; allow?: string } = {}) => {
  const { status, message } = answerFor(error);
  json(
    res,
    status,
    { error: message },
    { ...(options.close ? { connection: "close" } : {}), ...(options.allow ? { allow: options.allow } : {}) },
  );
};

/**
 * Answers a refused tRPC request in tRPC's own error shape (one error per call of a batch), so a
 * tRPC client reports the message: `{error: {message, code, data: {code, httpStatus, path}}}`.
 */
const refuseTrpc = (req: IncomingMessage, res: ServerResponse, error: DomainError, close = false) => {
  const { status, code, message } = answerFor(error);
  const url = new URL(req.url ?? "/", "http://localhost");
  const paths = decodeURIComponent(url.pathname.replace(/^\/trpc\/?/, "")).split(",");
  const one = (path: string) => ({
    error: { message, code: TRPC_ERROR_CODES_BY_KEY[code], data: { code, httpStatus: status, path, issues: null } },
  });
  const body = url.searchParams.get("batch") === "1" ? paths.map(one) : one(paths[0] ?? "");
  json(res, status, body, close ? { connection: "close" } : {});
};

/** Answers a refused WebSocket upgrade with a plain HTTP answer (`{error}` JSON), then closes the socket. */
const refuseUpgrade = (socket: Duplex, error: DomainError) => {
  const { status, message } = answerFor(error);
  const body = JSON.stringify({ error: message });
  const reason = status === 403 ? "Forbidden" : status === 404 ? "Not Found" : "Bad Request";
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
};

/**
 * Starts Guildhall's server on one port: tRPC over HTTP (`/trpc`) and WebSocket (`/trpc`,
 * subscriptions), the auth endpoints (`/api/auth/*`), Discord's interactions endpoint
 * (`POST /api/interactions`, ./interactions.ts), `/healthz` and the built SPA (with
 * index.html for client-side routes). Opens and migrates the database first, and starts the job
 * queue (pg-boss) with its workers and schedules: the member sync scheduler, the stale sync
 * expiry and the presence prune all run as jobs (see @guildhall/jobs' catalogue).
 *
 * Every request is checked first (./http.ts): bodies within BODY_LIMITS (413 JSON), tRPC over
 * JSON only (415), cookie-authenticated tRPC calls and WebSocket upgrades from Guildhall's own
 * origins only (403), unknown `/api/` paths 404 JSON, and the SPA for GET and HEAD only (405).
 * The data dir (and every file under it) is made the owner's alone before anything is written.
 * Rejects when the database cannot be opened, pg-boss cannot start, or the port is taken.
 */
export const startServer = async (options: ServerOptions): Promise<RunningServer> => {
  const secrets = loadSecrets(options);
  const dataDir = options.dataDir === "memory://" ? "memory://" : resolve(options.dataDir, "pglite");
  // Known once the port is open (a random port, 0, in tests).
  let integrations: IntegrationsConfig | null = null;
  const runtime = makeRuntime(
    {
      url: options.databaseUrl,
      dataDir,
      firstSightSync: options.firstSightSync ?? true,
      jobs: options.jobs,
      discord: options.discord,
      webhookApi: options.discordApiUrl,
      secretKeys: secrets.encryptionKeys,
      integrations: () => integrations,
    },
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
  const origins = trustedOrigins(publicUrl, port);
  if (options.discordClient) {
    integrations = {
      client: options.discordClient,
      redirectUri: new URL(INSTALL_CALLBACK_PATH, publicUrl).toString(),
      authorizeUrl: options.discordAuthorizeUrl ?? "https://discord.com/oauth2/authorize",
    };
  }
  const auth = createAuth(database.db, {
    secret: secrets.sessionSecret,
    baseURL: publicUrl,
    trustedOrigins: origins,
    signInLimit: options.signInLimit,
    // better-auth's lines in the server's log, as one logfmt line each (message only).
    log: (level, message) => void logTo(runtime, LOG_LEVELS[level], `auth: ${message}`),
    // Secure cookies whenever browsers reach Guildhall over https.
    secureCookies: publicUrl.startsWith("https://"),
    discord: options.discordClient ? { ...options.discordClient, ...(options.discordOAuth ?? DISCORD_OAUTH_URLS) } : undefined,
  });
  await options.onReady?.({ runtime, auth });
  // Each guild with role mappings has its verify and hard-check schedules (made again if lost).
  await runtime.runPromise(
    Reconciler.use((r) => r.ensureAllSchedules()).pipe(
      Effect.catch((error) => Effect.logWarning("roles: could not register the guilds' schedules", error)),
    ),
  );

  const deps: ContextDeps = { runtime, auth, botKey: secrets.botKey, debugErrors: options.debugErrors };
  const trpcHandler = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    createContext: ({ req }) => createContext(deps, { headers: headersOf(req) }),
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR")
        void logTo(runtime, "Error", `tRPC ${path ?? "?"}: ${describeDatabaseFailure(error.cause ?? error).message}`);
    },
  });
  const webDist = options.webDist ?? defaultWebDist;
  const staticHandler = existsSync(join(webDist, "index.html")) ? sirv(webDist, { single: true, etag: true, gzip: false }) : null;
  const startedAt = Date.now();
  // Interaction responses are edited with the interaction's token, never the bot's: no bot token here.
  const discord = DiscordRestClient.make({ token: "", api: options.discordApiUrl });
  const interactions = {
    publicKey: options.discordPublicKey ? ed25519PublicKey(options.discordPublicKey) : null,
    services: serverInteractionServices(runtime, discord),
    bodyLimit: BODY_LIMITS.interactions,
  };
  const proxies = options.trustedProxies ?? null;

  /**
   * tRPC over HTTP: JSON only, cookie-authenticated calls from Guildhall's own origins only, the
   * body read here within its limit (the bot key's, or the default) and handed to tRPC whole.
   */
  const handleTrpc = async (req: IncomingMessage, res: ServerResponse) => {
    const refused = checkTrpcContentType(req) ?? checkOrigin(req, origins);
    if (refused) return refuseTrpc(req, res, refused);
    if (req.method !== "GET" && req.method !== "HEAD") {
      const key = req.headers[BOT_KEY_HEADER];
      const isBot = botKeyMatches(typeof key === "string" ? key : null, secrets.botKey);
      const limit = isBot ? BODY_LIMITS.bot : BODY_LIMITS.default;
      const body = await readBody(req, limit);
      if (body === "too-large") return refuseTrpc(req, res, tooLarge(limit, isBot ? "Calls with the bot key" : "tRPC calls"), true);
      // The standalone adapter takes a body already read from `req.body` (a string: used as is).
      (req as IncomingMessage & { body?: string }).body = body.toString("utf8");
    }
    await trpcHandler(req, res);
  };

  /**
   * better-auth, behind the server's Origin checks (a cookie-carrying change from a foreign page,
   * and any sign-in from one, Discord's included: 403), with the body read here within BODY_LIMITS.auth, the client's address in
   * CLIENT_ADDRESS_HEADER (the rate limiter's key; a client's own value is dropped), and
   * `Retry-After` added to its 429 (it sends only `X-Retry-After`).
   */
  const handleAuth = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? "GET";
    let body: Buffer | undefined;
    if (method !== "GET" && method !== "HEAD") {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const refused = checkOrigin(req, origins) ?? (path.startsWith("/api/auth/sign-in/") ? checkSignInOrigin(req, origins) : null);
      if (refused) return refuse(res, refused, { close: true });
      const read = await readBody(req, BODY_LIMITS.auth);
      if (read === "too-large") return refuse(res, tooLarge(BODY_LIMITS.auth, "The auth endpoints"), { close: true });
      body = read;
    }
    const headers = headersOf(req);
    headers.delete(CLIENT_ADDRESS_HEADER);
    const address = clientAddress(req, proxies);
    if (address !== null) headers.set(CLIENT_ADDRESS_HEADER, address);
    // On the public URL better-auth is configured with (a malformed Host header cannot break it).
    const request = new Request(new URL(req.url ?? "/", publicUrl), {
      method,
      headers,
      ...(body === undefined || body.length === 0 ? {} : { body: new Uint8Array(body) }),
    });
    const response = await auth.handler(request);
    for (const [name, value] of response.headers) if (name !== "set-cookie") res.setHeader(name, value);
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) res.setHeader("set-cookie", cookies);
    const retryAfter = response.headers.get("x-retry-after");
    if (response.status === 429 && retryAfter !== null) res.setHeader("retry-after", retryAfter);
    res.writeHead(response.status);
    res.end(Buffer.from(await response.arrayBuffer()));
  };

  handle = (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const method = req.method ?? "GET";
    const readOnly = method === "GET" || method === "HEAD";
    const unexpected = (what: string) => (error: unknown) => {
      void logTo(runtime, "Error", `${what}: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) json(res, 500, { error: "Internal error." });
      else res.destroy();
    };
    if (path === "/trpc" || path.startsWith("/trpc/")) return void handleTrpc(req, res).catch(unexpected("tRPC request"));
    if (path.startsWith("/api/auth/")) return void handleAuth(req, res).catch(unexpected("auth request"));
    if (path === "/api/dbot/sync_guild_members") return void handleLegacyMemberSync(deps, req, res);
    if (path === "/api/interactions") return void handleInteractions(interactions, req, res).catch(unexpected("interaction"));
    if (path === INSTALL_CALLBACK_PATH)
      return void handleInstallCallback({ runtime, auth, publicUrl }, req, res).catch(unexpected("install callback"));
    if (path === "/api/config") {
      if (!readOnly) return refuse(res, new MethodNotAllowed({ allowed: "GET" }), { allow: "GET, HEAD" });
      // Public, non-secret settings the SPA needs before anything else.
      return json(res, 200, {
        discordCdnUrl: options.discordCdnUrl ?? "https://cdn.discordapp.com",
        // The sign-in page shows "Sign in with Discord" only when the server offers it.
        discordSignIn: options.discordClient !== undefined,
      });
    }
    if (path === "/healthz") {
      if (!readOnly) return refuse(res, new MethodNotAllowed({ allowed: "GET" }), { allow: "GET, HEAD" });
      // Healthy means: the process answers and the database does.
      runtime.runPromise(database.use("healthz", (db) => db.execute(sql`select 1`))).then(
        () => json(res, 200, { ok: true, database: database.kind, uptime_s: Math.round((Date.now() - startedAt) / 1000) }),
        () => json(res, 503, { ok: false, database: database.kind, error: "database unreachable" }),
      );
      return;
    }
    // A wrong or not-yet-deployed endpoint must not look like a success (the SPA's page).
    if (path === "/api" || path.startsWith("/api/")) return refuse(res, new UnknownEndpoint({ method, path }), { close: !readOnly });
    // The SPA: its files, and index.html for its client-side routes; pages are only read.
    if (!readOnly) return refuse(res, new MethodNotAllowed({ allowed: "GET" }), { allow: "GET, HEAD", close: true });
    if (staticHandler) return staticHandler(req, res, () => json(res, 404, { error: "Not found" }));
    json(res, 404, { error: "Not found. The SPA is not built: run `npm run build -w @guildhall/web`." });
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: BODY_LIMITS.websocket });
  const wssHandler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: ({ req, info }) => createContext(deps, { headers: headersOf(req), connectionParams: info.connectionParams }),
    keepAlive: { enabled: true, pingMs: 15_000, pongWaitMs: 5_000 },
    // One presence batch goes to every subscriber of a guild: serialize it once.
    experimental_encoder: sharingJsonEncoder,
  });
  server.on("upgrade", (req, socket, head) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path !== "/trpc") return refuseUpgrade(socket, new UnknownEndpoint({ method: "GET (WebSocket)", path }));
    // A browser sends the page's Origin with every upgrade: a foreign page must not get a socket on the user's session.
    const refused = checkOrigin(req, origins);
    if (refused) return refuseUpgrade(socket, refused);
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
      await discord.dispose();
    },
  };
};
