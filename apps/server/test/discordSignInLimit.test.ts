/**
 * The sign-in rate limit covers Sign in with Discord: starting one (`POST /api/auth/sign-in/social`)
 * and its callback (`GET /api/auth/callback/discord`). Its own file: better-auth's memory store is
 * per process, and this uses up the loopback address's allowance.
 */
import { type Emulator, startEmulator } from "@guildhall/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureFirstAdmin, type RunningServer, startServer } from "../src";
import { ADMIN } from "./helpers";

describe("Discord sign-in under the sign-in rate limit", () => {
  let emulator: Emulator;
  let server: RunningServer;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, log: () => {} });
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: "memory://",
      webDist: "/nonexistent",
      signInLimit: { windowS: 60, max: 3 },
      discordClient: { clientId: emulator.applicationId, clientSecret: emulator.clientSecret },
      discordOAuth: { authorizeUrl: emulator.oauth2().authorizeUrl, apiUrl: `${emulator.apiUrl}/v10` },
      onReady: (services) => ensureFirstAdmin(services, ADMIN).then(() => undefined),
    });
  });
  afterAll(async () => {
    await server?.close();
    await emulator?.close();
  });

  it("rate limits Discord sign-ins and callbacks with the sign-in limit (429 with Retry-After)", async () => {
    const begin = () =>
      fetch(`${server.url}/api/auth/sign-in/social`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: server.url },
        body: JSON.stringify({ provider: "discord", callbackURL: "/roster" }),
      });
    expect([(await begin()).status, (await begin()).status, (await begin()).status]).toEqual([200, 200, 200]);
    const limited = await begin();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    const callback = () => fetch(`${server.url}/api/auth/callback/discord?code=forged&state=forged`, { redirect: "manual" });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await callback()).status);
    expect(statuses.slice(0, 3).every((status) => status === 302)).toBe(true);
    expect(statuses[3]).toBe(429);
  });
});
