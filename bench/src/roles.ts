/**
 * Role reconciliation: planning 100,000 members x 20 mappings (target <= 1 s), and applying a
 * 20,000-member guild where 5% of members drift (1,000: most one role, every third of them two
 * roles and a nickname) through the server, its `roles.apply` job and the Discord emulator's
 * rate limits, raised to keep the run short (the floor is computed for the limits used: Discord's
 * 10-s windows with ten times their count).
 *
 * The baseline is the old connector's way: one call per user per role (and one per nickname),
 * throttled to 1 call/s, a 429 retried after 600 s. It is SIMULATED (a clock, not a run)
 * against Discord's default member-role bucket (10 per 10 s, fixed window), for the same drift.
 */
import { createClient, signIn } from "@guildhall/api";
import { Database, schema } from "@guildhall/db";
import { startEmulator } from "@guildhall/emulator";
import { applyPlan, planReconciliation } from "@guildhall/roles";
import { syntheticGuild } from "@guildhall/roles/testing";
import { ensureFirstAdmin, seedDemoGuild, startServer } from "@guildhall/server";
import { Effect } from "effect";
import { table } from "./stats";

const ADMIN = { email: "bench@guildhall.invalid", password: "bench-password-123", name: "Bench" };

/** What the benchmark found. */
export interface RolesBenchResult {
  readonly planMs: number;
  readonly drifted: number;
  readonly calls: number;
  readonly limited: number;
  readonly seconds: number;
  readonly floorSeconds: number;
  readonly baselineCalls: number;
  readonly baselineSeconds: number;
  readonly baseline429s: number;
  readonly line: string;
  readonly report: string;
}

/** Time (s) `n` back-to-back calls need under a fixed window of `limit` per `windowMs`, the first window opening with the first call. */
const windowFloor = (n: number, limit: number, windowMs: number) => (n <= 0 ? 0 : ((Math.ceil(n / limit) - 1) * windowMs) / 1_000);

/** The old connector, simulated: one call per change at 1 call/s, a 429 waits 600 s; fixed window of `limit` per `windowMs`. */
const simulateBaseline = (changes: number, limit: number, windowMs: number) => {
  let t = 0;
  let windowStart = -Infinity;
  let used = 0;
  let limited = 0;
  for (let i = 0; i < changes; ) {
    if (t >= windowStart + windowMs) {
      windowStart = t;
      used = 0;
    }
    if (used < limit) {
      used++;
      i++;
      t += 1_000;
    } else {
      limited++;
      t += 600_000;
    }
  }
  return { seconds: t / 1_000, limited };
};

