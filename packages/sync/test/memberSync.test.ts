import { expect, layer } from "@effect/vitest";
import { Database, DatabaseError, schema } from "@guildhall/db";
import { and, eq } from "drizzle-orm";
import { Effect, Layer, Schema } from "effect";
import { TestClock } from "effect/testing";
import {
  Comparison,
  Directory,
  DomainEvents,
  MEMBER_COLUMNS,
  MEMBER_FIELDS,
  MEMBER_SNAPSHOT_FIELDS,
  type MemberSnapshot,
  MemberSync,
  MemberSyncStore,
  SYNC_STALE_MS,
  SyncLayer,
} from "../src";
import { snapshotOf } from "../src/MemberSyncStore";

const Services = SyncLayer.pipe(Layer.provideMerge(Database.layer({ dataDir: "memory://" })));
const GUILD = "300000000000000001";

const member = (n: number, overrides: Partial<MemberSnapshot> = {}): MemberSnapshot => ({
  userId: String(400_000_000_000_000_000n + BigInt(n)),
  username: `user${n}`,
  globalName: `User ${n}`,
  nick: n % 3 === 0 ? `nick${n}` : null,
  avatar: n % 2 === 0 ? `a${n}`.padEnd(32, "0") : null,
  roleIds: n % 5 === 0 ? ["500000000000000002", "500000000000000001"] : [],
  joinedAt: new Date(Date.UTC(2024, 0, 1 + (n % 300))).toISOString(),
  isBot: n % 97 === 0,
  pending: false,
  premiumSince: null,
  communicationDisabledUntil: null,
  ...overrides,
});
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Runs a full sync of `snapshot` in chunks of `size`, as the bot would, and completes it. */
const fullSync = (snapshot: ReadonlyArray<MemberSnapshot>, size = 100, skip: ReadonlyArray<number> = []) =>
  Effect.gen(function* () {
    const sync = yield* MemberSync;
    const run = yield* sync.start({ guildId: GUILD, trigger: "api", source: "gateway", requestedBy: null });
    const chunkCount = Math.max(1, Math.ceil(snapshot.length / size));
    for (let i = 0; i < chunkCount; i++) {
      if (skip.includes(i)) continue;
      yield* sync.applyChunk({ runId: run.id, chunkIndex: i, chunkCount, members: snapshot.slice(i * size, (i + 1) * size) });
    }
    return yield* sync.complete(run.id);
  });

const presentCount = Effect.gen(function* () {
  const { db } = yield* Database;
  const rows = yield* Effect.promise(() =>
    db.select({ userId: schema.guildMembers.userId, dateLeft: schema.guildMembers.dateLeft }).from(schema.guildMembers),
  );
  return { present: rows.filter((r) => r.dateLeft === null).length, left: rows.filter((r) => r.dateLeft !== null).length };
});

