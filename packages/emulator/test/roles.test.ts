import type { GuildMember } from "discord.js";
import { Client, Events, GatewayIntentBits as I } from "discord.js";
import type { APIGuildMember, APIRole } from "discord-api-types/v10";
import { RESTJSONErrorCodes as Codes, PermissionFlagsBits as P } from "discord-api-types/v10";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Emulator, SeededGuild } from "../src/index";
import { AuditAction, EmulatorControl, EmulatorControlError, startEmulator } from "../src/index";
import { responseValidator, withNumericInnerCodes } from "./helpers";

let emulator: Emulator;
let guild: SeededGuild;
let client: Client<true>;
/** Members of `guild` by kind, picked from the seeded population. */
let plain: string[];
let booster: string;
let ordinary: string[];

/** One REST call as the bot; `reason` goes in X-Audit-Log-Reason, URL-encoded as discord.js sends it. */
async function call<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  reason?: string,
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { authorization: `Bot ${emulator.token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (reason !== undefined) headers["x-audit-log-reason"] = encodeURIComponent(reason);
  const res = await fetch(`${emulator.apiUrl}/v10${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text === "" ? undefined : JSON.parse(text)) as T, headers: res.headers };
}

/** Checks `body` against the spec's answer for `method path` with `status` (4XX: Discord's error body). */
function expectSpec(path: string, method: string, status: number, body: unknown): void {
  const validate = responseValidator(path, method, status);
  if (!validate(body)) throw new Error(`${method} ${path} ${status} does not match the spec: ${JSON.stringify(validate.errors, null, 1)}`);
}

/** Expects a Discord error `{code, message}` with `status`, valid against the spec's 4XX body. */
function expectError(res: { status: number; body: unknown }, status: number, code: number, specPath: string, method: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ code });
  expectSpec(specPath, method, status, withNumericInnerCodes(res.body));
}

const MEMBER = "/guilds/{guild_id}/members/{user_id}";
const MEMBER_ROLE = "/guilds/{guild_id}/members/{user_id}/roles/{role_id}";
const memberPath = (userId: string, g = guild.guildId) => `/guilds/${g}/members/${userId}`;
const rolePath = (userId: string, roleId: string, g = guild.guildId) => `/guilds/${g}/members/${userId}/roles/${roleId}`;

/** The next guildMemberUpdate the discord.js client emits for `userId` whose new state passes `test`. */
function memberUpdate(userId: string, test: (m: GuildMember) => boolean): Promise<{ old: GuildMember; now: GuildMember }> {
  return new Promise((resolve) => {
    const listener = (old: GuildMember | { id: string }, now: GuildMember) => {
      if (now.id !== userId || !test(now)) return;
      client.off(Events.GuildMemberUpdate, listener);
      resolve({ old: old as GuildMember, now });
    };
    client.on(Events.GuildMemberUpdate, listener);
  });
}

/** GUILD_MEMBER_UPDATE packets the client received, by user id. */
const updates = new Map<string, number>();
const updatesOf = (userId: string) => updates.get(userId) ?? 0;

beforeAll(async () => {
  // Functional tests here: limits high enough never to get in the way (ratelimits.test.ts tests them).
  emulator = await startEmulator({
    rateLimits: { memberRoles: { limit: 10_000, windowMs: 1_000 }, memberPatch: { limit: 10_000, windowMs: 1_000 }, global: null },
  });
  guild = emulator.seedGuild({ seed: 21, members: 400, staff: 5 });
  const c = new Client({ intents: [I.Guilds, I.GuildMembers], rest: { api: emulator.apiUrl, cdn: emulator.cdnUrl } });
  c.on(Events.Raw, (packet: { t: string | null; d: { user?: { id: string } } }) => {
    if (packet.t === "GUILD_MEMBER_UPDATE" && packet.d.user) updates.set(packet.d.user.id, updatesOf(packet.d.user.id) + 1);
  });
  const ready = new Promise<void>((resolve) => c.once(Events.ClientReady, () => resolve()));
  await c.login(emulator.token);
  await ready;
  client = c as Client<true>;
  await client.guilds.cache.get(guild.guildId)!.members.fetch();

  const members = (await call<APIGuildMember[]>("GET", `/guilds/${guild.guildId}/members?limit=1000`)).body;
  const special = new Set([guild.ownerId, ...guild.admins, ...guild.staff.map((s) => s.userId)]);
  const managed = [guild.boosterRoleId, guild.integrationRoleId, guild.linkedRoleId];
  plain = members.filter((m) => !m.user.bot && !special.has(m.user.id) && !m.roles.some((r) => managed.includes(r))).map((m) => m.user.id);
  booster = members.find((m) => m.roles.includes(guild.boosterRoleId) && !special.has(m.user.id))!.user.id;
  ordinary = guild.roles.filter((r) => ["Member", "Veteran", "Event Host", "Artist", "Developer"].includes(r.name)).map((r) => r.id);
  expect(plain.length).toBeGreaterThan(20);
  expect(ordinary).toHaveLength(5);
});
afterAll(async () => {
  await client?.destroy();
  await emulator?.close();
});

