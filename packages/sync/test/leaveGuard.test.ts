/**
 * The mass-leave guard: a complete snapshot that would mark more than the guild's share of its
 * present members left (default 10%, never for LEAVE_GUARD_FLOOR members or fewer) is held for
 * an admin, who confirms (exactly that verdict is applied) or discards it; a later sync
 * supersedes it; nothing is ever half-applied.
 */
import { expect, layer } from "@effect/vitest";
import { Database, DatabaseError, executeRows } from "@guildhall/db";
import { sql } from "drizzle-orm";
import { Effect, Layer } from "effect";
import { Directory, DomainEvents, LEAVE_GUARD_FLOOR, type MemberSnapshot, MemberSync, MemberSyncStore, SyncLayer } from "../src";

const Services = SyncLayer.pipe(Layer.provideMerge(Database.layer({ dataDir: "memory://" })));

let guildCounter = 0;
/** A fresh linked guild per test (snowflake), so tests share no members. */
const newGuild = Effect.gen(function* () {
  const guildId = String(310_000_000_000_000_000n + BigInt(++guildCounter));
  const directory = yield* Directory;
  yield* directory.ensureOrganization({ id: "org", name: "Org", slug: "org" });
  yield* directory.ensureGuild("org", { id: guildId, name: `Guild ${guildCounter}`, icon: null });
  return guildId;
});

const member = (n: number): MemberSnapshot => ({
  userId: String(410_000_000_000_000_000n + BigInt(n)),
  username: `member${n}`,
  globalName: null,
  nick: null,
  avatar: null,
  roleIds: [],
  joinedAt: "2024-01-01T00:00:00.000Z",
  isBot: false,
  pending: false,
  premiumSince: null,
  communicationDisabledUntil: null,
});
const members = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => member(from + i));

/** A full sync of `snapshot` in chunks of 500, completed; returns the run. */
const fullSync = (guildId: string, snapshot: ReadonlyArray<MemberSnapshot>) =>
  Effect.gen(function* () {
    const sync = yield* MemberSync;
    const run = yield* sync.start({ guildId, trigger: "api", source: "gateway", requestedBy: null });
    const chunkCount = Math.max(1, Math.ceil(snapshot.length / 500));
    for (let i = 0; i < chunkCount; i++) {
      yield* sync.applyChunk({ runId: run.id, chunkIndex: i, chunkCount, members: snapshot.slice(i * 500, (i + 1) * 500) });
    }
    return yield* sync.complete(run.id);
  });

/** The guild's present and left members, ended stays (history rows) and held verdict rows. */
const state = (guildId: string) =>
  Effect.gen(function* () {
    const database = yield* Database;
    const [row] = yield* database.use("test.state", (db) =>
      executeRows<{ present: number; left: number; stays: number; pending: number }>(
        db,
        sql`select (select count(*)::int from guild_members where guild_id = ${guildId} and date_left is null) as present,
                   (select count(*)::int from guild_members where guild_id = ${guildId} and date_left is not null) as left,
                   (select count(*)::int from guild_membership_history where guild_id = ${guildId}) as stays,
                   (select count(*)::int from member_sync_pending_leaves p join member_sync_runs r on r.id = p.run_id
                     where r.guild_id = ${guildId}) as pending`,
      ),
    );
    return { present: Number(row!.present), left: Number(row!.left), stays: Number(row!.stays), pending: Number(row!.pending) };
  });