layer(Services, { excludeTestServices: true })("member sync", (it) => {
  it.effect("a first sync creates everyone; the same snapshot again changes nothing", () =>
    Effect.gen(function* () {
      const directory = yield* Directory;
      yield* directory.ensureOrganization({ id: "org", name: "Org", slug: "org" });
      yield* directory.ensureGuild("org", { id: GUILD, name: "Guild", icon: null });
      const snapshot = range(0, 1_000).map((n) => member(n));
      const first = yield* fullSync(snapshot);
      expect(first).toMatchObject({
        status: "completed",
        created: 1_000,
        updated: 0,
        markedLeft: 0,
        rejoined: 0,
        unchanged: 0,
        chunkCount: 10,
        chunksReceived: 10,
      });
      const again = yield* fullSync(snapshot);
      expect(again).toMatchObject({ status: "completed", created: 0, updated: 0, markedLeft: 0, rejoined: 0, unchanged: 1_000 });
      expect(yield* presentCount).toEqual({ present: 1_000, left: 0 });
    }),
  );

  it.effect("a second sync reports exactly who left, joined and changed", () =>
    Effect.gen(function* () {
      const snapshot = [
        ...range(50, 1_000).map((n) =>
          n < 80 ? member(n, { nick: `renamed${n}` }) : n < 100 ? member(n, { roleIds: ["500000000000000009"] }) : member(n),
        ),
        ...range(2_000, 2_040).map((n) => member(n)),
      ];
      const result = yield* fullSync(snapshot, 250);
      expect(result).toMatchObject({ status: "completed", created: 40, updated: 50, markedLeft: 50, rejoined: 0, unchanged: 900 });
      expect(yield* presentCount).toEqual({ present: 990, left: 50 });
    }),
  );

  it.effect("an incomplete snapshot marks nobody left and says why; the next sync completes", () =>
    Effect.gen(function* () {
      const snapshot = range(60, 1_000).map((n) => member(n)); // 60..79 renamed back, 0..59 already gone, 2000+ gone now
      const partial = yield* fullSync(snapshot, 100, [3]);
      expect(partial.status).toBe("incomplete");
      expect(partial.markedLeft).toBe(0);
      expect(partial.reason).toContain("9 of 10 chunks");
      expect(yield* presentCount).toEqual({ present: 990, left: 50 });
      const whole = yield* fullSync(snapshot, 100);
      expect(whole).toMatchObject({ status: "completed", markedLeft: 40 + 10 });
      expect(yield* presentCount).toEqual({ present: 940, left: 100 });
      // Each end is a domain event, written with the run's end.
      const events = yield* DomainEvents.use((log) => log.since("org", 0, 100, ["sync.finished", "sync.failed"]));
      expect(events.slice(-2).map((e) => [e.kind, (e.payload as { runId: string }).runId])).toEqual([
        ["sync.failed", partial.id],
        ["sync.finished", whole.id],
      ]);
      expect(events.at(-1)?.payload).toMatchObject({ markedLeft: 50, created: whole.created, rejoined: whole.rejoined });
    }),
  );

  it.effect("a member who comes back has date_left cleared, a new stay, and the ended one in the history", () =>
    Effect.gen(function* () {
      const { db } = yield* Database;
      const back = member(10);
      const m = schema.guildMembers;
      const [before] = yield* Effect.promise(() =>
        db
          .select()
          .from(m)
          .where(and(eq(m.guildId, GUILD), eq(m.userId, back.userId))),
      );
      expect(before!.dateLeft).not.toBeNull();
      const result = yield* fullSync(
        [...range(10, 11), ...range(60, 1_000)].map((n) => member(n)),
        200,
      );
      expect(result).toMatchObject({ rejoined: 1, created: 0, markedLeft: 0 });
      const [after] = yield* Effect.promise(() =>
        db
          .select()
          .from(m)
          .where(and(eq(m.guildId, GUILD), eq(m.userId, back.userId))),
      );
      expect(after!.dateLeft).toBeNull();
      expect(after!.stayStartedAt.getTime()).toBeGreaterThan(before!.dateLeft!.getTime());
      const stays = yield* Effect.promise(() =>
        db
          .select()
          .from(schema.guildMembershipHistory)
          .where(and(eq(schema.guildMembershipHistory.guildId, GUILD), eq(schema.guildMembershipHistory.userId, back.userId))),
      );
      // One ended stay: from the first sync that saw them to the sync that found them gone.
      expect(stays).toHaveLength(1);
      expect(stays[0]!.leftAt.getTime()).toBe(before!.dateLeft!.getTime());
      expect(stays[0]!.firstSeenAt.getTime()).toBe(before!.stayStartedAt.getTime());
    }),
  );

  it.effect("one sync per guild at a time; redelivered chunks change nothing; bad chunk numbers are refused", () =>
    Effect.gen(function* () {
      const sync = yield* MemberSync;
      const run = yield* sync.start({ guildId: GUILD, trigger: "button", source: "gateway", requestedBy: "u" });
      const second = yield* Effect.flip(sync.start({ guildId: GUILD, trigger: "schedule", source: "gateway", requestedBy: null }));
      expect(second).toMatchObject({ _tag: "SyncAlreadyRunning", runId: run.id });
      const chunk = { runId: run.id, chunkIndex: 0, chunkCount: 2, members: [member(60, { nick: "changed" })] };
      expect((yield* sync.applyChunk(chunk)).updated).toBe(1);
      const again = yield* sync.applyChunk(chunk);
      expect(again).toMatchObject({ applied: false, updated: 0 });
      expect((yield* Effect.flip(sync.applyChunk({ ...chunk, chunkIndex: 1, chunkCount: 3 })))._tag).toBe("ChunkMismatch");
      expect((yield* Effect.flip(sync.applyChunk({ ...chunk, chunkIndex: 2 })))._tag).toBe("ChunkMismatch");
      const aborted = yield* sync.abort(run.id, "connection dropped");
      expect(aborted).toMatchObject({ status: "incomplete", reason: "connection dropped", markedLeft: 0 });
      expect((yield* Effect.flip(sync.applyChunk({ ...chunk, chunkIndex: 1 })))._tag).toBe("SyncNotRunning");
      const history = yield* sync.history(GUILD, 100);
      expect(history[0]!.id).toBe(run.id);
    }),
  );

  it.effect("a snapshot of only new members finds every earlier member absent, except one a live event touched during the run", () =>
    Effect.gen(function* () {
      // Every member this run carries is created by it, so MemberSyncStore.absentMembers takes its
      // path without the anti-join; the verdicts must be the anti-join's.
      const guildId = "300000000000000002";
      const directory = yield* Directory;
      const sync = yield* MemberSync;
      const { db } = yield* Database;
      yield* directory.ensureGuild("org", { id: guildId, name: "Second guild", icon: null });
      const syncOf = (members: ReadonlyArray<MemberSnapshot>, during: Effect.Effect<unknown, unknown> = Effect.void) =>
        Effect.gen(function* () {
          const run = yield* sync.start({ guildId, trigger: "api", source: "gateway", requestedBy: null });
          yield* during;
          yield* sync.applyChunk({ runId: run.id, chunkIndex: 0, chunkCount: 1, members });
          return yield* sync.complete(run.id);
        });
      const first = yield* syncOf(range(30_000, 30_030).map((n) => member(n)));
      expect(first).toMatchObject({ status: "completed", created: 30, markedLeft: 0 });

      const touched = member(30_001, { nick: "changed during the run" });
      const second = yield* syncOf(
        range(31_000, 31_005).map((n) => member(n)),
        sync.upsertLive(guildId, touched),
      );
      // 29 of the 30 earlier members are absent (not 30: the live event kept one), of 34 present: past the mass-leave guard.
      expect(second).toMatchObject({ status: "awaiting_confirmation", created: 5, pendingLeft: 29, presentMembers: 34, markedLeft: 0 });
      const confirmed = yield* sync.confirmLeaves(guildId, second.id, "admin");
      expect(confirmed).toMatchObject({ status: "completed", markedLeft: 29 });
      const rows = yield* Effect.promise(() =>
        db
          .select({ userId: schema.guildMembers.userId, dateLeft: schema.guildMembers.dateLeft })
          .from(schema.guildMembers)
          .where(eq(schema.guildMembers.guildId, guildId)),
      );
      const present = rows.filter((r) => r.dateLeft === null).map((r) => r.userId);
      expect(present.sort()).toEqual([touched.userId, ...range(31_000, 31_005).map((n) => member(n).userId)].sort());
    }),
  );

  it.effect("live member events apply at once: join, change, leave, come back", () =>
    Effect.gen(function* () {
      const sync = yield* MemberSync;
      expect(yield* sync.upsertLive(GUILD, member(5_000))).toBe("created");
      expect(yield* sync.upsertLive(GUILD, member(5_000))).toBe("unchanged");
      expect(yield* sync.upsertLive(GUILD, member(5_000, { roleIds: ["500000000000000003"] }))).toBe("updated");
      expect(yield* sync.removeLive(GUILD, member(5_000).userId)).toBe("left");
      expect(yield* sync.removeLive(GUILD, member(5_000).userId)).toBe("unchanged");
      expect(yield* sync.upsertLive(GUILD, member(5_000))).toBe("rejoined");
      // Joins and leaves (not changes, not repeats) are domain events of the guild's organization.
      const events = yield* DomainEvents.use((log) => log.since("org", 0, 10_000, ["member.joined", "member.left"]));
      expect(events.map((e) => [e.kind, e.guildId, e.organizationId, e.payload])).toEqual([
        ["member.joined", GUILD, "org", { userId: member(5_000).userId, username: "user5000", displayName: "User 5000", rejoined: false }],
        ["member.left", GUILD, "org", { userId: member(5_000).userId, username: "user5000", displayName: "User 5000" }],
        ["member.joined", GUILD, "org", { userId: member(5_000).userId, username: "user5000", displayName: "User 5000", rejoined: true }],
      ]);
    }),
  );
});

