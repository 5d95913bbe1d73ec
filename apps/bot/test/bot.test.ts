import type { GuildhallClient, RosterEvent } from "@guildhall/api";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import type { RunningServer } from "@guildhall/server";
import { Events } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBot, startBot } from "../src";
import { startServerFor } from "./helpers";

/** Every presence change in `events`, in order. */
const changesOf = (events: ReadonlyArray<RosterEvent>) => events.flatMap((e) => (e.type === "presences" ? e.changes : []));

const waitFor = async <A>(check: () => A | undefined | Promise<A | undefined>, timeoutMs: number, what: string): Promise<A> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("the bot, through the emulator, into the server", () => {
  let emulator: Emulator;
  let guild: SeededGuild;
  let server: RunningServer;
  let bot: RunningBot;
  let staff: GuildhallClient;

  beforeAll(async () => {
    emulator = await startEmulator();
    guild = emulator.seedGuild({ seed: 42, members: 2_000, staff: 8, name: "Bot Test Guild" });
    ({ server, staff } = await startServerFor(guild));
    bot = await startBot({
      token: emulator.token,
      apiUrl: emulator.apiUrl,
      cdnUrl: emulator.cdnUrl,
      serverUrl: server.url,
      botKey: server.botKey,
      heartbeatMs: 500,
      log: () => {},
    });
  });

  afterAll(async () => {
    staff?.close();
    await bot?.close();
    await server?.close();
    await emulator?.close();
  });

  it("brings every staff member's presence in after connecting (GUILD_CREATE + a presence request)", async () => {
    const roster = await waitFor(
      async () => {
        const list = await staff.trpc.roster.list.query({});
        return list.entries.filter((e) => e.linked).every((e) => e.presence !== null) ? list : undefined;
      },
      10_000,
      "every linked staff member to have a presence",
    );
    expect(roster.entries.filter((e) => e.linked)).toHaveLength(guild.staff.length);
  });

  it("shows a presence change set in the emulator on a live subscriber within 2 s", async () => {
    const target = guild.staff[0]!;
    const { cursor } = await staff.trpc.roster.list.query({});
    const events: RosterEvent[] = [];
    // Timed from the server's acknowledgement (tRPC `started`): the 2 s are the bot's and the server's, not the subscription's.
    let onStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      onStarted = resolve;
    });
    const sub = staff.trpc.roster.live.subscribe({ cursor: String(cursor) }, { onStarted, onData: ({ data }) => events.push(data) });
    await started;
    const sentAt = Date.now();
    emulator.setPresence(guild.guildId, target.userId, {
      status: "dnd",
      customStatus: "In a meeting",
      activities: [{ name: "Garry's Mod", type: 0 }],
      clientStatus: { desktop: "dnd", mobile: "dnd" },
    });
    const change = await waitFor(
      () => changesOf(events).find((c) => c.userId === target.userId && c.status === "dnd"),
      2_000,
      "the dnd change",
    );
    sub.unsubscribe();
    expect(Date.now() - sentAt).toBeLessThan(2_000);
    expect(change).toMatchObject({ customStatus: "In a meeting", clientStatus: { desktop: "dnd", mobile: "dnd" } });
    expect(change.activities.map((a) => a.name)).toContain("Garry's Mod");
  });

  it("a custom status or an activity with a NUL or a lone surrogate is cleaned and shown, and what follows keeps flowing", async () => {
    const [target, next] = [guild.staff[1]!, guild.staff[2]!];
    const forwarded = bot.stats().forwarded;
    emulator.setPresence(guild.guildId, target.userId, {
      status: "online",
      customStatus: "evil\u0000status",
      activities: [{ name: "Ga\u0000me \uD800", type: 0 }],
    });
    emulator.setPresence(guild.guildId, next.userId, { status: "idle", customStatus: "right after", activities: [] });
    const shown = await waitFor(
      async () => {
        const roster = await staff.trpc.roster.list.query({});
        const first = roster.entries.find((e) => e.discordId === target.userId)?.presence;
        const second = roster.entries.find((e) => e.discordId === next.userId)?.presence;
        return first?.customStatus === "evilstatus" && second?.customStatus === "right after" ? first : undefined;
      },
      2_000,
      "both presences",
    );
    expect(shown.activities.map((a) => a.name)).toContain("Game \uFFFD");
    expect(bot.stats().forwarded - forwarded).toBeGreaterThanOrEqual(2);
    expect(bot.deadLetters().total).toBe(0);
  });

  it("re-requests staff presences when staff ask for a resync", async () => {
    const { cursor } = await staff.trpc.roster.list.query({});
    const seen = new Set<string>();
    const sub = staff.trpc.roster.live.subscribe(
      { cursor: String(cursor) },
      {
        onData: ({ data }) => {
          for (const c of changesOf([data])) seen.add(c.userId);
        },
      },
    );
    const result = await staff.trpc.roster.resync.mutate({});
    expect(result.userCount).toBe(guild.staff.length);
    await waitFor(() => (seen.size === guild.staff.length ? true : undefined), 5_000, "a fresh presence for every staff member");
    sub.unsubscribe();
  });

  it("reports its health: running, in the guild, with a ping", async () => {
    const status = await waitFor(
      async () => {
        const s = await staff.trpc.bot.status.query();
        return s.isRunning ? s : undefined;
      },
      5_000,
      "a running bot",
    );
    expect(status.guildId).toBe(guild.guildId);
    expect(status.shards[0]).toMatchObject({ shardId: 0, connected: true, status: "Ready" });
    expect(status.lastEventAt).not.toBeNull();
  });

  it("resumes after a dropped connection and delivers what happened meanwhile", async () => {
    const target = guild.staff[1]!;
    const resumed = new Promise<void>((resolve) => bot.client.once(Events.ShardResume, () => resolve()));
    const { cursor } = await staff.trpc.roster.list.query({});
    const events: RosterEvent[] = [];
    const sub = staff.trpc.roster.live.subscribe({ cursor: String(cursor) }, { onData: ({ data }) => events.push(data) });
    emulator.dropConnections();
    // Sent while the bot is away: the emulator keeps it for the session and replays it on RESUME.
    emulator.setPresence(guild.guildId, target.userId, { status: "idle", customStatus: "Back soon" });
    await resumed;
    await waitFor(
      () => changesOf(events).find((c) => c.userId === target.userId && c.customStatus === "Back soon"),
      10_000,
      "the change made during the outage",
    );
    emulator.setPresence(guild.guildId, target.userId, { status: "online", customStatus: "Here again" });
    await waitFor(
      () => changesOf(events).find((c) => c.userId === target.userId && c.customStatus === "Here again"),
      5_000,
      "a change after the resume",
    );
    sub.unsubscribe();
    expect(emulator.sessions().filter((s) => s.connected)).toHaveLength(1);
  });

  it("keeps its caches bounded: no presences, at most 100 members and users beyond itself", async () => {
    const before = bot.stats().forwarded;
    emulator.startChurn(guild.guildId, { updatesPerSecond: 500 });
    // Churn until more than 500 presences went through the bot (about a second), however slow the machine.
    await waitFor(() => (bot.stats().forwarded - before > 500 ? true : undefined), 20_000, "500 churned presences forwarded");
    emulator.stopChurn(guild.guildId);
    await bot.drain();
    const cached = bot.client.guilds.cache.get(guild.guildId)!;
    expect(cached.presences.cache.size).toBe(0);
    expect(cached.members.cache.size).toBeLessThanOrEqual(101);
    expect(bot.client.users.cache.size).toBeLessThanOrEqual(101);
    expect(bot.stats().forwarded - before).toBeGreaterThan(500);
  });
});
