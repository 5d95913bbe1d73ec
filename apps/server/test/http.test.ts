/**
 * The server's HTTP limits (issue #8, section 5): body sizes, origins of cookie-authenticated
 * calls and WebSocket upgrades, content types, stack traces, unknown paths.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ensureFirstAdmin, type RunningServer, type ServerOptions, seedDemoGuild, startServer } from "../src";
import { ADMIN, GUILD_ID, STAFF, signIn } from "./helpers";

const MiB = 1024 * 1024;
const FOREIGN = "http://localhost:5555";

/** A server on a random port with the test admin and guild, serving a stand-in SPA from `webDist`. */
const start = (webDist: string, options: Partial<ServerOptions> = {}) =>
  startServer({
    port: 0,
    host: "127.0.0.1",
    dataDir: "memory://",
    botKey: "test-bot-key-0123456789abcdef",
    webDist,
    onReady: async (services) => {
      await ensureFirstAdmin(services, ADMIN);
      await seedDemoGuild(services, { guildId: GUILD_ID, name: "Test Guild", staff: STAFF });
    },
    ...options,
  });

/** The status, headers and body text of a raw HTTP request; `body` is streamed (chunked) when a function. */
const raw = (
  url: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: string | ((write: (chunk: Buffer) => boolean) => void) },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "POST", headers: options.headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (part: string) => {
        text += part;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on("error", reject);
    });
    // The server may answer and close while the body is still being written: that is the point.
    req.on("error", (error: NodeJS.ErrnoException) => (error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error)));
    if (typeof options.body === "string") req.end(options.body);
    else if (options.body) options.body((chunk) => req.write(chunk));
    else req.flushHeaders();
  });

/** tRPC's error message in an answer body (single call or batch). */
const trpcMessage = (text: string): string => {
  const parsed = JSON.parse(text) as { error?: { message: string } } | Array<{ error?: { message: string } }>;
  return (Array.isArray(parsed) ? parsed[0]?.error?.message : parsed.error?.message) ?? "";
};

