import type { GuildhallClient } from "@guildhall/api";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import type { RunningServer } from "@guildhall/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBot, startBot } from "../src";
import { startServerFor } from "./helpers";

const MEMBERS = 2_500;

describe("full member sync from List Guild Members pages (REST source, through @guildhall/discord)", () => {
  let emulator: Emulator;
  let guild: SeededGuild;
  let server: RunningServer;
  let staff: GuildhallClient;
  const bots: RunningBot[] = [];
  const connectBot = async () => {
    const bot = await startBot({
      token: emulator.token,
      apiUrl: emulator.apiUrl,
      serverUrl: server.url,
      botKey: server.botKey,
      log: () => {},
    });
    bots.push(bot);
    return bot;
  };

  beforeAll(async () => {
    emulator = await startEmulator();
    guild = emulator.seedGuild({ seed: 12, members: MEMBERS, staff: 5, name: "REST Sync Guild" });
    ({ server, staff } = await startServerFor(guild));
  }, 120_000);

  afterAll(async () => {
    staff?.close();
    for (const bot of bots) await bot.close().catch(() => {});
    await server?.close();
    await emulator?.close();
  });

  it("mirrors every member in 3 pages, then reports exactly who left, joined and changed", async () => {
    const bot = await connectBot();
    const progress: number[] = [];
    const first = await bot.memberSync.run({
      guildId: guild.guildId,
      trigger: "api",
      requestedBy: null,
      source: "rest",
      onProgress: (run) => progress.push(run.chunksReceived),
    });
    expect(first).toMatchObject({ status: "completed", source: "rest", created: MEMBERS, updated: 0, markedLeft: 0, chunkCount: 3 });
    expect(progress).toContain(3);
    const counts = (await staff.trpc.members.comparison.query({ category: "guild_only" })).counts;
    expect(counts.guild_only + counts.linked).toBe(MEMBERS);

    // The changes happen while no bot is connected, so only the next full sync can see them.
    await bot.close();
    emulator.applyMemberChanges(guild.guildId, { leave: 20, join: 20, update: 20, seed: 8 });
    const again = await connectBot();
    const second = await again.memberSync.run({ guildId: guild.guildId, trigger: "api", requestedBy: null, source: "rest" });
    expect(second).toMatchObject({
      status: "completed",
      created: 20,
      updated: 20,
      markedLeft: 20,
      rejoined: 0,
      unchanged: MEMBERS - 40,
      chunkCount: 3,
    });
  }, 120_000);
});
