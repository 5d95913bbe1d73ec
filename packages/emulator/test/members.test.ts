import type { APIGuildMember } from "discord-api-types/v10";
import { GatewayIntentBits as I } from "discord-api-types/v10";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, SeededGuild } from "../src/index";
import { EmulatorControl, EmulatorControlError, startEmulator } from "../src/index";
import { type Frame, RawGateway } from "./helpers";

let emulator: Emulator;
let guild: SeededGuild;
const open: RawGateway[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ memberRequestWindowMs: 0 });
  guild = emulator.seedGuild({ seed: 12, members: 1500, staff: 10 });
});
afterEach(() => {
  for (const gw of open.splice(0)) gw.close();
});
afterAll(() => emulator.close());

/** A GET as the bot; `body` is the parsed JSON answer, typed by the caller (unchecked). */
async function rest<T = unknown>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${emulator.apiUrl}/v10${path}`, { headers: { authorization: `Bot ${emulator.token}` } });
  return { status: res.status, body: (await res.json()) as T };
}

async function membersSession(): Promise<RawGateway> {
  const gw = await RawGateway.connect(emulator.gatewayUrl);
  open.push(gw);
  await gw.identify(emulator.token, I.Guilds | I.GuildMembers);
  await gw.dispatch("GUILD_CREATE");
  return gw;
}

/** Every member over REQUEST_GUILD_MEMBERS (all), by user id. */
async function allOverGateway(gw: RawGateway, nonce: string): Promise<Map<string, APIGuildMember>> {
  gw.send(8, { guild_id: guild.guildId, query: "", limit: 0, nonce });
  const first = await gw.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === nonce);
  const out = new Map<string, APIGuildMember>();
  for (let i = 0; i < first.d.chunk_count; i++) {
    const chunk = await gw.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === nonce && d.chunk_index === i);
    for (const m of chunk.d.members) {
      expect(out.has(m.user.id)).toBe(false);
      out.set(m.user.id, m);
    }
  }
  return out;
}

describe("leave and rejoin", () => {
  it("a removed member who is added again is the same user with a new joined_at, no nick and no roles", async () => {
    const gw = await membersSession();
    const before = (await rest<APIGuildMember[]>(`/guilds/${guild.guildId}/members?limit=30`)).body.find(
      (m) => m.nick !== null && !m.user.bot,
    )!;
    const userId: string = before.user.id;
    emulator.removeMember(guild.guildId, userId);
    await gw.dispatch("GUILD_MEMBER_REMOVE", (d) => d.user.id === userId);
    expect((await rest(`/guilds/${guild.guildId}/members/${userId}`)).status).toBe(404);
    expect(emulator.guild(guild.guildId).memberCount).toBe(1499);

    const started = Date.now();
    const rejoined = emulator.addMember(guild.guildId, { userId });
    const add = await gw.dispatch("GUILD_MEMBER_ADD", (d) => d.user.id === userId);
    expect(add.d).toMatchObject({
      guild_id: guild.guildId,
      nick: null,
      roles: [],
      user: { id: userId, username: before.user.username, avatar: before.user.avatar },
    });
    expect(Date.parse(add.d.joined_at ?? "")).toBeGreaterThanOrEqual(started - 1000);
    expect(add.d.joined_at).not.toBe(before.joined_at);
    expect(rejoined.username).toBe(before.user.username);
    expect(emulator.guild(guild.guildId).memberCount).toBe(1500);
    expect((await rest<APIGuildMember>(`/guilds/${guild.guildId}/members/${userId}`)).body.joined_at).toBe(add.d.joined_at);

    const all = await allOverGateway(gw, "after-rejoin");
    expect(all.size).toBe(1500);
    expect(all.get(userId)).toMatchObject({ joined_at: add.d.joined_at, roles: [] });
    const ids = [...all.keys()].map(BigInt);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);

    // An added member can leave and come back too.
    const newcomer = emulator.addMember(guild.guildId, { username: "came_back" });
    emulator.removeMember(guild.guildId, newcomer.userId);
    expect(emulator.addMember(guild.guildId, { userId: newcomer.userId }).username).toBe("came_back");
  });
});

describe("nick and role changes", () => {
  it("are visible in REST (member and list) and in later REQUEST_GUILD_MEMBERS answers", async () => {
    const gw = await membersSession();
    const target = guild.staff[7]!.userId;
    const nick = 'Zoë "the \\ admin" 👑';
    const roles = [guild.roles.find((r) => r.name === "Veteran")!.id, guild.adminRoleId];
    emulator.updateMember(guild.guildId, target, { nick, roles });
    const update = await gw.dispatch("GUILD_MEMBER_UPDATE", (d) => d.user.id === target);
    expect(update.d).toMatchObject({ nick, roles });

    expect((await rest(`/guilds/${guild.guildId}/members/${target}`)).body).toMatchObject({ nick, roles });
    const before = (BigInt(target) - 1n).toString();
    const page = (await rest<APIGuildMember[]>(`/guilds/${guild.guildId}/members?limit=5&after=${before}`)).body;
    expect(page[0]).toMatchObject({ user: { id: target }, nick, roles });

    gw.send(8, { guild_id: guild.guildId, user_ids: [target], nonce: "one" });
    expect((await gw.dispatch("GUILD_MEMBERS_CHUNK", (d) => d.nonce === "one")).d.members[0]).toMatchObject({ nick, roles });
    const all = await allOverGateway(gw, "after-patch");
    expect(all.get(target)).toMatchObject({ nick, roles });
    expect(emulator.member(guild.guildId, target)).toMatchObject({ nick, roles });
  });
});

describe("applyMemberChanges", () => {
  it("makes n members leave, n join and n change, dispatching the events, deterministically", async () => {
    const gw = await membersSession();
    const countBefore = emulator.guild(guild.guildId).memberCount;
    const result = emulator.applyMemberChanges(guild.guildId, { leave: 5, join: 4, update: 6, seed: 99 });
    expect(result.left).toHaveLength(5);
    expect(result.joined).toHaveLength(4);
    expect(result.updated).toHaveLength(6);
    expect(new Set([...result.left, ...result.updated]).size).toBe(11);
    for (const kept of [emulator.applicationId, guild.ownerId, ...guild.admins])
      expect([...result.left, ...result.updated]).not.toContain(kept);

    const lastJoined = result.joined[result.joined.length - 1]!;
    await gw.dispatch("GUILD_MEMBER_UPDATE", (d) => d.user.id === result.updated[result.updated.length - 1]);
    const events = gw.frames.filter((f) => f.t?.startsWith("GUILD_MEMBER_")).slice(-15) as Array<Frame<{ user: { id: string } }>>;
    expect(events.map((f) => f.t)).toEqual([
      ...Array(5).fill("GUILD_MEMBER_REMOVE"),
      ...Array(4).fill("GUILD_MEMBER_ADD"),
      ...Array(6).fill("GUILD_MEMBER_UPDATE"),
    ]);
    expect(events.map((f) => f.d.user.id)).toEqual([...result.left, ...result.joined, ...result.updated]);
    expect(emulator.guild(guild.guildId).memberCount).toBe(countBefore - 5 + 4);
    for (const id of result.left) expect((await rest(`/guilds/${guild.guildId}/members/${id}`)).status).toBe(404);
    expect((await rest<APIGuildMember>(`/guilds/${guild.guildId}/members/${lastJoined}`)).body.user.id).toBe(lastJoined);

    for (const id of result.updated) {
      const event = gw
        .dispatches("GUILD_MEMBER_UPDATE")
        .reverse()
        .find((f) => f.d.user.id === id)!;
      expect((await rest(`/guilds/${guild.guildId}/members/${id}`)).body).toMatchObject({ nick: event.d.nick, roles: event.d.roles });
    }
  });

  it("silent: the changes happen without a gateway event (only a full sync sees them)", async () => {
    const gw = await membersSession();
    const countBefore = emulator.guild(guild.guildId).memberCount;
    const result = emulator.applyMemberChanges(guild.guildId, { leave: 3, join: 2, update: 2, seed: 123, silent: true });
    expect(emulator.guild(guild.guildId).memberCount).toBe(countBefore - 3 + 2);
    for (const id of result.left) expect((await rest(`/guilds/${guild.guildId}/members/${id}`)).status).toBe(404);
    // A later, announced change is the first GUILD_MEMBER_* event the session gets.
    const loud = emulator.applyMemberChanges(guild.guildId, { leave: 1, seed: 124 });
    await gw.dispatch("GUILD_MEMBER_REMOVE", (d) => d.user.id === loud.left[0]);
    expect(gw.frames.filter((f) => f.t?.startsWith("GUILD_MEMBER_")).map((f) => f.t)).toEqual(["GUILD_MEMBER_REMOVE"]);
    await expect(new EmulatorControl(emulator.url).applyMemberChanges(guild.guildId, { silent: "yes" } as never)).rejects.toThrow(/silent/);
  });

  it("same seed, same state: same ids and the same new names and roles", async () => {
    const a = await startEmulator();
    const b = await startEmulator();
    try {
      const ga = a.seedGuild({ seed: 5, members: 800, now: Date.UTC(2025, 0, 1) });
      const gb = b.seedGuild({ seed: 5, members: 800, now: Date.UTC(2025, 0, 1) });
      const ra = a.applyMemberChanges(ga.guildId, { leave: 20, join: 10, update: 30, seed: 7 });
      const rb = b.applyMemberChanges(gb.guildId, { leave: 20, join: 10, update: 30, seed: 7 });
      expect(rb).toEqual(ra);
      for (const id of ra.updated) {
        const ma = a.member(ga.guildId, id)!;
        expect({ ...ma }).toEqual({ ...b.member(gb.guildId, id)! });
      }
      const other = a.applyMemberChanges(ga.guildId, { leave: 20, seed: 8 });
      expect(other.left).not.toEqual(ra.left);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("samples big guilds without scanning them; HTTP POST /_emulator/guilds/:g/member-changes; 400 naming the field", async () => {
    const control = new EmulatorControl(emulator.url);
    const big = emulator.seedGuild({ seed: 13, members: 200_000 });
    const started = performance.now();
    const result = await control.applyMemberChanges(big.guildId, { leave: 50, join: 50, update: 50, seed: 1 });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result.left).toHaveLength(50);
    expect(emulator.guild(big.guildId).memberCount).toBe(200_000);
    const errors: Array<[unknown, RegExp]> = [
      [{ leave: -1 }, /leave/],
      [{ leave: 1_000_001 }, /leave/],
      [{ joins: 1 }, /joins/],
      [{ update: 1.5 }, /update/],
    ];
    for (const [body, message] of errors) {
      const err = await control.applyMemberChanges(guild.guildId, body as never).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EmulatorControlError);
      expect((err as EmulatorControlError).status).toBe(400);
      expect((err as EmulatorControlError).message).toMatch(message);
    }
    const small = emulator.seedGuild({ seed: 14, members: 10 });
    await expect(control.applyMemberChanges(small.guildId, { leave: 5, update: 3 })).rejects.toThrow(/leave \+ update must be at most 7/);
  });
});

describe("sendMemberUpdate (a GUILD_MEMBER_UPDATE as a partial or faulty peer sends it)", () => {
  it("dispatches the member's object with keys left out and replaced, changes nothing stored, and checks its input over HTTP", async () => {
    const gw = await membersSession();
    const control = new EmulatorControl(emulator.url);
    const [member] = (await rest<APIGuildMember[]>(`/guilds/${guild.guildId}/members?limit=5&after=0`)).body.filter((m) => !m.user.bot);
    const userId = member!.user.id;
    const before = emulator.member(guild.guildId, userId);
    const sent = await control.sendMemberUpdate(guild.guildId, userId, {
      omit: ["nick", "joined_at"],
      set: { premium_since: null, roles: [] },
    });
    const event = await gw.dispatch("GUILD_MEMBER_UPDATE", (d) => d.user.id === userId);
    expect(event.d).toEqual(sent);
    expect(event.d).not.toHaveProperty("nick");
    expect(event.d).not.toHaveProperty("joined_at");
    expect(event.d).toMatchObject({ guild_id: guild.guildId, premium_since: null, roles: [], user: { id: userId } });
    expect(emulator.member(guild.guildId, userId)).toEqual(before);

    const refusals: Array<[unknown, RegExp, number]> = [
      [{ omit: "nick" }, /omit/, 400],
      [{ omit: ["guild_id"] }, /guild_id/, 400],
      [{ set: { guild_id: "1" } }, /guild_id/, 400],
      [{ set: [] }, /set/, 400],
      [{ other: 1 }, /other/, 400],
    ];
    for (const [body, message, status] of refusals) {
      const err = await control.sendMemberUpdate(guild.guildId, userId, body as never).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EmulatorControlError);
      expect((err as EmulatorControlError).status).toBe(status);
      expect((err as EmulatorControlError).message).toMatch(message);
    }
    await expect(control.sendMemberUpdate(guild.guildId, "123456789012345678", {})).rejects.toThrow(/Unknown Member/);
  });
});
