import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, ensurePasswordUser, type GuildhallClient, signIn as signInWithPassword } from "@guildhall/api";
import { Database, executeRows } from "@guildhall/db";
import { Jobs, MemberSyncExpireStale, MemberSyncScheduler, PresencePrune, QUEUES } from "@guildhall/jobs";
import { Directory, MemberSync } from "@guildhall/sync";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_ORGANIZATION, ensureFirstAdmin, type RunningServer, seedDemoGuild, startServer } from "../src";
import { ADMIN, botClient, codeOf, GUILD_ID, presence as presenceOf, STAFF, staffClient } from "./helpers";

const WAIT = { timeout: 30_000, interval: 50 };
const MEMBER = { email: "member@test.invalid", password: "member password 123", name: "Plain Staff" };
const OUTSIDER = { email: "outsider@test.invalid", password: "outsider password 123", name: "Not Staff" };

/** Fast job timings; bot commands retried at once, and expiring `botExpirySeconds` after delivery when not acknowledged. */
const fastJobs = (botExpirySeconds: number) => ({
  pollingIntervalSeconds: 0.5,
  superviseIntervalSeconds: 1,
  monitorIntervalSeconds: 1,
  livePollMs: 100,
  queues: QUEUES.map((q) =>
    q.consumer === "bot" ? { ...q, expireInSeconds: botExpirySeconds, retryDelaySeconds: 0, retryBackoff: false } : q,
  ),
});

const start = (options: { dataDir?: string; databaseUrl?: string; firstSightSync?: boolean; botExpirySeconds?: number } = {}) =>
  startServer({
    port: 0,
    host: "127.0.0.1",
    dataDir: options.dataDir ?? "memory://",
    databaseUrl: options.databaseUrl,
    botKey: "test-bot-key-0123456789abcdef",
    webDist: "/nonexistent",
    firstSightSync: options.firstSightSync ?? false,
    jobs: fastJobs(options.botExpirySeconds ?? 120),
    onReady: async (services) => {
      await ensureFirstAdmin(services, ADMIN);
      await seedDemoGuild(services, { guildId: GUILD_ID, name: "Test Guild", staff: STAFF });
      const member = await ensurePasswordUser(services.auth, MEMBER);
      await services.runtime.runPromise(Directory.use((d) => d.ensureStaff(DEFAULT_ORGANIZATION.id, member.id, "staff")));
      await ensurePasswordUser(services.auth, OUTSIDER);
    },
  });

type Command = { id: string; attempt: number; kind: string; guildId: string; payload: unknown };

/** Follows `bot.commands` as the bot does, recording every delivery; resolves once the subscription is open. */
const follow = async (bot: GuildhallClient) => {
  const deliveries: Command[] = [];
  let started!: () => void;
  const open = new Promise<void>((resolve) => (started = resolve));
  const sub = bot.trpc.bot.commands.subscribe(
    {},
    {
      onStarted: () => started(),
      onData: ({ data }) =>
        deliveries.push({ id: data.id, attempt: data.attempt, kind: data.kind, guildId: data.guildId, payload: data.payload }),
    },
  );
  await open;
  return { deliveries, stop: () => sub.unsubscribe() };
};

