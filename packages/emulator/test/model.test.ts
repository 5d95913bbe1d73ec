import { PermissionFlagsBits as P } from "discord-api-types/v10";
import { describe, expect, it } from "vitest";
import { firstIndexAfter, guildSpec, indexOfUserId, MemberGenerator, snowflakeString, userIdAt, userIdStringAt } from "../src/generator";
import { ALL_PERMISSIONS, GuildState } from "../src/guild";
import { JsonWriter } from "../src/jsonwriter";
import { memberJson, memberObject } from "../src/payloads";
import { Rng } from "../src/random";
import { snowflakeAt } from "../src/snowflake";
import { discordTimestamp } from "../src/timestamps";
import type { MemberRecord } from "../src/types";
import { referenceMember, referenceUserId } from "./reference-generator";

const NOW = Date.UTC(2025, 5, 1);
const BOT = { userId: "1173731930054320129", username: "Guildhall" };

function makeGuild(members: number, seed = 7, staff = 5): GuildState {
  const spec = guildSpec({ seed, guildId: "244779916984322012", members, staff, onlineRatio: 0.3, now: NOW });
  return new GuildState(spec, "Test", BOT);
}

function pageAll(guild: GuildState, pageSize: number): MemberRecord[] {
  const out: MemberRecord[] = [];
  let after = 0n;
  while (true) {
    const page = guild.list(after, pageSize);
    out.push(...page);
    const last = page[page.length - 1];
    if (page.length < pageSize || !last) return out;
    after = BigInt(last.userId);
  }
}

describe("generator", () => {
  const spec = guildSpec({ seed: 3, guildId: "244779916984322012", members: 2000, staff: 10, onlineRatio: 0.3, now: NOW });
  const generator = new MemberGenerator(spec);

  it("is deterministic in (seed, index)", () => {
    expect(generator.member(123)).toEqual(generator.member(123));
    expect(generator.initialPresence(77)).toEqual(generator.initialPresence(77));
    const other = guildSpec({ seed: 4, guildId: "244779916984322012", members: 2000, staff: 10, onlineRatio: 0.3, now: NOW });
    expect(new MemberGenerator(other).member(123).username).not.toEqual(generator.member(123).username);
  });

  it("gives each guild its own stream: interleaving guilds changes nothing", () => {
    const other = guildSpec({ seed: 4, guildId: "244779916984322012", members: 2000, staff: 10, onlineRatio: 0.3, now: NOW });
    const alone = [0, 5, 77, 1500].map((i) => ({ a: new MemberGenerator(spec).member(i), b: new MemberGenerator(other).member(i) }));
    const a = new MemberGenerator(spec);
    const b = new MemberGenerator(other);
    const interleaved = [0, 5, 77, 1500].map((i) => {
      const before = a.initialPresence(i + 1);
      b.namesMatch(i, "x");
      const fromA = a.member(i);
      const fromB = b.member(i);
      expect(a.initialPresence(i + 1)).toEqual(before);
      return { a: fromA, b: fromB };
    });
    expect(interleaved).toEqual(alone);
  });

  it("gives ascending, invertible snowflakes and unique usernames", () => {
    const names = new Set<string>();
    let previous = 0n;
    for (let i = 0; i < spec.generatedCount; i++) {
      const id = userIdAt(spec, i);
      expect(id > previous).toBe(true);
      expect(indexOfUserId(spec, id)).toBe(i);
      expect(indexOfUserId(spec, id + 1n)).toBe(-1);
      previous = id;
      names.add(generator.member(i).username);
    }
    expect(names.size).toBe(spec.generatedCount);
  });

  it("finds the first index after any snowflake arithmetically", () => {
    const probes = [
      0n,
      userIdAt(spec, 0) - 1n,
      userIdAt(spec, 0),
      userIdAt(spec, 500),
      userIdAt(spec, 500) + 1n,
      userIdAt(spec, 1998),
      1n << 62n,
    ];
    for (const after of probes) {
      let expected = 0;
      while (expected < spec.generatedCount && userIdAt(spec, expected) <= after) expected++;
      expect(firstIndexAfter(spec, after)).toBe(expected);
    }
  });

  it("seeds realistic members: staff, 1-3 roles, avatars, nicknames, joined within 3 years, some bots", () => {
    const members = Array.from({ length: spec.generatedCount }, (_, i) => generator.member(i));
    expect(members.slice(0, 10).every((m) => m.roles.includes(spec.staffRoleId) && !m.bot)).toBe(true);
    expect(members.slice(10).some((m) => m.roles.includes(spec.staffRoleId))).toBe(false);
    for (const m of members) {
      const ordinary = m.roles.filter((r) => spec.memberRoleIds.includes(r));
      expect(ordinary.length).toBeGreaterThanOrEqual(1);
      expect(ordinary.length).toBeLessThanOrEqual(3);
      expect(m.avatar === null || /^[0-9a-f]{32}$/.test(m.avatar)).toBe(true);
      const joined = Date.parse(m.joinedAt);
      expect(joined).toBeLessThanOrEqual(NOW);
      expect(joined).toBeGreaterThan(NOW - 3 * 366 * 86_400_000);
    }
    expect(members.filter((m) => m.bot).length).toBeGreaterThan(0);
    expect(members.filter((m) => m.nick !== null).length).toBeGreaterThan(100);
    expect(members.filter((m) => m.avatar === null).length).toBeGreaterThan(100);
    expect(members.filter((m) => m.premiumSince !== null).length).toBeGreaterThan(10);
    // Managed roles: exactly the boosters hold Server Booster; some hold the integration and the linked role, no bot does.
    for (const m of members) expect(m.roles.includes(spec.boosterRoleId)).toBe(m.premiumSince !== null);
    const integration = members.filter((m) => m.roles.includes(spec.integrationRoleId));
    const linked = members.filter((m) => m.roles.includes(spec.linkedRoleId));
    expect(integration.length).toBeGreaterThan(members.length * 0.015);
    expect(integration.length).toBeLessThan(members.length * 0.05);
    expect(linked.length).toBeGreaterThan(members.length * 0.05);
    expect(linked.length).toBeLessThan(members.length * 0.12);
    expect([...integration, ...linked].some((m) => m.bot)).toBe(false);
    const online = members.filter((_, i) => generator.initiallyOnline(i)).length / members.length;
    expect(online).toBeGreaterThan(0.25);
    expect(online).toBeLessThan(0.35);
    const presences = members.map((_, i) => generator.initialPresence(i)).filter((p) => p.status !== "offline");
    expect(presences.some((p) => p.activities.some((a) => a.type === 4 && typeof a.state === "string"))).toBe(true);
    expect(presences.some((p) => p.activities.some((a) => a.type === 0))).toBe(true);
    expect(new Set(presences.map((p) => p.status))).toEqual(new Set(["online", "idle", "dnd"]));
  });
});