/** Runs both stages; see the module comment. `members` and `mappings` size the apply stage (default 20,000 and 10). */
export const runRolesBench = async (options: { readonly members?: number; readonly mappings?: number } = {}): Promise<RolesBenchResult> => {
  // ---- planning, in process: the median of five plans of 100,000 members x 20 mappings.
  const big = syntheticGuild({ members: 100_000, mappings: 20, nicknameTemplate: "{display_name} [{group}]" });
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    planReconciliation(big.input);
    times.push(performance.now() - t0);
  }
  const planMs = times.sort((a, b) => a - b)[2]!;

  // ---- applying: a converged guild, then 5% drift.
  const n = options.members ?? 20_000;
  const m = options.mappings ?? 10;
  const emulator = await startEmulator();
  const seeded = emulator.seedGuild({ seed: 11, members: 1, name: "Roles Bench" });
  const guildId = seeded.guildId;
  const roleIds = Array.from({ length: m }, (_, k) => emulator.createRole(guildId, { name: `Mapped ${k}` }).id);
  const unmapped = seeded.staffRoleId;
  const synthetic = syntheticGuild({ members: n, mappings: m, driftEvery: 0, nicknameTemplate: "{display_name} [{group}]" });
  // Swap the synthetic role ids for the emulator's, and start everyone from unmapped roles only.
  const roleOf = new Map(synthetic.input.desired.mappings.map((mp, k) => [mp.roleId, roleIds[k]!]));
  const start = {
    desired: {
      ...synthetic.input.desired,
      mappings: synthetic.input.desired.mappings.map((mp) => ({ ...mp, roleId: roleOf.get(mp.roleId)! })),
    },
    actual: {
      ...synthetic.input.actual,
      guildId,
      roles: [
        { id: guildId, position: 0, managed: false },
        ...roleIds.map((id, k) => ({ id, position: k + 1, managed: false })),
        { id: unmapped, position: m + 1, managed: false },
      ],
      members: synthetic.input.actual.members.map((mem) => ({ ...mem, roleIds: [unmapped], nick: null })),
    },
  };
  const converged = applyPlan(start, planReconciliation(start), Date.now()).actual.members;
  let changes = 0;
  let drifted = 0;
  const members = converged.map((mem, u) => {
    if (u % 20 !== 0) return mem;
    drifted++;
    const flip = [roleIds[u % m]!, ...(u % 3 === 0 ? [roleIds[(u + 1) % m]!] : [])];
    const held = new Set(mem.roleIds);
    for (const r of flip) held.has(r) ? held.delete(r) : held.add(r);
    changes += flip.length + (u % 3 === 0 ? 1 : 0);
    return { ...mem, roleIds: [...held], nick: u % 3 === 0 ? "drifted" : mem.nick };
  });
  for (const mem of members) {
    emulator.addMember(guildId, {
      userId: mem.userId,
      username: mem.username,
      globalName: mem.globalName,
      nick: mem.nick,
      roles: [...mem.roleIds],
    });
  }

  const server = await startServer({
    port: 0,
    host: "127.0.0.1",
    dataDir: "memory://",
    webDist: "/nonexistent",
    firstSightSync: false,
    jobs: { pollingIntervalSeconds: 0.5 },
    discord: { token: emulator.token, api: emulator.apiUrl },
    logLevel: "Warn",
    onReady: async (services) => {
      await ensureFirstAdmin(services, ADMIN);
      await seedDemoGuild(services, { guildId, name: "Roles Bench", staff: [] });
    },
  });
  const organizationId = "default";
  await server.runtime.runPromise(
    Database.use(({ db }) =>
      Effect.promise(async () => {
        const orgs = await db.select({ id: schema.organizations.id }).from(schema.organizations).limit(1);
        const org = orgs[0]?.id ?? organizationId;
        const users = start.desired.users.map((u) => ({
          id: u.id,
          name: u.name ?? u.id,
          email: `${u.id}@bench.invalid`,
          discordId: u.discordId,
        }));
        for (let i = 0; i < users.length; i += 2_000) await db.insert(schema.users).values(users.slice(i, i + 2_000));
        await db
          .insert(schema.roleSettings)
          .values({ organizationId: org, defaultAuthority: "app", nicknameTemplate: "{display_name} [{group}]" });
        for (const [k, group] of start.desired.groups.entries()) {
          const id = crypto.randomUUID();
          await db.insert(schema.groups).values({ id, organizationId: org, name: group.name, priority: group.priority ?? 0 });
          const ids = [...group.userIds];
          for (let i = 0; i < ids.length; i += 2_000)
            await db
              .insert(schema.groupMembers)
              .values(ids.slice(i, i + 2_000).map((userId) => ({ organizationId: org, groupId: id, userId })));
          await db
            .insert(schema.roleMappings)
            .values({ id: crypto.randomUUID(), organizationId: org, guildId, groupId: id, roleId: roleIds[k]!, previewOnly: false });
        }
        const rows = members.map((mem) => ({
          guildId,
          userId: mem.userId,
          username: mem.username,
          globalName: mem.globalName,
          nick: mem.nick,
          roleIds: [...mem.roleIds],
        }));
        for (let i = 0; i < rows.length; i += 2_000) await db.insert(schema.guildMembers).values(rows.slice(i, i + 2_000));
      }),
    ),
  );

  // Discord's shape (a fixed 10-s window per guild for member role writes, its own bucket for
  // member PATCH, 50 requests/s in all) with ten times its count per window, so the run takes
  // about a minute instead of eleven. (Shorter windows would make each window's pacing margin,
  // @discordjs/rest's 50 ms offset, ten times heavier than against Discord.)
  const limits = {
    memberRoles: { limit: 100, windowMs: 10_000 },
    memberPatch: { limit: 100, windowMs: 10_000 },
    global: { limit: 50, windowMs: 1_000 },
  };
  emulator.setRateLimits(limits);
  emulator.resetRateLimits();
  const client = createClient({ url: server.url, cookie: await signIn(server.url, ADMIN) });
  await client.trpc.roles.preview.query({});
  const t0 = performance.now();
  const started = await client.trpc.roles.apply.mutate({});
  let run = started;
  while (run.status !== "completed" && run.status !== "failed") {
    await new Promise((r) => setTimeout(r, 100));
    run = await client.trpc.roles.getRun.query({ runId: started.id });
  }
  const seconds = (performance.now() - t0) / 1_000;
  const report = emulator.rateLimits();
  const writes = report.buckets.filter((b) => b.name === "memberRoles" || b.name === "memberPatch");
  const calls = writes.reduce((s, b) => s + b.requests, 0);
  const limited = report.totals.limited;
  // Calls per bucket as the emulator counted them (the preview lists only its first 500 members).
  const singles = writes.filter((b) => b.name === "memberRoles").reduce((s, b) => s + b.requests, 0);
  const patches = writes.filter((b) => b.name === "memberPatch").reduce((s, b) => s + b.requests, 0);
  const floorSeconds = Math.max(
    windowFloor(singles, limits.memberRoles.limit, limits.memberRoles.windowMs),
    windowFloor(patches, limits.memberPatch.limit, limits.memberPatch.windowMs),
    windowFloor(calls, limits.global.limit, limits.global.windowMs),
  );
  client.close();
  await server.close();
  await emulator.close();

  const baseline = simulateBaseline(changes, 10, 10_000);
  const atDefaults = Math.max(windowFloor(singles, 10, 10_000), windowFloor(patches, 10, 10_000));
  const line = `roles: drifted=${drifted} calls=${calls} 429s=${limited} seconds=${seconds.toFixed(1)} floor_seconds=${floorSeconds.toFixed(1)}`;
  const text = [
    `Roles: planning 100,000 members x 20 mappings: ${planMs.toFixed(0)} ms (median of 5): target <= 1,000 ms ${planMs <= 1_000 ? "met" : "MISSED"}`,
    `Applying ${n.toLocaleString("en")} members, ${drifted} drifted (${changes} changes; run ${run.status}, ${run.done} done, ${run.failed} failed), limits: member roles and member PATCH ${limits.memberRoles.limit}/${limits.memberRoles.windowMs} ms each, global ${limits.global.limit}/s`,
    table(
      ["approach", "calls", "429s", "seconds", "floor"],
      [
        ["Guildhall (measured)", String(calls), String(limited), seconds.toFixed(1), floorSeconds.toFixed(1)],
        ["Guildhall at Discord's defaults (10/10 s, floor only)", String(calls), "-", "-", atDefaults.toFixed(0)],
        [
          "old connector (SIMULATED: 1 call/s, 429 -> 600 s, 10/10 s)",
          String(changes),
          String(baseline.limited),
          baseline.seconds.toFixed(0),
          "-",
        ],
      ],
    ),
    `calls = drifted members: ${calls === drifted ? "met" : "MISSED"}; time within 10% of the floor: ${seconds <= floorSeconds * 1.1 + 0.5 ? "met" : "MISSED"}`,
    line,
  ].join("\n");
  return {
    planMs,
    drifted,
    calls,
    limited,
    seconds,
    floorSeconds,
    baselineCalls: changes,
    baselineSeconds: baseline.seconds,
    baseline429s: baseline.limited,
    line,
    report: text,
  };
};
