import type { GuildhallClient } from "@guildhall/api";
import { type Emulator, startEmulator } from "@guildhall/emulator";
import type { RunningServer } from "@guildhall/server";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { type RunningBot, startBot } from "../src";
import { startServerFor } from "./helpers";

const MEMBERS = 500;
const WAIT = { timeout: 60_000, interval: 100 };

/** The whole stack for one test: emulator with a seeded guild, server (in-memory PGlite), and a bot started by the test. */
const stack = async (options: { firstSightSync: boolean; seed: number }) => {
  const emulator = await startEmulator({ memberRequestWindowMs: 0 });
  const guild = emulator.seedGuild({ seed: options.seed, members: MEMBERS, staff: 5, name: "Commands Guild" });
  const { server, staff } = await startServerFor(guild, { firstSightSync: options.firstSightSync });
  const startTheBot = () =>
    startBot({
      token: emulator.token,
      apiUrl: emulator.apiUrl,
      serverUrl: server.url,
      botKey: server.botKey,
      heartbeatMs: 200,
      log: () => {},
    });
  return { emulator, guild, server, staff, startTheBot };
};

describe("the bot follows the server's commands", () => {
  const cleanups: Array<() => Promise<void>> = [];
  const track = (parts: { emulator: Emulator; server: RunningServer; staff: GuildhallClient }, bot?: RunningBot) => {
    cleanups.push(async () => {
      parts.staff.close();
      await bot?.close().catch(() => {});
      await parts.server.close();
      await parts.emulator.close();
    });
  };
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it("first sight: a fresh install's bot fills the Members page with one real member sync, and only one", async () => {
    const parts = await stack({ firstSightSync: true, seed: 31 });
    const bot = await parts.startTheBot();
    track(parts, bot);
    const run = await vi.waitFor(async () => {
      const [latest] = await parts.staff.trpc.members.history.query({});
      expect(latest).toMatchObject({ status: "completed", trigger: "schedule", source: "gateway", created: MEMBERS });
      return latest!;
    }, WAIT);
    const counts = (await parts.staff.trpc.members.comparison.query({ category: "guild_only" })).counts;
    expect(counts.guild_only + counts.linked).toBe(MEMBERS);
    expect(counts.linked).toBe(parts.guild.staff.length);

    // The bot keeps reporting the guild: no second sync follows.
    const reportedAt = async () => (await parts.staff.trpc.bot.status.query()).shards[0]?.reportedAt ?? "";
    const seen = new Set([await reportedAt()]);
    await vi.waitFor(async () => {
      seen.add(await reportedAt());
      expect(seen.size).toBeGreaterThanOrEqual(3);
    }, WAIT);
    expect((await parts.staff.trpc.members.history.query({})).map((r) => r.id)).toEqual([run.id]);
    const queue = (await parts.staff.trpc.jobs.queues.query()).find((q) => q.name === "bot.members-sync")!;
    expect(queue.counts).toMatchObject({ completed: 1, pending: 0, active: 0, failed: 0, dead: 0 });
  }, 120_000);

  it("a sync asked for before the bot is in the guild waits for it instead of failing, and is acknowledged once done", async () => {
    const parts = await stack({ firstSightSync: false, seed: 32 });
    track(parts);
    const { commandId } = await parts.staff.trpc.members.requestSync.mutate({});
    // The bot's command subscription opens before it has logged in: the command reaches it first.
    const bot = await parts.startTheBot();
    cleanups.push(async () => {
      await bot.close().catch(() => {});
    });
    await vi.waitFor(async () => {
      const [latest] = await parts.staff.trpc.members.history.query({});
      expect(latest).toMatchObject({ status: "completed", trigger: "button", created: MEMBERS });
    }, WAIT);
    await vi.waitFor(async () => {
      const page = await parts.staff.trpc.jobs.list.query({ queue: "bot.members-sync" });
      expect(page.jobs.find((j) => j.id === commandId)).toMatchObject({ state: "completed", attempts: 1, lastError: null });
    }, WAIT);
  }, 120_000);
});