layer(Services, { excludeTestServices: true })("comparison", (it) => {
  it.effect("puts members and accounts in the four categories, with filters and pages", () =>
    Effect.gen(function* () {
      const { db } = yield* Database;
      const directory = yield* Directory;
      const sync = yield* MemberSync;
      const comparison = yield* Comparison;
      yield* directory.ensureOrganization({ id: "org", name: "Org", slug: "org" });
      yield* directory.ensureGuild("org", { id: GUILD, name: "Guild", icon: null });
      for (const n of range(0, 30)) yield* sync.upsertLive(GUILD, member(n));
      yield* sync.removeLive(GUILD, member(1).userId);
      yield* sync.removeLive(GUILD, member(2).userId);
      yield* Effect.promise(() =>
        db.insert(schema.users).values([
          { id: "u0", name: "Zero", email: "zero@x.test", discordId: member(0).userId },
          { id: "u1", name: "One", email: "one@x.test", discordId: member(1).userId },
          { id: "u9", name: "Never", email: "never@x.test", discordId: "999999999999999999" },
          { id: "un", name: "Unlinked", email: "unlinked@x.test", discordId: null },
          { id: "u8", name: "Elsewhere", email: "elsewhere@x.test", discordId: "888888888888888888" },
        ]),
      );
      // Staff of another organization only: not this guild's business, so in no category.
      yield* directory.ensureOrganization({ id: "other", name: "Other", slug: "other" });
      yield* directory.ensureStaff("other", "u8", "staff", null);
      const page = yield* comparison.page(GUILD, { category: "guild_only", pageSize: 10 });
      expect(page.counts).toEqual({ guild_only: 27, linked: 1, left: 1, no_guild_record: 1 });
      expect(page.total).toBe(27);
      expect(page.rows).toHaveLength(10);
      expect((yield* comparison.page(GUILD, { category: "guild_only", pageSize: 10, page: 3 })).rows).toHaveLength(7);
      expect((yield* comparison.page(GUILD, { category: "linked" })).rows[0]).toMatchObject({
        discordId: member(0).userId,
        user: { id: "u0" },
      });
      expect((yield* comparison.page(GUILD, { category: "left" })).rows[0]!.member?.dateLeft).not.toBeNull();
      expect((yield* comparison.page(GUILD, { category: "no_guild_record" })).rows).toEqual([
        { discordId: "999999999999999999", member: null, user: { id: "u9", name: "Never", email: "never@x.test" } },
      ]);
      const withRole = yield* comparison.page(GUILD, { category: "guild_only", roleId: "500000000000000001" });
      expect(withRole.total).toBe(5); // 5, 10, 15, 20, 25 (0 is linked)
      expect((yield* comparison.page(GUILD, { category: "guild_only", search: "user1" })).total).toBe(10); // user10..user19
      expect((yield* comparison.page(GUILD, { category: "guild_only", search: "100%_" })).total).toBe(0);
    }),
  );
});

