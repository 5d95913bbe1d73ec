import { expect, layer } from "@effect/vitest";
import { Database, schema } from "@guildhall/db";
import { BotMembersSync, Jobs } from "@guildhall/jobs";
import { Effect, Layer } from "effect";
import { TestClock } from "effect/testing";
import { Bot, type BotHeartbeat, Directory, FirstSightSync, HEARTBEAT_STALE_MS, MemberSync, SHARD_EXPIRY_MS, SyncLayer } from "../src";

const GUILD = "600000000000000001";
const OTHER = "600000000000000002";
const UNLINKED = "600000000000000003";

const services = (firstSight: boolean) =>
  Bot.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(SyncLayer, Jobs.layer({ pollingIntervalSeconds: 0.5 }))),
    Layer.provide(Layer.succeed(FirstSightSync)(firstSight)),
    Layer.provideMerge(Database.layer({ dataDir: "memory://" })),
  );

const heartbeat = (guildIds: ReadonlyArray<string>, shardId = 0, shardCount = 1): BotHeartbeat => ({
  shardId,
  shardCount,
  status: "READY",
  connected: true,
  pingMs: 12,
  guilds: guildIds.map((id) => ({ id, name: `Guild ${id}`, icon: null })),
  lastEventAt: null,
  startedAt: Date.UTC(2026, 0, 1),
});

const linkGuilds = Effect.gen(function* () {
  const directory = yield* Directory;
  yield* directory.ensureOrganization({ id: "org", name: "Org", slug: "org" });
  yield* directory.ensureGuild("org", { id: GUILD, name: "Guild", icon: null });
  yield* directory.ensureGuild("org", { id: OTHER, name: "Other", icon: null });
});

/** Polls `check` on the real clock (these tests run under TestClock) until it holds. */
const eventually = (check: () => boolean, timeoutMs = 10_000) =>
  Effect.promise(async () => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error("timed out waiting");
      await new Promise((r) => setTimeout(r, 10));
    }
  });

