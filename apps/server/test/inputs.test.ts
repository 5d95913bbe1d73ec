/**
 * Inputs that answered 500 in issue #8's probe, each now a 4xx naming the field, or cleaned
 * where the text is a Discord user's own: the comparison's dates and search, setDiscordId's
 * user id, the bot's presences and heartbeats; and the bot's dead letters, stored as jobs
 * (the Jobs page) and counted by `bot.status` on every server instance alike.
 */
import type { GuildhallClient } from "@guildhall/api";
import { Database, executeRows } from "@guildhall/db";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../src";
import { botClient, codeOf, GUILD_ID, presence, STAFF, staffClient, startTestServer } from "./helpers";

const ADA = STAFF[0]!.discordId!;

/** Calls `call` and returns what it failed with (or throws when it succeeded). */
const failureOf = async (call: Promise<unknown>): Promise<Error> =>
  call.then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value).slice(0, 200)}`);
    },
    (error: unknown) => error as Error,
  );

/** Expects `call` to fail with BAD_REQUEST whose message names `field`. */
const expectRefused = async (call: Promise<unknown>, field: string) => {
  const error = await failureOf(call);
  expect(codeOf(error), `${field}: ${error.message}`).toBe("BAD_REQUEST");
  expect(error.message).toContain(field);
};

/** Runs `statement` on the server's own database (checks only). */
const query = <Row extends Record<string, unknown>>(server: RunningServer, statement: ReturnType<typeof sql>) =>
  server.runtime.runPromise(Database.use((database) => database.use("test", (db) => executeRows<Row>(db, statement))));

/** Polls `check` every 20 ms until it gives a value other than undefined; fails after `timeoutMs`. */
const eventually = async <A>(check: () => Promise<A | undefined>, timeoutMs = 15_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((r) => setTimeout(r, 20));
  }
};

const IMPOSSIBLE_DATES = ["2024-13-45", "2024-02-30", "0000-00-00", "2024-01-01 junk';--"];

const heartbeat = (overrides: Record<string, unknown> = {}) => ({
  shardId: 0,
  shardCount: 1,
  status: "READY",
  connected: true,
  pingMs: 40,
  guilds: [{ id: GUILD_ID, name: "Test Guild", icon: null }],
  lastEventAt: Date.now(),
  startedAt: Date.now() - 5_000,
  ...overrides,
});

const letter = (overrides: Record<string, unknown> = {}) => ({
  kind: "presence",
  key: `${GUILD_ID}:${ADA}`,
  summary: `presence (online) of user ${ADA} in guild ${GUILD_ID}`,
  item: JSON.stringify(presence(ADA, "online", "from a dead letter")),
  code: "BAD_REQUEST",
  error: "Invalid input: updates.0.observedAt: must be ...",
  attempts: 1,
  at: Date.now(),
  ...overrides,
});

describe("no input gets a 5xx", () => {
  let server: RunningServer;
  let staff: GuildhallClient;
  let bot: GuildhallClient;

  beforeAll(async () => {
    server = await startTestServer();
    staff = await staffClient(server);
    bot = botClient(server);
  });
  afterAll(async () => {
    staff?.close();
    bot?.close();
    await server?.close();
  });

  it("members.comparison and exportCsv: an impossible joinedAfter or joinedBefore is a 400 naming it; a real date filters", async () => {
    for (const value of IMPOSSIBLE_DATES) {
      for (const field of ["joinedAfter", "joinedBefore"] as const) {
        await expectRefused(staff.trpc.members.comparison.query({ category: "guild_only", [field]: value }), field);
        await expectRefused(staff.trpc.members.exportCsv.query({ category: "guild_only", [field]: value }), field);
      }
    }
    await bot.trpc.bot.memberEvents.mutate({
      events: [
        {
          type: "upsert",
          guildId: GUILD_ID,
          member: {
            userId: "830000000000000001",
            username: "leapling",
            globalName: null,
            nick: null,
            avatar: null,
            roleIds: [],
            joinedAt: "2024-02-29T12:00:00.000Z",
            isBot: false,
            pending: false,
            premiumSince: null,
            communicationDisabledUntil: null,
          },
        },
      ],
    });
    const inRange = await staff.trpc.members.comparison.query({
      category: "guild_only",
      joinedAfter: "2024-02-29",
      joinedBefore: "2024-03-01",
    });
    expect(inRange.rows.map((r) => r.discordId)).toEqual(["830000000000000001"]);
    const after = await staff.trpc.members.exportCsv.query({ category: "guild_only", joinedAfter: "2024-03-01" });
    expect(after.csv).not.toContain("830000000000000001");
  });

  it("members.comparison and exportCsv: NUL and lone surrogates in search are cleaned as stored names were, so the search finds them", async () => {
    await bot.trpc.bot.memberEvents.mutate({
      events: [
        {
          type: "upsert",
          guildId: GUILD_ID,
          member: {
            userId: "830000000000000002",
            username: "poisoner",
            globalName: "half \uD83D",
            nick: "evil\u0000nick",
            avatar: null,
            roleIds: [],
            joinedAt: null,
            isBot: false,
            pending: false,
            premiumSince: null,
            communicationDisabledUntil: null,
          },
        },
      ],
    });
    for (const search of ["evil\u0000nick", "\u0000evilnick\u0000", "half \uD83D"]) {
      const page = await staff.trpc.members.comparison.query({ category: "guild_only", search });
      expect(
        page.rows.map((r) => r.discordId),
        JSON.stringify(search),
      ).toEqual(["830000000000000002"]);
      const csv = await staff.trpc.members.exportCsv.query({ category: "guild_only", search });
      expect(csv.rows).toBe(1);
    }
    // Cleaning happens before the length check: 100 characters of text plus NULs is fine, 101 is not.
    await expect(
      staff.trpc.members.comparison.query({ category: "guild_only", search: `${"a".repeat(100)}\u0000` }),
    ).resolves.toMatchObject({
      total: 0,
    });
    await expectRefused(staff.trpc.members.comparison.query({ category: "guild_only", search: "a".repeat(101) }), "search");
  });

  it("members.searchUsers: a NUL in the query is cleaned; a query of nothing but NUL is a 400 naming it", async () => {
    for (const query of ["Ada\u0000 Love", "\u0000Ada Love\u0000"]) {
      expect((await staff.trpc.members.searchUsers.query({ query })).map((u) => u.discordId)).toEqual([ADA]);
    }
    await expectRefused(staff.trpc.members.searchUsers.query({ query: "\u0000" }), "query");
  });

  it("members.setDiscordId: a NUL, a space or nothing in userId is a 400 naming it", async () => {
    const me = await staff.trpc.session.me.query();
    for (const userId of [`${me.user.id}\u0000`, "\u0000", "a b", "", "x".repeat(256)]) {
      await expectRefused(staff.trpc.members.setDiscordId.mutate({ userId, discordId: "820000000000000009" }), "userId");
    }
    // The real id still works.
    await expect(staff.trpc.members.setDiscordId.mutate({ userId: me.user.id, discordId: null })).resolves.toMatchObject({
      discordId: null,
    });
  });

  it("bot.pushPresences: an observedAt outside 2015-01-01..9999-12-31 (epoch ms) is a 400 naming it, and nothing of the batch lands", async () => {
    const before = await staff.trpc.roster.list.query({});
    for (const observedAt of [1e15, 2 ** 53, 8.64e15, -1, 0, 1_420_070_399_999]) {
      await expectRefused(
        bot.trpc.bot.pushPresences.mutate({
          updates: [presence(ADA, "online", "should not land"), { ...presence(ADA, "idle"), observedAt }],
        }),
        "updates.1.observedAt",
      );
    }
    const after = await staff.trpc.roster.list.query({});
    expect(after.cursor).toBe(before.cursor);
    // The edges of the range are taken.
    await bot.trpc.bot.pushPresences.mutate({
      updates: [
        { ...presence(ADA, "online"), observedAt: 1_420_070_400_000 },
        { ...presence(ADA, "idle"), observedAt: 253_402_300_799_999 },
      ],
    });
  });

  it("bot.pushPresences: a NUL or a lone surrogate in a custom status or an activity is cleaned, stored and shown", async () => {
    const GRACE = STAFF[1]!.discordId!;
    await bot.trpc.bot.pushPresences.mutate({
      updates: [
        {
          ...presence(GRACE, "online"),
          customStatus: "evil\u0000status",
          activities: [
            { name: "Custom Status", type: 4, state: "evil\u0000status" },
            { name: "Ga\u0000me \uDC00", type: 0, state: "lev\uD800el", details: "\u0000det\u0000ails" },
          ],
        },
      ],
    });
    const roster = await staff.trpc.roster.list.query({});
    expect(roster.entries.find((e) => e.discordId === GRACE)?.presence).toMatchObject({
      status: "online",
      customStatus: "evilstatus",
      activities: [
        { name: "Custom Status", type: 4, state: "evilstatus" },
        { name: "Game \uFFFD", type: 0, state: "lev\uFFFDel", details: "details" },
      ],
    });
  });

  it("bot.heartbeat: pingMs beyond int32 and times outside 2015..9999 are 400s naming them; a NUL in a guild name is cleaned", async () => {
    for (const [field, overrides] of [
      ["pingMs", { pingMs: 2 ** 31 }],
      ["pingMs", { pingMs: -1 }],
      ["lastEventAt", { lastEventAt: 1e15 }],
      ["lastEventAt", { lastEventAt: -5 }],
      ["startedAt", { startedAt: 8.64e15 }],
      ["startedAt", { startedAt: 0 }],
    ] as const) {
      await expectRefused(bot.trpc.bot.heartbeat.mutate(heartbeat(overrides)), field);
    }
    await bot.trpc.bot.heartbeat.mutate(
      heartbeat({ status: "READY\u0000", guilds: [{ id: GUILD_ID, name: "Test\u0000 Guild \uD800", icon: "ab\u0000c" }] }),
    );
    const [guild] = await query<{ name: string; icon: string | null }>(server, sql`select name, icon from guilds where id = ${GUILD_ID}`);
    expect(guild).toEqual({ name: "Test Guild \uFFFD", icon: "abc" });
    const status = await staff.trpc.bot.status.query();
    expect(status.shards[0]).toMatchObject({ shardId: 0, status: "READY" });
    await bot.trpc.bot.heartbeat.mutate(heartbeat());
  });

  it("bot.heartbeat: guild ids 0 and above 2^64 and a shard beyond shardCount are refused, and nothing of them is stored or linked", async () => {
    const guildsBefore = await query<{ id: string }>(server, sql`select id from guilds order by id`);
    for (const id of ["0", "99999999999999999999", "18446744073709551616"]) {
      await expectRefused(
        bot.trpc.bot.heartbeat.mutate(
          heartbeat({
            guilds: [
              { id: "840000000000000001", name: "Fine", icon: null },
              { id, name: "Bad", icon: null },
            ],
          }),
        ),
        "guilds.1.id",
      );
    }
    await expectRefused(bot.trpc.bot.heartbeat.mutate(heartbeat({ shardId: 42, shardCount: 1 })), "shardId");
    await expectRefused(bot.trpc.bot.heartbeat.mutate(heartbeat({ shardId: 1, shardCount: 1 })), "shardId");
    expect(await query<{ id: string }>(server, sql`select id from guilds order by id`)).toEqual(guildsBefore);
    const status = await staff.trpc.bot.status.query();
    expect(status.shards.map((s) => s.shardId)).not.toContain(42);
    expect(status.shards.map((s) => s.shardId)).not.toContain(1);
    // Shard 1 of 2 is real.
    await bot.trpc.bot.heartbeat.mutate(heartbeat({ shardId: 1, shardCount: 2, guilds: [] }));
    expect((await staff.trpc.bot.status.query()).shards.map((s) => s.shardId)).toContain(1);
  });

  it("bot.reportDeadLetter: each letter becomes a dead job of bot.dead-letters with the server's error, counted by bot.status", async () => {
    const before = (await staff.trpc.bot.status.query()).deadLetters.total;
    const reported = letter({ key: `${GUILD_ID}:1`, summary: "presence (online) of user 1 in guild X", error: "refused: observedAt" });
    expect(await bot.trpc.bot.reportDeadLetter.mutate({ letters: [reported] })).toEqual({ recorded: 1 });
    // Counted at once, and recorded as failed with the server's error by the worker: a dead job on the Jobs page.
    expect((await staff.trpc.bot.status.query()).deadLetters.total).toBe(before + 1);
    // The same letter again (the bot's push retried after a lost answer) is stored once.
    expect(await bot.trpc.bot.reportDeadLetter.mutate({ letters: [reported] })).toEqual({ recorded: 1 });
    const recent = await eventually(async () => {
      const { deadLetters } = await staff.trpc.bot.status.query();
      return deadLetters.recent.find((r) => r.summary.includes("user 1 in guild X"));
    });
    expect((await staff.trpc.bot.status.query()).deadLetters.total).toBe(before + 1);
    expect(recent.error).toContain("BAD_REQUEST");
    expect(recent.error).toContain("refused: observedAt");
    const dead = await staff.trpc.jobs.list.query({ queue: "bot.dead-letters", state: "dead" });
    expect(dead.jobs.find((j) => j.id === recent.id)).toMatchObject({
      state: "dead",
      summary: expect.stringContaining("user 1 in guild X"),
    });
    // Nothing is left open: the job ran once and waits as a dead letter, not as a pending or running job.
    const queue = (await staff.trpc.jobs.queues.query()).find((q) => q.name === "bot.dead-letters");
    expect(queue?.counts).toMatchObject({ pending: 0, active: 0, dead: before + 1 });

    // Discarded on the Jobs page: no longer counted.
    await staff.trpc.jobs.discard.mutate({ id: recent.id });
    expect((await staff.trpc.bot.status.query()).deadLetters.total).toBe(before);
  });

  it("a dead letter retried on the Jobs page is re-applied through the domain service: a good item lands, a bad one is dead again", async () => {
    const GRACE = STAFF[1]!.discordId!;
    const good = letter({
      key: `${GUILD_ID}:${GRACE}`,
      summary: "presence of Grace, retried",
      // JSON escapes the NUL (as the bot's dead letters do); re-applying cleans it.
      item: JSON.stringify({ ...presence(GRACE, "dnd"), customStatus: "re\u0000applied" }),
    });
    const bad = letter({ summary: "presence with a far future", item: JSON.stringify({ ...presence(ADA, "idle"), observedAt: 1e15 }) });
    const cut = letter({ summary: "presence cut short", item: `${JSON.stringify(presence(ADA, "idle")).slice(0, 40)}…` });
    const other = letter({ kind: "somethingElse", summary: "an unknown kind", item: "{}" });
    await bot.trpc.bot.reportDeadLetter.mutate({ letters: [good, bad, cut, other] });
    const deadOf = async (summary: string) =>
      eventually(async () =>
        (await staff.trpc.jobs.list.query({ queue: "bot.dead-letters", state: "dead" })).jobs.find((j) => j.summary.includes(summary)),
      );

    const goodJob = await deadOf("presence of Grace, retried");
    await staff.trpc.jobs.retry.mutate({ id: goodJob.id });
    await eventually(async () => {
      const roster = await staff.trpc.roster.list.query({});
      const shown = roster.entries.find((e) => e.discordId === GRACE)?.presence;
      return shown?.customStatus === "reapplied" && shown.status === "dnd" ? true : undefined;
    });
    expect(
      (await staff.trpc.jobs.list.query({ queue: "bot.dead-letters", state: "completed" })).jobs.some((j) =>
        j.summary.includes("presence of Grace"),
      ),
    ).toBe(true);

    for (const [summary, why] of [
      ["presence with a far future", "observedAt"],
      ["presence cut short", "JSON"],
      ["an unknown kind", "somethingElse"],
    ] as const) {
      const job = await deadOf(summary);
      const retried = await staff.trpc.jobs.retry.mutate({ id: job.id });
      const again = await eventually(async () => {
        const found = await staff.trpc.jobs.list.query({ queue: "bot.dead-letters", state: "dead" });
        return found.jobs.find((j) => j.summary.includes(summary) && j.attempts > 1 && j.lastError?.includes(why));
      });
      expect(again.lastError, summary).toContain("cannot be re-applied");
      expect(retried.id).toBeDefined();
    }
  });
});

describe("dead letters on two server instances sharing Postgres", () => {
  const baseUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const dbName = `guildhall_inputs_test_${process.pid}_${Date.now()}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  let a: RunningServer;
  let b: RunningServer;

  beforeAll(async () => {
    await admin.unsafe(`create database ${dbName}`);
    const url = baseUrl.replace(/\/[^/]*$/, `/${dbName}`);
    a = await startTestServer({ databaseUrl: url });
    b = await startTestServer({ databaseUrl: url });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  });

  it("bot.status counts the same dead letters on every instance, and they outlive the instance that took them", async () => {
    const botA = botClient(a);
    const viaA = await staffClient(a);
    const viaB = await staffClient(b);
    try {
      const at = Date.now();
      await botA.trpc.bot.reportDeadLetter.mutate({ letters: [letter({ summary: "one", at }), letter({ summary: "two", at: at + 1 })] });
      expect((await viaA.trpc.bot.status.query()).deadLetters.total).toBe(2);
      expect((await viaB.trpc.bot.status.query()).deadLetters.total).toBe(2);
      botA.close();
      viaA.close();
      await a.close();
      await eventually(async () => ((await viaB.trpc.bot.status.query()).deadLetters.recent.length === 2 ? true : undefined));
      expect((await viaB.trpc.bot.status.query()).deadLetters.total).toBe(2);
    } finally {
      botA.close();
      viaA.close();
      viaB.close();
    }
  });
});
