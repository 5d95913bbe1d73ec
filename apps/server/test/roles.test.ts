/**
 * Role reconciliation end to end through the server and the Discord emulator: a 2,000-member
 * guild reconciled with the fewest calls and no 429 beyond one per bucket; a member who leaves
 * mid-run (one Unknown Member, no retry); moderators' removals under `remember` and `restore`;
 * and a server stopped mid-apply and restarted (the run completes, no change is made twice).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type GuildhallClient } from "@guildhall/api";
import { Database, schema } from "@guildhall/db";
import { type Emulator, startEmulator } from "@guildhall/emulator";
import { QUEUES } from "@guildhall/jobs";
import { Reconciler } from "@guildhall/sync";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureFirstAdmin, type RunningServer, seedDemoGuild, startServer } from "../src";
import { ADMIN, signIn } from "./helpers";

const WAIT = { timeout: 120_000, interval: 100 };
const USER_BASE = 900_000_000_000_000_000n;
const discordIdOf = (u: number) => String(USER_BASE + BigInt(u));

const fastJobs = {
  pollingIntervalSeconds: 0.5,
  superviseIntervalSeconds: 1,
  monitorIntervalSeconds: 1,
  stopTimeoutMs: 200,
  queues: QUEUES.map((q) => (q.name === "roles.apply" ? { ...q, retryDelaySeconds: 1, retryBackoff: false } : q)),
};

interface Stack {
  readonly server: RunningServer;
  readonly client: GuildhallClient;
}

const startStack = async (emulator: Emulator, guildId: string, dataDir = "memory://"): Promise<Stack> => {
  const server = await startServer({
    port: 0,
    host: "127.0.0.1",
    dataDir,
    botKey: "test-bot-key-0123456789abcdef",
    webDist: "/nonexistent",
    firstSightSync: false,
    jobs: fastJobs,
    discord: { token: emulator.token, api: emulator.apiUrl },
    onReady: async (services) => {
      await ensureFirstAdmin(services, ADMIN);
      await seedDemoGuild(services, { guildId, name: "Roles Guild", staff: [] });
    },
  });
  const client = createClient({ url: server.url, cookie: await signIn(server) });
  return { server, client };
};

const stopStack = async (stack: Stack | undefined) => {
  stack?.client.close();
  await stack?.server.close();
};

/** Links app users `user-<u>` to Discord ids for u in [0, n). */
const linkUsers = (server: RunningServer, n: number) =>
  server.runtime.runPromise(
    Database.use(({ db }) =>
      Effect.promise(async () => {
        const rows = Array.from({ length: n }, (_, u) => ({
          id: `user-${u}`,
          name: `User ${u}`,
          email: `user${u}@roles.test.invalid`,
          discordId: discordIdOf(u),
        }));
        for (let i = 0; i < rows.length; i += 1_000)
          await db
            .insert(schema.users)
            .values(rows.slice(i, i + 1_000))
            .onConflictDoNothing();
      }),
    ),
  );

/** Copies the emulator's members into the member mirror (the legacy full-sync endpoint, as the old bot did). */
const mirror = async (server: RunningServer, emulator: Emulator, guildId: string, n: number) => {
  const members = [];
  for (let u = 0; u < n; u++) {
    const m = emulator.member(guildId, discordIdOf(u));
    if (!m) continue;
    members.push({
      id: m.userId,
      username: m.username,
      display_name: m.globalName,
      nickname: m.nick,
      avatar: null,
      roles: m.roles,
      joined_at: m.joinedAt,
      is_bot: false,
    });
  }
  const response = await fetch(`${server.url}/api/dbot/sync_guild_members`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": server.botKey, "x-guild-id": guildId },
    body: JSON.stringify({ members }),
  });
  expect(response.status).toBe(200);
};

const waitForRun = (client: GuildhallClient, runId: string) =>
  vi.waitFor(async () => {
    const runs = await client.trpc.roles.runs.query({});
    const run = runs.find((r) => r.id === runId);
    if (run?.status !== "completed") throw new Error(`run ${runId} is ${run?.status}`);
    return run;
  }, WAIT);