layer(Services, { excludeTestServices: true })("member sync with an unknown chunk count (REST paging)", (it) => {
  it.effect("takes pages without a count and checks completeness against the count given at the end", () =>
    Effect.gen(function* () {
      const directory = yield* Directory;
      const sync = yield* MemberSync;
      yield* directory.ensureOrganization({ id: "org", name: "Org", slug: "org" });
      yield* directory.ensureGuild("org", { id: GUILD, name: "Guild", icon: null });
      const run = yield* sync.start({ guildId: GUILD, trigger: "api", source: "rest", requestedBy: null });
      yield* sync.applyChunk({ runId: run.id, chunkIndex: 0, chunkCount: null, members: range(0, 10).map((n) => member(n)) });
      yield* sync.applyChunk({ runId: run.id, chunkIndex: 1, chunkCount: null, members: range(10, 15).map((n) => member(n)) });
      expect(yield* sync.complete(run.id, 2)).toMatchObject({ status: "completed", chunkCount: 2, created: 15 });
      const short = yield* sync.start({ guildId: GUILD, trigger: "api", source: "rest", requestedBy: null });
      yield* sync.applyChunk({ runId: short.id, chunkIndex: 0, chunkCount: null, members: range(0, 10).map((n) => member(n)) });
      expect(yield* sync.complete(short.id, 2)).toMatchObject({ status: "incomplete", markedLeft: 0 });
    }),
  );
});