describe("the jobs API", () => {
  let server: RunningServer;
  let admin: GuildhallClient;
  let member: GuildhallClient;
  let outsider: GuildhallClient;
  let anonymous: GuildhallClient;

  beforeAll(async () => {
    server = await start();
    admin = await staffClient(server);
    member = createClient({ url: server.url, cookie: await signInWithPassword(server.url, MEMBER) });
    outsider = createClient({ url: server.url, cookie: await signInWithPassword(server.url, OUTSIDER) });
    anonymous = createClient({ url: server.url });
  }, 120_000);
  afterAll(async () => {
    for (const client of [admin, member, outsider, anonymous]) client?.close();
    await server?.close();
  });

  it("is for admins: anonymous UNAUTHORIZED, staff and non-staff FORBIDDEN", async () => {
    const id = "00000000-0000-4000-8000-000000000000";
    for (const [client, code] of [
      [anonymous, "UNAUTHORIZED"],
      [member, "FORBIDDEN"],
      [outsider, "FORBIDDEN"],
    ] as const) {
      expect(codeOf(await client.trpc.jobs.queues.query().catch((e: unknown) => e))).toBe(code);
      expect(codeOf(await client.trpc.jobs.list.query({ queue: "presence.prune" }).catch((e: unknown) => e))).toBe(code);
      expect(codeOf(await client.trpc.jobs.retry.mutate({ id }).catch((e: unknown) => e))).toBe(code);
      expect(codeOf(await client.trpc.jobs.discard.mutate({ id }).catch((e: unknown) => e))).toBe(code);
      const refused = await new Promise<unknown>((resolve) => {
        const sub = client.trpc.jobs.live.subscribe(undefined, {
          onData: () => resolve(new Error("got data")),
          onError: (error) => {
            sub.unsubscribe();
            resolve(error);
          },
        });
      });
      expect(codeOf(refused)).toBe(code);
    }
  });

  it("lists every queue with its counts, and the scheduled work with its cron", async () => {
    const queues = await admin.trpc.jobs.queues.query();
    expect(queues.map((q) => q.name)).toEqual(QUEUES.map((q) => q.name));
    const byName = Object.fromEntries(queues.map((q) => [q.name, q]));
    expect(byName["member-sync.scheduler"]?.schedule).toEqual({ cron: "* * * * *", registered: true });
    expect(byName["member-sync.expire-stale"]?.schedule).toEqual({ cron: "* * * * *", registered: true });
    expect(byName["presence.prune"]?.schedule).toEqual({ cron: "0 * * * *", registered: true });
    expect(byName["bot.members-sync"]).toMatchObject({ consumer: "bot", schedule: null, deadLetter: "bot.members-sync.dead" });
    expect(Object.keys(byName["presence.prune"]!.counts).toSorted()).toEqual([
      "active",
      "cancelled",
      "completed",
      "dead",
      "failed",
      "pending",
    ]);
  });

  it("answers bad input with BAD_REQUEST naming the field, and an unknown job with NOT_FOUND", async () => {
    const badQueue = await admin.trpc.jobs.list.query({ queue: "no.such.queue" as never }).catch((e: unknown) => e);
    expect(codeOf(badQueue)).toBe("BAD_REQUEST");
    expect((badQueue as Error).message).toContain("queue");
    const badId = await admin.trpc.jobs.retry.mutate({ id: "1; drop table x" }).catch((e: unknown) => e);
    expect(codeOf(badId)).toBe("BAD_REQUEST");
    expect((badId as Error).message).toContain("id");
    const unknown = await admin.trpc.jobs.discard.mutate({ id: "00000000-0000-4000-8000-000000000000" }).catch((e: unknown) => e);
    expect(codeOf(unknown)).toBe("NOT_FOUND");
  });

  it("shows a bot command's life live: waiting, handed out, failed by the bot with its error, retried, discarded", async () => {
    const bot = botClient(server);
    const snapshots: Array<{ pending: number; active: number; failed: number; dead: number }> = [];
    let liveStarted!: () => void;
    const liveOpen = new Promise<void>((resolve) => (liveStarted = resolve));
    const live = admin.trpc.jobs.live.subscribe(undefined, {
      onStarted: () => liveStarted(),
      onData: ({ data }) => {
        const queue = data.queues.find((q) => q.name === "bot.presence-resync")!;
        snapshots.push({
          pending: queue.counts.pending,
          active: queue.counts.active,
          failed: queue.counts.failed,
          dead: queue.counts.dead,
        });
      },
    });
    try {
      await liveOpen;
      await vi.waitFor(() => expect(snapshots.length).toBeGreaterThan(0), WAIT);
      const { commandId } = await admin.trpc.roster.resync.mutate({});
      await vi.waitFor(() => expect(snapshots.at(-1)?.pending).toBe(1), WAIT);

      const follower = await follow(bot);
      const command = await vi.waitFor(() => {
        const found = follower.deliveries.find((c) => c.id === commandId);
        expect(found).toBeDefined();
        return found!;
      }, WAIT);
      follower.stop();
      await vi.waitFor(() => expect(snapshots.at(-1)).toMatchObject({ pending: 0, active: 1 }), WAIT);

      // The bot gives up on it; this queue retries 3 times, so fail it on each attempt until it is dead.
      expect(
        await bot.trpc.bot.commandDone.mutate({ id: command.id, attempt: 0, outcome: "failed", error: "the bot is not in guild 1" }),
      ).toEqual({
        settled: true,
      });
      const page = await admin.trpc.jobs.list.query({ queue: "bot.presence-resync", state: "pending" });
      expect(page.jobs.find((j) => j.id === command.id)).toMatchObject({
        state: "retry",
        attempts: 1,
        lastError: "the bot is not in guild 1",
      });
      for (let attempt = 1; attempt <= 3; attempt++) {
        const again = await follow(bot);
        await vi.waitFor(() => expect(again.deliveries.some((c) => c.id === command.id && c.attempt === attempt)).toBe(true), WAIT);
        again.stop();
        await bot.trpc.bot.commandDone.mutate({ id: command.id, attempt, outcome: "failed", error: `still not (${attempt})` });
      }
      await vi.waitFor(() => expect(snapshots.at(-1)).toMatchObject({ failed: 1, dead: 1, pending: 0, active: 0 }), WAIT);
      const dead = await admin.trpc.jobs.list.query({ queue: "bot.presence-resync", state: "dead" });
      expect(dead.jobs).toHaveLength(1);
      expect(dead.jobs[0]).toMatchObject({ state: "dead", attempts: 4, lastError: "still not (3)" });
      expect(dead.jobs[0]!.summary).toBe(`guild ${GUILD_ID}, 2 user(s)`);

      // Retry from the dead letter: the command is back, waiting, with one more attempt allowed.
      const retried = await admin.trpc.jobs.retry.mutate({ id: dead.jobs[0]!.id });
      expect(retried).toMatchObject({ id: command.id, state: "retry" });
      await vi.waitFor(() => expect(snapshots.at(-1)).toMatchObject({ failed: 0, dead: 0, pending: 1 }), WAIT);
      const conflict = await admin.trpc.jobs.retry.mutate({ id: command.id }).catch((e: unknown) => e);
      expect(codeOf(conflict)).toBe("CONFLICT");
      expect(await admin.trpc.jobs.discard.mutate({ id: command.id })).toEqual({ discarded: true });
      await vi.waitFor(() => expect(snapshots.at(-1)).toMatchObject({ pending: 0 }), WAIT);
    } finally {
      live.unsubscribe();
      bot.close();
    }
  }, 120_000);
});