layer(Services, { excludeTestServices: true })("the mass-leave guard", (it) => {
  it.effect("holds a snapshot that would mark 30% left; an admin's confirmation applies exactly it, once", () =>
    Effect.gen(function* () {
      const guildId = yield* newGuild;
      const sync = yield* MemberSync;
      expect(yield* sync.leaveGuard(guildId)).toEqual({ percent: 10, floor: LEAVE_GUARD_FLOOR });
      expect((yield* fullSync(guildId, members(0, 100))).status).toBe("completed");

      const held = yield* fullSync(guildId, members(30, 100));
      expect(held).toMatchObject({ status: "awaiting_confirmation", markedLeft: 0, pendingLeft: 30, presentMembers: 100, unchanged: 70 });
      expect(held.reason).toContain("30 of 100 present members left (30.0%)");
      expect(yield* state(guildId)).toEqual({ present: 100, left: 0, stays: 0, pending: 30 });

      const confirmed = yield* sync.confirmLeaves(guildId, held.id, "admin-user");
      expect(confirmed).toMatchObject({ id: held.id, status: "completed", markedLeft: 30, pendingLeft: 30, decidedBy: "admin-user" });
      expect(confirmed.decidedAt).not.toBeNull();
      expect(yield* state(guildId)).toEqual({ present: 70, left: 30, stays: 30, pending: 0 });

      const again = yield* Effect.flip(sync.confirmLeaves(guildId, held.id, "admin-user"));
      expect(again).toMatchObject({ _tag: "SyncNotAwaitingConfirmation", status: "completed" });
      expect(yield* Effect.flip(sync.discardLeaves(guildId, held.id, "admin-user"))).toMatchObject({ _tag: "SyncNotAwaitingConfirmation" });
      const otherGuild = yield* newGuild;
      expect(yield* Effect.flip(sync.confirmLeaves(otherGuild, held.id, "admin-user"))).toMatchObject({ _tag: "SyncRunNotFound" });
      expect(yield* Effect.flip(sync.confirmLeaves(guildId, crypto.randomUUID(), "admin-user"))).toMatchObject({ _tag: "SyncRunNotFound" });
    }),
  );

  it.effect("a discarded snapshot marks nobody left and keeps what else it applied", () =>
    Effect.gen(function* () {
      const guildId = yield* newGuild;
      const sync = yield* MemberSync;
      yield* fullSync(guildId, members(0, 100));
      const held = yield* fullSync(guildId, [...members(50, 100), ...members(1_000, 1_005)]);
      expect(held).toMatchObject({ status: "awaiting_confirmation", pendingLeft: 50, created: 5 });
      const discarded = yield* sync.discardLeaves(guildId, held.id, "admin-user");
      expect(discarded).toMatchObject({ status: "discarded", markedLeft: 0, decidedBy: "admin-user" });
      expect(yield* state(guildId)).toEqual({ present: 105, left: 0, stays: 0, pending: 0 });
    }),
  );

  it.effect("at most the floor, or at most the guild's share, applies on its own (the bench's 0.5% re-sync included)", () =>
    Effect.gen(function* () {
      const sync = yield* MemberSync;
      // A small guild: LEAVE_GUARD_FLOOR of 20 is 50%, and still applies.
      const small = yield* newGuild;
      yield* fullSync(small, members(0, 20));
      expect(yield* fullSync(small, members(LEAVE_GUARD_FLOOR, 20))).toMatchObject({ status: "completed", markedLeft: LEAVE_GUARD_FLOOR });
      // A large guild: exactly 10% applies; 0.5% applies.
      const large = yield* newGuild;
      yield* fullSync(large, members(0, 4_000));
      expect(yield* fullSync(large, members(20, 4_000))).toMatchObject({ status: "completed", markedLeft: 20 });
      expect(yield* fullSync(large, members(418, 4_000))).toMatchObject({ status: "completed", markedLeft: 398 });
      // One more than 10% of the present members is held.
      expect(yield* fullSync(large, members(777, 4_000))).toMatchObject({
        status: "awaiting_confirmation",
        pendingLeft: 359,
        presentMembers: 3_582,
      });
      // The guild's own share: 50% lets it through (a later sync supersedes the held one).
      expect(yield* sync.setLeaveGuard(large, 50)).toEqual({ percent: 50, floor: LEAVE_GUARD_FLOOR });
      expect(yield* sync.leaveGuard(large)).toEqual({ percent: 50, floor: LEAVE_GUARD_FLOOR });
      expect(yield* fullSync(large, members(777, 4_000))).toMatchObject({ status: "completed", markedLeft: 359 });
      // 0%: anything beyond the floor waits.
      yield* sync.setLeaveGuard(large, 0);
      expect(yield* fullSync(large, members(788, 4_000))).toMatchObject({ status: "awaiting_confirmation", pendingLeft: 11 });
    }),
  );

  it.effect("a later sync supersedes a held one (discarded, nobody marked left); its own verdict stands alone", () =>
    Effect.gen(function* () {
      const guildId = yield* newGuild;
      const sync = yield* MemberSync;
      yield* fullSync(guildId, members(0, 100));
      const held = yield* fullSync(guildId, members(40, 100));
      expect(held.status).toBe("awaiting_confirmation");
      const next = yield* sync.start({ guildId, trigger: "api", source: "gateway", requestedBy: null });
      const superseded = yield* sync.run(held.id);
      expect(superseded).toMatchObject({ status: "discarded", markedLeft: 0, decidedBy: null });
      expect(superseded?.reason).toContain("superseded by a later sync");
      expect(yield* state(guildId)).toEqual({ present: 100, left: 0, stays: 0, pending: 0 });
      expect(yield* Effect.flip(sync.confirmLeaves(guildId, held.id, "admin-user"))).toMatchObject({
        _tag: "SyncNotAwaitingConfirmation",
        status: "discarded",
      });
      yield* sync.applyChunk({ runId: next.id, chunkIndex: 0, chunkCount: 1, members: members(5, 100) });
      expect(yield* sync.complete(next.id)).toMatchObject({ status: "completed", markedLeft: 5 });
    }),
  );

  it.effect("a confirmation applies the held verdict only: members a live event touched since stay as the gateway says", () =>
    Effect.gen(function* () {
      const guildId = yield* newGuild;
      const sync = yield* MemberSync;
      yield* fullSync(guildId, members(0, 100));
      const held = yield* fullSync(guildId, members(20, 100));
      expect(held).toMatchObject({ status: "awaiting_confirmation", pendingLeft: 20 });
      // Member 0 changes its nick (so it is there), member 1 leaves on its own, member 50 (not held) leaves too.
      expect(yield* sync.upsertLive(guildId, { userId: member(0).userId, nick: "Still here" })).toBe("updated");
      expect(yield* sync.removeLive(guildId, member(1).userId)).toBe("left");
      expect(yield* sync.removeLive(guildId, member(50).userId)).toBe("left");
      const confirmed = yield* sync.confirmLeaves(guildId, held.id, "admin-user");
      expect(confirmed).toMatchObject({ status: "completed", markedLeft: 18 });
      expect(confirmed.reason).toContain("2 of the 20 held");
      expect(yield* state(guildId)).toEqual({ present: 99 - 19, left: 20, stays: 20, pending: 0 });
    }),
  );
});

