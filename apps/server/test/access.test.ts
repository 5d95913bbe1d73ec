/**
 * Organizations and permissions, walked over the whole router: every procedure declares what it
 * needs (`meta.permission`), and a staff member, an admin and an API token of organization A can
 * neither read nor change organization B's data through any of them, whether they select B
 * (FORBIDDEN) or pass B's ids while working in A (refused, or answered with nothing of B's).
 * Also: the organization switch (one admin of both sees each one's data only), guilds the bot
 * merely sees (listed as not installed, never linked), and API tokens (scopes, revocation at
 * once, never listed or logged).
 */
import { appRouter, createClient, ensurePasswordUser, type GuildhallClient, logTo, PERMISSIONS } from "@guildhall/api";
import { Database, executeRows } from "@guildhall/db";
import { Pools, type ProcedureEntry, proceduresOf } from "@guildhall/fuzz";
import { BotMembersSync, Jobs, MemberSyncScheduler } from "@guildhall/jobs";
import { Directory, type MemberSnapshot } from "@guildhall/sync";
import { sql } from "drizzle-orm";
import { Effect } from "effect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_ORGANIZATION, ensureOrganizationAdmin, type RunningServer, seedDemoGuild } from "../src";
import type { Credentials } from "./fuzz/target";
import { type Answer, callHttp, callSse } from "./fuzz/transport";
import { ADMIN, codeOf, GUILD_ID, signIn, startTestServer } from "./helpers";

const ORG_B = { id: "org-b", name: "Bravo Organization", slug: "bravo" } as const;
const GUILD_B = "800000000000000777";
const B_STAFF_DISCORD = "810000000000000777";
const B_MEMBERS = Array.from({ length: 4 }, (_, i) => `82000000000077${String(1000 + i)}`);
const ADMIN_B = { email: "admin-b@test.invalid", password: "bravo admin password", name: "Bravo Admin" };
const STAFF_A = { email: "staff-a@test.invalid", password: "alpha staff password", name: "Alpha Staff" };
const BOTH = { email: "both@test.invalid", password: "admin of both password", name: "Admin Of Both" };
const SEEN_ONLY = "800000000000000888";

const member = (userId: string, username: string): MemberSnapshot => ({
  userId,
  username,
  globalName: null,
  nick: null,
  avatar: null,
  roleIds: [],
  joinedAt: "2024-01-15T10:00:00.000Z",
  isBot: false,
  pending: false,
  premiumSince: null,
  communicationDisabledUntil: null,
});

/** Organization procedures: those whose data belongs to the selected organization. */
const ORGANIZATION_PERMISSIONS = new Set(["read", "write", "manage"]);

const permissionOf = (procedure: unknown): unknown => (procedure as { _def?: { meta?: { permission?: unknown } } })._def?.meta?.permission;