describe("seeded roles", () => {
  it("have positions from @everyone (0) up to the bot's managed role, and managed roles with Discord's tags", async () => {
    const roles = (await call<APIRole[]>("GET", `/guilds/${guild.guildId}/roles`)).body;
    expectSpec("/guilds/{guild_id}/roles", "get", 200, roles);
    const byId = new Map(roles.map((r) => [r.id, r]));
    expect(byId.get(guild.guildId)).toMatchObject({ name: "@everyone", position: 0, managed: false });
    expect(byId.get(guild.boosterRoleId)).toMatchObject({ name: "Server Booster", managed: true, tags: { premium_subscriber: null } });
    expect(byId.get(guild.integrationRoleId)).toMatchObject({ managed: true, tags: { integration_id: expect.any(String) } });
    expect(byId.get(guild.linkedRoleId)).toMatchObject({ managed: true, tags: { guild_connections: null } });
    expect(byId.get(guild.botRoleId)).toMatchObject({ managed: true, tags: { bot_id: emulator.applicationId } });
    const positions = roles.map((r) => r.position).sort((a, b) => a - b);
    expect(positions).toEqual(roles.map((_, i) => i));
    expect(Math.max(...positions)).toBe(byId.get(guild.botRoleId)!.position);
    expect(emulator.roles(guild.guildId).map((r) => r.id)).toEqual([...roles].sort((a, b) => a.position - b.position).map((r) => r.id));
    // discord.js reads the same: the bot's highest role is its managed role.
    const me = client.guilds.cache.get(guild.guildId)!.members.me!;
    expect(me.roles.highest.id).toBe(guild.botRoleId);
    expect(client.guilds.cache.get(guild.guildId)!.roles.premiumSubscriberRole?.id).toBe(guild.boosterRoleId);
  });
});

