import { Client, Events, GatewayIntentBits as I } from "discord.js";
import type { APIGuildMember, GatewayGuildMembersChunkDispatchData } from "discord-api-types/v10";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, SeededGuild } from "../src/index";
import { startEmulator } from "../src/index";
import { componentValidator, RawGateway, sleep } from "./helpers";

const WINDOW_MS = 600;
let emulator: Emulator;
let guild: SeededGuild;
let other: SeededGuild;
const open: RawGateway[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ memberRequestWindowMs: WINDOW_MS });
  guild = emulator.seedGuild({ seed: 21, members: 2300, staff: 12 });
  other = emulator.seedGuild({ seed: 22, members: 40 });
});
afterEach(() => {
  for (const gw of open.splice(0)) gw.close();
});
afterAll(() => emulator.close());

async function session(intents = I.Guilds | I.GuildMembers | I.GuildPresences, url = emulator.gatewayUrl): Promise<RawGateway> {
  const gw = await RawGateway.connect(url);
  open.push(gw);
  await gw.identify(emulator.token, intents);
  return gw;
}

describe("REQUEST_GUILD_MEMBERS rate limit (one all-members request per guild per window)", () => {
  it("a second request for all members gets RATE_LIMITED and no chunks, from any session; others are not limited", async () => {
    const a = await session();
    const b = await session();
    a.send(8, { guild_id: guild.guildId, query: "", limit: 0, nonce: "first" });
    await a.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "first" && d.chunk_index === 2);

    a.send(8, { guild_id: guild.guildId, query: "", limit: 0, nonce: "again" });
    const limited = await a.dispatch("RATE_LIMITED");
    expect(limited.d).toEqual({ opcode: 8, retry_after: expect.any(Number), meta: { guild_id: guild.guildId, nonce: "again" } });
    expect(limited.d.retry_after).toBeGreaterThan(0);
    expect(limited.d.retry_after).toBeLessThanOrEqual(WINDOW_MS / 1000);

    // Per application across sessions; without a nonce, meta has none.
    b.send(8, { guild_id: guild.guildId, query: "", limit: 0 });
    expect((await b.dispatch("RATE_LIMITED")).d.meta).toEqual({ guild_id: guild.guildId });

    // user_ids, a query, a limit, or another guild: answered.
    b.send(8, { guild_id: guild.guildId, user_ids: [guild.staff[0]!.userId], nonce: "ids" });
    b.send(8, { guild_id: guild.guildId, query: guild.staff[0]!.username.slice(0, 4), limit: 5, nonce: "query" });
    b.send(8, { guild_id: guild.guildId, query: "", limit: 10, nonce: "ten" });
    b.send(8, { guild_id: other.guildId, query: "", limit: 0, nonce: "other" });
    for (const nonce of ["ids", "query", "ten", "other"]) await b.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === nonce);
    expect(b.dispatches("GUILD_MEMBERS_CHUNK").filter((f) => f.d.nonce === "ten")[0]!.d.members).toHaveLength(10);
    expect(a.dispatches("GUILD_MEMBERS_CHUNK").some((f) => f.d.nonce === "again")).toBe(false);

    await sleep(limited.d.retry_after * 1000 + 20);
    a.send(8, { guild_id: guild.guildId, query: "", limit: 0, nonce: "later" });
    expect((await a.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "later")).d.chunk_count).toBe(3);
  });

  it("discord.js: the second guild.members.fetch() rejects with GatewayRateLimitError", async () => {
    await sleep(WINDOW_MS);
    const client = new Client({ intents: [I.Guilds, I.GuildMembers], rest: { api: emulator.apiUrl } });
    try {
      const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
      await client.login(emulator.token);
      await ready;
      const cached = client.guilds.cache.get(other.guildId)!;
      expect((await cached.members.fetch()).size).toBe(40);
      const err = await cached.members.fetch({ force: true } as never).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ name: "GatewayRateLimitError", data: { opcode: 8, meta: { guild_id: other.guildId } } });
    } finally {
      await client.destroy();
    }
  });
});