const memberWrites = (emulator: Emulator) => {
  const report = emulator.rateLimits();
  const buckets = report.buckets.filter((b) => b.name === "memberRoles" || b.name === "memberPatch");
  return {
    requests: buckets.reduce((n, b) => n + b.requests, 0),
    limited: buckets.map((b) => b.limited),
  };
};

describe("role reconciliation of a 2,000-member guild", () => {
  const N = 2_000;
  let emulator: Emulator;
  let stack: Stack;
  let guildId: string;
  const roles: Record<"a" | "b" | "c", string> = { a: "", b: "", c: "" };
  let unmapped: string;
  let managed: string;
  const inA = (u: number) => u % 2 === 0;
  const inB = (u: number) => u % 3 === 0;
  const inC = (u: number) => u % 5 === 0;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    const seeded = emulator.seedGuild({ seed: 42, members: 1, name: "Roles Guild" });
    guildId = seeded.guildId;
    unmapped = seeded.roles.find((r) => !r.name.includes("Booster") && r.id !== seeded.botRoleId && r.id !== seeded.adminRoleId)!.id;
    managed = seeded.boosterRoleId;
    roles.a = emulator.createRole(guildId, { name: "Group A" }).id;
    roles.b = emulator.createRole(guildId, { name: "Group B" }).id;
    roles.c = emulator.createRole(guildId, { name: "Group C" }).id;
    for (let u = 0; u < N; u++) {
      // Every member holds an unmapped role and its groups' roles...
      const held = [unmapped];
      let a = inA(u);
      let b = inB(u);
      // ...except the drifted ones: every tenth has role A flipped (one call: PUT or DELETE), every twentieth B too (one PATCH).
      if (u % 10 === 0) a = !a;
      if (u % 20 === 0) b = !b;
      if (a) held.push(roles.a);
      if (b) held.push(roles.b);
      if (inC(u)) held.push(roles.c);
      emulator.addMember(guildId, { userId: discordIdOf(u), username: `member${u}`, globalName: `Member ${u}`, roles: held });
    }
    stack = await startStack(emulator, guildId);
    await linkUsers(stack.server, N);
    await mirror(stack.server, emulator, guildId, N);
  }, 180_000);
  afterAll(async () => {
    await stopStack(stack);
    await emulator?.close();
  });

  it("previews, applies with one call per drifted member, and audits each change once", async () => {
    const { client } = stack;
    const ids = Array.from({ length: N }, (_, u) => u);
    for (const [key, member] of [
      ["a", inA],
      ["b", inB],
      ["c", inC],
    ] as const) {
      const group = await client.trpc.groups.create.mutate({ name: `Group ${key.toUpperCase()}` });
      const result = await client.trpc.groups.setMembers.mutate({ groupId: group.id, userIds: ids.filter(member).map((u) => `user-${u}`) });
      expect(result.added.length).toBe(ids.filter(member).length);
      const mapping = await client.trpc.roles.createMapping.mutate({ groupId: group.id, roleId: roles[key] });
      expect(mapping.previewOnly).toBe(true);
    }
    const drifted = ids.filter((u) => u % 10 === 0).length;
    const patched = ids.filter((u) => u % 20 === 0).length;

    const preview = await client.trpc.roles.preview.query({});
    expect(preview.summary.members).toBe(drifted);
    expect(preview.previewOnlyMappings).toBe(3);
    expect(preview.members.filter((m) => m.call === "patch").length).toBe(patched);
    expect(preview.members.find((m) => m.userId === discordIdOf(10))).toMatchObject({ call: inA(10) ? "add-role" : "remove-role" });

    emulator.setRateLimits({ memberRoles: { limit: 50, windowMs: 1_000 }, memberPatch: { limit: 50, windowMs: 1_000 } });
    emulator.resetRateLimits();
    const started = await client.trpc.roles.apply.mutate({});
    const run = await waitForRun(client, started.id);
    expect(run).toMatchObject({ total: drifted, done: drifted, failed: 0 });

    // Discord calls = members whose roles differed; no 429 beyond one per bucket.
    const writes = memberWrites(emulator);
    expect(writes.requests).toBe(drifted);
    for (const limited of writes.limited) expect(limited).toBeLessThanOrEqual(1);

    // Every linked member's roles match; unmapped and managed roles are untouched.
    for (let u = 0; u < N; u++) {
      const held = new Set(emulator.member(guildId, discordIdOf(u))!.roles);
      expect(held.has(roles.a)).toBe(inA(u));
      expect(held.has(roles.b)).toBe(inB(u));
      expect(held.has(roles.c)).toBe(inC(u));
      expect(held.has(unmapped)).toBe(true);
    }

    // One audit entry per change, in Guildhall's log and in the emulator's (each with the reason).
    const audit = await client.trpc.roles.auditCsv.query({ runId: started.id, outcome: "applied" });
    expect(audit.rows).toBe(drifted);
    const discordAudit = emulator.auditLog(guildId).filter((e) => e.reason?.includes(started.id));
    expect(new Set(discordAudit.map((e) => e.targetId)).size).toBe(drifted);
    expect(discordAudit.length).toBe(drifted);

    // A second plan finds nothing to do; the mappings left preview.
    const again = await client.trpc.roles.preview.query({});
    expect(again.summary.members).toBe(0);
    expect(again.previewOnlyMappings).toBe(0);
  }, 180_000);

  it("records a member who left mid-run once, as Unknown Member, and does not retry", async () => {
    const { client } = stack;
    const u = 7; // in no group A (odd), holds nothing to change yet: give them a drift, then make them leave
    emulator.updateMember(guildId, discordIdOf(u), { roles: [...emulator.member(guildId, discordIdOf(u))!.roles, roles.a] });
    await mirror(stack.server, emulator, guildId, N);
    emulator.removeMember(guildId, discordIdOf(u)); // the mirror still has them: the run's call meets 10007
    emulator.resetRateLimits();
    const started = await client.trpc.roles.apply.mutate({});
    const run = await waitForRun(client, started.id);
    expect(run).toMatchObject({ total: 1, done: 0, failed: 1 });
    expect(memberWrites(emulator).requests).toBe(1);
    const failed = await client.trpc.roles.audit.query({ runId: started.id, outcome: "failed" });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ userId: discordIdOf(u), discordStatus: 404, discordCode: 10007 });
    // The job completed: no retry, and nothing more was sent.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(memberWrites(emulator).requests).toBe(1);
  }, 60_000);

  it("leaves a moderator's removal off under `remember`, and puts it back under the default", async () => {
    const { client, server } = stack;
    const mappings = await client.trpc.roles.mappings.query({});
    const mappingA = mappings.find((m) => m.roleId === roles.a)!;
    const [remembered, restored] = [2, 4]; // both in group A
    const removeByHand = async (u: number) => {
      const before = emulator.member(guildId, discordIdOf(u))!.roles;
      const after = before.filter((r) => r !== roles.a);
      emulator.updateMember(guildId, discordIdOf(u), { roles: after });
      await server.runtime.runPromise(Reconciler.use((r) => r.noteManualChange(guildId, discordIdOf(u), before, after)));
    };
    await client.trpc.roles.updateMapping.mutate({ mappingId: mappingA.id, authority: null, onManualRemoval: "remember" });
    await removeByHand(remembered);
    await client.trpc.roles.updateMapping.mutate({ mappingId: mappingA.id, authority: null, onManualRemoval: "restore" });
    await removeByHand(restored);
    await mirror(server, emulator, guildId, N);

    const suppressions = await client.trpc.roles.suppressions.query({});
    expect(suppressions).toEqual([expect.objectContaining({ userId: discordIdOf(remembered), roleId: roles.a })]);
    const preview = await client.trpc.roles.preview.query({});
    expect(preview.members.map((m) => m.userId)).toEqual([discordIdOf(restored)]);
    expect(preview.blocked).toContainEqual(
      expect.objectContaining({ kind: "role", userId: discordIdOf(remembered), reason: "suppressed" }),
    );

    const run = await waitForRun(client, (await client.trpc.roles.apply.mutate({})).id);
    expect(run.done).toBe(1);
    expect(emulator.member(guildId, discordIdOf(remembered))!.roles).not.toContain(roles.a);
    expect(emulator.member(guildId, discordIdOf(restored))!.roles).toContain(roles.a);

    // Cleared: the role comes back on the next run.
    expect(await client.trpc.roles.clearSuppression.mutate({ userId: discordIdOf(remembered), roleId: roles.a })).toEqual({
      cleared: true,
    });
    await waitForRun(client, (await client.trpc.roles.apply.mutate({})).id);
    expect(emulator.member(guildId, discordIdOf(remembered))!.roles).toContain(roles.a);
  }, 60_000);

  it("answers the preflight: permissions, the bot's highest role, and mappings that cannot work", async () => {
    const { client } = stack;
    const group = await client.trpc.groups.create.mutate({ name: "Boosters" });
    await client.trpc.roles.createMapping.mutate({ groupId: group.id, roleId: managed });
    const preflight = await client.trpc.roles.preflight.query({});
    expect(preflight).toMatchObject({ manageRoles: true, manageNicknames: true });
    expect(preflight.highestPosition).toBeGreaterThan(0);
    expect(preflight.problems).toEqual([expect.objectContaining({ roleId: managed, problem: "managed" })]);
  });
});