describe("bot commands across restarts", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "guildhall-jobs-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("an acknowledged command is never delivered again, even after a restart; an unacknowledged one comes back after its expiry", async () => {
    const first = await start({ dataDir, botExpirySeconds: 2 });
    let resync: string;
    let sync: string;
    try {
      const admin = await staffClient(first);
      const bot = botClient(first);
      resync = (await admin.trpc.roster.resync.mutate({})).commandId;
      sync = (await admin.trpc.members.requestSync.mutate({})).commandId;
      // Asked twice while one waits (no bot follows yet): still one command.
      expect((await admin.trpc.members.requestSync.mutate({})).commandId).toBe(sync);
      const follower = await follow(bot);
      await vi.waitFor(() => expect(follower.deliveries.map((c) => c.id).toSorted()).toEqual([resync, sync].toSorted()), WAIT);
      expect(await bot.trpc.bot.commandDone.mutate({ id: resync, attempt: 0, outcome: "completed" })).toEqual({ settled: true });
      // The bot "crashes" before acknowledging the sync.
      follower.stop();
      admin.close();
      bot.close();
    } finally {
      await first.close();
    }

    const second = await start({ dataDir, botExpirySeconds: 2 });
    try {
      const admin = await staffClient(second);
      const bot = botClient(second);
      const follower = await follow(bot);
      const redelivered = await vi.waitFor(() => {
        const found = follower.deliveries.find((c) => c.id === sync);
        expect(found).toBeDefined();
        return found!;
      }, WAIT);
      expect(redelivered).toMatchObject({ kind: "members.sync", attempt: 1, guildId: GUILD_ID, payload: { trigger: "button" } });
      expect(await bot.trpc.bot.commandDone.mutate({ id: sync, attempt: 0, outcome: "completed" })).toEqual({ settled: false });
      expect(await bot.trpc.bot.commandDone.mutate({ id: sync, attempt: 1, outcome: "completed" })).toEqual({ settled: true });
      // A fresh command arrives next, and nothing acknowledged came back before it.
      const marker = (await admin.trpc.roster.resync.mutate({})).commandId;
      await vi.waitFor(() => expect(follower.deliveries.some((c) => c.id === marker)).toBe(true), WAIT);
      expect(follower.deliveries.map((c) => `${c.id}:${c.attempt}`)).toEqual([`${sync}:1`, `${marker}:0`]);
      follower.stop();
      admin.close();
      bot.close();
    } finally {
      await second.close();
    }
  }, 180_000);
});

