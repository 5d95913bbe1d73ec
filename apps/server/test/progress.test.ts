/**
 * members.progress (tracked, resumable, ids the same on every instance) and
 * members.searchUsers (admins find app users by name or email), through the real server.
 */
import { createClient, ensurePasswordUser, type GuildhallClient } from "@guildhall/api";
import { Directory } from "@guildhall/sync";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../src";
import { botClient, codeOf, GUILD_ID, signIn, staffClient, startTestServer, waitFor } from "./helpers";

type Run = Awaited<ReturnType<GuildhallClient["trpc"]["members"]["history"]["query"]>>[number];
type Event = { readonly id: string; readonly run: Run };

const member = (n: number) => ({
  userId: String(720_000_000_000_000_000n + BigInt(n)),
  username: `progress${n}`,
  globalName: null,
  nick: null,
  avatar: null,
  roleIds: [],
  joinedAt: "2024-05-01T00:00:00.000Z",
  isBot: false,
  pending: false,
  premiumSince: null,
  communicationDisabledUntil: null,
});

/** Subscribes `client` to members.progress; resolves once the server has started it. */
const follow = async (client: GuildhallClient, lastEventId?: string) => {
  const events: Event[] = [];
  let failure: unknown = null;
  let started!: () => void;
  const ready = new Promise<void>((resolve) => (started = resolve));
  const subscription = client.trpc.members.progress.subscribe(lastEventId ? { lastEventId } : {}, {
    onStarted: () => started(),
    onData: ({ id, data }) => events.push({ id, run: data }),
    onError: (error) => {
      failure = error;
      started();
    },
  });
  await ready;
  return { events, failure: () => failure, stop: () => subscription.unsubscribe() };
};

/** Waits until `events` holds a state of run `runId` with `status`; returns that event. */
const waitForState = (events: ReadonlyArray<Event>, runId: string, status: Run["status"], what: string) =>
  waitFor(() => events.find((e) => e.run.id === runId && e.run.status === status), 10_000, what);

const increasing = (ids: ReadonlyArray<string>) => ids.every((id, i) => i === 0 || id > ids[i - 1]!);

describe("members.progress and members.searchUsers", () => {
  let server: RunningServer;
  let admin: GuildhallClient;
  let bot: GuildhallClient;
  let moderator: GuildhallClient;

  beforeAll(async () => {
    server = await startTestServer();
    admin = await staffClient(server);
    bot = botClient(server);
    const credentials = { email: "moderator@test.invalid", password: "a moderator's password", name: "Mo Derator" };
    const user = await ensurePasswordUser(server.auth, credentials);
    await server.runtime.runPromise(Directory.use((d) => d.ensureStaff("default", user.id, "staff")));
    moderator = createClient({ url: server.url, cookie: await signIn(server, credentials) });
  });
  afterAll(async () => {
    admin?.close();
    bot?.close();
    moderator?.close();
    await server?.close();
  });

  it("sends each run's progress with growing ids, and resumes from the last id with what was missed", async () => {
    const live = await follow(admin);
    const a = await bot.trpc.bot.syncBegin.mutate({ guildId: GUILD_ID, trigger: "api", source: "gateway", requestedBy: null, roles: [] });
    const startedA = await waitForState(live.events, a.id, "running", "run A started");
    live.stop();

    // While nobody listens: A gets its chunks and completes, B starts.
    await bot.trpc.bot.syncChunk.mutate({ runId: a.id, chunkIndex: 0, chunkCount: 2, members: [member(1), member(2)] });
    await bot.trpc.bot.syncChunk.mutate({ runId: a.id, chunkIndex: 1, chunkCount: 2, members: [member(3)] });
    await bot.trpc.bot.syncComplete.mutate({ runId: a.id });
    const b = await bot.trpc.bot.syncBegin.mutate({ guildId: GUILD_ID, trigger: "api", source: "rest", requestedBy: null, roles: [] });

    // Back, from the last id seen: A's final state, then B as it stands, then B's live changes.
    const resumed = await follow(admin, startedA.id);
    await waitForState(resumed.events, b.id, "running", "run B, backfilled");
    await bot.trpc.bot.syncAbort.mutate({ runId: b.id, reason: "test over" });
    await waitForState(resumed.events, b.id, "incomplete", "run B's end, live");
    resumed.stop();
    expect(resumed.events.map((e) => [e.run.id, e.run.status, e.run.chunksReceived])).toEqual([
      [a.id, "completed", 2],
      [b.id, "running", 0],
      [b.id, "incomplete", 0],
    ]);
    const ids = resumed.events.map((e) => e.id);
    expect(increasing([startedA.id, ...ids])).toBe(true);

    // A new subscriber starts from the newest run; one that has seen everything gets nothing old.
    const fresh = await follow(admin);
    await waitForState(fresh.events, b.id, "incomplete", "the newest run");
    const upToDate = await follow(admin, ids.at(-1));
    const c = await bot.trpc.bot.syncBegin.mutate({ guildId: GUILD_ID, trigger: "api", source: "gateway", requestedBy: null, roles: [] });
    await waitForState(upToDate.events, c.id, "running", "run C");
    await bot.trpc.bot.syncAbort.mutate({ runId: c.id, reason: "test over" });
    await waitForState(fresh.events, c.id, "incomplete", "run C's end");
    fresh.stop();
    upToDate.stop();
    expect(fresh.events[0]).toMatchObject({ id: ids.at(-1), run: { id: b.id, status: "incomplete" } });
    expect(upToDate.events.every((e) => e.run.id === c.id)).toBe(true);
    expect(increasing(fresh.events.map((e) => e.id))).toBe(true);
  });

  it("refuses a malformed lastEventId with BAD_REQUEST", async () => {
    const bad = await follow(admin, "12345");
    bad.stop();
    expect(codeOf(bad.failure())).toBe("BAD_REQUEST");
  });

  it("lets admins find app users by name or email, and no one else", async () => {
    const found = await admin.trpc.members.searchUsers.query({ query: "GRACE" });
    expect(found).toEqual([expect.objectContaining({ name: "Grace Hopper", discordId: "810000000000000002" })]);
    expect(found[0]!.email).toBe("grace@demo.guildhall.invalid");
    expect(await admin.trpc.members.searchUsers.query({ query: "demo.guildhall.invalid", limit: 2 })).toHaveLength(2);
    expect((await admin.trpc.members.searchUsers.query({ query: "nobody linked" }))[0]).toMatchObject({ discordId: null });

    await expect(moderator.trpc.members.searchUsers.query({ query: "grace" })).rejects.toSatisfy((e) => codeOf(e) === "FORBIDDEN");
    for (const input of [{ query: "" }, { query: "x".repeat(101) }, { query: "grace", limit: 26 }, { query: "grace", limit: 0 }]) {
      const error = await admin.trpc.members.searchUsers.query(input).catch((e: unknown) => e);
      expect(codeOf(error)).toBe("BAD_REQUEST");
      expect((error as Error).message).toMatch(/query|limit/);
    }
  });
});

