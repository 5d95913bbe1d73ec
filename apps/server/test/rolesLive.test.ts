/**
 * Role reconciliation as it runs by itself, through the server and the Discord emulator: the
 * per-guild pg-boss schedules (created, changed, removed from the Roles settings), a verify that
 * plans against the mirror without reading Discord, live re-plans of one member after a
 * GUILD_MEMBER_UPDATE (pushed the way the bot pushes it) and after a group change, moderators'
 * removals under `restore` and `remember`, the echo of Guildhall's own change, a preview-only
 * mapping left alone live, `both` authority carried by timestamps, and flapping members flagged
 * and cleared.
 */
import { createClient, type GuildhallClient } from "@guildhall/api";
import { Database, schema } from "@guildhall/db";
import { type Emulator, startEmulator } from "@guildhall/emulator";
import { Jobs, QUEUES, RolesHardCheck, RolesVerify } from "@guildhall/jobs";
import { Reconciler } from "@guildhall/sync";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureFirstAdmin, type RunningServer, seedDemoGuild, startServer } from "../src";
import { ADMIN, signIn } from "./helpers";

const WAIT = { timeout: 60_000, interval: 100 };
const USER_BASE = 910_000_000_000_000_000n;
const discordIdOf = (u: number) => String(USER_BASE + BigInt(u));
const N = 12;

const fastJobs = {
  pollingIntervalSeconds: 0.5,
  superviseIntervalSeconds: 1,
  monitorIntervalSeconds: 1,
  stopTimeoutMs: 200,
  queues: QUEUES.map((q) =>
    q.name === "roles.apply" || q.name === "roles.member" ? { ...q, retryDelaySeconds: 1, retryBackoff: false } : q,
  ),
};