describe("bot commands with two server instances on one Postgres", () => {
  const baseUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const dbName = `guildhall_jobs_server_test_${process.pid}_${Date.now()}`;
  const pg = postgres(baseUrl, { max: 1, onnotice: () => {} });
  let a: RunningServer;
  let b: RunningServer;

  beforeAll(async () => {
    await pg.unsafe(`create database ${dbName}`);
    const url = baseUrl.replace(/\/[^/]*$/, `/${dbName}`);
    [a, b] = await Promise.all([start({ databaseUrl: url }), start({ databaseUrl: url })]);
  }, 120_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await pg.unsafe(`drop database if exists ${dbName} with (force)`);
    await pg.end();
  });

  it("delivers each command once, whichever instance queued it and however many follow", async () => {
    const adminA = await staffClient(a);
    const adminB = await staffClient(b);
    const botA = botClient(a);
    const botB = botClient(b);
    const followers = await Promise.all([follow(botA), follow(botB)]);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await (i % 2 === 0 ? adminA : adminB).trpc.roster.resync.mutate({})).commandId);
      const all = () => followers.flatMap((f) => f.deliveries);
      await vi.waitFor(() => expect(new Set(all().map((c) => c.id)).size).toBe(20), WAIT);
      for (const c of all())
        await (followers[0]!.deliveries.includes(c) ? botA : botB).trpc.bot.commandDone.mutate({
          id: c.id,
          attempt: c.attempt,
          outcome: "completed",
        });
      expect(
        all()
          .map((c) => c.id)
          .toSorted(),
      ).toEqual(ids.toSorted());
    } finally {
      for (const f of followers) f.stop();
      for (const client of [adminA, adminB, botA, botB]) client.close();
    }
  }, 120_000);
});

describe("first sight", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start({ firstSightSync: true });
  }, 120_000);
  afterAll(() => server?.close());

  it("the first heartbeat naming a linked guild never synced queues one member sync for the bot, and only one", async () => {
    const bot = botClient(server);
    const admin = await staffClient(server);
    const follower = await follow(bot);
    const beat = () =>
      bot.trpc.bot.heartbeat.mutate({
        shardId: 0,
        shardCount: 1,
        status: "Ready",
        connected: true,
        pingMs: 20,
        guilds: [{ id: GUILD_ID, name: "Test Guild", icon: null }],
        lastEventAt: Date.now(),
        startedAt: Date.now() - 1_000,
      });
    try {
      await beat();
      const command = await vi.waitFor(() => {
        expect(follower.deliveries).toHaveLength(1);
        return follower.deliveries[0]!;
      }, WAIT);
      expect(command).toMatchObject({ kind: "members.sync", guildId: GUILD_ID, payload: { trigger: "schedule" } });
      // Delivered and not acknowledged yet: more heartbeats queue nothing more.
      await beat();
      await beat();
      const queue = (await admin.trpc.jobs.queues.query()).find((q) => q.name === "bot.members-sync")!;
      expect(queue.counts).toMatchObject({ pending: 0, active: 1 });
      expect(follower.deliveries).toHaveLength(1);
    } finally {
      follower.stop();
      bot.close();
      admin.close();
    }
  });
});