describe("PUT and DELETE /guilds/{g}/members/{u}/roles/{r}", () => {
  it("grants and removes a role (204), one GUILD_MEMBER_UPDATE and one audit entry with the decoded reason each", async () => {
    const userId = plain[0]!;
    const roleId = ordinary.find((r) => !emulator.member(guild.guildId, userId)!.roles.includes(r))!;
    const roleName = guild.roles.find((r) => r.id === roleId)!.name;
    const granted = memberUpdate(userId, (m) => m.roles.cache.has(roleId));
    const put = await call("PUT", rolePath(userId, roleId), undefined, "Group sync: élan & co / 100%");
    expect(put.status).toBe(204);
    expect(put.body).toBeUndefined();
    const { old, now } = await granted;
    expect(old.roles.cache.has(roleId)).toBe(false);
    expect(now.roles.cache.has(roleId)).toBe(true);
    expect(emulator.member(guild.guildId, userId)!.roles).toContain(roleId);

    const [entry] = emulator.auditLog(guild.guildId, { targetId: userId });
    expect(entry).toMatchObject({
      actionType: AuditAction.MemberRoleUpdate,
      userId: emulator.applicationId,
      targetId: userId,
      changes: [{ key: "$add", new_value: [{ id: roleId, name: roleName }] }],
      reason: "Group sync: élan & co / 100%",
    });
    expect(entry!.at).toBeGreaterThan(Date.now() - 60_000);

    // Granting it again changes nothing: 204, no event, no entry.
    const before = updatesOf(userId);
    expect((await call("PUT", rolePath(userId, roleId))).status).toBe(204);
    expect(emulator.auditLog(guild.guildId, { targetId: userId })).toHaveLength(1);

    const removed = memberUpdate(userId, (m) => !m.roles.cache.has(roleId));
    expect((await call("DELETE", rolePath(userId, roleId))).status).toBe(204);
    await removed;
    // The repeated PUT sent nothing: the one update since is the DELETE's.
    expect(updatesOf(userId)).toBe(before + 1);
    expect(emulator.member(guild.guildId, userId)!.roles).not.toContain(roleId);
    const entries = emulator.auditLog(guild.guildId, { targetId: userId });
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatchObject({ changes: [{ key: "$remove", new_value: [{ id: roleId }] }], reason: null });
    expect((await call("DELETE", rolePath(userId, roleId))).status).toBe(204);
    expect(emulator.auditLog(guild.guildId, { targetId: userId })).toHaveLength(2);
  });

  it("10007 Unknown Member, 10011 Unknown Role, 10004 Unknown Guild", async () => {
    const unknownUser = "100000000000000001";
    expectError(await call("PUT", rolePath(unknownUser, ordinary[0]!)), 404, Codes.UnknownMember, MEMBER_ROLE, "put");
    expectError(await call("DELETE", rolePath(unknownUser, ordinary[0]!)), 404, Codes.UnknownMember, MEMBER_ROLE, "delete");
    expectError(await call("PUT", rolePath(plain[1]!, "100000000000000002")), 404, Codes.UnknownRole, MEMBER_ROLE, "put");
    expectError(await call("DELETE", rolePath(plain[1]!, "not-a-role")), 404, Codes.UnknownRole, MEMBER_ROLE, "delete");
    expectError(await call("PUT", rolePath(plain[1]!, ordinary[0]!, "100000000000000003")), 404, Codes.UnknownGuild, MEMBER_ROLE, "put");
  });

  it("50028 Invalid Role for a managed role (booster, integration, linked, the bot's) or @everyone, granted or removed", async () => {
    for (const roleId of [guild.boosterRoleId, guild.integrationRoleId, guild.linkedRoleId, guild.botRoleId, guild.guildId]) {
      expectError(await call("PUT", rolePath(plain[1]!, roleId)), 400, Codes.InvalidRole, MEMBER_ROLE, "put");
    }
    expectError(await call("DELETE", rolePath(booster, guild.boosterRoleId)), 400, Codes.InvalidRole, MEMBER_ROLE, "delete");
    expect(emulator.member(guild.guildId, booster)!.roles).toContain(guild.boosterRoleId);
    expect(emulator.member(guild.guildId, plain[1]!)!.roles).not.toContain(guild.boosterRoleId);
  });
});