describe("organizations, permissions and API tokens", () => {
  let server: RunningServer;
  let bot: GuildhallClient;
  let adminB: GuildhallClient;
  const credentials: Record<string, Credentials> = {};
  /** Strings that are organization B's alone: none may appear in an answer to organization A's callers. */
  const markersOfB: Array<string> = [];
  let tokenOfB = "";
  let bRunId = "";
  /** A job of organization B (a member sync of its guild), one of A's, and one of the installation's own. */
  let bJobId = "";
  let aJobId = "";
  let installationJobId = "";
  /** Every API token created here, and everything the process logged meanwhile. */
  const tokensMade: Array<string> = [];
  const logged: Array<string> = [];

  const fingerprintOfB = () =>
    server.runtime.runPromise(
      Database.use((database) =>
        database.use("test.fingerprint", (db) =>
          executeRows(
            db,
            sql`select
              (select json_agg(json_build_object('id', id, 'name', name, 'org', organization_id) order by id) from guilds where id = ${GUILD_B}) as guild,
              (select json_agg(row_to_json(s)) from guild_settings s where guild_id = ${GUILD_B}) as settings,
              (select json_agg(json_build_object('id', u.id, 'discord', u.discord_id) order by u.id) from users u join staff s on s.user_id = u.id where s.organization_id = ${ORG_B.id}) as staff,
              (select json_agg(json_build_object('id', id, 'status', status) order by id) from member_sync_runs where guild_id = ${GUILD_B}) as runs,
              (select json_agg(json_build_object('id', user_id, 'left', date_left) order by user_id) from guild_members where guild_id = ${GUILD_B}) as members,
              (select json_agg(json_build_object('id', id, 'revoked', revoked_at) order by id) from api_tokens where organization_id = ${ORG_B.id}) as tokens,
              (select json_agg(json_build_object('id', id, 'state', state) order by id) from pgboss.job where id::text = ${bJobId}) as jobs`,
          ),
        ),
      ),
    );

  beforeAll(async () => {
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      const original = console[method].bind(console);
      vi.spyOn(console, method).mockImplementation((...args: Array<unknown>) => {
        logged.push(args.map(String).join(" "));
        original(...args);
      });
    }
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream) as (chunk: unknown, ...rest: Array<unknown>) => boolean;
      vi.spyOn(stream, "write").mockImplementation(((chunk: unknown, ...rest: Array<unknown>) => {
        logged.push(String(chunk));
        return original(chunk, ...rest);
      }) as never);
    }
    // Everything logged, down to Trace: no token may be in any of it.
    server = await startTestServer({ logLevel: "Trace" });
    // Organization B: a guild with a staff member and members, its own admin, an API token.
    await seedDemoGuild(server, {
      organization: ORG_B,
      guildId: GUILD_B,
      name: "Bravo Guild",
      staff: [{ discordId: B_STAFF_DISCORD, name: "Bea Bravo", handle: "bea.bravo" }],
    });
    await ensureOrganizationAdmin(server, ORG_B, ADMIN_B);
    const staffA = await ensurePasswordUser(server.auth, STAFF_A);
    await server.runtime.runPromise(Directory.use((d) => d.ensureStaff(DEFAULT_ORGANIZATION.id, staffA.id, "staff")));
    await ensureOrganizationAdmin(server, DEFAULT_ORGANIZATION, BOTH);
    await ensureOrganizationAdmin(server, ORG_B, BOTH);

    bot = createClient({ url: server.url, botKey: server.botKey });
    for (const [guildId, ids] of [
      [GUILD_ID, ["820000000000001001"]],
      [GUILD_B, [B_STAFF_DISCORD, ...B_MEMBERS]],
    ] as const) {
      const run = await bot.trpc.bot.syncBegin.mutate({ guildId, trigger: "api", source: "rest", requestedBy: null, roles: [] });
      await bot.trpc.bot.syncChunk.mutate({
        runId: run.id,
        chunkIndex: 0,
        chunkCount: 1,
        members: ids.map((id) => member(id, `m${id.slice(-4)}`)),
      });
      await bot.trpc.bot.syncComplete.mutate({ runId: run.id });
      if (guildId === GUILD_B) bRunId = run.id;
    }

    // Jobs: nobody follows `bot.commands` here, so these member syncs stay waiting.
    const send = async (job: Effect.Effect<string | null, unknown, Jobs>) => {
      const id = await server.runtime.runPromise(job as never);
      expect(id).toEqual(expect.any(String));
      return id as string;
    };
    bJobId = await send(
      Jobs.use((j) => j.send(BotMembersSync, { guildId: GUILD_B, trigger: "api", requestedBy: null }, { singletonKey: GUILD_B })),
    );
    aJobId = await send(
      Jobs.use((j) => j.send(BotMembersSync, { guildId: GUILD_ID, trigger: "api", requestedBy: null }, { singletonKey: GUILD_ID })),
    );
    installationJobId = await send(Jobs.use((j) => j.send(MemberSyncScheduler, {}, { startAfterSeconds: 3_600 })));

    // The bot is in both guilds: its status must show each organization only its own.
    await bot.trpc.bot.heartbeat.mutate({
      shardId: 0,
      shardCount: 1,
      status: "READY",
      connected: true,
      pingMs: 40,
      guilds: [
        { id: GUILD_ID, name: "Test Guild", icon: null },
        { id: GUILD_B, name: "Bravo Guild", icon: null },
      ],
      lastEventAt: Date.now(),
      startedAt: Date.now() - 1000,
    });

    const origin = `http://localhost:${server.port}`;
    adminB = createClient({ url: server.url, cookie: await signIn(server, ADMIN_B) });
    const created = await adminB.trpc.tokens.create.mutate({ name: "bravo sync", scope: "read_write" });
    tokenOfB = created.token;
    tokensMade.push(created.token);
    const adminA = createClient({ url: server.url, cookie: await signIn(server, ADMIN) });
    const tokenOfA = (await adminA.trpc.tokens.create.mutate({ name: "alpha app", scope: "read_write" })).token;
    tokensMade.push(tokenOfA);
    adminA.close();
    for (const [name, who] of [
      ["staff of A", STAFF_A],
      ["admin of A", ADMIN],
    ] as const) {
      credentials[name] = { headers: { cookie: await signIn(server, who), origin }, connectionParams: null };
    }
    credentials["read_write token of A"] = { headers: { authorization: `Bearer ${tokenOfA}` }, connectionParams: null };

    const bStaffId = (await server.runtime.runPromise(Directory.use((d) => d.staffOf(ORG_B.id)))).map((s) => s.userId);
    markersOfB.push(
      GUILD_B,
      ORG_B.id,
      ORG_B.name,
      "Bravo Guild",
      "bea.bravo",
      ADMIN_B.email,
      B_STAFF_DISCORD,
      ...B_MEMBERS,
      bRunId,
      bJobId,
      created.info.id,
    );
    // B's staff who are not A's too (the admin of both is in both).
    const aStaff = new Set(
      (await server.runtime.runPromise(Directory.use((d) => d.staffOf(DEFAULT_ORGANIZATION.id)))).map((s) => s.userId),
    );
    markersOfB.push(...bStaffId.filter((id) => !aStaff.has(id)));
  }, 240_000);
  afterAll(async () => {
    bot?.close();
    adminB?.close();
    await server?.close();
    vi.restoreAllMocks();
  });

  it("every procedure declares a permission the access check knows", () => {
    const procedures = Object.entries(appRouter._def.procedures);
    expect(procedures.length).toBeGreaterThan(20);
    const undeclared = procedures.filter(([, p]) => !PERMISSIONS.includes(permissionOf(p) as never)).map(([path]) => path);
    expect(undeclared).toEqual([]);
  });

  describe("cross-organization access is refused for every procedure", () => {
    const pools = new Pools();
    const entries: ReadonlyArray<ProcedureEntry> = proceduresOf(appRouter as never, { pools }).filter((entry) =>
      ORGANIZATION_PERMISSIONS.has(permissionOf(appRouter._def.procedures[entry.path as keyof typeof appRouter._def.procedures]) as string),
    );

    const call = (entry: ProcedureEntry, who: Credentials, input: unknown): Promise<Answer> =>
      entry.type === "subscription"
        ? callSse(server.url, who, entry.path, input)
        : callHttp(server.url, who, entry.path, entry.type === "mutation" ? "mutation" : "query", input);

    const samples = (entry: ProcedureEntry, runs: number): Array<unknown> => {
      if (entry.input instanceof Error) throw entry.input;
      return fc.sample(entry.input.valid, { numRuns: runs, seed: 42 });
    };

    it("walks the organization procedures", () => {
      // guilds, members, roster, jobs, tokens, bot.status: a new one is walked without an edit.
      expect(entries.map((e) => e.path)).toEqual(
        expect.arrayContaining(["guilds.list", "members.comparison", "roster.list", "tokens.create"]),
      );
    });

    it("selecting organization B without being staff of it: FORBIDDEN, for every procedure and every caller of A", async () => {
      // B's ids in every pool: the inputs name B's guild, users, run and token.
      pools.remember("guildId", GUILD_B);
      pools.remember("userId", B_STAFF_DISCORD, ...B_MEMBERS);
      pools.remember("runId", bRunId);
      const failures: Array<string> = [];
      for (const entry of entries) {
        for (const [name, who] of Object.entries(credentials)) {
          const selectingB = { headers: { ...who.headers, "x-guildhall-organization": ORG_B.id }, connectionParams: null };
          const answer = await call(entry, selectingB, samples(entry, 1)[0]);
          if (answer.code !== "FORBIDDEN") failures.push(`${entry.path} as ${name}: ${answer.code ?? "OK"} ${answer.text.slice(0, 200)}`);
        }
      }
      expect(failures).toEqual([]);
    }, 300_000);

    it("working in A with B's ids: refused or answered with nothing of B's, and B's data unchanged", async () => {
      pools.remember("guildId", GUILD_B);
      pools.remember("userId", B_STAFF_DISCORD, ...B_MEMBERS);
      const bStaff = (await server.runtime.runPromise(Directory.use((d) => d.staffOf(ORG_B.id)))).map((s) => s.userId);
      pools.remember("userId", ...bStaff);
      pools.remember("runId", bRunId);
      pools.remember("id", bRunId, bJobId);
      const before = await fingerprintOfB();
      const failures: Array<string> = [];
      let calls = 0;
      // A marker A's caller sent itself (a token named after B's guild id) comes back as A's own data.
      const sent = new Set<string>();
      for (const entry of entries) {
        for (const [name, who] of Object.entries(credentials)) {
          for (const input of samples(entry, 4)) {
            for (const marker of markersOfB) if (JSON.stringify(input ?? null).includes(marker)) sent.add(marker);
            const answer = await call(entry, who, input);
            calls++;
            if (answer.code === "INTERNAL_SERVER_ERROR" || answer.broken)
              failures.push(`${entry.path} as ${name}: ${answer.code} ${answer.broken}`);
            const leaked = markersOfB.filter((marker) => !sent.has(marker) && answer.text.includes(marker));
            if (leaked.length > 0)
              failures.push(`${entry.path} as ${name} with ${JSON.stringify(input)}: answered B's ${leaked.join(", ")}`);
          }
        }
      }
      expect(failures).toEqual([]);
      expect(calls).toBeGreaterThan(entries.length * 3);
      expect(await fingerprintOfB()).toEqual(before);
    }, 300_000);
  });

  it("an admin of two organizations works in the one selected and sees each one's data only", async () => {
    const cookie = await signIn(server, BOTH);
    const inA = createClient({ url: server.url, cookie });
    const inB = createClient({ url: server.url, cookie, organization: ORG_B.id });
    try {
      const me = await inA.trpc.session.me.query();
      expect(me.organizations.map((o) => o.organizationId)).toEqual([DEFAULT_ORGANIZATION.id, ORG_B.id]);
      expect(me.staff?.organizationId).toBe(DEFAULT_ORGANIZATION.id);
      expect((await inB.trpc.session.me.query()).staff?.organizationId).toBe(ORG_B.id);
      const rosterA = await inA.trpc.roster.list.query({});
      const rosterB = await inB.trpc.roster.list.query({});
      expect(JSON.stringify(rosterA)).toContain(GUILD_ID);
      expect(JSON.stringify(rosterA)).not.toContain(GUILD_B);
      expect(JSON.stringify(rosterB)).toContain(GUILD_B);
      expect(JSON.stringify(rosterB)).not.toContain(GUILD_ID);
      const membersB = await inB.trpc.members.comparison.query({ category: "guild_only" });
      expect(membersB.guild.id).toBe(GUILD_B);
      expect((await inB.trpc.guilds.list.query()).linked.map((g) => g.id)).toEqual([GUILD_B]);
      // A subscription over WebSocket works in the organization of its connectionParams.
      const sub = createClient({ url: server.url, cookie, organization: ORG_B.id, allOverWebSocket: true });
      try {
        expect((await sub.trpc.guilds.list.query()).linked.map((g) => g.id)).toEqual([GUILD_B]);
      } finally {
        sub.close();
      }
    } finally {
      inA.close();
      inB.close();
    }
  });

  it("jobs belong to organizations: an admin sees, counts, retries and discards only the selected organization's", async () => {
    const adminA = createClient({ url: server.url, cookie: await signIn(server, ADMIN) });
    try {
      const idsIn = async (client: GuildhallClient, queue: "bot.members-sync" | "member-sync.scheduler") =>
        (await client.trpc.jobs.list.query({ queue })).jobs.map((job) => job.id);
      const pendingIn = async (client: GuildhallClient) =>
        (await client.trpc.jobs.queues.query()).find((q) => q.name === "bot.members-sync")!.counts.pending;

      // A's admin (of the installation's organization): A's job and the installation's, never B's.
      expect(await idsIn(adminA, "bot.members-sync")).toContain(aJobId);
      expect(await idsIn(adminA, "bot.members-sync")).not.toContain(bJobId);
      expect(await idsIn(adminA, "member-sync.scheduler")).toContain(installationJobId);
      // B's admin: B's job only; the installation's upkeep is not B's.
      expect(await idsIn(adminB, "bot.members-sync")).toEqual([bJobId]);
      expect(await idsIn(adminB, "member-sync.scheduler")).toEqual([]);
      expect((await adminB.trpc.jobs.queues.query()).find((q) => q.name === "member-sync.scheduler")!.schedule?.cron).toBe("* * * * *");
      // Counts are per organization too: B's waiting sync is in B's count only.
      expect(await pendingIn(adminB)).toBe(1);
      const pendingA = await pendingIn(adminA);
      expect(pendingA).toBeGreaterThanOrEqual(1);
      const allPending = await server.runtime.runPromise(
        Jobs.use((jobs) => jobs.queues("all")).pipe(
          Effect.map((queues) => queues.find((q) => q.name === "bot.members-sync")!.counts.pending),
        ),
      );
      expect(allPending).toBe(pendingA + 1);

      // Another organization's job id: NOT_FOUND, and the job is untouched.
      for (const attempt of [() => adminA.trpc.jobs.retry.mutate({ id: bJobId }), () => adminA.trpc.jobs.discard.mutate({ id: bJobId })]) {
        await expect(attempt()).rejects.toSatisfy((e) => codeOf(e) === "NOT_FOUND");
      }
      await expect(adminB.trpc.jobs.discard.mutate({ id: aJobId })).rejects.toSatisfy((e) => codeOf(e) === "NOT_FOUND");
      await expect(adminB.trpc.jobs.retry.mutate({ id: installationJobId })).rejects.toSatisfy((e) => codeOf(e) === "NOT_FOUND");
      const still = await server.runtime.runPromise(Jobs.use((jobs) => jobs.find(bJobId)));
      expect(still?.state).toBe("created");

      // The live feed: each admin's snapshot counts its own organization's jobs.
      const liveB = createClient({ url: server.url, cookie: await signIn(server, ADMIN_B), allOverWebSocket: true });
      const snapshots: Array<number> = [];
      const sub = liveB.trpc.jobs.live.subscribe(undefined, {
        onData: ({ data }) => snapshots.push(data.queues.find((q) => q.name === "bot.members-sync")!.counts.pending),
      });
      try {
        await vi.waitFor(() => expect(snapshots.at(-1)).toBe(1), { timeout: 20_000, interval: 50 });
        // A's admin discards B's job? Refused above. B's own admin discards it: B's live count drops to 0.
        await adminB.trpc.jobs.discard.mutate({ id: bJobId });
        await vi.waitFor(() => expect(snapshots.at(-1)).toBe(0), { timeout: 20_000, interval: 50 });
      } finally {
        sub.unsubscribe();
        liveB.close();
      }
      expect(await pendingIn(adminA)).toBe(pendingA);
    } finally {
      adminA.close();
    }
  });

  it("a guild the bot merely sees is listed as not installed and linked to nobody; guild id 0 is refused", async () => {
    const heartbeat = {
      shardId: 0,
      shardCount: 1,
      status: "READY",
      connected: true,
      pingMs: 40,
      guilds: [
        { id: GUILD_ID, name: "Test Guild", icon: null },
        { id: SEEN_ONLY, name: "Seen Only", icon: null },
      ],
      lastEventAt: Date.now(),
      startedAt: Date.now() - 1000,
    };
    await bot.trpc.bot.heartbeat.mutate(heartbeat);
    const admin = createClient({ url: server.url, cookie: await signIn(server, ADMIN) });
    try {
      const guilds = await admin.trpc.guilds.list.query();
      expect(guilds.linked.map((g) => g.id)).toEqual([GUILD_ID]);
      expect(guilds.notInstalled.map((g) => g.id)).toEqual([SEEN_ONLY]);
      // Not linked: no roster, no members, for anyone.
      await expect(admin.trpc.roster.list.query({ guildId: SEEN_ONLY })).rejects.toSatisfy((e) => codeOf(e) === "NOT_FOUND");
      const status = await admin.trpc.bot.status.query();
      expect(JSON.stringify(status)).not.toContain(SEEN_ONLY);
      await expect(bot.trpc.bot.heartbeat.mutate({ ...heartbeat, guilds: [{ id: "0", name: "Zero", icon: null }] })).rejects.toSatisfy(
        (e) => codeOf(e) === "BAD_REQUEST",
      );
      expect((await admin.trpc.guilds.list.query()).notInstalled.map((g) => g.id)).toEqual([SEEN_ONLY]);
    } finally {
      admin.close();
    }
  });

  describe("API tokens", () => {
    it("a read token reads its organization, cannot write, cannot manage, cannot select another organization", async () => {
      const admin = createClient({ url: server.url, cookie: await signIn(server, ADMIN) });
      const { token } = await admin.trpc.tokens.create.mutate({ name: "dashboard", scope: "read" });
      tokensMade.push(token);
      admin.close();
      const reader = createClient({ url: server.url, token });
      try {
        expect((await reader.trpc.roster.list.query({})).guild.id).toBe(GUILD_ID);
        await expect(reader.trpc.members.setDiscordId.mutate({ userId: "nobody", discordId: null })).rejects.toSatisfy(
          (e) => codeOf(e) === "FORBIDDEN",
        );
        await expect(reader.trpc.members.requestSync.mutate({})).rejects.toSatisfy((e) => codeOf(e) === "FORBIDDEN");
        await expect(reader.trpc.tokens.list.query()).rejects.toSatisfy((e) => codeOf(e) === "FORBIDDEN");
        await expect(reader.trpc.session.me.query()).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHORIZED");
        const selectingB = createClient({ url: server.url, token, organization: ORG_B.id });
        await expect(selectingB.trpc.roster.list.query({})).rejects.toSatisfy((e) => codeOf(e) === "FORBIDDEN");
        selectingB.close();
      } finally {
        reader.close();
      }
    });

    it("a read_write token writes within its organization, over HTTP and WebSocket, but never manages", async () => {
      const writer = createClient({ url: server.url, token: tokenOfB });
      const overWs = createClient({ url: server.url, token: tokenOfB, allOverWebSocket: true });
      try {
        const [bea] = (await server.runtime.runPromise(Directory.use((d) => d.staffOf(ORG_B.id)))).filter((s) => s.name === "Bea Bravo");
        await writer.trpc.members.setDiscordId.mutate({ userId: bea!.userId, discordId: B_STAFF_DISCORD });
        expect((await overWs.trpc.roster.list.query({})).guild.id).toBe(GUILD_B);
        await expect(writer.trpc.tokens.create.mutate({ name: "escalate", scope: "read_write" })).rejects.toSatisfy(
          (e) => codeOf(e) === "FORBIDDEN",
        );
        await expect(writer.trpc.guilds.list.query()).rejects.toSatisfy((e) => codeOf(e) === "FORBIDDEN");
      } finally {
        writer.close();
        overWs.close();
      }
    });

    it("a revoked token is UNAUTHORIZED at once, on an open WebSocket too; tokens are never listed", async () => {
      const admin = createClient({ url: server.url, cookie: await signIn(server, ADMIN) });
      const created = await admin.trpc.tokens.create.mutate({ name: "short-lived", scope: "read" });
      expect(created.token).toMatch(/^gh_[A-Za-z0-9_-]{43}$/);
      tokensMade.push(created.token);
      const overWs = createClient({ url: server.url, token: created.token, allOverWebSocket: true });
      const overHttp = createClient({ url: server.url, token: created.token });
      try {
        expect((await overWs.trpc.roster.list.query({})).guild.id).toBe(GUILD_ID);
        const listed = await admin.trpc.tokens.list.query();
        expect(listed.some((t) => t.id === created.info.id && t.prefix === created.token.slice(0, 10))).toBe(true);
        expect(JSON.stringify(listed)).not.toContain(created.token);
        await admin.trpc.tokens.revoke.mutate({ id: created.info.id });
        await expect(overHttp.trpc.roster.list.query({})).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHORIZED");
        await expect(overWs.trpc.roster.list.query({})).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHORIZED");
        const after = await admin.trpc.tokens.list.query();
        expect(after.find((t) => t.id === created.info.id)?.revokedAt).not.toBeNull();
        expect(JSON.stringify(after)).not.toContain(created.token);
        // Stored hashed: the database holds no token.
        const rows = await server.runtime.runPromise(
          Database.use((database) => database.use("test.tokens", (db) => executeRows(db, sql`select * from api_tokens`))),
        );
        expect(JSON.stringify(rows)).not.toContain(created.token);
        expect(JSON.stringify(rows)).not.toContain(tokenOfB);
        // Another organization's token: not found.
        await expect(admin.trpc.tokens.revoke.mutate({ id: markersOfB[markersOfB.length - 1]! })).rejects.toSatisfy(
          (e) => codeOf(e) === "NOT_FOUND" || codeOf(e) === "BAD_REQUEST",
        );
      } finally {
        admin.close();
        overWs.close();
        overHttp.close();
      }
    });

    it("no API token appears in anything the server logged (walks and refusals included)", async () => {
      expect(tokensMade.length).toBeGreaterThanOrEqual(4);
      // The capture works: a line the server logs now is in it.
      await logTo(server.runtime, "Info", "access-test-log-marker");
      expect(logged.some((line) => line.includes("access-test-log-marker"))).toBe(true);
      const all = logged.join("\n");
      expect(tokensMade.filter((token) => all.includes(token))).toEqual([]);
      expect(all).not.toMatch(/gh_[A-Za-z0-9_-]{43}/);
    });

    it("a made-up token, or one with a bad prefix, is UNAUTHORIZED", async () => {
      for (const token of ["gh_notarealtoken", "sk_live_whatever", `gh_${"x".repeat(500)}`]) {
        const client = createClient({ url: server.url, token });
        await expect(client.trpc.roster.list.query({})).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHORIZED");
        client.close();
      }
    });
  });
});