describe("members.progress on two server instances", () => {
  const baseUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const dbName = `guildhall_progress_test_${process.pid}_${Date.now()}`;
  const pg = postgres(baseUrl, { max: 1, onnotice: () => {} });
  let a: RunningServer;
  let b: RunningServer;

  beforeAll(async () => {
    await pg.unsafe(`create database ${dbName}`);
    const url = baseUrl.replace(/\/[^/]*$/, `/${dbName}`);
    [a, b] = await Promise.all([startTestServer({ databaseUrl: url }), startTestServer({ databaseUrl: url })]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await pg.unsafe(`drop database if exists ${dbName} with (force)`);
    await pg.end();
  });

  it("gives each state of a run the same id on every instance, growing as the run moves (whichever instance wrote it)", async () => {
    const viaA = await staffClient(a);
    const viaB = await staffClient(b);
    const botA = botClient(a);
    const botB = botClient(b);
    try {
      const onA = await follow(viaA);
      const onB = await follow(viaB);
      const run = await botA.trpc.bot.syncBegin.mutate({
        guildId: GUILD_ID,
        trigger: "api",
        source: "gateway",
        requestedBy: null,
        roles: [],
      });
      // Chunks through both instances, the end through B.
      await botA.trpc.bot.syncChunk.mutate({ runId: run.id, chunkIndex: 0, chunkCount: 3, members: [member(10)] });
      await botB.trpc.bot.syncChunk.mutate({ runId: run.id, chunkIndex: 1, chunkCount: 3, members: [member(11)] });
      await botA.trpc.bot.syncChunk.mutate({ runId: run.id, chunkIndex: 2, chunkCount: 3, members: [member(12)] });
      await botB.trpc.bot.syncComplete.mutate({ runId: run.id });
      const endA = await waitForState(onA.events, run.id, "completed", "the end, on A");
      const endB = await waitForState(onB.events, run.id, "completed", "the end, on B");
      onA.stop();
      onB.stop();
      expect(endA.id).toBe(endB.id);
      for (const events of [onA.events, onB.events]) expect(increasing(events.map((e) => e.id))).toBe(true);
      // A state seen on both instances carries one id.
      const stateOf = new Map(onA.events.map((e) => [e.id, `${e.run.status}/${e.run.chunksReceived}`]));
      for (const e of onB.events) if (stateOf.has(e.id)) expect(stateOf.get(e.id)).toBe(`${e.run.status}/${e.run.chunksReceived}`);
    } finally {
      viaA.close();
      viaB.close();
      botA.close();
      botB.close();
    }
  });
});