/** The store, except that writing a decision fails as a broken database would (after the members were marked). */
const DecisionFails = Layer.effect(
  MemberSyncStore,
  Effect.map(MemberSyncStore.make, (store) =>
    MemberSyncStore.of({ ...store, decideRun: () => Effect.fail(new DatabaseError({ operation: "test.decide", message: "injected" })) }),
  ),
);
/** The store, except that holding a verdict fails after the members were found. */
const HoldFails = Layer.effect(
  MemberSyncStore,
  Effect.map(MemberSyncStore.make, (store) =>
    MemberSyncStore.of({ ...store, holdLeaves: () => Effect.fail(new DatabaseError({ operation: "test.hold", message: "injected" })) }),
  ),
);
const failing = (store: Layer.Layer<MemberSyncStore, never, Database>) =>
  Layer.mergeAll(Directory.layer, MemberSync.layerOnStore.pipe(Layer.provideMerge(store), Layer.provide(DomainEvents.layer))).pipe(
    Layer.provideMerge(Database.layer({ dataDir: "memory://" })),
  );

layer(failing(DecisionFails), { excludeTestServices: true })("the guard never leaves the mirror half-applied (decision)", (it) => {
  it.effect("a confirmation whose run cannot be written marks nobody left and stays waiting", () =>
    Effect.gen(function* () {
      const guildId = yield* newGuild;
      const sync = yield* MemberSync;
      yield* fullSync(guildId, members(0, 100));
      const held = yield* fullSync(guildId, members(30, 100));
      expect(held.status).toBe("awaiting_confirmation");
      const error = yield* Effect.flip(sync.confirmLeaves(guildId, held.id, "admin-user"));
      expect(error).toMatchObject({ _tag: "DatabaseError", operation: "test.decide" });
      expect(yield* state(guildId)).toEqual({ present: 100, left: 0, stays: 0, pending: 30 });
      expect(yield* sync.run(held.id)).toMatchObject({ status: "awaiting_confirmation", markedLeft: 0 });
    }),
  );
});

layer(failing(HoldFails), { excludeTestServices: true })("the guard never leaves the mirror half-applied (hold)", (it) => {
  it.effect("a completion whose verdict cannot be held changes nothing: the run is still running, nobody marked or held", () =>
    Effect.gen(function* () {
      const guildId = yield* newGuild;
      const sync = yield* MemberSync;
      yield* fullSync(guildId, members(0, 100));
      const run = yield* sync.start({ guildId, trigger: "api", source: "gateway", requestedBy: null });
      yield* sync.applyChunk({ runId: run.id, chunkIndex: 0, chunkCount: 1, members: members(30, 100) });
      expect(yield* Effect.flip(sync.complete(run.id))).toMatchObject({ _tag: "DatabaseError", operation: "test.hold" });
      expect(yield* sync.run(run.id)).toMatchObject({ status: "running", markedLeft: 0, pendingLeft: 0 });
      expect(yield* state(guildId)).toEqual({ present: 100, left: 0, stays: 0, pending: 0 });
      yield* sync.abort(run.id, "test over");
    }),
  );
});