/** A member whose every field holds a value no other field holds (`variant` swaps them for a second write). */
const sentinel = (n: number, variant: 0 | 1): MemberSnapshot => ({
  userId: String(600_000_000_000_000_000n + BigInt(n)),
  username: variant ? `user "${n}", {x} \\ NULL` : `user-${n}`,
  globalName: variant ? null : `global-${n} , "quoted" {braced}`,
  nick: variant ? `nick-${n} \\\\ back` : null,
  avatar: variant ? `avatar-${n}` : `a_${"f".repeat(32)}`,
  roleIds: variant ? ["500000000000000011"] : ["500000000000000012", "500000000000000013"],
  joinedAt: variant ? "2001-01-01T01:01:01.001Z" : "2011-11-11T11:11:11.111Z",
  isBot: variant === 1,
  pending: variant === 0,
  premiumSince: variant ? "2002-02-02T02:02:02.002Z" : null,
  communicationDisabledUntil: variant ? null : "2003-03-03T03:03:03.003Z",
});

/** Every stored member of GUILD among `userIds`, as snapshots (read through Drizzle's own column mapping). */
const stored = (userIds: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const store = yield* MemberSyncStore;
    const rows: Array<MemberSnapshot | null> = [];
    for (const userId of userIds) {
      const row = yield* store.member(GUILD, userId, false);
      rows.push(row && snapshotOf(row));
    }
    return rows;
  });

const linkGuild = Effect.gen(function* () {
  const directory = yield* Directory;
  yield* directory.ensureOrganization({ id: "org", name: "Org", slug: "org" });
  yield* directory.ensureGuild("org", { id: GUILD, name: "Guild", icon: null });
});

const StoreServices = Layer.mergeAll(SyncLayer, MemberSyncStore.layer).pipe(Layer.provideMerge(Database.layer({ dataDir: "memory://" })));