describe("the scheduled work runs as jobs on the server's workers", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start();
  }, 120_000);
  afterAll(() => server?.close());

  /** Sends a job to `queue` on the server's runtime and waits until its worker completed it. */
  const runJob = async (queue: typeof MemberSyncExpireStale | typeof MemberSyncScheduler | typeof PresencePrune) => {
    const id = await server.runtime.runPromise(Jobs.use((jobs) => jobs.send(queue, {})));
    expect(id).toBeTypeOf("string");
    await vi.waitFor(async () => {
      const job = await server.runtime.runPromise(Jobs.use((jobs) => jobs.find(id!)));
      expect(job).toMatchObject({ state: "completed", lastError: null });
    }, WAIT);
  };

  it("stale-run expiry ends a run whose bot went silent, in any guild", async () => {
    const run = await server.runtime.runPromise(
      MemberSync.use((sync) => sync.start({ guildId: GUILD_ID, trigger: "api", source: "gateway", requestedBy: null })),
    );
    // The bot's last word is three minutes old (the expiry reads the database clock, so the row is aged there).
    await server.runtime.runPromise(
      Database.use((database) =>
        database.use("age run", (db) =>
          db.execute(
            sql`update member_sync_runs set heartbeat_at = now() - interval '3 minutes', started_at = now() - interval '3 minutes' where id = ${run.id}`,
          ),
        ),
      ),
    );
    await runJob(MemberSyncExpireStale);
    const after = await server.runtime.runPromise(MemberSync.use((sync) => sync.run(run.id)));
    expect(after).toMatchObject({ status: "incomplete", reason: expect.stringMatching(/timed out/) });
  });

  it("the scheduler queues the member sync of a guild whose interval has passed, for the bot", async () => {
    await server.runtime.runPromise(Directory.use((d) => d.updateSettings(GUILD_ID, { syncIntervalMinutes: 1, syncAdminRoleId: null })));
    const admin = await staffClient(server);
    try {
      const before = await admin.trpc.jobs.list.query({ queue: "bot.members-sync" });
      await runJob(MemberSyncScheduler);
      const after = await admin.trpc.jobs.list.query({ queue: "bot.members-sync", state: "pending" });
      expect(after.total).toBe(before.total + 1);
      expect(after.jobs[0]).toMatchObject({ state: "created", summary: `guild ${GUILD_ID}, schedule`, singletonKey: GUILD_ID });
      // A second tick in the same interval queues nothing more.
      await runJob(MemberSyncScheduler);
      expect((await admin.trpc.jobs.list.query({ queue: "bot.members-sync", state: "pending" })).total).toBe(after.total);
    } finally {
      admin.close();
    }
  });

  it("the prune deletes presence samples past retention and keeps each user's latest", async () => {
    const bot = botClient(server);
    try {
      const old = Date.now() - 3 * 24 * 60 * 60_000;
      const updates = [
        { ...presenceOf(STAFF[0]!.discordId!, "online"), observedAt: old },
        { ...presenceOf(STAFF[0]!.discordId!, "idle"), observedAt: old + 1_000 },
        { ...presenceOf(STAFF[0]!.discordId!, "dnd"), observedAt: Date.now() },
      ];
      await bot.trpc.bot.pushPresences.mutate({ updates });
      const count = () =>
        server.runtime.runPromise(
          Database.use((database) =>
            database.use("count samples", (db) =>
              executeRows<{ n: number | string }>(
                db,
                sql`select count(*) as n from presence_samples where user_id = ${STAFF[0]!.discordId!}`,
              ),
            ),
          ),
        );
      expect(Number((await count())[0]?.n)).toBeGreaterThanOrEqual(3);
      await runJob(PresencePrune);
      expect(Number((await count())[0]?.n)).toBe(1);
    } finally {
      bot.close();
    }
  });
});
