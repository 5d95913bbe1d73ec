/**
 * Fatal gateway closes and transient login failures (issue #8, section 6), against the
 * emulator: it closes IDENTIFY with 4014 when the privileged intents are not allowed, refuses
 * a bad token (401), and closes live sockets with any code on request.
 */
import { createServer } from "node:net";
import type { GuildhallClient } from "@guildhall/api";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import type { RunningServer } from "@guildhall/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningBot, startBot } from "../src";
import { startServerFor } from "./helpers";

/** A TCP port nothing listens on (taken from the OS, then released). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

describe("fatal gateway closes", () => {
  let emulator: Emulator;
  let strict: Emulator;
  let guild: SeededGuild;
  let server: RunningServer;
  let staff: GuildhallClient;
  const bots: Array<RunningBot> = [];
  const others: Array<Emulator> = [];

  const run = async (options: { emulator: Emulator; token?: string; logs: Array<string> }) => {
    const bot = await startBot({
      token: options.token ?? options.emulator.token,
      apiUrl: options.emulator.apiUrl,
      cdnUrl: options.emulator.cdnUrl,
      serverUrl: server.url,
      botKey: server.botKey,
      heartbeatMs: 200,
      log: (line) => options.logs.push(line),
    });
    bots.push(bot);
    return bot;
  };

  /** Waits until bot.status shows a fatal close with `code`, and returns it. */
  const shownFatal = (code: number) =>
    vi.waitFor(
      async () => {
        const status = await staff.trpc.bot.status.query();
        expect(status.fatal?.code).toBe(code);
        expect(status.isRunning).toBe(false);
        return status.fatal!;
      },
      { timeout: 10_000, interval: 50 },
    );

  beforeAll(async () => {
    emulator = await startEmulator();
    // An application whose privileged intents (Server Members, Presence) are not enabled.
    strict = await startEmulator({ allowedPrivilegedIntents: 0 });
    guild = emulator.seedGuild({ seed: 4, members: 50, staff: 2, name: "Close Guild" });
    strict.seedGuild({ seed: 4, members: 50, staff: 2, name: "Close Guild" });
    ({ server, staff } = await startServerFor(guild));
  }, 120_000);

  afterAll(async () => {
    staff?.close();
    for (const bot of bots) await bot.close().catch(() => {});
    await server?.close();
    for (const e of [emulator, strict, ...others]) await e?.close();
  });

  it("disallowed intents at login (4014): logged with what to do, fatal, shown in bot.status", async () => {
    const logs: Array<string> = [];
    const bot = await run({ emulator: strict, logs });
    expect(bot.fatal()).toMatchObject({ code: 4014, reason: expect.stringMatching(/Presence intents .* Developer Portal/) });
    expect(logs.some((line) => line.includes("level=ERROR") && line.includes("Privileged Gateway Intents"))).toBe(true);
    expect((await shownFatal(4014)).reason).toMatch(/enable them in the Developer Portal/);
    await bot.close();
  });

  it("a refused token at login (401, as 4004): logged naming DISCORD_TOKEN, fatal, shown in bot.status", async () => {
    const logs: Array<string> = [];
    const bot = await run({ emulator, token: "not-the-token", logs });
    expect(bot.fatal()).toMatchObject({ code: 4004, reason: expect.stringContaining("check DISCORD_TOKEN") });
    expect(logs.some((line) => line.includes("level=ERROR") && line.includes("DISCORD_TOKEN"))).toBe(true);
    await shownFatal(4004);
    await bot.close();
  });

  it("a 4004 close while running: logged, fatal, no reconnect, shown in bot.status", async () => {
    const logs: Array<string> = [];
    const bot = await run({ emulator, logs });
    expect(bot.fatal()).toBeNull();
    expect(bot.client.isReady()).toBe(true);
    emulator.dropConnections(4004);
    await vi.waitFor(() => expect(bot.fatal()?.code).toBe(4004), { timeout: 10_000, interval: 20 });
    expect(logs.some((line) => line.includes("level=ERROR") && line.includes("close 4004"))).toBe(true);
    await shownFatal(4004);
    expect(emulator.sessions().filter((s) => s.connected)).toHaveLength(0);
    await bot.close();
  });
});

describe("transient login failures", () => {
  it("retries the login with backoff until Discord answers, then connects", async () => {
    const port = await freePort();
    const logs: Array<string> = [];
    const token = "retry-test-token";
    const started = startBot({
      token,
      apiUrl: `http://127.0.0.1:${port}/api`,
      // Nobody listens here either: the bot must still come up (server pushes are retried on their own).
      serverUrl: `http://127.0.0.1:${await freePort()}`,
      botKey: "test-bot-key-0123456789abcdef",
      loginRetry: { firstMs: 20, maxMs: 100 },
      log: (line) => logs.push(line),
    });
    await vi.waitFor(() => expect(logs.filter((line) => line.includes("retrying in")).length).toBeGreaterThanOrEqual(2), {
      timeout: 10_000,
      interval: 10,
    });
    const late = await startEmulator({ port, token });
    try {
      const bot = await started;
      try {
        expect(bot.fatal()).toBeNull();
        expect(bot.client.isReady()).toBe(true);
      } finally {
        await bot.close();
      }
    } finally {
      await late.close();
    }
  });

  it("stops retrying when its signal aborts", async () => {
    const stop = new AbortController();
    const logs: Array<string> = [];
    const started = startBot({
      token: "whatever",
      apiUrl: `http://127.0.0.1:${await freePort()}/api`,
      serverUrl: `http://127.0.0.1:${await freePort()}`,
      botKey: "test-bot-key-0123456789abcdef",
      loginRetry: { firstMs: 10_000 },
      signal: stop.signal,
      log: (line) => logs.push(line),
    });
    await vi.waitFor(() => expect(logs.some((line) => line.includes("retrying in"))).toBe(true), { timeout: 10_000, interval: 10 });
    stop.abort();
    await expect(started).rejects.toThrow(/stopped before it could connect/);
  });
});