describe("PATCH /guilds/{g}/members/{u}", () => {
  it("replaces the role list: 200 with the member (spec shape), one GUILD_MEMBER_UPDATE, one audit entry with $add and $remove", async () => {
    const userId = plain[2]!;
    const current = emulator.member(guild.guildId, userId)!.roles;
    const next = [ordinary.find((r) => !current.includes(r))!, ...current.slice(1)];
    const before = updatesOf(userId);
    const changed = memberUpdate(userId, (m) => next.every((r) => m.roles.cache.has(r)));
    const res = await call<APIGuildMember>("PATCH", memberPath(userId), { roles: next }, "Reconcile run 7");
    expect(res.status).toBe(200);
    expectSpec(MEMBER, "patch", 200, res.body);
    expect(res.body.roles).toEqual(next);
    await changed;
    expect(updatesOf(userId)).toBe(before + 1);
    const entries = emulator.auditLog(guild.guildId, { targetId: userId, actionType: AuditAction.MemberRoleUpdate });
    expect(entries).toHaveLength(1);
    expect(entries[0]!.changes).toEqual([
      { key: "$add", new_value: [{ id: next[0], name: expect.any(String) }] },
      { key: "$remove", new_value: [{ id: current[0], name: expect.any(String) }] },
    ]);
    expect(entries[0]!.reason).toBe("Reconcile run 7");
  });

  it("changes the nickname (MEMBER_UPDATE audit entry); an empty nick removes it; the same list again changes nothing", async () => {
    const userId = plain[3]!;
    const nicked = memberUpdate(userId, (m) => m.nickname === "Ada [Guild]");
    const res = await call<APIGuildMember>("PATCH", memberPath(userId), { nick: "Ada [Guild]" }, "Template");
    expect(res.status).toBe(200);
    expect(res.body.nick).toBe("Ada [Guild]");
    await nicked;
    expect(emulator.auditLog(guild.guildId, { targetId: userId })).toEqual([
      expect.objectContaining({
        actionType: AuditAction.MemberUpdate,
        changes: [{ key: "nick", old_value: null, new_value: "Ada [Guild]" }],
      }),
    ]);
    const cleared = await call<APIGuildMember>("PATCH", memberPath(userId), { nick: "" });
    expect(cleared.body.nick).toBeNull();
    const before = updatesOf(userId);
    const same = await call<APIGuildMember>("PATCH", memberPath(userId), { roles: emulator.member(guild.guildId, userId)!.roles });
    expect(same.status).toBe(200);
    expect(emulator.auditLog(guild.guildId, { targetId: userId })).toHaveLength(2);
    // A sentinel change: had the no-op sent an update, the count would be 2 more.
    const sentinel = memberUpdate(userId, (m) => m.nickname === "Sentinel");
    await call("PATCH", memberPath(userId), { nick: "Sentinel" });
    await sentinel;
    expect(updatesOf(userId)).toBe(before + 1);
  });

  it("a booster's PATCH must carry the managed role: dropping it is 403 / 50013, carrying it unchanged works", async () => {
    const current = emulator.member(guild.guildId, booster)!.roles;
    const withoutBooster = current.filter((r) => r !== guild.boosterRoleId);
    expectError(await call("PATCH", memberPath(booster), { roles: withoutBooster }), 403, Codes.MissingPermissions, MEMBER, "patch");
    const addIntegration = [...current, guild.integrationRoleId].filter((r, i, a) => a.indexOf(r) === i);
    if (!current.includes(guild.integrationRoleId))
      expectError(await call("PATCH", memberPath(booster), { roles: addIntegration }), 403, Codes.MissingPermissions, MEMBER, "patch");
    expect(emulator.member(guild.guildId, booster)!.roles).toEqual(current);
    const extra = ordinary.find((r) => !current.includes(r))!;
    const ok = await call<APIGuildMember>("PATCH", memberPath(booster), { roles: [...current, extra] });
    expect(ok.status).toBe(200);
    expect(ok.body.roles).toEqual([...current, extra]);
    expect(ok.body.roles).toContain(guild.boosterRoleId);
  });

  it("10007, 10011, 50035 naming the field, 40032 for voice fields; the guild owner's nick is 403 / 50013", async () => {
    expectError(await call("PATCH", memberPath("100000000000000001"), { nick: "x" }), 404, Codes.UnknownMember, MEMBER, "patch");
    expectError(await call("PATCH", memberPath(plain[4]!), { roles: ["100000000000000002"] }), 404, Codes.UnknownRole, MEMBER, "patch");
    const notArray = await call<{ errors: unknown }>("PATCH", memberPath(plain[4]!), { roles: "admin" });
    expectError(notArray, 400, Codes.InvalidFormBodyOrContentType, MEMBER, "patch");
    expect(notArray.body.errors).toHaveProperty("roles");
    const tooLong = await call<{ errors: unknown }>("PATCH", memberPath(plain[4]!), { nick: "x".repeat(33) });
    expectError(tooLong, 400, Codes.InvalidFormBodyOrContentType, MEMBER, "patch");
    expect(tooLong.body.errors).toHaveProperty("nick");
    expectError(await call("PATCH", memberPath(plain[4]!), { mute: true }), 400, Codes.TargetUserIsNotConnectedToVoice, MEMBER, "patch");
    expectError(await call("PATCH", memberPath(guild.ownerId), { nick: "The Boss" }), 403, Codes.MissingPermissions, MEMBER, "patch");
    expect(emulator.member(guild.guildId, guild.ownerId)!.nick).not.toBe("The Boss");
  });

  it("the bot changes its own nickname through /members/@me", async () => {
    const res = await call<APIGuildMember>("PATCH", `/guilds/${guild.guildId}/members/@me`, { nick: "Guildhall" });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(emulator.applicationId);
    expect(emulator.member(guild.guildId, emulator.applicationId)!.nick).toBe("Guildhall");
  });
});

