import { GatewayIntentBits as I } from "discord-api-types/v10";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Emulator, SeededGuild } from "../src/index";
import { startEmulator } from "../src/index";
import { RawGateway } from "./helpers";

const ALL = I.Guilds | I.GuildMembers | I.GuildPresences;

let emulator: Emulator;
let guild: SeededGuild;
const open: RawGateway[] = [];

async function connect(url = emulator.gatewayUrl): Promise<RawGateway> {
  const gw = await RawGateway.connect(url);
  open.push(gw);
  return gw;
}

beforeAll(async () => {
  emulator = await startEmulator({ allowedPrivilegedIntents: I.GuildMembers | I.GuildPresences });
  guild = emulator.seedGuild({ seed: 5, members: 2500, staff: 20 });
});
afterEach(() => {
  for (const gw of open.splice(0)) gw.close();
});
afterAll(() => emulator.close());

describe("connecting", () => {
  it("sends HELLO and acknowledges heartbeats", async () => {
    const gw = await connect();
    expect(gw.frames[0]).toMatchObject({ op: 10, d: { heartbeat_interval: 41_250 } });
    gw.send(1, null);
    await gw.next((f) => f.op === 11);
  });

  it("closes a silent client with 4009 after about 1.5 heartbeat intervals, keeps a heartbeating one", async () => {
    const fast = await startEmulator({ heartbeatIntervalMs: 200 });
    try {
      const started = Date.now();
      const silent = await RawGateway.connect(fast.gatewayUrl);
      const alive = await RawGateway.connect(fast.gatewayUrl);
      const beat = setInterval(() => alive.send(1, null), 100);
      const { code } = await silent.closed;
      expect(code).toBe(4009);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      // Alive through more than two more intervals: its heartbeats keep being acknowledged.
      const closedAt = Date.now();
      await vi.waitFor(
        () => {
          const acks = alive.frames.filter((f) => f.op === 11).length;
          expect(acks >= 10 && Date.now() - closedAt >= 400).toBe(true);
        },
        { timeout: 10_000, interval: 50 },
      );
      expect(alive.ws.readyState).toBe(alive.ws.OPEN);
      clearInterval(beat);
      alive.close();
    } finally {
      await fast.close();
    }
  });

  it("sends READY then one GUILD_CREATE per guild of the shard", async () => {
    const gw = await connect();
    const ready = await gw.identify(emulator.token, ALL);
    expect(ready.s).toBe(1);
    expect(ready.d).toMatchObject({
      v: 10,
      user: { id: emulator.applicationId, bot: true },
      guilds: [{ id: guild.guildId, unavailable: true }],
      resume_gateway_url: emulator.gatewayUrl,
      shard: [0, 1],
      application: { id: emulator.applicationId },
    });
    expect(ready.d.session_id).toMatch(/^[0-9a-f]{32}$/);
    const create = await gw.dispatch("GUILD_CREATE");
    expect(create.s).toBe(2);
    const d = create.d;
    expect(d).toMatchObject({ id: guild.guildId, member_count: 2500, large: true, unavailable: false });
    expect(d.channels.filter((c: { type: number }) => c.type === 0).length).toBeGreaterThanOrEqual(2);
    // Large guild: only online members (and the bot), with their presences.
    const onlineIds = new Set(d.presences.map((p: { user: { id: string } }) => p.user.id));
    expect(d.members.length).toBeGreaterThan(500);
    expect(d.members.length).toBeLessThan(1000);
    for (const m of d.members) expect(onlineIds.has(m.user.id) || m.user.id === emulator.applicationId).toBe(true);
    expect(d.members.some((m: { user: { id: string } }) => m.user.id === emulator.applicationId)).toBe(true);
    expect(d.presences.every((p) => p.status !== "offline")).toBe(true);
  });

  it("honours large_threshold and the GUILD_PRESENCES intent in GUILD_CREATE", async () => {
    const small = await startEmulator();
    try {
      const g = small.seedGuild({ seed: 9, members: 120 });
      const all = await RawGateway.connect(small.gatewayUrl);
      await all.identify(small.token, ALL, { large_threshold: 250 });
      const full = (await all.dispatch("GUILD_CREATE")).d;
      expect(full).toMatchObject({ id: g.guildId, large: false, member_count: 120 });
      expect(full.members).toHaveLength(120);
      all.close();
      const noPresences = await RawGateway.connect(small.gatewayUrl);
      await noPresences.identify(small.token, I.Guilds | I.GuildMembers);
      const bare = (await noPresences.dispatch("GUILD_CREATE")).d;
      expect(bare.members.map((m: { user: { id: string } }) => m.user.id)).toEqual([small.applicationId]);
      expect(bare.presences).toEqual([]);
      noPresences.close();
    } finally {
      await small.close();
    }
  });

  it("routes guilds by shard: (guild_id >> 22) % num_shards", async () => {
    const shardOfGuild = Number((BigInt(guild.guildId) >> 22n) % 2n);
    const mine = await connect();
    const ready = await mine.identify(emulator.token, I.Guilds, { shard: [shardOfGuild, 2] });
    expect(ready.d.guilds).toEqual([{ id: guild.guildId, unavailable: true }]);
    const other = await connect();
    const empty = await other.identify(emulator.token, I.Guilds, { shard: [1 - shardOfGuild, 2] });
    expect(empty.d.guilds).toEqual([]);
  });
});