layer(StoreServices, { excludeTestServices: true })("the member columns", (it) => {
  it.effect("every snapshot field lands in its own column, through chunks and live events, on insert and on update", () =>
    Effect.gen(function* () {
      yield* linkGuild;
      const sync = yield* MemberSync;
      const ids = range(0, 4).map((n) => sentinel(n, 0).userId);
      const outcomes = ["created", "updated", "updated"];
      for (const [i, variant] of ([0, 1, 0] as const).entries()) {
        // Members 0 and 1 through a full sync's chunk statement, 2 and 3 as live events.
        const run = yield* sync.start({ guildId: GUILD, trigger: "api", source: "gateway", requestedBy: null });
        yield* sync.applyChunk({ runId: run.id, chunkIndex: 0, chunkCount: 1, members: [sentinel(0, variant), sentinel(1, variant)] });
        yield* sync.abort(run.id, "only the chunk matters here");
        expect(yield* sync.upsertLive(GUILD, sentinel(2, variant))).toBe(outcomes[i]);
        yield* sync.upsertLive(GUILD, sentinel(3, variant));
        expect(yield* stored(ids)).toEqual(range(0, 4).map((n) => sentinel(n, variant)));
      }
      // The table itself: every snapshot field exactly once, each column once.
      expect(Object.keys(MEMBER_COLUMNS).sort()).toEqual([...MEMBER_SNAPSHOT_FIELDS].sort());
      const columns = Object.values(MEMBER_COLUMNS).map((c) => c.column);
      expect(new Set(columns).size).toBe(columns.length);
    }),
  );

  it.effect("a re-sync of the same sentinels changes nothing (every compared column compares equal)", () =>
    Effect.gen(function* () {
      yield* linkGuild;
      const sync = yield* MemberSync;
      const members = range(0, 4).map((n) => sentinel(n, 0));
      for (const m of members) yield* sync.upsertLive(GUILD, m);
      const run = yield* sync.start({ guildId: GUILD, trigger: "api", source: "gateway", requestedBy: null });
      const chunk = yield* sync.applyChunk({ runId: run.id, chunkIndex: 0, chunkCount: 1, members });
      expect(chunk).toMatchObject({ created: 0, updated: 0, rejoined: 0, unchanged: 4 });
      yield* sync.abort(run.id, "done");
      for (const member of members) expect(yield* sync.upsertLive(GUILD, member)).toBe("unchanged");
    }),
  );

  it.effect("a live update is a merge: only the fields it carries change, a present null clears, an absent field stays", () =>
    Effect.gen(function* () {
      yield* linkGuild;
      const sync = yield* MemberSync;
      const base = sentinel(20, 0);
      const other = sentinel(20, 1);
      expect(yield* sync.upsertLive(GUILD, base)).toBe("created");
      let current: MemberSnapshot = base;
      for (const field of MEMBER_FIELDS) {
        // Only `field` (from the other variant): every other stored field must stay as it was.
        expect(yield* sync.upsertLive(GUILD, { userId: base.userId, [field]: other[field] })).toBe("updated");
        current = { ...current, [field]: other[field] };
        expect((yield* stored([base.userId]))[0]).toEqual(current);
      }
      // Carrying only values already stored: unchanged, though the fields it leaves out differ from `base`.
      expect(yield* sync.upsertLive(GUILD, { userId: base.userId, nick: other.nick, roleIds: other.roleIds })).toBe("unchanged");
      expect(yield* sync.upsertLive(GUILD, { userId: base.userId })).toBe("unchanged");
      // A present null clears; nothing else moves.
      expect(yield* sync.upsertLive(GUILD, { userId: base.userId, nick: null, joinedAt: null })).toBe("updated");
      expect((yield* stored([base.userId]))[0]).toEqual({ ...current, nick: null, joinedAt: null });
      // A member never seen, from a partial event: what it left out takes the defaults.
      const stranger = sentinel(21, 0).userId;
      expect(yield* sync.upsertLive(GUILD, { userId: stranger, roleIds: ["500000000000000012"] })).toBe("created");
      expect((yield* stored([stranger]))[0]).toEqual({
        userId: stranger,
        username: stranger,
        globalName: null,
        nick: null,
        avatar: null,
        roleIds: ["500000000000000012"],
        joinedAt: null,
        isBot: false,
        pending: false,
        premiumSince: null,
        communicationDisabledUntil: null,
      });
      // A member marked left who shows up in a partial update comes back with what was stored.
      yield* sync.removeLive(GUILD, base.userId);
      expect(yield* sync.upsertLive(GUILD, { userId: base.userId, nick: "Back" })).toBe("rejoined");
      expect((yield* stored([base.userId]))[0]).toEqual({ ...current, nick: "Back", joinedAt: null });
    }),
  );

  it.effect("@everyone (the guild's own id) is dropped from a member's roles on every path", () =>
    Effect.gen(function* () {
      yield* linkGuild;
      const sync = yield* MemberSync;
      const chunked = { ...sentinel(10, 0), roleIds: [GUILD, "500000000000000012", GUILD] };
      const live = { ...sentinel(11, 0), roleIds: ["500000000000000013", GUILD] };
      const run = yield* sync.start({ guildId: GUILD, trigger: "api", source: "gateway", requestedBy: null });
      yield* sync.applyChunk({ runId: run.id, chunkIndex: 0, chunkCount: 1, members: [chunked] });
      yield* sync.abort(run.id, "done");
      yield* sync.upsertLive(GUILD, live);
      const [a, b] = yield* stored([chunked.userId, live.userId]);
      expect(a?.roleIds).toEqual(["500000000000000012"]);
      expect(b?.roleIds).toEqual(["500000000000000013"]);
      // Listing @everyone again is no change.
      expect(yield* sync.upsertLive(GUILD, live)).toBe("unchanged");
    }),
  );
});