describe("the hierarchy (a second guild whose roles the tests rearrange)", () => {
  let g: SeededGuild;
  let members: string[];
  beforeAll(async () => {
    g = emulator.seedGuild({ seed: 22, members: 60, staff: 2 });
    const list = (await call<APIGuildMember[]>("GET", `/guilds/${g.guildId}/members?limit=100`)).body;
    const special = new Set([g.ownerId, ...g.admins, ...g.staff.map((s) => s.userId)]);
    members = list.filter((m) => !m.user.bot && !special.has(m.user.id)).map((m) => m.user.id);
  });

  it("a role above the bot's highest, or EQUAL to it (its highest role itself), is refused with 50013; one below works", async () => {
    const above = emulator.createRole(g.guildId, { name: "Council", position: 250 });
    const top = emulator.roles(g.guildId).at(-1)!;
    expect(top.id).toBe(above.id);
    expectError(await call("PUT", rolePath(members[0]!, above.id, g.guildId)), 403, Codes.MissingPermissions, MEMBER_ROLE, "put");

    // The bot's highest role becomes an ordinary role it holds: equal is refused too.
    const highest = emulator.createRole(g.guildId, { name: "Bot Top" });
    emulator.updateMember(g.guildId, emulator.applicationId, { roles: [g.botRoleId, highest.id] });
    const botPosition = emulator.roles(g.guildId).find((r) => r.id === g.botRoleId)!.position;
    emulator.setRolePositions(g.guildId, [{ id: highest.id, position: botPosition }]);
    const after = new Map(emulator.roles(g.guildId).map((r) => [r.id, r.position]));
    expect(after.get(highest.id)).toBeGreaterThan(after.get(g.botRoleId)!);
    expect(after.get(above.id)).toBeGreaterThan(after.get(highest.id)!);
    expectError(await call("PUT", rolePath(members[0]!, highest.id, g.guildId)), 403, Codes.MissingPermissions, MEMBER_ROLE, "put");
    expectError(
      await call("PATCH", memberPath(members[0]!, g.guildId), { roles: [highest.id] }),
      403,
      Codes.MissingPermissions,
      MEMBER,
      "patch",
    );
    // Its own managed role is now below its highest, but still managed: 50028.
    expectError(await call("PUT", rolePath(members[0]!, g.botRoleId, g.guildId)), 400, Codes.InvalidRole, MEMBER_ROLE, "put");
    const below = emulator.roles(g.guildId).find((r) => r.name === "Member")!;
    expect((await call("PUT", rolePath(members[0]!, below.id, g.guildId))).status).toBe(204);

    // Nicknames: a member whose highest role is above the bot's, or equal to it, is refused.
    emulator.updateMember(g.guildId, members[1]!, { roles: [above.id] });
    expectError(await call("PATCH", memberPath(members[1]!, g.guildId), { nick: "x" }), 403, Codes.MissingPermissions, MEMBER, "patch");
    emulator.updateMember(g.guildId, members[1]!, { roles: [highest.id] });
    expectError(await call("PATCH", memberPath(members[1]!, g.guildId), { nick: "x" }), 403, Codes.MissingPermissions, MEMBER, "patch");
    emulator.updateMember(g.guildId, members[1]!, { roles: [below.id] });
    expect((await call("PATCH", memberPath(members[1]!, g.guildId), { nick: "x" })).status).toBe(200);
    // Removing a role above the bot from someone is refused as well.
    emulator.updateMember(g.guildId, members[2]!, { roles: [above.id] });
    expectError(await call("DELETE", rolePath(members[2]!, above.id, g.guildId)), 403, Codes.MissingPermissions, MEMBER_ROLE, "delete");
  });

  it("without MANAGE_ROLES role changes are 50013; without MANAGE_NICKNAMES nicknames are; ADMINISTRATOR gives both", async () => {
    emulator.editRole(g.guildId, g.guildId, { permissions: "0" });
    emulator.editRole(g.guildId, g.botRoleId, { permissions: String(P.ManageNicknames) });
    const member = members[3]!;
    const role = emulator.roles(g.guildId).find((r) => r.name === "Veteran")!;
    expectError(await call("PUT", rolePath(member, role.id, g.guildId)), 403, Codes.MissingPermissions, MEMBER_ROLE, "put");
    expectError(await call("DELETE", rolePath(member, role.id, g.guildId)), 403, Codes.MissingPermissions, MEMBER_ROLE, "delete");
    expectError(await call("PATCH", memberPath(member, g.guildId), { roles: [role.id] }), 403, Codes.MissingPermissions, MEMBER, "patch");
    expect((await call("PATCH", memberPath(member, g.guildId), { nick: "Renamed" })).status).toBe(200);

    emulator.editRole(g.guildId, g.botRoleId, { permissions: String(P.ManageRoles) });
    expectError(await call("PATCH", memberPath(member, g.guildId), { nick: "Again" }), 403, Codes.MissingPermissions, MEMBER, "patch");
    expect((await call("PUT", rolePath(member, role.id, g.guildId))).status).toBe(204);

    emulator.editRole(g.guildId, g.botRoleId, { permissions: String(P.Administrator) });
    expect((await call("PATCH", memberPath(member, g.guildId), { nick: "Again" })).status).toBe(200);
  });
});