describe("close codes", () => {
  const cases: Array<[string, (gw: RawGateway) => void, number]> = [
    ["bad token -> 4004", (gw) => gw.send(2, { token: "nope", intents: 1, properties: {} }), 4004],
    [
      "disallowed privileged intent -> 4014",
      (gw) => gw.send(2, { token: emulator.token, intents: I.MessageContent, properties: {} }),
      4014,
    ],
    ["invalid intents -> 4013", (gw) => gw.send(2, { token: emulator.token, intents: 1 << 30, properties: {} }), 4013],
    ["missing intents -> 4013", (gw) => gw.send(2, { token: emulator.token, properties: {} }), 4013],
    ["invalid shard -> 4010", (gw) => gw.send(2, { token: emulator.token, intents: 1, properties: {}, shard: [2, 2] }), 4010],
    ["malformed JSON -> 4002", (gw) => gw.ws.send("{not json"), 4002],
    ["unknown opcode -> 4001", (gw) => gw.send(42, null), 4001],
    ["request before identify -> 4003", (gw) => gw.send(8, { guild_id: "1", query: "", limit: 0 }), 4003],
  ];
  for (const [name, act, code] of cases) {
    it(name, async () => {
      const gw = await connect();
      act(gw);
      expect((await gw.closed).code).toBe(code);
    });
  }

  it("second IDENTIFY -> 4005", async () => {
    const gw = await connect();
    await gw.identify(emulator.token, I.Guilds);
    gw.send(2, { token: emulator.token, intents: 1, properties: {} });
    expect((await gw.closed).code).toBe(4005);
  });
});