describe("role reconciliation, live and scheduled", () => {
  let emulator: Emulator;
  let server: RunningServer;
  let client: GuildhallClient;
  let bot: GuildhallClient;
  let guildId: string;
  const roles = { a: "", b: "", c: "" };
  const groups = { a: "", b: "", c: "" };
  let unmapped = "";

  const run = <A, E>(effect: Effect.Effect<A, E, Reconciler | Jobs>) => server.runtime.runPromise(effect as Effect.Effect<A, E, never>);
  const rolesOf = (u: number) => emulator.member(guildId, discordIdOf(u))!.roles;
  const writes = () =>
    emulator
      .rateLimits()
      .buckets.filter((b) => b.name === "memberRoles" || b.name === "memberPatch")
      .reduce((n, b) => n + b.requests, 0);

  /** A moderator (not Guildhall) sets a member's roles in Discord; the bot pushes the GUILD_MEMBER_UPDATE it sees. */
  const moderatorSets = async (u: number, roleIds: ReadonlyArray<string>) => {
    emulator.updateMember(guildId, discordIdOf(u), { roles: [...roleIds] });
    await pushUpdate(u);
  };
  const pushUpdate = (u: number) =>
    bot.trpc.bot.memberEvents.mutate({
      events: [{ type: "upsert", guildId, member: { userId: discordIdOf(u), roleIds: rolesOf(u) } }],
    });
  /** Waits until no `roles.member` job of the member waits or runs. */
  const settled = (u: number) =>
    vi.waitFor(async () => {
      const pending = await run(Jobs.use((jobs) => jobs.pending("roles.member", `${guildId}:${discordIdOf(u)}`)));
      if (pending.length > 0) throw new Error(`${pending.length} job(s) of member ${u} pending`);
    }, WAIT);
  const waitForRun = (runId: string) =>
    vi.waitFor(async () => {
      const found = (await client.trpc.roles.runs.query({})).find((r) => r.id === runId);
      if (found?.status !== "completed") throw new Error(`run ${runId} is ${found?.status}`);
      return found;
    }, WAIT);

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    const seeded = emulator.seedGuild({ seed: 11, members: 1, name: "Live Guild" });
    guildId = seeded.guildId;
    unmapped = seeded.roles.find((r) => !r.name.includes("Booster") && r.id !== seeded.botRoleId && r.id !== seeded.adminRoleId)!.id;
    roles.a = emulator.createRole(guildId, { name: "Alpha" }).id;
    roles.b = emulator.createRole(guildId, { name: "Bravo" }).id;
    roles.c = emulator.createRole(guildId, { name: "Charlie" }).id;
    // Everyone starts with the unmapped role; even members hold Alpha (they will be in group A); member 0 holds Charlie (group C).
    for (let u = 0; u < N; u++) {
      const held = [unmapped, ...(u % 2 === 0 ? [roles.a] : []), ...(u === 0 ? [roles.c] : [])];
      emulator.addMember(guildId, { userId: discordIdOf(u), username: `live${u}`, globalName: `Live ${u}`, roles: held });
    }
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: "memory://",
      botKey: "test-bot-key-0123456789abcdef",
      webDist: "/nonexistent",
      firstSightSync: false,
      jobs: fastJobs,
      discord: { token: emulator.token, api: emulator.apiUrl },
      onReady: async (services) => {
        await ensureFirstAdmin(services, ADMIN);
        await seedDemoGuild(services, { guildId, name: "Live Guild", staff: [] });
      },
    });
    client = createClient({ url: server.url, cookie: await signIn(server) });
    bot = createClient({ url: server.url, botKey: server.botKey });
    await server.runtime.runPromise(
      Database.use(({ db }) =>
        Effect.promise(() =>
          db.insert(schema.users).values(
            Array.from({ length: N }, (_, u) => ({
              id: `live-user-${u}`,
              name: `Live User ${u}`,
              email: `live${u}@roles.test.invalid`,
              discordId: discordIdOf(u),
            })),
          ),
        ),
      ),
    );
    // The mirror, as a full member sync leaves it (one chunk).
    const sync = await bot.trpc.bot.syncBegin.mutate({ guildId, trigger: "api", source: "rest", requestedBy: null, roles: [] });
    await bot.trpc.bot.syncChunk.mutate({
      runId: sync.id,
      chunkIndex: 0,
      chunkCount: 1,
      members: Array.from({ length: N }, (_, u) => {
        const m = emulator.member(guildId, discordIdOf(u))!;
        return {
          userId: m.userId,
          username: m.username,
          globalName: m.globalName,
          nick: m.nick,
          avatar: null,
          roleIds: m.roles,
          joinedAt: m.joinedAt,
          isBot: false,
          pending: false,
          premiumSince: null,
          communicationDisabledUntil: null,
        };
      }),
    });
    await bot.trpc.bot.syncComplete.mutate({ runId: sync.id, chunkCount: 1 });

    // Group A (app authority) holds the even users, group C (both) user 0; both mapped and applied once (their preview ends).
    for (const key of ["a", "b", "c"] as const) groups[key] = (await client.trpc.groups.create.mutate({ name: `Live ${key}` })).id;
    const evens = Array.from({ length: N }, (_, u) => u).filter((u) => u % 2 === 0);
    await client.trpc.groups.setMembers.mutate({ groupId: groups.a, userIds: evens.map((u) => `live-user-${u}`) });
    await client.trpc.groups.setMembers.mutate({ groupId: groups.c, userIds: ["live-user-0"] });
    await client.trpc.roles.createMapping.mutate({ groupId: groups.a, roleId: roles.a });
    await client.trpc.roles.createMapping.mutate({ groupId: groups.c, roleId: roles.c, authority: "both" });
    const first = await waitForRun((await client.trpc.roles.apply.mutate({})).id);
    expect(first.total).toBe(0);
  }, 120_000);

  afterAll(async () => {
    client?.close();
    bot?.close();
    await server?.close();
    await emulator?.close();
  });

  it("registers the guild's schedules by default, and creates, changes and removes them from the settings", async () => {
    const schedules = () =>
      run(Effect.all([Jobs.use((j) => j.schedules(RolesVerify, guildId)), Jobs.use((j) => j.schedules(RolesHardCheck, guildId))]));
    // A mapping made them: verify every 5 minutes (roles only), the weekly hard check.
    let [verify, hard] = await schedules();
    expect(verify).toEqual([{ key: guildId, cron: "*/5 * * * *", payload: { guildId, nicknames: false } }]);
    expect(hard).toEqual([expect.objectContaining({ key: guildId, payload: { guildId } })]);
    expect(hard[0]!.cron).toMatch(/^\d{1,2} 4 \* \* 0$/);
    expect(await client.trpc.roles.schedule.query({})).toMatchObject({
      verifyEnabled: true,
      verifyMinutes: 5,
      hardCheckEnabled: true,
      maxFlips: 6,
      verifyCron: "*/5 * * * *",
      hardCheckCron: hard[0]!.cron,
    });

    const changed = await client.trpc.roles.setSchedule.mutate({
      verifyEnabled: true,
      verifyMinutes: 120,
      hardCheckEnabled: false,
      maxFlips: 3,
    });
    expect(changed).toMatchObject({ verifyCron: "0 */2 * * *", hardCheckCron: null, maxFlips: 3 });
    [verify, hard] = await schedules();
    expect(verify.map((s) => s.cron)).toEqual(["0 */2 * * *"]);
    expect(hard).toEqual([]);

    // Off: no schedule left (and none fires during the tests below, which call the verify themselves).
    const off = await client.trpc.roles.setSchedule.mutate({
      verifyEnabled: false,
      verifyMinutes: 120,
      hardCheckEnabled: true,
      maxFlips: 3,
    });
    expect(off).toMatchObject({ verifyEnabled: false, verifyCron: null, hardCheckCron: hard[0]?.cron ?? expect.any(String) });
    [verify, hard] = await schedules();
    expect(verify).toEqual([]);
    expect(hard).toHaveLength(1);
    // The catalogue's own view of the queue is not confused by the per-guild schedules.
    const overview = await run(Jobs.use((j) => j.queues("all")));
    expect(overview.find((q) => q.name === "roles.verify")?.schedule).toBeNull();
  });

  it("verifies the guild against the mirror, reading nothing from Discord", async () => {
    // No drift: nothing is read, nothing is started.
    emulator.resetRateLimits();
    const quiet = await run(Reconciler.use((r) => r.verify(guildId, { nicknames: false })));
    expect(quiet.runId).toBeNull();
    expect(emulator.rateLimits().totals.requests).toBe(0);

    // Drift only the mirror knows of (a full sync saw member 4 without Alpha): one run, one write, still no read.
    const sync = await bot.trpc.bot.syncBegin.mutate({ guildId, trigger: "api", source: "rest", requestedBy: null, roles: [] });
    emulator.updateMember(guildId, discordIdOf(4), { roles: [unmapped] });
    await bot.trpc.bot.syncChunk.mutate({
      runId: sync.id,
      chunkIndex: 0,
      chunkCount: 1,
      members: Array.from({ length: N }, (_, u) => ({
        userId: discordIdOf(u),
        username: `live${u}`,
        globalName: `Live ${u}`,
        nick: null,
        avatar: null,
        roleIds: rolesOf(u),
        joinedAt: emulator.member(guildId, discordIdOf(u))!.joinedAt,
        isBot: false,
        pending: false,
        premiumSince: null,
        communicationDisabledUntil: null,
      })),
    });
    await bot.trpc.bot.syncComplete.mutate({ runId: sync.id, chunkCount: 1 });
    emulator.resetRateLimits();
    const drift = await run(Reconciler.use((r) => r.verify(guildId, { nicknames: false })));
    expect(drift.summary).toMatchObject({ members: 1, roleAdds: 1 });
    const verifyRun = await waitForRun(drift.runId!);
    expect(verifyRun).toMatchObject({ actorKind: "schedule", total: 1, done: 1 });
    expect(rolesOf(4)).toContain(roles.a);
    const report = emulator.rateLimits();
    expect(report.totals.requests).toBe(1);
    expect(report.buckets.filter((b) => b.requests > 0).map((b) => b.name)).toEqual(["memberRoles"]);
  });

  it("puts back an app role a moderator removed (the default), live, and the echo plans to nothing", async () => {
    const u = 2;
    const before = writes();
    await moderatorSets(
      u,
      rolesOf(u).filter((r) => r !== roles.a),
    );
    await vi.waitFor(() => expect(rolesOf(u)).toContain(roles.a), WAIT);
    await settled(u);
    expect(writes()).toBe(before + 1);
    const audit = await client.trpc.roles.audit.query({ userId: discordIdOf(u), outcome: "applied" });
    expect(audit[0]).toMatchObject({ actorKind: "live", runId: null, rolesAfter: expect.arrayContaining([roles.a, unmapped]) });

    // The GUILD_MEMBER_UPDATE echoing Guildhall's own change: nothing changes in the mirror, nothing is queued or sent.
    expect(await pushUpdate(u)).toEqual(["unchanged"]);
    // Even re-planned (an echo that raced the call's record): Guildhall's own change is not a moderator's, and the plan is empty.
    expect(await run(Reconciler.use((r) => r.reconcileMember(guildId, discordIdOf(u), { kind: "live", id: null })))).toEqual({
      outcome: "nothing",
      manual: false,
      suppressed: 0,
    });
    expect(writes()).toBe(before + 1);
    expect(await client.trpc.roles.suppressions.query({})).toEqual([]);
  });

  it("leaves a moderator's removal off under `remember`, listed as a suppression", async () => {
    const u = 6;
    const mappingA = (await client.trpc.roles.mappings.query({})).find((m) => m.roleId === roles.a)!;
    await client.trpc.roles.updateMapping.mutate({ mappingId: mappingA.id, authority: null, onManualRemoval: "remember" });
    const before = writes();
    await moderatorSets(
      u,
      rolesOf(u).filter((r) => r !== roles.a),
    );
    await settled(u);
    expect(await client.trpc.roles.suppressions.query({})).toEqual([expect.objectContaining({ userId: discordIdOf(u), roleId: roles.a })]);
    expect(rolesOf(u)).not.toContain(roles.a);
    expect(writes()).toBe(before);
    // Another event of the member (a nickname change, say) does not undo it either.
    await pushUpdate(u);
    await settled(u);
    expect(rolesOf(u)).not.toContain(roles.a);
    await client.trpc.roles.updateMapping.mutate({ mappingId: mappingA.id, authority: null, onManualRemoval: "restore" });
  });

  it("re-plans the users of a group change, never applying a preview-only mapping", async () => {
    // Group B's mapping is new: preview-only. Adding user 1 to A (active) and B gives Alpha only.
    await client.trpc.roles.createMapping.mutate({ groupId: groups.b, roleId: roles.b });
    await client.trpc.groups.addUsers.mutate({ groupId: groups.b, userIds: ["live-user-1"] });
    await client.trpc.groups.addUsers.mutate({ groupId: groups.a, userIds: ["live-user-1"] });
    await vi.waitFor(() => expect(rolesOf(1)).toContain(roles.a), WAIT);
    await settled(1);
    expect(rolesOf(1)).not.toContain(roles.b);
    const [entry] = await client.trpc.roles.audit.query({ userId: discordIdOf(1), outcome: "applied" });
    expect(entry).toMatchObject({ actorKind: "user", runId: null });

    // An API token sets a group's members: the actor is the external app; the removed user loses Alpha.
    const { token, info } = await client.trpc.tokens.create.mutate({ name: "Live app", scope: "read_write" });
    const app = createClient({ url: server.url, token });
    try {
      const members = (await client.trpc.groups.members.query({ groupId: groups.a })).map((m) => m.userId);
      await app.trpc.groups.setMembers.mutate({ groupId: groups.a, userIds: members.filter((id) => id !== "live-user-8") });
      await vi.waitFor(() => expect(rolesOf(8)).not.toContain(roles.a), WAIT);
      await settled(8);
      const [removal] = await client.trpc.roles.audit.query({ userId: discordIdOf(8), outcome: "applied" });
      expect(removal).toMatchObject({ actorKind: "external_app", actorId: info.id });
      expect(rolesOf(8)).toContain(unmapped);
    } finally {
      app.close();
    }
  });

  it("carries the newer side of a `both` mapping: a role removed by hand leaves the group, a user added back gets it", async () => {
    await moderatorSets(
      0,
      rolesOf(0).filter((r) => r !== roles.c),
    );
    await settled(0);
    expect((await client.trpc.groups.members.query({ groupId: groups.c })).map((m) => m.userId)).toEqual([]);
    expect(rolesOf(0)).not.toContain(roles.c);

    await client.trpc.groups.addUsers.mutate({ groupId: groups.c, userIds: ["live-user-0"] });
    await vi.waitFor(() => expect(rolesOf(0)).toContain(roles.c), WAIT);
    await settled(0);
    expect((await client.trpc.groups.members.query({ groupId: groups.c })).map((m) => m.userId)).toEqual(["live-user-0"]);
  });

  it("flags a member whose roles flip too often, leaves them alone, and plans them again once cleared", async () => {
    // maxFlips is 3 (set above): removal (1), put back (2), removal (3), put back (4) > 3: flagged; the next removal stays.
    const u = 10;
    const remove = () =>
      moderatorSets(
        u,
        rolesOf(u).filter((r) => r !== roles.a),
      );
    await remove();
    await vi.waitFor(() => expect(rolesOf(u)).toContain(roles.a), WAIT);
    await settled(u);
    await remove();
    await vi.waitFor(() => expect(rolesOf(u)).toContain(roles.a), WAIT);
    await settled(u);
    const flagged = await client.trpc.roles.flagged.query({});
    expect(flagged).toEqual([expect.objectContaining({ userId: discordIdOf(u), username: `live${u}`, flips: 4 })]);
    expect(flagged[0]!.reason).toMatch(/flapping: 4 role changes within an hour \(more than 3\)/);
    const refusals = await client.trpc.roles.audit.query({ userId: discordIdOf(u), outcome: "blocked" });
    expect(refusals).toEqual([expect.objectContaining({ actorKind: "live", reason: flagged[0]!.reason })]);

    const before = writes();
    await remove();
    await settled(u);
    expect(rolesOf(u)).not.toContain(roles.a);
    expect(writes()).toBe(before);

    expect(await client.trpc.roles.clearFlag.mutate({ userId: discordIdOf(u) })).toEqual({ cleared: true });
    expect(await client.trpc.roles.clearFlag.mutate({ userId: discordIdOf(u) })).toEqual({ cleared: false });
    await vi.waitFor(() => expect(rolesOf(u)).toContain(roles.a), WAIT);
    expect(await client.trpc.roles.flagged.query({})).toEqual([]);
  });
});