describe("HTTP limits", () => {
  let server: RunningServer;
  let cookie: string;
  let webDist: string;

  beforeAll(async () => {
    webDist = mkdtempSync(join(tmpdir(), "guildhall-web-"));
    writeFileSync(join(webDist, "index.html"), "<!doctype html><title>Guildhall</title>");
    server = await start(webDist);
    cookie = await signIn(server);
  });
  afterAll(async () => {
    await server?.close();
    if (webDist) rmSync(webDist, { recursive: true, force: true });
  });

  const settings = () => `${server.url}/trpc/members.updateSettings`;
  const json = { "content-type": "application/json" };

  describe("body size", () => {
    it("answers a signed-in 150 MB body 413 from its Content-Length, before any of it is sent", async () => {
      const answer = await raw(settings(), { headers: { ...json, cookie, "content-length": 150 * MiB } });
      expect(answer.status).toBe(413);
      expect(answer.headers.connection).toBe("close");
      expect(trpcMessage(answer.text)).toMatch(/Payload too large: .*at most 1 MiB/);
    });

    it("answers a chunked body 413 once the bytes read pass the limit", async () => {
      const answer = await raw(settings(), {
        headers: { ...json, cookie, "transfer-encoding": "chunked" },
        body: (write) => {
          // 3 MiB in 64 KiB pieces; the server stops reading after the first MiB.
          const piece = Buffer.alloc(64 * 1024, "a");
          for (let i = 0; i < 48; i++) write(piece);
        },
      });
      expect(answer.status).toBe(413);
      expect(trpcMessage(answer.text)).toMatch(/at most 1 MiB/);
    });

    it("lets the bot key carry a packed member chunk beyond the default limit", async () => {
      // 1.5 MiB of `packed` that is not a real chunk: refused for its content (400), not its size.
      const body = JSON.stringify({
        runId: "00000000-0000-4000-8000-000000000000",
        chunkIndex: 0,
        chunkCount: 1,
        packed: "A".repeat(1.5 * MiB),
      });
      const answer = await raw(`${server.url}/trpc/bot.syncChunk`, {
        headers: { ...json, "x-guildhall-bot-key": server.botKey, "content-length": Buffer.byteLength(body) },
        body,
      });
      expect(answer.status).not.toBe(413);
      expect(answer.status).toBeLessThan(500);
      // The same body without the key is refused for its size.
      const anonymous = await raw(`${server.url}/trpc/bot.syncChunk`, {
        headers: { ...json, "content-length": Buffer.byteLength(body) },
        body,
      });
      expect(anonymous.status).toBe(413);
    });

    it("caps the auth endpoints' bodies too", async () => {
      const body = JSON.stringify({ email: ADMIN.email, password: "x".repeat(200 * 1024) });
      const answer = await raw(`${server.url}/api/auth/sign-in/email`, {
        headers: { ...json, origin: server.url, "content-length": Buffer.byteLength(body) },
        body,
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.text)).toMatchObject({ error: expect.stringMatching(/at most 64 KiB/) });
    });

    it("closes a WebSocket whose message is beyond maxPayload (1009)", async () => {
      const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/trpc`);
      await new Promise((resolve, reject) => {
        ws.once("open", resolve);
        ws.once("error", reject);
      });
      const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
      ws.send(Buffer.alloc(16 * MiB, "a"));
      expect(await closed).toBe(1009);
    });
  });

  describe("origins and content types", () => {
    const call = (path: string, headers: Record<string, string>, body = "{}") =>
      raw(`${server.url}/trpc/${path}`, { headers: { "content-length": Buffer.byteLength(body), ...headers }, body });

    it("refuses tRPC over multipart/form-data and text/plain, even from the right origin (415)", async () => {
      const form = '--x\r\nContent-Disposition: form-data; name="guildId"\r\n\r\n800000000000000001\r\n--x--\r\n';
      for (const [path, type, body] of [
        ["members.requestSync", "multipart/form-data; boundary=x", form],
        ["roster.resync", "multipart/form-data; boundary=x", form],
        ["roster.resync", "text/plain", "{}"],
        ["roster.resync", "application/x-www-form-urlencoded", "guildId=1"],
      ] as const) {
        const answer = await call(path, { cookie, "content-type": type, origin: server.url }, body);
        expect(answer.status, `${path} as ${type}`).toBe(415);
        expect(trpcMessage(answer.text)).toContain("application/json");
      }
    });

    it("refuses a cookie-authenticated call from a foreign page (403 naming the origin), by Origin, Sec-Fetch-Site or Referer", async () => {
      for (const headers of <Array<Record<string, string>>>[
        { origin: FOREIGN },
        { "sec-fetch-site": "same-site" },
        { "sec-fetch-site": "cross-site" },
        { referer: `${FOREIGN}/page` },
      ]) {
        const answer = await call("members.requestSync", { ...json, cookie, ...headers });
        expect(answer.status, JSON.stringify(headers)).toBe(403);
        expect(trpcMessage(answer.text)).toMatch(/Cross-origin request refused/);
      }
      const batch = await raw(`${server.url}/trpc/roster.resync,members.requestSync?batch=1`, {
        headers: { ...json, cookie, origin: FOREIGN, "content-length": 2 },
        body: "{}",
      });
      expect(batch.status).toBe(403);
      expect(JSON.parse(batch.text)).toHaveLength(2);
    });

    it("takes the call from Guildhall's own origin, and from callers that are not browsers", async () => {
      const ours: Array<Record<string, string>> = [
        { origin: server.url },
        { "sec-fetch-site": "same-origin" },
        { referer: `${server.url}/members` },
        {},
      ];
      for (const headers of ours) {
        const answer = await raw(`${server.url}/trpc/session.me`, { method: "GET", headers: { cookie, ...headers } });
        expect(answer.status, JSON.stringify(headers)).toBe(200);
      }
    });

    it("asks no Origin of the bot key: it is not a cookie", async () => {
      const answer = await raw(`${server.url}/trpc/bot.commandDone`, {
        method: "POST",
        headers: { ...json, "x-guildhall-bot-key": server.botKey, origin: FOREIGN, cookie, "content-length": 2 },
        body: "{}",
      });
      // Refused for its input (400), not for its origin.
      expect(answer.status).toBe(400);
    });

    it("refuses a WebSocket upgrade from a foreign page with the session cookie (403), and takes one from its own origin", async () => {
      const url = `${server.url.replace(/^http/, "ws")}/trpc`;
      const outcome = (origin: string) =>
        new Promise<number>((resolve, reject) => {
          const ws = new WebSocket(url, { headers: { cookie, origin } });
          ws.once("unexpected-response", (_req, res) => {
            resolve(res.statusCode ?? 0);
            ws.terminate();
          });
          ws.once("open", () => {
            resolve(101);
            ws.close();
          });
          ws.once("error", (error) => (error.message.includes("Unexpected server response") ? undefined : reject(error)));
        });
      expect(await outcome(FOREIGN)).toBe(403);
      expect(await outcome(server.url)).toBe(101);
    });
  });

  describe("errors", () => {
    it("carries no stack trace in a tRPC error by default", async () => {
      const answer = await raw(`${server.url}/trpc/session.me`, { method: "GET", headers: {} });
      expect(answer.status).toBe(401);
      const parsed = JSON.parse(answer.text) as { error: { data: Record<string, unknown> } };
      expect(parsed.error.data.code).toBe("UNAUTHORIZED");
      expect(parsed.error.data).not.toHaveProperty("stack");
    });

    it("carries it when a developer asks (debugErrors, GUILDHALL_DEBUG_ERRORS=1)", async () => {
      const debugging = await start(webDist, { debugErrors: true });
      try {
        const answer = await raw(`${debugging.url}/trpc/session.me`, { method: "GET", headers: {} });
        const parsed = JSON.parse(answer.text) as { error: { data: { stack?: string } } };
        expect(parsed.error.data.stack).toMatch(/TRPCError|Sign in/);
      } finally {
        await debugging.close();
      }
    });
  });

  describe("paths", () => {
    it("answers unknown /api/ paths 404 JSON, whatever the method", async () => {
      for (const [method, path] of [
        ["POST", "/api/interaction"],
        ["GET", "/api/nothing-here"],
        ["DELETE", "/api/config/x"],
      ] as const) {
        const answer = await raw(`${server.url}${path}`, { method, headers: { ...json, "content-length": 2 }, body: "{}" });
        expect(answer.status, `${method} ${path}`).toBe(404);
        expect(answer.headers["content-type"]).toMatch(/application\/json/);
        expect(JSON.parse(answer.text)).toEqual({ error: `No such endpoint: ${method} ${path}.` });
      }
    });

    it("serves the SPA only to GET and HEAD: a POST to a page is 405 JSON", async () => {
      const page = await fetch(`${server.url}/members`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("<title>Guildhall</title>");
      expect((await fetch(`${server.url}/members`, { method: "HEAD" })).status).toBe(200);
      for (const path of ["/members", "/", "/anything/at/all"]) {
        const answer = await raw(`${server.url}${path}`, { method: "POST", headers: { ...json, "content-length": 2 }, body: "{}" });
        expect(answer.status, path).toBe(405);
        expect(answer.headers.allow).toBe("GET, HEAD");
        expect(JSON.parse(answer.text)).toMatchObject({ error: expect.any(String) });
      }
    });

    it("keeps /healthz and /api/config for GET", async () => {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.url}/api/config`)).status).toBe(200);
      expect((await fetch(`${server.url}/api/config`, { method: "POST" })).status).toBe(405);
    });
  });
});