describe("GUILD_MEMBERS_CHUNK content", () => {
  it("equals List Guild Members page for page, with overrides merged in; members match the spec; presences on request", async () => {
    await sleep(WINDOW_MS);
    const g = guild.guildId;
    // Overrides: a removed member, a patched one (unicode and quotes), an added one, a rejoined one.
    const victims = (await (
      await fetch(`${emulator.apiUrl}/v10/guilds/${g}/members?limit=40`, { headers: { authorization: `Bot ${emulator.token}` } })
    ).json()) as APIGuildMember[];
    emulator.removeMember(g, victims[5]!.user.id);
    emulator.updateMember(g, victims[6]!.user.id, { nick: 'Ünïcødé "quoted"' });
    emulator.addMember(g, { username: "late.joiner", globalName: 'Late "Joiner"' });
    emulator.removeMember(g, victims[7]!.user.id);
    emulator.addMember(g, { userId: victims[7]!.user.id });
    emulator.setPresence(g, victims[8]!.user.id, { status: "dnd", customStatus: "Busy" });

    const gw = await session();
    gw.send(8, { guild_id: g, query: "", limit: 0, presences: true, nonce: "cmp" });
    const chunks: GatewayGuildMembersChunkDispatchData[] = [];
    const first = await gw.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "cmp");
    for (let i = 0; i < first.d.chunk_count; i++)
      chunks.push((await gw.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "cmp" && d.chunk_index === i)).d);
    const streamed = chunks.flatMap((c) => c.members);
    expect(streamed).toHaveLength(emulator.guild(g).memberCount);

    const paged: APIGuildMember[] = [];
    let after = "0";
    for (;;) {
      const res = await fetch(`${emulator.apiUrl}/v10/guilds/${g}/members?limit=1000&after=${after}`, {
        headers: { authorization: `Bot ${emulator.token}` },
      });
      const page = (await res.json()) as APIGuildMember[];
      paged.push(...page);
      if (page.length < 1000) break;
      after = page[page.length - 1]!.user.id;
    }
    expect(streamed).toEqual(paged);
    const validate = componentValidator("GuildMemberResponse");
    for (const m of streamed.filter((_, i) => i % 97 === 0)) expect(validate(m), JSON.stringify(validate.errors)).toBe(true);
    expect(streamed.find((m) => m.user.id === victims[5]!.user.id)).toBeUndefined();
    expect(streamed.find((m) => m.user.id === victims[6]!.user.id)?.nick).toBe('Ünïcødé "quoted"');
    expect(streamed.find((m) => m.user.username === "late.joiner")?.user.global_name).toBe('Late "Joiner"');

    const presences = chunks.flatMap((c) => c.presences ?? []);
    expect(presences.find((p) => p.user.id === victims[8]!.user.id)).toMatchObject({
      status: "dnd",
      activities: [{ type: 4, state: "Busy" }],
    });
    const online = emulator.guild(g).onlineCount;
    expect(presences.length).toBe(online);
  });
});

describe("streaming", () => {
  it("pauses generation while the client does not read (backpressure), then delivers everything", async () => {
    const e = await startEmulator();
    try {
      const g = e.seedGuild({ seed: 23, members: 60_000 });
      const gw = await RawGateway.connect(e.gatewayUrl);
      await gw.identify(e.token, I.Guilds | I.GuildMembers);
      await gw.dispatch("GUILD_CREATE");
      let received = 0;
      gw.ws.on("message", () => received++);
      const socket = (gw.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      gw.send(8, { guild_id: g.guildId, query: "", limit: 0, nonce: "slow" });
      await gw.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "slow");
      socket.pause();
      await sleep(600);
      // ~32 MB of chunks: only what fits the emulator's high-water mark and the kernel buffers went out.
      const dispatched = e.sessions()[0]!.seq;
      expect(dispatched).toBeLessThan(45); // READY + GUILD_CREATE + about 18 chunks in practice, of 60

      socket.resume();
      await gw.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "slow" && d.chunk_index === 59, 10_000);
      expect(received).toBeGreaterThanOrEqual(60);
      gw.close();
    } finally {
      await e.close();
    }
  });

  it("survives a dropped connection: the rest arrives after RESUME", async () => {
    const e = await startEmulator();
    try {
      const g = e.seedGuild({ seed: 24, members: 30_000 });
      const gw = await RawGateway.connect(e.gatewayUrl);
      const ready = await gw.identify(e.token, I.Guilds | I.GuildMembers);
      await gw.dispatch("GUILD_CREATE");
      gw.send(8, { guild_id: g.guildId, query: "", limit: 0, nonce: "drop" });
      await gw.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "drop");
      e.dropConnections();
      await gw.closed;
      const seen = gw.dispatches("GUILD_MEMBERS_CHUNK").map((f) => f.d.chunk_index);
      const lastSeq = gw.frames.reduce((s, f) => Math.max(s, f.s ?? 0), 0);

      const again = await RawGateway.connect(e.gatewayUrl);
      again.send(6, { token: e.token, session_id: ready.d.session_id, seq: lastSeq });
      await again.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "drop" && d.chunk_index === 29, 10_000);
      const rest = again.dispatches("GUILD_MEMBERS_CHUNK").map((f) => f.d.chunk_index);
      expect([...seen, ...rest].sort((x, y) => x - y)).toEqual([...Array(30).keys()]);
      again.close();
    } finally {
      await e.close();
    }
  });
});