layer(services(true), { timeout: 60_000 })("the bot's health and commands", (it) => {
  it.effect("a shard is fresh until HEARTBEAT_STALE_MS after its last heartbeat, on the Clock", () =>
    Effect.gen(function* () {
      const bot = yield* Bot;
      yield* bot.report(heartbeat([GUILD]));
      expect((yield* bot.shards())[0]).toMatchObject({ shardId: 0, connected: true, pingMs: 12, guildIds: [GUILD], fresh: true });
      yield* TestClock.adjust(HEARTBEAT_STALE_MS - 1);
      expect((yield* bot.shards())[0]?.fresh).toBe(true);
      yield* TestClock.adjust(1);
      expect((yield* bot.shards())[0]?.fresh).toBe(false);
      // A new heartbeat makes it fresh again.
      yield* bot.report(heartbeat([GUILD]));
      expect((yield* bot.shards())[0]?.fresh).toBe(true);
    }),
  );

  it.effect("a shard silent for SHARD_EXPIRY_MS is no longer listed, and its row is deleted by the next heartbeat, on the Clock", () =>
    Effect.gen(function* () {
      const bot = yield* Bot;
      const database = yield* Database;
      const rows = () =>
        database.use("test.shards", (db) => db.select().from(schema.botHeartbeats)).pipe(Effect.map((r) => r.map((s) => s.shardId).sort()));
      // Shards 0 and 1 of 2 report; then only shard 0 goes on reporting (the bot resharded to 1).
      yield* bot.report(heartbeat([GUILD], 0, 2));
      yield* bot.report(heartbeat([], 1, 2));
      expect((yield* bot.shards()).map((s) => s.shardId)).toEqual([0, 1]);
      yield* TestClock.adjust(SHARD_EXPIRY_MS - 1_000);
      yield* bot.report(heartbeat([GUILD]));
      expect((yield* bot.shards()).map((s) => [s.shardId, s.fresh])).toEqual([
        [0, true],
        [1, false],
      ]);
      yield* TestClock.adjust(999);
      expect((yield* bot.shards()).map((s) => s.shardId)).toEqual([0, 1]);
      yield* TestClock.adjust(1);
      // Gone from the list at once, and from the table at the next heartbeat.
      expect((yield* bot.shards()).map((s) => s.shardId)).toEqual([0]);
      expect(yield* rows()).toEqual([0, 1]);
      yield* bot.report(heartbeat([GUILD]));
      expect(yield* rows()).toEqual([0]);
      // A bot that stops reporting altogether is forgotten too.
      yield* TestClock.adjust(SHARD_EXPIRY_MS);
      expect(yield* bot.shards()).toEqual([]);
    }),
  );

  it.effect("commands are handed to the bot once and settled by its acknowledgement; a members.sync waits once per guild", () =>
    Effect.gen(function* () {
      yield* linkGuilds;
      const bot = yield* Bot;
      const jobs = yield* Jobs;
      let woken = 0;
      const unsubscribe = bot.subscribe(() => woken++);
      const resync = yield* bot.enqueue({
        kind: "presence.resync",
        guildId: GUILD,
        payload: { userIds: ["700000000000000001"] },
        requestedBy: null,
      });
      yield* eventually(() => woken > 0);
      unsubscribe();
      const sync = yield* bot.enqueue({ kind: "members.sync", guildId: GUILD, payload: { trigger: "button" }, requestedBy: "user-1" });
      const again = yield* bot.enqueue({ kind: "members.sync", guildId: GUILD, payload: { trigger: "api" }, requestedBy: null });
      const other = yield* bot.enqueue({ kind: "members.sync", guildId: OTHER, payload: { trigger: "button" }, requestedBy: null });
      expect(again.id).toBe(sync.id);
      expect(other.id).not.toBe(sync.id);

      const handed = yield* bot.nextCommands(10);
      expect(handed.map((c) => c.id).toSorted()).toEqual([resync.id, sync.id, other.id].toSorted());
      expect(handed.find((c) => c.id === sync.id)).toMatchObject({
        kind: "members.sync",
        attempt: 0,
        payload: { trigger: "button" },
        requestedBy: "user-1",
      });
      expect(handed.find((c) => c.id === resync.id)).toMatchObject({
        kind: "presence.resync",
        payload: { userIds: ["700000000000000001"] },
      });
      expect(yield* bot.nextCommands(10)).toEqual([]);

      // While the first sync runs, a new request is queued (one waiting per guild, not one per guild overall).
      const next = yield* bot.enqueue({ kind: "members.sync", guildId: GUILD, payload: { trigger: "button" }, requestedBy: null });
      expect(next.id).not.toBe(sync.id);

      expect(yield* bot.acknowledge({ id: resync.id, attempt: 0, outcome: "completed" })).toEqual({ settled: true });
      expect(yield* bot.acknowledge({ id: resync.id, attempt: 0, outcome: "completed" })).toEqual({ settled: false });
      expect(yield* bot.acknowledge({ id: sync.id, attempt: 0, outcome: "failed", error: "rate limited" })).toEqual({ settled: true });
      expect(yield* jobs.find(sync.id)).toMatchObject({ state: "retry", lastError: "rate limited", attempts: 1 });
      expect(yield* jobs.find(resync.id)).toMatchObject({ state: "completed" });
      // An id that is no command, or no job at all, settles nothing.
      expect(yield* bot.acknowledge({ id: "00000000-0000-4000-8000-000000000000", attempt: 0, outcome: "completed" })).toEqual({
        settled: false,
      });
      expect(yield* bot.acknowledge({ id: "not-a-job", attempt: 0, outcome: "completed" })).toEqual({ settled: false });
    }),
  );

  it.effect("the scheduler queues a due guild's sync once", () =>
    Effect.gen(function* () {
      yield* linkGuilds;
      const bot = yield* Bot;
      const directory = yield* Directory;
      const due = "600000000000000009";
      yield* directory.ensureGuild("org", { id: due, name: "Due", icon: null });
      const before = yield* bot.queueDueSyncs();
      expect(before.map((c) => c.guildId)).not.toContain(due);
      yield* directory.updateSettings(due, { syncIntervalMinutes: 60, syncAdminRoleId: null });
      const queued = yield* bot.queueDueSyncs();
      expect(queued.filter((c) => c.guildId === due)).toMatchObject([{ kind: "members.sync", payload: { trigger: "schedule" } }]);
      expect((yield* bot.queueDueSyncs()).filter((c) => c.guildId === due)).toEqual([]);
      expect(yield* directory.settingsOf(due)).toEqual({ syncIntervalMinutes: 60, syncAdminRoleId: null });
    }),
  );

  it.effect("first sight: a linked guild never synced gets one member sync, queued once; a synced or unlinked guild none", () =>
    Effect.gen(function* () {
      yield* linkGuilds;
      const bot = yield* Bot;
      const jobs = yield* Jobs;
      const sync = yield* MemberSync;
      const fresh = "600000000000000010";
      const synced = "600000000000000011";
      const directory = yield* Directory;
      yield* directory.ensureGuild("org", { id: fresh, name: "Fresh", icon: null });
      yield* directory.ensureGuild("org", { id: synced, name: "Synced", icon: null });
      const run = yield* sync.start({ guildId: synced, trigger: "api", source: "rest", requestedBy: null });
      yield* sync.complete(run.id, 0);

      const first = yield* bot.firstSight([fresh, synced, UNLINKED]);
      expect(first.map((c) => c.guildId)).toEqual([fresh]);
      expect(first[0]).toMatchObject({ kind: "members.sync", payload: { trigger: "schedule" }, requestedBy: null });
      expect(yield* bot.firstSight([fresh, synced, UNLINKED])).toEqual([]);
      const waiting = yield* jobs.pending(BotMembersSync.name, fresh);
      expect(waiting.map((j) => j.id)).toEqual([first[0]!.id]);
      // Handed to the bot and running: still nothing new.
      yield* bot.nextCommands(50);
      expect(yield* bot.firstSight([fresh])).toEqual([]);

      // A guild whose first full snapshot the mass-leave guard held (its members came from live
      // events) is not "never synced": a first-sight sync would supersede it before an admin decided.
      const held = "600000000000000012";
      yield* directory.ensureGuild("org", { id: held, name: "Held", icon: null });
      for (let n = 0; n < 20; n++) {
        yield* sync.upsertLive(held, { userId: String(610_000_000_000_000_000n + BigInt(n)), username: `live${n}` });
      }
      yield* TestClock.adjust("1 second"); // the run starts after the live events (members touched since a run began stay)
      const heldRun = yield* sync.start({ guildId: held, trigger: "api", source: "gateway", requestedBy: null });
      yield* sync.applyChunk({ runId: heldRun.id, chunkIndex: 0, chunkCount: 1, members: [] });
      expect(yield* sync.complete(heldRun.id)).toMatchObject({ status: "awaiting_confirmation", pendingLeft: 20 });
      expect(yield* bot.firstSight([held])).toEqual([]);
    }),
  );
});

layer(services(false), { timeout: 60_000 })("first sight turned off", (it) => {
  it.effect("queues nothing", () =>
    Effect.gen(function* () {
      yield* linkGuilds;
      const bot = yield* Bot;
      expect(yield* bot.firstSight([GUILD, OTHER])).toEqual([]);
    }),
  );
});