describe("RESUME", () => {
  it("replays what was missed after a drop, then RESUMED, with continuous sequence numbers", async () => {
    const gw = await connect();
    const ready = await gw.identify(emulator.token, ALL);
    const created = await gw.dispatch("GUILD_CREATE");
    const sessionId = ready.d.session_id as string;
    const closed = gw.closed;
    emulator.dropConnections();
    expect((await closed).code).toBe(1006);
    expect(emulator.sessions().find((s) => s.sessionId === sessionId)?.connected).toBe(false);

    const staff = guild.staff.map((s) => s.userId);
    emulator.setPresence(guild.guildId, staff[0]!, { status: "dnd", customStatus: "In a meeting" });
    emulator.setPresence(guild.guildId, staff[1]!, { status: "idle" });
    emulator.setPresence(guild.guildId, staff[2]!, { status: "offline" });

    const again = await connect();
    again.send(6, { token: emulator.token, session_id: sessionId, seq: created.s });
    const resumed = await again.dispatch("RESUMED");
    const replayed = again.frames.filter((f) => f.op === 0);
    expect(replayed.map((f) => f.t)).toEqual(["PRESENCE_UPDATE", "PRESENCE_UPDATE", "PRESENCE_UPDATE", "RESUMED"]);
    expect(replayed.map((f) => f.s)).toEqual([3, 4, 5, 6]);
    expect(resumed.s).toBe(6);
    expect(replayed[0]!.d).toMatchObject({
      user: { id: staff[0] },
      guild_id: guild.guildId,
      status: "dnd",
      activities: [{ type: 4, name: "Custom Status", state: "In a meeting" }],
      client_status: { desktop: "dnd" },
    });
    expect(emulator.sessions().find((s) => s.sessionId === sessionId)?.connected).toBe(true);

    // Live events continue the same sequence.
    emulator.setPresence(guild.guildId, staff[0]!, { status: "online" });
    expect((await again.next((f) => f.s === 7)).t).toBe("PRESENCE_UPDATE");
  });

  it("answers INVALID_SESSION (d: false) for an unknown session and 4007 for a future seq", async () => {
    const gw = await connect();
    gw.send(6, { token: emulator.token, session_id: "f".repeat(32), seq: 1 });
    expect(await gw.next((f) => f.op === 9)).toMatchObject({ op: 9, d: false });

    const live = await connect();
    const ready = await live.identify(emulator.token, I.Guilds);
    live.close();
    await live.closed;
    const future = await connect();
    future.send(6, { token: emulator.token, session_id: ready.d.session_id, seq: 999 });
    expect((await future.closed).code).toBe(4007);
  });

  it("a client closing with 1000 ends its session", async () => {
    const gw = await connect();
    const ready = await gw.identify(emulator.token, I.Guilds);
    gw.ws.close(1000);
    await gw.closed;
    await vi.waitFor(() => expect(emulator.sessions().some((s) => s.sessionId === ready.d.session_id)).toBe(false));
  });
});

