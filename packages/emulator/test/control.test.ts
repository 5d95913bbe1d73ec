import { GatewayIntentBits as I } from "discord-api-types/v10";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Emulator } from "../src/index";
import { DEMO_GUILD, EmulatorControl, EmulatorControlError, startEmulator } from "../src/index";
import { RawGateway } from "./helpers";

let emulator: Emulator;
let control: EmulatorControl;

beforeAll(async () => {
  emulator = await startEmulator();
  control = new EmulatorControl(`${emulator.url}/`);
});
afterAll(() => emulator.close());

async function expectError(promise: Promise<unknown>, status: number, mentions: RegExp): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EmulatorControlError);
  expect((err as EmulatorControlError).status).toBe(status);
  expect((err as EmulatorControlError).message).toMatch(mentions);
}

describe("EmulatorControl", () => {
  it("reports URLs and credentials", async () => {
    expect(await control.info()).toEqual({
      url: emulator.url,
      apiUrl: emulator.apiUrl,
      cdnUrl: emulator.cdnUrl,
      gatewayUrl: emulator.gatewayUrl,
      applicationId: emulator.applicationId,
      token: emulator.token,
      clientId: emulator.applicationId,
      clientSecret: emulator.clientSecret,
      publicKey: emulator.publicKey,
    });
    expect(emulator.publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(emulator.clientSecret).toHaveLength(32);
  });

  it("seeds the demo guild deterministically and summarises it", async () => {
    const seeded = await control.seedGuild({ ...DEMO_GUILD, now: Date.UTC(2025, 0, 1) });
    expect(seeded.memberCount).toBe(500);
    expect(seeded.staff).toHaveLength(25);
    expect(seeded.roles.map((r) => r.name)).toContain("Staff");
    const twin = await startEmulator();
    try {
      expect(twin.seedGuild({ ...DEMO_GUILD, now: Date.UTC(2025, 0, 1) })).toEqual(seeded);
    } finally {
      await twin.close();
    }
    const summary = await control.guild(seeded.guildId);
    expect(summary).toMatchObject({ guildId: seeded.guildId, memberCount: 500, churn: null });
    expect(summary.onlineCount).toBeGreaterThan(100);
    expect((await control.guilds()).map((g) => g.guildId)).toEqual([seeded.guildId]);
    await expectError(control.seedGuild(DEMO_GUILD), 409, /already seeded/);
  });

  it("rejects bad input with 400 naming the field, unknown guilds with 404", async () => {
    await expectError(control.seedGuild({ seed: 1, members: 0 }), 400, /members/);
    await expectError(control.seedGuild({ seed: 2, members: 10, onlineRatio: 2 }), 400, /onlineRatio/);
    await expectError(control.seedGuild({ seed: 3, members: 10, guildId: "abc" }), 400, /guildId/);
    await expectError(control.seedGuild({ seed: 4, member: 10 } as never), 400, /member/);
    await expectError(control.guild("123456789012345678"), 404, /Unknown Guild/);
    const [g] = await control.guilds();
    const userId = g!.staff[0]!.userId;
    await expectError(control.setPresence(g!.guildId, userId, { status: "away" as never }), 400, /status/);
    await expectError(
      control.setPresence(g!.guildId, userId, { status: "online", activities: [{ name: "", type: 0 }] }),
      400,
      /activities\[0\]\.name/,
    );
    await expectError(control.setPresence(g!.guildId, "123456789012345678", { status: "online" }), 404, /Unknown Member/);
    await expectError(control.startChurn(g!.guildId, { updatesPerSecond: -1 }), 400, /updatesPerSecond/);
    await expectError(control.updateMember(g!.guildId, userId, { roles: ["1"] }), 400, /roles/);
    await expectError(control.dropConnections(1234), 400, /code/);
    const res = await fetch(`${emulator.url}/_emulator/guilds`, { method: "POST", body: "{nope" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "body is not valid JSON" });
  });

  it("drives presences, churn and membership, visible on the gateway", async () => {
    const [g] = await control.guilds();
    const guildId = g!.guildId;
    const gw = await RawGateway.connect(emulator.gatewayUrl);
    await gw.identify(emulator.token, I.Guilds | I.GuildMembers | I.GuildPresences);
    await gw.dispatch("GUILD_CREATE");

    const staffId = g!.staff[1]!.userId;
    await control.setPresence(guildId, staffId, { status: "idle", customStatus: "Back in 10" });
    const update = await gw.dispatch("PRESENCE_UPDATE", (d) => d.user.id === staffId);
    expect(update.d).toMatchObject({ status: "idle", activities: [{ type: 4, state: "Back in 10" }] });

    const added = await control.addMember(guildId, { username: "fresh.face", nick: "Fresh" });
    expect((await gw.dispatch("GUILD_MEMBER_ADD", (d) => d.user.id === added.userId)).d).toMatchObject({
      guild_id: guildId,
      nick: "Fresh",
    });
    expect((await control.guild(guildId)).memberCount).toBe(501);
    const updated = await control.updateMember(guildId, added.userId, { nick: null, roles: [g!.staffRoleId] });
    expect(updated).toMatchObject({ userId: added.userId, nick: null, roles: [g!.staffRoleId] });
    await gw.dispatch("GUILD_MEMBER_UPDATE", (d) => d.user.id === added.userId);
    expect(await control.member(guildId, added.userId)).toEqual(updated);
    await control.removeMember(guildId, added.userId);
    await gw.dispatch("GUILD_MEMBER_REMOVE", (d) => d.user.id === added.userId);
    expect(await control.member(guildId, added.userId)).toBeUndefined();

    const before = gw.dispatches("PRESENCE_UPDATE").length;
    await control.startChurn(guildId, { updatesPerSecond: 100, staffOnly: true });
    expect((await control.guild(guildId)).churn).toEqual({ updatesPerSecond: 100, staffShare: 1 });
    await vi.waitFor(() => expect(gw.dispatches("PRESENCE_UPDATE").length - before).toBeGreaterThan(10), { timeout: 5_000 });
    await control.stopChurn(guildId);
    const churned = gw.dispatches("PRESENCE_UPDATE").slice(before);
    expect(churned.length).toBeGreaterThan(10);
    const staffIds = new Set(g!.staff.map((s) => s.userId));
    expect(churned.every((f) => staffIds.has(f.d.user.id))).toBe(true);
    expect((await control.guild(guildId)).churn).toBeNull();

    const sessions = await control.sessions();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ shard: [0, 1], intents: I.Guilds | I.GuildMembers | I.GuildPresences, connected: true });
    await control.dropConnections(4000);
    expect((await gw.closed).code).toBe(4000);
    expect((await control.sessions())[0]?.connected).toBe(false);
  });

  it("dispatches a raw event exactly as given to the guild's sessions, whatever their intents (dispatchRaw)", async () => {
    const [g] = await control.guilds();
    const guildId = g!.guildId;
    // GUILDS only: a raw PRESENCE_UPDATE reaches it anyway.
    const gw = await RawGateway.connect(emulator.gatewayUrl);
    await gw.identify(emulator.token, I.Guilds);
    await gw.dispatch("GUILD_CREATE");
    const hostile = { user: { id: 42 }, guild_id: guildId, status: "evil\u0000", activities: "none", lone: "\ud800" };
    // Every session of the shard: this one, and the one the previous test dropped (buffered for its RESUME).
    const sessions = (await control.sessions()).length;
    expect(await control.dispatchRaw(guildId, "PRESENCE_UPDATE", hostile)).toBe(sessions);
    const frame = await gw.next((f) => f.op === 0 && f.t === "PRESENCE_UPDATE");
    expect(frame.d).toEqual(hostile);
    expect(emulator.dispatchRaw(guildId, "GUILD_MEMBER_UPDATE", null)).toBe(sessions);
    expect((await gw.next((f) => f.op === 0 && f.t === "GUILD_MEMBER_UPDATE")).d).toBeNull();
    // The guild's state is untouched: the event was only sent.
    expect(await control.member(guildId, "42")).toBeUndefined();
    await expectError(control.dispatchRaw(guildId, "presence update", {}), 400, /t must be a gateway event name/);
    await expectError(control.dispatchRaw("1", "PRESENCE_UPDATE", {}), 404, /1/);
    gw.close();
  });
});