class Boom extends Schema.TaggedError<Boom>()("Boom", {}) {}

/** The store, except that writing roles fails as a broken database would. */
const RolesFail = Layer.effect(
  MemberSyncStore,
  Effect.map(MemberSyncStore.make, (store) =>
    MemberSyncStore.of({ ...store, replaceRoles: () => Effect.fail(new DatabaseError({ operation: "test.roles", message: "injected" })) }),
  ),
);
const FailingServices = Layer.mergeAll(
  Directory.layer,
  MemberSync.layerOnStore.pipe(Layer.provideMerge(RolesFail), Layer.provide(DomainEvents.layer)),
).pipe(Layer.provideMerge(Database.layer({ dataDir: "memory://" })));

layer(FailingServices, { excludeTestServices: true })("no run is left open by a failure of its own", (it) => {
  it.effect("begin ends its run when storing the roles fails, and the next sync can start", () =>
    Effect.gen(function* () {
      yield* linkGuild;
      const sync = yield* MemberSync;
      const input = { guildId: GUILD, trigger: "api", source: "gateway", requestedBy: null } as const;
      const role = { id: "500000000000000001", name: "r", color: 0, position: 1, managed: false, permissions: "0" };
      const error = yield* Effect.flip(sync.begin(input, [role]));
      expect(error).toMatchObject({ _tag: "DatabaseError", operation: "test.roles" });
      const [failed] = yield* sync.history(GUILD, 1);
      expect(failed).toMatchObject({ status: "failed", reason: expect.stringContaining("DatabaseError") });
      const next = yield* sync.start(input);
      expect(next.status).toBe("running");
      yield* sync.abort(next.id, "done");
    }),
  );

  it.effect("withRun ends the run on a typed failure, a defect or an interruption, and passes the failure on", () =>
    Effect.gen(function* () {
      yield* linkGuild;
      const sync = yield* MemberSync;
      const input = { guildId: GUILD, trigger: "api", source: "rest", requestedBy: null } as const;
      const typed = yield* Effect.flip(sync.withRun(input, () => Effect.fail(new Boom())));
      expect(typed).toBeInstanceOf(Boom);
      expect((yield* sync.history(GUILD, 1))[0]).toMatchObject({ status: "failed", reason: expect.stringContaining("Boom") });
      const died = yield* Effect.exit(sync.withRun(input, () => Effect.die(new Error("bug"))));
      expect(died._tag).toBe("Failure");
      expect((yield* sync.history(GUILD, 1))[0]).toMatchObject({ status: "failed", reason: expect.stringContaining("unexpected") });
      const interrupted = yield* Effect.exit(sync.withRun(input, () => Effect.interrupt));
      expect(interrupted._tag).toBe("Failure");
      expect((yield* sync.history(GUILD, 1))[0]).toMatchObject({ status: "failed", reason: expect.stringContaining("interrupted") });
      // Success leaves the run as the work left it.
      const kept = yield* sync.withRun(input, (run) => Effect.succeed(run.id));
      expect(yield* sync.run(kept)).toMatchObject({ status: "running" });
      yield* sync.abort(kept, "kept until now");
      const ended = yield* sync.withRun(input, (run) => sync.abort(run.id, "finished"));
      expect(ended.status).toBe("incomplete");
    }),
  );

  it.effect("a guild Guildhall does not know is refused before any run exists", () =>
    Effect.gen(function* () {
      const sync = yield* MemberSync;
      const error = yield* Effect.flip(sync.start({ guildId: "123456789012345678", trigger: "api", source: "gateway", requestedBy: null }));
      expect(error).toMatchObject({ _tag: "GuildNotLinked", guildId: "123456789012345678" });
      expect(yield* sync.history("123456789012345678", 10)).toEqual([]);
    }),
  );
});

