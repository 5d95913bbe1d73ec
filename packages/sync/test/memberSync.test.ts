import { expect, layer } from "@effect/vitest";
import { Database, schema } from "@guildhall/db";
import { and, eq } from "drizzle-orm";
import { Effect, Layer } from "effect";
import { Bot, Comparison, Directory, type MemberSnapshot, MemberSync, SyncLayer } from "../src";

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

  it.effect("live member events apply at once: join, change, leave, come back", () =>
    Effect.gen(function* () {
      const sync = yield* MemberSync;
      expect(yield* sync.upsertLive(GUILD, member(5_000))).toBe("created");
      expect(yield* sync.upsertLive(GUILD, member(5_000))).toBe("unchanged");
      expect(yield* sync.upsertLive(GUILD, member(5_000, { roleIds: ["500000000000000003"] }))).toBe("updated");
      expect(yield* sync.removeLive(GUILD, member(5_000).userId)).toBe("left");
      expect(yield* sync.removeLive(GUILD, member(5_000).userId)).toBe("unchanged");
      expect(yield* sync.upsertLive(GUILD, member(5_000))).toBe("rejoined");
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
        ]),
      );
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

layer(Services)("scheduled member syncs", (it) => {
  it.effect("queue a sync for a guild whose interval has passed, once", () =>
    Effect.gen(function* () {
      const directory = yield* Directory;
      const bot = yield* Bot;
      yield* directory.ensureOrganization({ id: "org", name: "Org", slug: "org" });
      yield* directory.ensureGuild("org", { id: GUILD, name: "Guild", icon: null });
      expect(yield* bot.enqueueDueSyncs()).toEqual([]);
      yield* directory.updateSettings(GUILD, { syncIntervalMinutes: 60, syncAdminRoleId: "500000000000000001" });
      const queued = yield* bot.enqueueDueSyncs();
      expect(queued).toMatchObject([{ kind: "members.sync", guildId: GUILD, payload: { trigger: "schedule" } }]);
      expect(yield* bot.enqueueDueSyncs()).toEqual([]);
      expect(yield* directory.settingsOf(GUILD)).toEqual({ syncIntervalMinutes: 60, syncAdminRoleId: "500000000000000001" });
    }),
  );
});
