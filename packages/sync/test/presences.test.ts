import { expect, layer } from "@effect/vitest";
import { Database } from "@guildhall/db";
import { Effect, Layer } from "effect";
import { Directory, type PresenceChange, Presences, type PresenceUpdate, Roster, SyncLayer } from "../src";

const Services = SyncLayer.pipe(Layer.provideMerge(Database.layer({ dataDir: "memory://" })));

const GUILD = "100000000000000001";
const update = (userId: string, status: PresenceUpdate["status"], at: number, customStatus: string | null = null): PresenceUpdate => ({
  guildId: GUILD,
  userId,
  status,
  customStatus,
  activities: customStatus ? [{ name: "Custom Status", type: 4, state: customStatus }] : [],
  clientStatus: status === "offline" ? {} : { desktop: status },
  observedAt: at,
});

const waitFor = <A>(check: () => A | undefined, timeoutMs = 2_000) =>
  Effect.promise(async () => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error("timed out waiting");
      await new Promise((r) => setTimeout(r, 10));
    }
  });

layer(Services)("presences", (it) => {
  it.effect("stores batches, keeps the latest per user, announces every change and drops unknown guilds", () =>
    Effect.gen(function* () {
      const directory = yield* Directory;
      const presences = yield* Presences;
      const org = yield* directory.ensureOrganization({ id: "org-1", name: "Demo", slug: "demo" });
      yield* directory.ensureGuild(org.id, { id: GUILD, name: "Demo Guild", icon: null });

      const heard: PresenceChange[] = [];
      const unsubscribe = presences.subscribe((changes) => heard.push(...changes));
      const t0 = Date.now() - 60_000;
      const result = yield* presences.applyBatch([
        update("200", "online", t0),
        update("200", "dnd", t0 + 1_000, "In a meeting"),
        update("201", "idle", t0 + 2_000),
        { ...update("202", "online", t0), guildId: "999" },
      ]);
      expect(result).toMatchObject({ applied: 3, ignored: 1 });
      yield* waitFor(() => (heard.length >= 3 ? true : undefined));
      unsubscribe();
      expect(heard.map((c) => [c.userId, c.status])).toEqual([
        ["200", "online"],
        ["200", "dnd"],
        ["201", "idle"],
      ]);
      expect(heard.map((c) => c.id)).toEqual([...heard.map((c) => c.id)].sort((a, b) => a - b));

      const since = yield* presences.changesSince(GUILD, heard[0]!.id, 100);
      expect(since.map((c) => c.status)).toEqual(["dnd", "idle"]);
      expect(yield* presences.latestId(GUILD)).toBe(result.lastId);
    }),
  );

  it.effect("a batch too large for one NOTIFY payload is announced by id range and read back whole", () =>
    Effect.gen(function* () {
      const presences = yield* Presences;
      const heard: PresenceChange[] = [];
      const unsubscribe = presences.subscribe((changes) => heard.push(...changes));
      const t0 = Date.now() - 10_000;
      const batch = Array.from({ length: 80 }, (_, i) => update(String(500 + i), "online", t0 + i, `status ${"x".repeat(120)} ${i}`));
      const result = yield* presences.applyBatch(batch);
      expect(result.applied).toBe(80);
      yield* waitFor(() => (heard.length >= 80 ? true : undefined));
      unsubscribe();
      expect(heard.map((c) => c.userId)).toEqual(batch.map((u) => u.userId));
      expect(heard[79]).toMatchObject({ customStatus: batch[79]!.customStatus, observedAt: new Date(t0 + 79).toISOString() });
    }),
  );

  it.effect("the roster joins staff with presence, marks unlinked staff, and tracks last seen", () =>
    Effect.gen(function* () {
      const { db } = yield* Database;
      const directory = yield* Directory;
      const presences = yield* Presences;
      const roster = yield* Roster;
      const { schema } = yield* Effect.promise(() => import("@guildhall/db"));
      yield* Effect.promise(() =>
        db.insert(schema.users).values([
          { id: "u-linked", name: "Ada", email: "ada@example.test", discordId: "200" },
          { id: "u-unlinked", name: "Bob", email: "bob@example.test", discordId: null },
        ]),
      );
      yield* directory.ensureStaff("org-1", "u-linked", "admin");
      yield* directory.ensureStaff("org-1", "u-unlinked", "staff");
      const wentOffline = Date.now() - 30_000;
      yield* presences.applyBatch([update("200", "offline", wentOffline)]);

      const snapshot = yield* roster.list("org-1");
      expect(snapshot.guild.id).toBe(GUILD);
      const ada = snapshot.entries.find((e) => e.name === "Ada")!;
      const bob = snapshot.entries.find((e) => e.name === "Bob")!;
      expect(ada.linked).toBe(true);
      expect(ada.presence?.status).toBe("offline");
      expect(ada.presence?.lastSeenAt).toBe(new Date(wentOffline).toISOString());
      expect(bob.linked).toBe(false);
      expect(bob.presence).toBeNull();
      expect(snapshot.cursor).toBe(yield* presences.latestId(GUILD));
      expect(yield* directory.staffDiscordIdsOfGuild(GUILD)).toEqual(["200"]);
    }),
  );

  it.effect("history counts staff by status per bucket", () =>
    Effect.gen(function* () {
      const presences = yield* Presences;
      const now = Date.now();
      yield* presences.applyBatch([update("300", "online", now - 50 * 60_000), update("301", "dnd", now - 20 * 60_000)]);
      const points = yield* presences.history(GUILD, ["300", "301", "302"], 60 * 60_000, 10 * 60_000);
      expect(points).toHaveLength(6);
      expect(points[0]).toMatchObject({ online: 1, dnd: 0 });
      expect(points[5]).toMatchObject({ online: 1, dnd: 1 });
    }),
  );
});