describe("the optimised generator", () => {
  it("produces exactly what the straightforward reference generator does, as records and as JSON", () => {
    const specs = [
      guildSpec({ seed: 1, guildId: "244779916984322012", members: 1_000_001, staff: 25, onlineRatio: 0.3, now: NOW }),
      guildSpec({ seed: -77, guildId: "244779916984322012", members: 1_000_001, staff: 0, admins: 3, onlineRatio: 0.5, now: NOW + 123.7 }),
      guildSpec({ seed: 2 ** 40 + 3, guildId: "244779916984322012", members: 1_000_001, staff: 3, onlineRatio: 0.1, now: 1.7e12 + 0.5 }),
    ];
    for (const spec of specs) {
      const generator = new MemberGenerator(spec);
      for (let i = 0; i < 1_000_000; i += i < 2000 ? 1 : 4999) {
        const expected = referenceMember(spec, i);
        expect(generator.member(i)).toEqual(expected);
        expect(userIdAt(spec, i)).toBe(referenceUserId(spec, i));
        expect(userIdStringAt(spec, i)).toBe(expected.userId);
        expect(generator.memberJson(i, expected.userId)).toBe(JSON.stringify(memberObject(expected)));
      }
    }
  });

  it("formats snowflakes and timestamps like BigInt and Date do", () => {
    const rng = new Rng(5);
    for (let k = 0; k < 20_000; k++) {
      const ms = Date.UTC(2015, 0, 1) + rng.next() * 4e12;
      const low = rng.int(2 ** 22);
      expect(snowflakeString(ms, low)).toBe(snowflakeAt(ms, low).toString());
      const t = rng.next() * 2e12;
      expect(discordTimestamp(t)).toBe(new Date(t).toISOString().replace("Z", "000+00:00"));
    }
    for (const ms of [1_420_070_400_000, 1_420_070_400_000 + 2 ** 42 - 1, 0, 253_402_300_799_999, 253_402_300_800_000]) {
      expect(discordTimestamp(ms)).toBe(new Date(ms).toISOString().replace("Z", "000+00:00"));
      if (ms >= 1_420_070_400_000) expect(snowflakeString(ms, 2 ** 22 - 1)).toBe(snowflakeAt(ms, 2 ** 22 - 1).toString());
    }
  });

  it("writeMembers gives JSON.stringify(memberObject) of list(), overrides included", () => {
    const guild = makeGuild(1500);
    const seeded = guild.list(0n, 100);
    guild.updateMember(seeded[3]!.userId, { nick: 'Zoë "the" \\ 👑' });
    guild.updateMember(seeded[4]!.userId, { roles: [] });
    guild.removeMember(seeded[5]!.userId);
    guild.addMember({ ...seeded[6]!, userId: "1300000000000000000", username: "newcomer", globalName: "Née \u2028", nick: null });
    const w = new JsonWriter(16);
    for (const [after, limit] of [
      [0n, 1000],
      [BigInt(seeded[2]!.userId), 10],
      [1_299_999_999_999_999_999n, 5],
    ] as const) {
      w.reset();
      w.ascii("[");
      const ids = guild.writeMembers(w, after, limit);
      w.ascii("]");
      const records = guild.list(after, limit);
      expect(w.toString()).toBe(JSON.stringify(records.map(memberObject)));
      expect(ids).toEqual(records.map((r) => r.userId));
    }
    for (const r of guild.list(0n, 1500)) expect(memberJson(r)).toBe(JSON.stringify(memberObject(r)));
  });
});

