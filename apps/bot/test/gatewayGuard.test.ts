/**
 * The gateway guard (src/gatewayGuard.ts), with the payloads the gateway fuzz found crashing the
 * bot before it existed: each threw inside discord.js's or the bot's handler, an unhandled
 * rejection that ends a production process. Now each is dropped with a warning naming the field,
 * the shard stays connected, and well-formed events (partial ones included) still pass.
 */
import type { GuildhallClient } from "@guildhall/api";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import { EscapedErrors } from "@guildhall/fuzz";
import type { RunningServer } from "@guildhall/server";
import { Events, Status } from "discord.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningBot, startBot } from "../src";
import { malformedChunkMembers, malformedDispatch } from "../src/gatewayGuard";
import { startServerFor } from "./helpers";

const G = "185374731141251072";
const U = "185374731141251073";

/** What the fuzz found (shrunk), and the field the guard names for each. */
const CRASHERS: ReadonlyArray<readonly [string, unknown, RegExp]> = [
  ["PRESENCE_UPDATE", null, /^d: must be an object/],
  ["PRESENCE_UPDATE", { user: null, guild_id: G, status: "idle", activities: [], client_status: {} }, /^d\.user: must be an object/],
  ["GUILD_MEMBER_ADD", null, /^d: must be an object/],
  [
    "GUILD_MEMBER_ADD",
    { user: { id: U }, roles: [], joined_at: null, deaf: false, mute: false, flags: -1, guild_id: G },
    /^d\.flags: must be a non-negative integer/,
  ],
  [
    "GUILD_MEMBER_ADD",
    { user: { id: U }, nick: 0, roles: [], joined_at: null, deaf: false, mute: false, flags: 0, guild_id: G },
    /^d\.nick: must be a string/,
  ],
  [
    "GUILD_MEMBER_ADD",
    { user: { id: U }, roles: true, joined_at: null, deaf: false, mute: false, flags: 0, guild_id: G },
    /^d\.roles: must be an array/,
  ],
  ["GUILD_MEMBER_UPDATE", null, /^d: must be an object/],
  ["GUILD_MEMBER_UPDATE", { guild_id: G, roles: [], user: { id: U }, nick: true, joined_at: null }, /^d\.nick: must be a string/],
  [
    "GUILD_MEMBER_UPDATE",
    { guild_id: G, roles: [], user: { id: U, global_name: 0.5 }, joined_at: null },
    /^d\.user\.global_name: must be a string/,
  ],
  ["GUILD_MEMBERS_CHUNK", { guild_id: G, members: null, chunk_index: 0, chunk_count: 1 }, /^d\.members: must be an array/],
  [
    "PRESENCE_UPDATE",
    { user: { id: U }, guild_id: G, status: "online", activities: [{ name: "x", type: 0, assets: "large" }], client_status: {} },
    /^d\.activities\.0\.assets: must be an object/,
  ],
];

describe("malformedDispatch", () => {
  it.each(CRASHERS)("refuses a %s that crashed the bot, naming the field", (t, d, named) => {
    expect(malformedDispatch(t, d)).toMatch(named);
  });

  it("passes well-formed events, partial ones included (absent fields are the handlers' business)", () => {
    expect(malformedDispatch("GUILD_MEMBER_UPDATE", { guild_id: G, roles: [U], user: { id: U } })).toBeNull();
    expect(malformedDispatch("GUILD_MEMBER_UPDATE", { guild_id: G, user: { id: U }, nick: "Only nick" })).toBeNull();
    expect(malformedDispatch("GUILD_MEMBER_REMOVE", { guild_id: G, user: { id: U, username: "gone" } })).toBeNull();
    expect(
      malformedDispatch("PRESENCE_UPDATE", {
        user: { id: U },
        guild_id: G,
        status: "dnd",
        activities: [{ name: "Custom Status", type: 4, state: "evil\u0000status", created_at: 1_700_000_000_000, emoji: null }],
        client_status: { desktop: "dnd" },
      }),
    ).toBeNull();
    expect(malformedDispatch("READY", null)).toBeNull();
  });

  it("leaves chunk members to the member sync runner, and checks those left for discord.js", () => {
    const chunk = { guild_id: G, members: [{ roles: [], joined_at: null }], chunk_index: 0, chunk_count: 1, nonce: "gh-sync-1" };
    expect(malformedDispatch("GUILD_MEMBERS_CHUNK", chunk)).toBeNull();
    expect(malformedChunkMembers(chunk)).toMatch(/^d\.members\.0\.user: must be an object/);
    expect(malformedChunkMembers({ ...chunk, members: [] })).toBeNull();
  });
});

describe("the real bot, given what crashed it (emulator raw dispatch)", () => {
  let emulator: Emulator;
  let guild: SeededGuild;
  let server: RunningServer;
  let staff: GuildhallClient;
  let bot: RunningBot;
  let escaped: EscapedErrors;
  const logs: Array<string> = [];

  beforeAll(async () => {
    escaped = new EscapedErrors();
    emulator = await startEmulator();
    guild = emulator.seedGuild({ seed: 5, members: 50, staff: 2, name: "Guard Guild" });
    ({ server, staff } = await startServerFor(guild));
    bot = await startBot({
      token: emulator.token,
      apiUrl: emulator.apiUrl,
      serverUrl: server.url,
      botKey: server.botKey,
      heartbeatMs: 60_000,
      log: (line) => logs.push(line),
    });
  }, 120_000);

  afterAll(async () => {
    escaped?.stop();
    staff?.close();
    await bot?.close().catch(() => {});
    await server?.close();
    await emulator?.close();
  });

  it("drops each with a warning naming the field; nothing escapes, the shard stays connected, a real change still arrives", async () => {
    let marks = 0;
    bot.client.on(Events.Raw, (packet: { t?: string }) => {
      if (packet.t === "GUILDHALL_TEST_MARK") marks++;
    });
    for (const [t, d] of CRASHERS) emulator.dispatchRaw(guild.guildId, t, d);
    emulator.dispatchRaw(guild.guildId, "GUILDHALL_TEST_MARK", {});
    await vi.waitFor(() => expect(marks).toBe(1), { timeout: 10_000 });
    expect(escaped.take()).toEqual([]);
    expect(logs.filter((line) => line.includes("dropped a malformed"))).toHaveLength(CRASHERS.length);
    expect([...bot.client.ws.shards.values()].map((s) => Status[s.status])).toEqual(["Ready"]);

    const [member] = guild.staff;
    emulator.setPresence(guild.guildId, member!.userId, { status: "idle", customStatus: "still here" });
    await vi.waitFor(
      async () => {
        const roster = await staff.trpc.roster.list.query({ guildId: guild.guildId });
        expect(roster.entries.find((e) => e.discordId === member!.userId)?.presence?.customStatus).toBe("still here");
      },
      { timeout: 15_000, interval: 50 },
    );
  });
});