describe("discord.js drives the member routes", () => {
  it("roles.add / roles.remove / roles.set / setNickname: each a GUILD_MEMBER_UPDATE, audited with the reason discord.js sends", async () => {
    const userId = plain[5]!;
    const member = await client.guilds.cache.get(guild.guildId)!.members.fetch(userId);
    const [a, b] = ordinary.filter((r) => !member.roles.cache.has(r));
    const before = updatesOf(userId);
    // Each step waits for its GUILD_MEMBER_UPDATE: discord.js computes roles.set from its cache.
    const step = async (n: number, change: () => Promise<unknown>) => {
      await change();
      await vi.waitFor(() => expect(updatesOf(userId)).toBe(before + n), { timeout: 5_000, interval: 10 });
    };
    await step(1, () => member.roles.add(a!, "Role menu pick"));
    await step(2, () => member.roles.remove(a!, "Role menu unpick"));
    await step(3, () => member.roles.set([...member.roles.cache.keys()].filter((r) => r !== guild.guildId).concat(b!), "Bulk"));
    await step(4, () => member.setNickname("Grace [Ops]", "Nickname template"));
    expect(member.roles.cache.has(b!)).toBe(true);
    expect(member.nickname).toBe("Grace [Ops]");
    const entries = emulator.auditLog(guild.guildId, { targetId: userId });
    expect(entries.map((e) => [e.actionType, e.reason])).toEqual([
      [AuditAction.MemberRoleUpdate, "Role menu pick"],
      [AuditAction.MemberRoleUpdate, "Role menu unpick"],
      [AuditAction.MemberRoleUpdate, "Bulk"],
      [AuditAction.MemberUpdate, "Nickname template"],
    ]);
  });

  it("a refused change rejects with Discord's code: 50028 for a managed role, 50013 for the owner's nickname", async () => {
    const g = client.guilds.cache.get(guild.guildId)!;
    const member = await g.members.fetch(plain[6]!);
    await expect(member.roles.add(guild.boosterRoleId)).rejects.toMatchObject({ code: Codes.InvalidRole, status: 400 });
    const owner = await g.members.fetch(guild.ownerId);
    await expect(owner.setNickname("nope")).rejects.toMatchObject({ code: Codes.MissingPermissions, status: 403 });
  });
});