describe("REQUEST_GUILD_MEMBERS", () => {
  it("user_ids + presences: found members, presences, not_found, nonce", async () => {
    const gw = await connect();
    await gw.identify(emulator.token, ALL);
    const [a, b] = [guild.staff[5]!.userId, guild.staff[6]!.userId];
    emulator.setPresence(guild.guildId, a, {
      status: "online",
      activities: [{ name: "Garry's Mod", type: 0 }],
      clientStatus: { mobile: "online" },
    });
    emulator.setPresence(guild.guildId, b, { status: "offline" });
    const unknown = "123456789012345678";
    gw.send(8, { guild_id: guild.guildId, user_ids: [a, b, unknown], presences: true, nonce: "lookup-1" });
    const chunk = (await gw.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "lookup-1")).d;
    expect(chunk).toMatchObject({ guild_id: guild.guildId, chunk_index: 0, chunk_count: 1, not_found: [unknown], nonce: "lookup-1" });
    expect(chunk.members.map((m: { user: { id: string } }) => m.user.id).sort()).toEqual([a, b].sort());
    expect(chunk.presences).toEqual([
      {
        user: { id: a },
        status: "online",
        activities: [expect.objectContaining({ name: "Garry's Mod", type: 0 })],
        client_status: { mobile: "online" },
      },
    ]);
  });

  it("all members: chunks of 1000 with chunk_index/chunk_count, every member once", async () => {
    const gw = await connect();
    await gw.identify(emulator.token, ALL);
    gw.send(8, { guild_id: guild.guildId, query: "", limit: 0, nonce: "all" });
    const chunks = [];
    for (let i = 0; i < 3; i++) chunks.push((await gw.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "all" && d.chunk_index === i)).d);
    expect(chunks.map((c) => c.chunk_count)).toEqual([3, 3, 3]);
    expect(chunks.map((c) => c.members.length)).toEqual([1000, 1000, 500]);
    expect(chunks.every((c) => c.presences === undefined && c.not_found === undefined)).toBe(true);
    const ids = new Set(chunks.flatMap((c) => c.members.map((m: { user: { id: string } }) => m.user.id)));
    expect(ids.size).toBe(2500);
  });

  it("query prefix-matches usernames, at most 100 (and limit)", async () => {
    const gw = await connect();
    await gw.identify(emulator.token, ALL);
    const target = guild.staff[0]!;
    gw.send(8, { guild_id: guild.guildId, query: target.username.slice(0, 3).toUpperCase(), limit: 5, nonce: "q" });
    const chunk = (await gw.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "q")).d;
    expect(chunk.members.length).toBeGreaterThan(0);
    expect(chunk.members.length).toBeLessThanOrEqual(5);
    for (const m of chunk.members) {
      const prefix = target.username.slice(0, 3);
      expect(m.user.username.startsWith(prefix) || (m.nick ?? "").toLowerCase().startsWith(prefix)).toBe(true);
    }
  });

  it("without GUILD_MEMBERS the whole list is not sent; without GUILD_PRESENCES no presences", async () => {
    const gw = await connect();
    await gw.identify(emulator.token, I.Guilds | I.GuildPresences);
    gw.send(8, { guild_id: guild.guildId, query: "", limit: 0, nonce: "denied" });
    gw.send(8, { guild_id: guild.guildId, user_ids: [guild.staff[0]!.userId], nonce: "sentinel" });
    await gw.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "sentinel");
    expect(gw.dispatches("GUILD_MEMBERS_CHUNK").some((f) => f.d.nonce === "denied")).toBe(false);

    const noPresence = await connect();
    await noPresence.identify(emulator.token, I.Guilds | I.GuildMembers);
    noPresence.send(8, { guild_id: guild.guildId, user_ids: [guild.staff[0]!.userId], presences: true, nonce: "np" });
    const chunk = (await noPresence.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "np")).d;
    expect(chunk.presences).toBeUndefined();
  });
});

describe("intents filter dispatches", () => {
  it("PRESENCE_UPDATE needs GUILD_PRESENCES; GUILD_MEMBER_* need GUILD_MEMBERS", async () => {
    const members = await connect();
    await members.identify(emulator.token, I.Guilds | I.GuildMembers);
    const presences = await connect();
    await presences.identify(emulator.token, I.Guilds | I.GuildPresences);

    const userId = guild.staff[9]!.userId;
    emulator.setPresence(guild.guildId, userId, { status: "idle" });
    const added = emulator.addMember(guild.guildId, { username: "newcomer_01", roles: [guild.staffRoleId] });
    emulator.updateMember(guild.guildId, added.userId, { nick: "Newbie" });
    emulator.removeMember(guild.guildId, added.userId);
    emulator.setPresence(guild.guildId, userId, { status: "online" }); // sentinel for the presence session

    const remove = await members.dispatch("GUILD_MEMBER_REMOVE");
    expect(remove.d).toEqual({ guild_id: guild.guildId, user: expect.objectContaining({ id: added.userId, username: "newcomer_01" }) });
    expect(
      members.frames
        .filter((f) => f.op === 0)
        .map((f) => f.t)
        .slice(-3),
    ).toEqual(["GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"]);
    const update = members.frames.find((f) => f.t === "GUILD_MEMBER_UPDATE")!;
    expect(update.d).toMatchObject({ guild_id: guild.guildId, nick: "Newbie", roles: [guild.staffRoleId], user: { id: added.userId } });
    expect(members.frames.some((f) => f.t === "PRESENCE_UPDATE")).toBe(false);

    await presences.dispatch("PRESENCE_UPDATE", (d) => d.status === "online" && d.user.id === userId);
    expect(presences.frames.some((f) => f.t?.startsWith("GUILD_MEMBER_"))).toBe(false);
  });
});
