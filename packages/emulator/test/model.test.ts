import { describe, expect, it } from "vitest";
import {
  firstIndexAfter, generateMember, guildSpec, indexOfUserId, initialPresence, initiallyOnline, userIdAt,
} from "../src/generator";
import { GuildState } from "../src/guild";
import type { MemberRecord } from "../src/types";

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

  it("is deterministic in (seed, index)", () => {
    expect(generateMember(spec, 123)).toEqual(generateMember(spec, 123));
    expect(initialPresence(spec, 77)).toEqual(initialPresence(spec, 77));
    const other = guildSpec({ seed: 4, guildId: "244779916984322012", members: 2000, staff: 10, onlineRatio: 0.3, now: NOW });
    expect(generateMember(other, 123).username).not.toEqual(generateMember(spec, 123).username);
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
      names.add(generateMember(spec, i).username);
    }
    expect(names.size).toBe(spec.generatedCount);
  });

  it("finds the first index after any snowflake arithmetically", () => {
    const probes = [0n, userIdAt(spec, 0) - 1n, userIdAt(spec, 0), userIdAt(spec, 500), userIdAt(spec, 500) + 1n, userIdAt(spec, 1998), 1n << 62n];
    for (const after of probes) {
      let expected = 0;
      while (expected < spec.generatedCount && userIdAt(spec, expected) <= after) expected++;
      expect(firstIndexAfter(spec, after)).toBe(expected);
    }
  });

  it("seeds realistic members: staff, 1-3 roles, avatars, nicknames, joined within 3 years, some bots", () => {
    const members = Array.from({ length: spec.generatedCount }, (_, i) => generateMember(spec, i));
    expect(members.slice(0, 10).every((m) => m.roles.includes(spec.staffRoleId) && !m.bot)).toBe(true);
    expect(members.slice(10).some((m) => m.roles.includes(spec.staffRoleId))).toBe(false);
    for (const m of members) {
      const ordinary = m.roles.filter((r) => r !== spec.staffRoleId);
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
    const online = members.filter((_, i) => initiallyOnline(spec, i)).length / members.length;
    expect(online).toBeGreaterThan(0.25);
    expect(online).toBeLessThan(0.35);
    const presences = members.map((_, i) => initialPresence(spec, i)).filter((p) => p.status !== "offline");
    expect(presences.some((p) => p.activities.some((a) => a.type === 4 && typeof a.state === "string"))).toBe(true);
    expect(presences.some((p) => p.activities.some((a) => a.type === 0))).toBe(true);
    expect(new Set(presences.map((p) => p.status))).toEqual(new Set(["online", "idle", "dnd"]));
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

  it("searches usernames and nicks by prefix, case-insensitively", () => {
    const guild = makeGuild(2000);
    const target = guild.list(0n, 50)[42] as MemberRecord;
    const hits = guild.search(target.username.slice(0, 4).toUpperCase(), 100);
    expect(hits.some((m) => m.userId === target.userId)).toBe(true);
    expect(hits.every((m) => m.username.startsWith(target.username.slice(0, 4)) || m.nick?.toLowerCase().startsWith(target.username.slice(0, 4)))).toBe(true);
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