describe("role reconciliation across a server restart mid-apply", () => {
  const N = 300;
  let emulator: Emulator;
  let dataDir: string;
  let stack: Stack | undefined;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    dataDir = mkdtempSync(join(tmpdir(), "guildhall-roles-"));
  });
  afterAll(async () => {
    await stopStack(stack);
    await emulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("completes the run after the restart, and makes no change twice", async () => {
    const seeded = emulator.seedGuild({ seed: 7, members: 1, name: "Crash Guild" });
    const guildId = seeded.guildId;
    const role = emulator.createRole(guildId, { name: "Crew" }).id;
    for (let u = 0; u < N; u++) emulator.addMember(guildId, { userId: discordIdOf(u), username: `m${u}`, roles: [] });
    stack = await startStack(emulator, guildId, dataDir);
    await linkUsers(stack.server, N);
    await mirror(stack.server, emulator, guildId, N);
    const group = await stack.client.trpc.groups.create.mutate({ name: "Crew" });
    await stack.client.trpc.groups.setMembers.mutate({ groupId: group.id, userIds: Array.from({ length: N }, (_, u) => `user-${u}`) });
    await stack.client.trpc.roles.createMapping.mutate({ groupId: group.id, roleId: role });

    // Slow enough to stop in the middle: 20 role calls a second.
    emulator.setRateLimits({ memberRoles: { limit: 20, windowMs: 1_000 } });
    emulator.resetRateLimits();
    const started = await stack.client.trpc.roles.apply.mutate({});
    await vi.waitFor(async () => {
      const run = (await stack!.client.trpc.roles.runs.query({})).find((r) => r.id === started.id);
      if (!run || run.done < 40) throw new Error("not yet");
    }, WAIT);
    await stopStack(stack);
    stack = undefined;
    const before = memberWrites(emulator).requests;
    expect(before).toBeLessThan(N);

    stack = await startStack(emulator, guildId, dataDir);
    const run = await waitForRun(stack.client, started.id);
    expect(run).toMatchObject({ total: N, done: N, failed: 0 });
    for (let u = 0; u < N; u++) expect(emulator.member(guildId, discordIdOf(u))!.roles).toEqual([role]);
    // No change twice: one role update per member in Discord's log, and at most one write each.
    const entries = emulator.auditLog(guildId).filter((e) => e.reason?.includes(started.id));
    const perMember = new Map<string, number>();
    for (const e of entries) perMember.set(e.targetId, (perMember.get(e.targetId) ?? 0) + 1);
    expect(perMember.size).toBe(N);
    expect([...perMember.values()].every((n) => n === 1)).toBe(true);
    expect(memberWrites(emulator).requests).toBeLessThanOrEqual(N + 1);
    const audit = await stack.client.trpc.roles.auditCsv.query({ runId: started.id, outcome: "applied" });
    expect(audit.rows).toBe(N);
  }, 180_000);
});