describe("GuildState", () => {
  it("pages every member once, ascending, the bot included", () => {
    const guild = makeGuild(3000);
    const all = pageAll(guild, 1000);
    expect(all).toHaveLength(3000);
    expect(guild.memberCount).toBe(3000);
    const ids = all.map((m) => BigInt(m.userId));
    expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] as bigint))).toBe(true);
    expect(all.some((m) => m.userId === BOT.userId)).toBe(true);
  });

  it("merges added, removed, re-added and patched members into the order", () => {
    const guild = makeGuild(1000);
    const seeded = pageAll(guild, 1000);
    const victim = seeded[10] as MemberRecord;
    const patched = seeded[20] as MemberRecord;
    guild.removeMember(victim.userId);
    guild.updateMember(patched.userId, { nick: "Renamed" });
    guild.addMember({ ...victim, nick: "Back again", roles: [] });
    const newcomer: MemberRecord = { ...victim, userId: "1300000000000000000", username: "newcomer", nick: null };
    guild.addMember(newcomer);
    guild.removeMember(seeded[30]?.userId as string);

    const all = pageAll(guild, 7);
    expect(all).toHaveLength(1000);
    expect(guild.memberCount).toBe(1000);
    const ids = all.map((m) => BigInt(m.userId));
    expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] as bigint))).toBe(true);
    expect(all.find((m) => m.userId === victim.userId)?.nick).toBe("Back again");
    expect(all.find((m) => m.userId === patched.userId)?.nick).toBe("Renamed");
    expect(guild.member(seeded[30]?.userId as string)).toBeUndefined();
    expect(guild.member("1300000000000000000")?.username).toBe("newcomer");
    expect(() => guild.addMember(newcomer)).toThrow(/already a member/);
  });

  it("keeps the online count in step with presences and removals", () => {
    const guild = makeGuild(2000);
    const start = guild.onlineCount;
    const brute = [...guild.membersAfter(0n)].filter((m) => guild.isOnline(m.userId)).length;
    expect(start).toBe(brute);
    const offline = [...guild.membersAfter(0n)].find((m) => !guild.isOnline(m.userId) && m.userId !== BOT.userId) as MemberRecord;
    guild.setPresence(offline.userId, { status: "online" as never, activities: [], client_status: {} });
    expect(guild.onlineCount).toBe(start + 1);
    guild.removeMember(offline.userId);
    expect(guild.onlineCount).toBe(start);
  });

  it("counts online members the same whether warmed in slices or computed at once", async () => {
    const cold = makeGuild(20_000);
    const warm = makeGuild(20_000);
    await warm.warmOnlineCount();
    const [a, b] = cold.list(0n, 2);
    for (const g of [cold, warm]) {
      g.setPresence(a!.userId, { status: "online" as never, activities: [], client_status: {} });
      g.removeMember(b!.userId);
    }
    expect(warm.onlineCount).toBe(cold.onlineCount);
    const brute = [...cold.membersAfter(0n)].filter((m) => cold.isOnline(m.userId)).length;
    expect(cold.onlineCount).toBe(brute);
  });

  it("computes permissions: @everyone + roles, everything for the owner, MANAGE_GUILD only through Admin", () => {
    const guild = makeGuild(100);
    const perms = (id: string) => BigInt(guild.permissions(id)!);
    const [owner, second, staff] = guild.list(0n, 3);
    expect(guild.ownerId).toBe(owner!.userId);
    expect(guild.admins()).toEqual([owner!.userId, second!.userId]);
    expect(perms(owner!.userId)).toBe(ALL_PERMISSIONS);
    expect(perms(second!.userId) & P.ManageGuild).toBe(P.ManageGuild);
    expect(perms(second!.userId) & P.Administrator).toBe(0n);
    expect(perms(staff!.userId) & P.KickMembers).toBe(P.KickMembers);
    expect(perms(staff!.userId) & P.ManageGuild).toBe(0n);
    guild.updateMember(staff!.userId, { roles: [...staff!.roles, guild.spec.adminRoleId] });
    expect(perms(staff!.userId) & P.ManageGuild).toBe(P.ManageGuild);
    expect(perms(BOT.userId)).toBe(ALL_PERMISSIONS); // the bot's role has ADMINISTRATOR
    expect(guild.permissions("1")).toBeUndefined();
  });

  it("searches a big guild asynchronously, yielding to the event loop", async () => {
    const guild = makeGuild(300_000);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const target = guild.list(userIdAt(guild.spec, 250_000) - 1n, 1)[0]!;
    const found = await guild.searchAsync(target.username, 5);
    clearInterval(timer);
    expect(found.map((m) => m.userId)).toContain(target.userId);
    expect(ticks).toBeGreaterThan(3);
  });

  it("samples member ids deterministically, never an excluded one", () => {
    for (const size of [500, 100_000]) {
      const guild = makeGuild(size);
      const exclude = new Set([guild.ownerId, BOT.userId]);
      const draw = () => {
        const rng = new Rng(9);
        return guild.sampleMemberIds(() => rng.next(), 40, exclude);
      };
      const ids = draw();
      expect(ids).toEqual(draw());
      expect(new Set(ids).size).toBe(40);
      for (const id of ids) {
        expect(exclude.has(id)).toBe(false);
        expect(guild.hasMember(id)).toBe(true);
      }
    }
  });

  it("searches usernames and nicks by prefix, case-insensitively", () => {
    const guild = makeGuild(2000);
    const target = guild.list(0n, 50)[42] as MemberRecord;
    const hits = guild.search(target.username.slice(0, 4).toUpperCase(), 100);
    expect(hits.some((m) => m.userId === target.userId)).toBe(true);
    expect(
      hits.every(
        (m) => m.username.startsWith(target.username.slice(0, 4)) || m.nick?.toLowerCase().startsWith(target.username.slice(0, 4)),
      ),
    ).toBe(true);
    guild.updateMember(target.userId, { nick: "Zzyzx" });
    expect(guild.search("zzy", 10).map((m) => m.userId)).toEqual([target.userId]);
  });

  it("pages a 20,000-member guild quickly and seeds a 1,000,000-member guild without materialising it", () => {
    const t0 = performance.now();
    const big = makeGuild(20_000);
    expect(pageAll(big, 1000)).toHaveLength(20_000);
    const t1 = performance.now();
    expect(t1 - t0).toBeLessThan(2_000);

    const huge = makeGuild(1_000_000);
    const middle = userIdAt(huge.spec, 654_321);
    const page = huge.list(middle - 1n, 1000);
    expect(page[0]?.userId).toBe(middle.toString());
    expect(page).toHaveLength(1000);
    expect(huge.member(userIdAt(huge.spec, 999_998).toString())).toBeDefined();
    expect(huge.memberCount).toBe(1_000_000);
    expect(performance.now() - t1).toBeLessThan(500);
  });
});