describe("roles through REST and the control API", () => {
  it("POST, PATCH, position PATCH and DELETE /guilds/{g}/roles: spec shapes, GUILD_ROLE_* to discord.js, audit entries", async () => {
    const g = client.guilds.cache.get(guild.guildId)!;
    const created = new Promise<string>((resolve) => client.once(Events.GuildRoleCreate, (role) => resolve(role.id)));
    const res = await call<APIRole>(
      "POST",
      `/guilds/${guild.guildId}/roles`,
      { name: "Raid Team", color: 0x3498db, hoist: true },
      "Mapping",
    );
    expect(res.status).toBe(200);
    expectSpec("/guilds/{guild_id}/roles", "post", 200, res.body);
    expect(res.body).toMatchObject({ name: "Raid Team", position: 1, managed: false, permissions: "0" });
    expect(await created).toBe(res.body.id);
    expect(g.roles.cache.get(res.body.id)?.name).toBe("Raid Team");

    const edited = await call<APIRole>("PATCH", `/guilds/${guild.guildId}/roles/${res.body.id}`, { name: "Raid Team A" });
    expect(edited.status).toBe(200);
    expectSpec("/guilds/{guild_id}/roles/{role_id}", "patch", 200, edited.body);
    const moved = await call<APIRole[]>("PATCH", `/guilds/${guild.guildId}/roles`, [{ id: res.body.id, position: 5 }]);
    expect(moved.status).toBe(200);
    expectSpec("/guilds/{guild_id}/roles", "patch", 200, moved.body);
    expect(moved.body.find((r) => r.id === res.body.id)?.position).toBe(5);
    const deleted = new Promise<string>((resolve) => client.once(Events.GuildRoleDelete, (role) => resolve(role.id)));
    expect((await call("DELETE", `/guilds/${guild.guildId}/roles/${res.body.id}`)).status).toBe(204);
    expect(await deleted).toBe(res.body.id);
    expect(emulator.auditLog(guild.guildId, { targetId: res.body.id }).map((e) => e.actionType)).toEqual([
      AuditAction.RoleCreate,
      AuditAction.RoleUpdate,
      AuditAction.RoleUpdate,
      AuditAction.RoleDelete,
    ]);

    expectError(
      await call("DELETE", `/guilds/${guild.guildId}/roles/${guild.boosterRoleId}`),
      400,
      Codes.InvalidRole,
      "/guilds/{guild_id}/roles/{role_id}",
      "delete",
    );
    expectError(
      await call("PATCH", `/guilds/${guild.guildId}/roles/${guild.botRoleId}`, { name: "x" }),
      403,
      Codes.MissingPermissions,
      "/guilds/{guild_id}/roles/{role_id}",
      "patch",
    );
    expectError(
      await call("DELETE", `/guilds/${guild.guildId}/roles/100000000000000009`),
      404,
      Codes.UnknownRole,
      "/guilds/{guild_id}/roles/{role_id}",
      "delete",
    );
  });

  it("the control API creates managed roles, moves and deletes roles; a deleted seeded role leaves every member", async () => {
    const control = new EmulatorControl(emulator.url);
    const twitch = await control.createRole(guild.guildId, { name: "YouTube Member", tags: { integration_id: "100000000000000010" } });
    expect(twitch).toMatchObject({ managed: true, position: 1, tags: { integration_id: "100000000000000010" } });
    expectError(await call("PUT", rolePath(plain[7]!, twitch.id)), 400, Codes.InvalidRole, MEMBER_ROLE, "put");

    const artist = guild.roles.find((r) => r.name === "Artist")!.id;
    const holders = (await call<APIGuildMember[]>("GET", `/guilds/${guild.guildId}/members?limit=1000`)).body.filter((m) =>
      m.roles.includes(artist),
    );
    expect(holders.length).toBeGreaterThan(10);
    const roleGone = new Promise<void>((resolve) => client.once(Events.GuildRoleDelete, () => resolve()));
    await control.deleteRole(guild.guildId, artist);
    await roleGone;
    const after = (await call<APIGuildMember[]>("GET", `/guilds/${guild.guildId}/members?limit=1000`)).body;
    expect(after.filter((m) => m.roles.includes(artist))).toEqual([]);
    expect(emulator.member(guild.guildId, holders[0]!.user.id)!.roles).not.toContain(artist);
    expect((await control.roles(guild.guildId)).map((r) => r.position)).toEqual((await control.roles(guild.guildId)).map((_, i) => i));

    await expect(control.deleteRole(guild.guildId, artist)).rejects.toMatchObject({ status: 404 });
    await expect(control.deleteRole(guild.guildId, guild.guildId)).rejects.toMatchObject({ status: 400 });
    await expect(control.createRole(guild.guildId, { name: "" })).rejects.toThrow(/name/);
    await expect(control.createRole(guild.guildId, { tags: { premium_subscriber: true as unknown as null } })).rejects.toThrow(
      /tags.premium_subscriber/,
    );
    await expect(control.setRolePositions(guild.guildId, [{ id: "1", position: 0 }])).rejects.toBeInstanceOf(EmulatorControlError);
  });
});