// Under TestClock: every time MemberSync writes comes from Effect's Clock, so time moves only when the test moves it.
layer(Services)("stale runs", (it) => {
  it.effect("a silent run expires after SYNC_STALE_MS (2 minutes): not at 119 s, at 121 s", () =>
    Effect.gen(function* () {
      yield* linkGuild;
      const sync = yield* MemberSync;
      const input = { guildId: GUILD, trigger: "api", source: "gateway", requestedBy: null } as const;
      const run = yield* sync.start(input);
      expect(SYNC_STALE_MS).toBe(120_000);
      yield* TestClock.adjust("119 seconds");
      expect(yield* sync.expireStale()).toEqual([]);
      expect((yield* Effect.flip(sync.start(input)))._tag).toBe("SyncAlreadyRunning");
      yield* TestClock.adjust("2 seconds");
      const expired = yield* sync.expireStale();
      expect(expired).toMatchObject([{ id: run.id, status: "incomplete", reason: expect.stringContaining("timed out") }]);
      expect(expired[0]!.durationMs).toBe(121_000);
      expect(yield* sync.expireStale()).toEqual([]);
      const next = yield* sync.start(input);
      expect(next.status).toBe("running");
      yield* sync.abort(next.id, "done");
    }),
  );

  it.effect("a chunk keeps the run alive for another 2 minutes; start expires the guild's stale run itself", () =>
    Effect.gen(function* () {
      yield* linkGuild;
      const sync = yield* MemberSync;
      const input = { guildId: GUILD, trigger: "api", source: "gateway", requestedBy: null } as const;
      const run = yield* sync.start(input);
      yield* TestClock.adjust("100 seconds");
      yield* sync.applyChunk({ runId: run.id, chunkIndex: 0, chunkCount: 2, members: [member(1)] });
      yield* TestClock.adjust("119 seconds");
      expect(yield* sync.expireStale()).toEqual([]);
      yield* TestClock.adjust("2 seconds");
      const next = yield* sync.start(input);
      expect(yield* sync.run(run.id)).toMatchObject({ status: "incomplete", reason: expect.stringContaining("timed out") });
      yield* sync.abort(next.id, "done");
    }),
  );
});
