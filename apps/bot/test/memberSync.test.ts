import type { GuildhallClient } from "@guildhall/api";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import type { RunningServer } from "@guildhall/server";
import { Events } from "discord.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningBot, startBot } from "../src";
import { startServerFor } from "./helpers";

const MEMBERS = 20_000;

describe("full member sync through the real bot and server", () => {
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
    emulator = await startEmulator({ memberRequestWindowMs: 0 });
    guild = emulator.seedGuild({ seed: 11, members: MEMBERS, staff: 5, name: "Sync Guild" });
    ({ server, staff } = await startServerFor(guild, { discordPublicKey: emulator.publicKey, discordApiUrl: emulator.apiUrl }));
  }, 120_000);

  afterAll(async () => {
    staff?.close();
    for (const bot of bots) await bot.close().catch(() => {});
    await server?.close();
    await emulator?.close();
  });

  it("mirrors every member, then reports exactly who left, joined and changed", async () => {
    const bot = await connectBot();
    // discord.js still sees each chunk, but without its members: it builds no GuildMember for them.
    let chunksSeen = 0;
    let membersBuilt = 0;
    bot.client.on(Events.GuildMembersChunk, (members, _guild, chunk) => {
      if (!chunk.nonce?.startsWith("gh-sync-")) return; // the bot's own presence requests
      chunksSeen++;
      membersBuilt += members.size;
    });
    const first = await bot.memberSync.run({ guildId: guild.guildId, trigger: "api", requestedBy: null });
    expect(first).toMatchObject({ status: "completed", created: MEMBERS, updated: 0, markedLeft: 0, chunkCount: MEMBERS / 1_000 });
    expect(chunksSeen).toBe(MEMBERS / 1_000);
    expect(membersBuilt).toBe(0);
    const counts = (await staff.trpc.members.comparison.query({ category: "guild_only" })).counts;
    expect(counts.guild_only + counts.linked).toBe(MEMBERS);
    expect(counts.linked).toBe(guild.staff.length);

    // The changes happen while no bot is connected, so only the next full sync can see them.
    await bot.close();
    const changes = emulator.applyMemberChanges(guild.guildId, { leave: 200, join: 200, update: 200, seed: 5 });
    expect(changes.left).toHaveLength(200);

    const again = await connectBot();
    const second = await again.memberSync.run({ guildId: guild.guildId, trigger: "api", requestedBy: null });
    expect(second).toMatchObject({
      status: "completed",
      created: 200,
      updated: 200,
      markedLeft: 200,
      rejoined: 0,
      unchanged: MEMBERS - 400,
    });
    const history = await staff.trpc.members.history.query({});
    expect(history.slice(0, 2).map((r) => r.id)).toEqual([second.id, first.id]);
  }, 120_000);

  it("a sync whose connection drops midway marks nobody left; the next one completes", async () => {
    const bot = bots.at(-1)!;
    const before = (await staff.trpc.members.comparison.query({ category: "guild_only" })).counts;
    let dropped = false;
    const interrupted = await bot.memberSync.run({
      guildId: guild.guildId,
      trigger: "api",
      requestedBy: null,
      onProgress: (run) => {
        if (!dropped && run.chunksReceived >= 3) {
          dropped = true;
          emulator.dropConnections();
        }
      },
    });
    expect(interrupted.status).toBe("incomplete");
    expect(interrupted.markedLeft).toBe(0);
    expect(interrupted.reason).toMatch(/connection dropped|incomplete/);
    expect((await staff.trpc.members.comparison.query({ category: "guild_only" })).counts).toEqual(before);

    // discord.js resumes by itself; the next sync goes through.
    await new Promise((r) => setTimeout(r, 1_500));
    const next = await bot.memberSync.run({ guildId: guild.guildId, trigger: "api", requestedBy: null });
    expect(next).toMatchObject({ status: "completed", markedLeft: 0, created: 0, updated: 0 });
  }, 120_000);

  it("/sync_members: refused (ephemerally) to a non-admin, queued for an admin and run by the bot, the counts in the edited reply", async () => {
    const someone = emulator.applyMemberChanges(guild.guildId, { join: 1, seed: 21 }).joined[0]!;
    await bots.at(-1)!.drainMemberEvents();
    const refused = emulator.invokeCommand(guild.guildId, someone, "sync_members");
    const refusal = await emulator.waitForInteraction(refused, (r) => r.original !== null, 10_000);
    expect(refusal.acknowledged?.type).toBe(4);
    expect(refusal.original).toMatchObject({ flags: 64 });
    expect(refusal.original?.content).toContain("Manage Guild");

    const admin = guild.admins[0]!;
    const invoked = emulator.invokeCommand(guild.guildId, admin, "sync_members");
    const done = await emulator.waitForInteraction(invoked, (r) => /Member sync done/.test(r.original?.content ?? ""), 60_000);
    // Answered at once ("queued"), then edited by the bot as the queued command runs.
    expect(done.acknowledged?.type).toBe(4);
    expect(done.delivery).toEqual({ via: "gateway" });
    expect(done.original?.flags).toBe(64);
    expect(done.original?.content).toMatch(/Created 0, updated 0, rejoined 0, marked left 0/);
    const [latest] = await staff.trpc.members.history.query({});
    expect(latest).toMatchObject({ trigger: "command", status: "completed", requestedBy: `discord:${admin}` });
  }, 90_000);

  it("/sync_members: a member sent without `permissions` has no permission: the usual ephemeral refusal, and nothing runs", async () => {
    const [before] = await staff.trpc.members.history.query({});
    const admin = guild.admins[0]!;
    const invoked = emulator.invokeCommand(guild.guildId, admin, "sync_members", {}, { omitMemberPermissions: true });
    const refusal = await emulator.waitForInteraction(invoked, (r) => r.original !== null, 10_000);
    expect(refusal.acknowledged?.type).toBe(4);
    expect(refusal.original).toMatchObject({ flags: 64 });
    expect(refusal.original?.content).toContain("Manage Guild");
    const [after] = await staff.trpc.members.history.query({});
    expect(after?.id).toBe(before?.id);
  }, 60_000);

  it("/sync_members over the interactions endpoint: delivered signed, the same sync queued and run, bad signatures refused", async () => {
    // Setting the URL runs Discord's checks against the server: a signed PING, then bad signatures.
    const verdict = await emulator.setInteractionsEndpoint(`${server.url}/api/interactions`);
    expect(verdict.reasons).toEqual([]);
    expect(verdict.ok).toBe(true);
    try {
      const admin = guild.admins[0]!;
      const invoked = emulator.invokeCommand(guild.guildId, admin, "sync_members", { source: "gateway" });
      // The bot waits 30 s after its previous full member request (Discord's limit) before it runs this one.
      const done = await emulator.waitForInteraction(invoked, (r) => /Member sync done/.test(r.original?.content ?? ""), 100_000);
      expect(done.delivery).toMatchObject({ via: "http", status: 200, error: null });
      expect(done.acknowledged?.type).toBe(4);
      expect(done.original?.flags).toBe(64);
      const [latest] = await staff.trpc.members.history.query({});
      expect(latest).toMatchObject({ trigger: "command", status: "completed", requestedBy: `discord:${admin}` });

      // Discord's routine probe: every request with a bad signature is refused with 401, so the URL stays.
      const probe = await emulator.probeInteractionsEndpoint();
      expect(probe.checks.map((c) => c.status)).toEqual([401, 401, 401]);
      expect(probe).toMatchObject({ ok: true, endpointUrl: `${server.url}/api/interactions` });
    } finally {
      await emulator.setInteractionsEndpoint(null);
    }
  }, 150_000);

  it("applies live member events at once: a member who leaves is marked left without a full sync", async () => {
    const bot = bots.at(-1)!;
    const leaver = guild.staff[0]!;
    emulator.removeMember(guild.guildId, leaver.userId);
    // GUILD_MEMBER_REMOVE reaches the bot, which forwards it in its next batch (within ~20 ms).
    await vi.waitFor(
      async () => {
        await bot.drainMemberEvents();
        const left = await staff.trpc.members.comparison.query({ category: "left" });
        expect(left.rows.map((r) => r.discordId)).toContain(leaver.userId);
      },
      { timeout: 10_000, interval: 100 },
    );
  }, 60_000);
});
