import { REST } from "@discordjs/rest";
import type { APIGuildMember } from "discord-api-types/v10";
import { Routes } from "discord-api-types/v10";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type { BucketCount, Emulator, EmulatorOptions, SeededGuild } from "../src/index";
import { DEFAULT_RATE_LIMITS, EmulatorControl, EmulatorError, startEmulator } from "../src/index";
import { RATE_LIMIT_HEADERS, responseValidator } from "./helpers";

const MEMBER_ROLE = "/guilds/{guild_id}/members/{user_id}/roles/{role_id}";
const started: Emulator[] = [];

afterEach(async () => {
  for (const e of started.splice(0)) await e.close();
});
afterAll(async () => {
  for (const e of started.splice(0)) await e.close();
});

async function emulatorWith(options: EmulatorOptions = {}): Promise<Emulator> {
  const e = await startEmulator(options);
  started.push(e);
  return e;
}

/** One REST call as the bot (or without a token); the parsed body, status and headers. */
async function call<T = unknown>(
  e: Emulator,
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const token = options.token === undefined ? e.token : options.token;
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bot ${token}` };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${e.apiUrl}/v10${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: (text === "" ? undefined : JSON.parse(text)) as T, headers: res.headers };
}

/** Ordinary (non-bot, non-owner, unmanaged-role) members of a seeded guild, and an ordinary role. */
async function fixtures(e: Emulator, g: SeededGuild): Promise<{ members: string[]; roleId: string }> {
  const list = (await call<APIGuildMember[]>(e, "GET", `/guilds/${g.guildId}/members?limit=1000`)).body;
  const members = list.filter((m) => !m.user.bot && m.user.id !== g.ownerId).map((m) => m.user.id);
  return { members, roleId: g.roles.find((r) => r.name === "Night Owl")!.id };
}

function bucketOf(e: Emulator, name: string, major: string): BucketCount | undefined {
  return e.rateLimits().buckets.find((b) => b.name === name && b.major === major);
}

describe("per-route buckets", () => {
  it("member role PUT and DELETE share one bucket of 10 per 10 s per guild; the 11th is 429 with Discord's headers and body", async () => {
    const e = await emulatorWith();
    const a = e.seedGuild({ seed: 31, members: 50, staff: 1 });
    const b = e.seedGuild({ seed: 32, members: 50, staff: 1 });
    const { members, roleId } = await fixtures(e, a);
    const userId = members[0]!;
    const buckets = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const res = await call(e, i % 2 === 0 ? "PUT" : "DELETE", Routes.guildMemberRole(a.guildId, userId, roleId));
      expect(res.status).toBe(204);
      for (const header of RATE_LIMIT_HEADERS) expect(res.headers.get(header), header).not.toBeNull();
      expect(res.headers.get("x-ratelimit-limit")).toBe("10");
      expect(res.headers.get("x-ratelimit-remaining")).toBe(String(9 - i));
      const resetAfter = Number(res.headers.get("x-ratelimit-reset-after"));
      expect(resetAfter).toBeGreaterThan(0);
      expect(resetAfter).toBeLessThanOrEqual(10);
      expect(Number(res.headers.get("x-ratelimit-reset")) * 1000).toBeGreaterThan(Date.now());
      buckets.add(res.headers.get("x-ratelimit-bucket")!);
    }
    expect(buckets.size).toBe(1);
    const rolesBefore = e.member(a.guildId, userId)!.roles;

    const limited = await call<{ message: string; retry_after: number; global: boolean }>(
      e,
      "PUT",
      Routes.guildMemberRole(a.guildId, userId, roleId),
    );
    expect(limited.status).toBe(429);
    const validate = responseValidator(MEMBER_ROLE, "put", 429);
    expect(validate(limited.body), JSON.stringify(validate.errors)).toBe(true);
    expect(limited.body).toMatchObject({ message: "You are being rate limited.", global: false });
    expect(limited.body.retry_after).toBeGreaterThan(0);
    expect(limited.body.retry_after).toBeLessThanOrEqual(10);
    expect(limited.headers.get("retry-after")).toBe(String(Math.ceil(limited.body.retry_after)));
    expect(limited.headers.get("x-ratelimit-scope")).toBe("user");
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(limited.headers.get("x-ratelimit-global")).toBeNull();
    expect(limited.headers.get("x-ratelimit-bucket")).toBe([...buckets][0]);
    expect(e.member(a.guildId, userId)!.roles).toEqual(rolesBefore);

    // Another guild has its own bucket; PATCH member has its own bucket too.
    const other = await fixtures(e, b);
    const inB = await call(e, "PUT", Routes.guildMemberRole(b.guildId, other.members[0]!, other.roleId));
    expect(inB.status).toBe(204);
    expect(inB.headers.get("x-ratelimit-remaining")).toBe("9");
    expect(inB.headers.get("x-ratelimit-bucket")).toBe([...buckets][0]);
    const patch = await call(e, "PATCH", Routes.guildMember(a.guildId, members[1]!), { body: { nick: "Patched" } });
    expect(patch.status).toBe(200);
    expect(patch.headers.get("x-ratelimit-bucket")).not.toBe([...buckets][0]);
    expect(patch.headers.get("x-ratelimit-remaining")).toBe("9");

    expect(bucketOf(e, "memberRoles", a.guildId)).toMatchObject({ requests: 11, limited: 1, limit: 10, windowMs: 10_000 });
    expect(bucketOf(e, "memberRoles", b.guildId)).toMatchObject({ requests: 1, limited: 0 });
    expect(bucketOf(e, "memberPatch", a.guildId)).toMatchObject({ requests: 1, limited: 0 });
    expect(e.rateLimits().totals.limited).toBe(1);
  });

  it("the window is fixed: it opens with the first request and resets Reset-After later, whole", async () => {
    // 3 s: long enough that four requests on a loaded machine land in one window.
    const e = await emulatorWith({ rateLimits: { memberRoles: { limit: 3, windowMs: 3_000 } } });
    const g = e.seedGuild({ seed: 33, members: 30, staff: 1 });
    const { members, roleId } = await fixtures(e, g);
    const put = (i: number) => call(e, "PUT", Routes.guildMemberRole(g.guildId, members[i]!, roleId));
    const first = await put(0);
    const resetAt = Number(first.headers.get("x-ratelimit-reset")) * 1000;
    expect((await put(1)).status).toBe(204);
    expect((await put(2)).status).toBe(204);
    expect((await put(3)).status).toBe(429);
    // Wait for the advertised reset (a condition on the clock, not a fixed sleep).
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThanOrEqual(resetAt), { timeout: 10_000, interval: 20 });
    const next = await put(3);
    expect(next.status).toBe(204);
    expect(next.headers.get("x-ratelimit-remaining")).toBe("2");
    expect(bucketOf(e, "memberRoles", g.guildId)).toMatchObject({ requests: 5, limited: 1 });
  });

  it("routes without a named bucket get one each per major parameter, at the default 50 per second", async () => {
    const e = await emulatorWith({ rateLimits: { default: { limit: 2, windowMs: 60_000 } } });
    const g = e.seedGuild({ seed: 34, members: 10, staff: 1 });
    const h = e.seedGuild({ seed: 35, members: 10, staff: 1 });
    expect((await call(e, "GET", `/guilds/${g.guildId}/roles`)).status).toBe(200);
    expect((await call(e, "GET", `/guilds/${g.guildId}/roles`)).status).toBe(200);
    expect((await call(e, "GET", `/guilds/${g.guildId}/roles`)).status).toBe(429);
    expect((await call(e, "GET", `/guilds/${h.guildId}/roles`)).status).toBe(200);
    expect((await call(e, "GET", `/guilds/${g.guildId}/channels`)).status).toBe(200);
    expect(bucketOf(e, "GET /guilds/:guild_id/roles", g.guildId)).toMatchObject({ requests: 3, limited: 1, limit: 2 });
    expect(DEFAULT_RATE_LIMITS.default).toEqual({ limit: 50, windowMs: 1_000 });
  });
});

describe("the global limit", () => {
  it("counts bot requests over every route: 429 with X-RateLimit-Global and scope global; requests without the bot token are not counted", async () => {
    const e = await emulatorWith({ rateLimits: { global: { limit: 5, windowMs: 60_000 } } });
    const g = e.seedGuild({ seed: 36, members: 10, staff: 1 });
    for (const path of [
      "/gateway/bot",
      `/guilds/${g.guildId}`,
      `/guilds/${g.guildId}/roles`,
      "/users/@me",
      `/guilds/${g.guildId}/channels`,
    ])
      expect((await call(e, "GET", path)).status).toBe(200);
    const limited = await call<{ retry_after: number; global: boolean }>(e, "GET", `/guilds/${g.guildId}/members?limit=1`);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ global: true, message: "You are being rate limited." });
    expect(limited.body.retry_after).toBeGreaterThan(0);
    expect(limited.headers.get("x-ratelimit-global")).toBe("true");
    expect(limited.headers.get("x-ratelimit-scope")).toBe("global");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const validate = responseValidator("/guilds/{guild_id}/members", "get", 429);
    expect(validate(limited.body), JSON.stringify(validate.errors)).toBe(true);
    // Without the bot token (GET /gateway needs none) the global limit does not apply.
    expect((await call(e, "GET", "/gateway", { token: null })).status).toBe(200);
    expect(e.rateLimits().global).toEqual({ requests: 6, limited: 1 });
    // The refused request reached no route bucket, but counts as a call made and a 429 met.
    expect(bucketOf(e, "GET /guilds/:guild_id/members", g.guildId)).toBeUndefined();
    expect(e.rateLimits().totals).toEqual({ requests: 7, limited: 1 });
  });
});

describe("configuration and counters", () => {
  it("limits are checked at start and at run time, through the control API too; counters reset", async () => {
    await expect(startEmulator({ rateLimits: { memberRoles: { limit: 0, windowMs: 1000 } } })).rejects.toThrow(
      /rateLimits.memberRoles.limit/,
    );
    await expect(startEmulator({ rateLimits: { bogus: {} } as never })).rejects.toBeInstanceOf(EmulatorError);
    const e = await emulatorWith();
    const control = new EmulatorControl(e.url);
    expect(await control.setRateLimits({ memberRoles: { limit: 2, windowMs: 60_000 }, global: null })).toEqual({
      ...DEFAULT_RATE_LIMITS,
      memberRoles: { limit: 2, windowMs: 60_000 },
      global: null,
    });
    await expect(control.setRateLimits({ memberPatch: { limit: 5, windowMs: -1 } })).rejects.toThrow(/rateLimits.memberPatch.windowMs/);
    const g = e.seedGuild({ seed: 37, members: 20, staff: 1 });
    const { members, roleId } = await fixtures(e, g);
    for (let i = 0; i < 3; i++) await call(e, "PUT", Routes.guildMemberRole(g.guildId, members[i]!, roleId));
    const report = await control.rateLimits();
    expect(report.settings.memberRoles).toEqual({ limit: 2, windowMs: 60_000 });
    expect(report.buckets.find((b) => b.name === "memberRoles")).toMatchObject({ major: g.guildId, requests: 3, limited: 1 });
    await control.resetRateLimits();
    expect((await control.rateLimits()).buckets).toEqual([]);
    expect((await control.rateLimits()).totals).toEqual({ requests: 0, limited: 0 });
    // The reset opened a new window too.
    expect((await call(e, "PUT", Routes.guildMemberRole(g.guildId, members[3]!, roleId))).status).toBe(204);
  });
});

describe("@discordjs/rest against the buckets", () => {
  it("30 role PUTs in one guild meet at most one 429 and take about two windows (10 per window)", async () => {
    const windowMs = 1_500;
    const e = await emulatorWith({ rateLimits: { memberRoles: { limit: 10, windowMs } } });
    const g = e.seedGuild({ seed: 38, members: 80, staff: 1 });
    const { members, roleId } = await fixtures(e, g);
    const targets = members.filter((id) => !e.member(g.guildId, id)!.roles.includes(roleId)).slice(0, 30);
    expect(targets).toHaveLength(30);
    const rest = new REST({ api: e.apiUrl }).setToken(e.token);
    const startedAt = Date.now();
    await Promise.all(targets.map((id) => rest.put(Routes.guildMemberRole(g.guildId, id, roleId), { reason: "Bulk grant" })));
    const elapsed = Date.now() - startedAt;

    for (const id of targets) expect(e.member(g.guildId, id)!.roles).toContain(roleId);
    const bucket = bucketOf(e, "memberRoles", g.guildId)!;
    expect(bucket.limited).toBeLessThanOrEqual(1);
    expect(bucket.requests).toBe(30 + bucket.limited);
    // Three windows of 10: the third cannot open before two whole windows passed (the floor).
    expect(elapsed).toBeGreaterThanOrEqual(2 * windowMs);
    // Well under three windows: no 429 made anyone wait a window more (slack for a loaded machine).
    expect(elapsed).toBeLessThan(2 * windowMs + 3_000);
    expect(e.auditLog(g.guildId, { userId: e.applicationId }).filter((x) => x.reason === "Bulk grant")).toHaveLength(30);
  });
});
