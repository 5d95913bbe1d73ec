/**
 * Sign-in is rate limited in every mode, per client address as the server sees it (issue #8,
 * section 5). Its own file: better-auth's memory store is per process, and these tests use up
 * the loopback address's allowance.
 */
import { BlockList } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureFirstAdmin, type RunningServer, type ServerOptions, startServer } from "../src";
import { ADMIN } from "./helpers";

/** The default allowance: SIGN_IN_LIMIT of @guildhall/api. */
const ALLOWED = 10;

const start = (options: Partial<ServerOptions> = {}) =>
  startServer({
    port: 0,
    host: "127.0.0.1",
    dataDir: "memory://",
    webDist: "/nonexistent",
    onReady: (services) => ensureFirstAdmin(services, ADMIN).then(() => undefined),
    ...options,
  });

const attempt = (server: RunningServer, password: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.url, ...headers },
    body: JSON.stringify({ email: ADMIN.email, password }),
  });

describe("sign-in rate limit behind a trusted proxy", () => {
  let server: RunningServer;
  beforeAll(async () => {
    const proxies = new BlockList();
    proxies.addAddress("127.0.0.1", "ipv4");
    server = await start({ trustedProxies: proxies });
  });
  afterAll(() => server?.close());

  it("keys on the client the proxy names: one client is limited, another is not, and a forged left entry changes nothing", async () => {
    for (let i = 0; i < ALLOWED; i++) {
      // The left entry is the client's own claim; the proxy appended the real peer (192.0.2.10).
      expect((await attempt(server, "wrong password", { "x-forwarded-for": `203.0.113.${i}, 192.0.2.10` })).status).toBe(401);
    }
    const limited = await attempt(server, "wrong password", { "x-forwarded-for": "203.0.113.99, 192.0.2.10" });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await attempt(server, "wrong password", { "x-forwarded-for": "192.0.2.11" })).status).toBe(401);
  });
});

describe("sign-in rate limit without trusted proxies (every mode, not only production)", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server?.close());

  it(`answers the attempt after ${ALLOWED} in a minute 429 with Retry-After, however X-Forwarded-For rotates`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i < ALLOWED + 5; i++) {
      statuses.push((await attempt(server, "wrong password", { "x-forwarded-for": `198.51.100.${i}` })).status);
    }
    expect(statuses.slice(0, ALLOWED)).toEqual(Array(ALLOWED).fill(401));
    expect(statuses.slice(ALLOWED)).toEqual(Array(5).fill(429));
    const limited = await attempt(server, ADMIN.password);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await limited.json()).toMatchObject({ message: expect.stringMatching(/Too many requests/) });
  });
});
