import { expect, layer } from "@effect/vitest";
import { Database, schema } from "@guildhall/db";
import { eq } from "drizzle-orm";
import { Effect, Layer } from "effect";
import { Comparison, Directory, SyncLayer } from "../src";

const Services = SyncLayer.pipe(Layer.provideMerge(Database.layer({ dataDir: "memory://" })));

const GUILD = "300000000000000001";
const ADA = "310000000000000001";
const GRACE = "310000000000000002";

/** The Discord id stored for `userId`, read back from the table. */
const discordIdOf = (userId: string) =>
  Effect.gen(function* () {
    const { use } = yield* Database;
    const rows = yield* use("test.discordIdOf", (db) =>
      db.select({ discordId: schema.users.discordId }).from(schema.users).where(eq(schema.users.id, userId)),
    );
    return rows[0]?.discordId;
  });

layer(Services)("Directory", (it) => {
  it.effect("ensureUser creates a user once and reads it back after (insert-or-read)", () =>
    Effect.gen(function* () {
      const directory = yield* Directory;
      const first = yield* directory.ensureUser({ name: "Ada", email: "ada@test.invalid", discordId: ADA });
      const again = yield* directory.ensureUser({ name: "Ada L.", email: "ada@test.invalid", discordId: ADA });
      expect(again).toBe(first);
      expect(yield* discordIdOf(first)).toBe(ADA);
      // Concurrent callers agree on one row.
      const together = yield* Effect.all(
        Array.from({ length: 4 }, () => directory.ensureUser({ name: "Grace", email: "grace@test.invalid", discordId: GRACE })),
        { concurrency: "unbounded" },
      );
      expect(new Set(together).size).toBe(1);
    }),
  );

  it.effect("ensureUser fails with DiscordIdTaken when a new user's Discord id belongs to someone else", () =>
    Effect.gen(function* () {
      const directory = yield* Directory;
      const error = yield* directory.ensureUser({ name: "Impostor", email: "impostor@test.invalid", discordId: ADA }).pipe(Effect.flip);
      expect(error).toMatchObject({ _tag: "DiscordIdTaken", discordId: ADA });
    }),
  );

  it.effect("setDiscordId links, relinks to the same id, and unlinks", () =>
    Effect.gen(function* () {
      const directory = yield* Directory;
      const id = yield* directory.ensureUser({ name: "Linus", email: "linus@test.invalid", discordId: null });
      yield* directory.setDiscordId(id, "310000000000000003");
      expect(yield* discordIdOf(id)).toBe("310000000000000003");
      // Setting the id a user already holds is no conflict with itself.
      yield* directory.setDiscordId(id, "310000000000000003");
      yield* directory.setDiscordId(id, null);
      expect(yield* discordIdOf(id)).toBeNull();
    }),
  );

  it.effect("setDiscordId fails with DiscordIdTaken for another user's id, and leaves both users as they were", () =>
    Effect.gen(function* () {
      const directory = yield* Directory;
      const ada = yield* directory.ensureUser({ name: "Ada", email: "ada@test.invalid", discordId: ADA });
      const linus = yield* directory.ensureUser({ name: "Linus", email: "linus@test.invalid", discordId: null });
      const error = yield* directory.setDiscordId(linus, ADA).pipe(Effect.flip);
      expect(error).toMatchObject({ _tag: "DiscordIdTaken", discordId: ADA });
      expect(yield* discordIdOf(ada)).toBe(ADA);
      expect(yield* discordIdOf(linus)).toBeNull();
    }),
  );

  it.effect("setDiscordId: of two links of one id racing, one wins and the other gets DiscordIdTaken (never a DatabaseError)", () =>
    Effect.gen(function* () {
      const directory = yield* Directory;
      const a = yield* directory.ensureUser({ name: "Racer A", email: "racer-a@test.invalid", discordId: null });
      const b = yield* directory.ensureUser({ name: "Racer B", email: "racer-b@test.invalid", discordId: null });
      const outcomes = yield* Effect.all(
        [a, b].map((id) => directory.setDiscordId(id, "310000000000000007").pipe(Effect.result)),
        { concurrency: "unbounded" },
      );
      const failures = outcomes.flatMap((o) => (o._tag === "Failure" ? [o.failure] : []));
      expect(outcomes.filter((o) => o._tag === "Success")).toHaveLength(1);
      expect(failures.map((f) => f._tag)).toEqual(["DiscordIdTaken"]);
    }),
  );

  it.effect("setDiscordId fails with UserNotFound for an unknown user", () =>
    Effect.gen(function* () {
      const directory = yield* Directory;
      const error = yield* directory.setDiscordId("no-such-user", "310000000000000009").pipe(Effect.flip);
      expect(error).toMatchObject({ _tag: "UserNotFound", userId: "no-such-user" });
      const unlink = yield* directory.setDiscordId("no-such-user", null).pipe(Effect.flip);
      expect(unlink._tag).toBe("UserNotFound");
      // A taken id is reported first, whoever asks (as the API always answered).
      const taken = yield* directory.setDiscordId("no-such-user", ADA).pipe(Effect.flip);
      expect(taken._tag).toBe("DiscordIdTaken");
    }),
  );

  it.effect("requireAdmin: the admin passes, staff get NotAdmin, strangers NotStaff", () =>
    Effect.gen(function* () {
      const directory = yield* Directory;
      const org = yield* directory.ensureOrganization({ id: "org-dir", name: "Org", slug: "org" });
      const admin = yield* directory.ensureUser({ name: "Admin", email: "admin@test.invalid", discordId: null });
      const mod = yield* directory.ensureUser({ name: "Mod", email: "mod@test.invalid", discordId: null });
      const stranger = yield* directory.ensureUser({ name: "Stranger", email: "stranger@test.invalid", discordId: null });
      yield* directory.ensureStaff(org.id, admin, "admin");
      yield* directory.ensureStaff(org.id, mod, "staff");
      expect(yield* directory.requireAdmin(admin)).toMatchObject({ organizationId: org.id, role: "admin" });
      expect((yield* directory.requireAdmin(mod).pipe(Effect.flip))._tag).toBe("NotAdmin");
      expect((yield* directory.requireAdmin(stranger).pipe(Effect.flip))._tag).toBe("NotStaff");
    }),
  );
});

layer(Services)("Comparison.roles", (it) => {
  it.effect("lists the guild's live roles, highest position first, without deleted ones or other guilds' roles", () =>
    Effect.gen(function* () {
      const directory = yield* Directory;
      const { use } = yield* Database;
      const org = yield* directory.ensureOrganization({ id: "org-roles", name: "Org", slug: "org-roles" });
      yield* directory.ensureGuild(org.id, { id: GUILD, name: "Guild", icon: null });
      yield* directory.ensureGuild(org.id, { id: "300000000000000002", name: "Other", icon: null });
      yield* use("test.roles", (db) =>
        db.insert(schema.guildRoles).values([
          { guildId: GUILD, id: "320000000000000001", name: "Member", color: 0, position: 1 },
          { guildId: GUILD, id: "320000000000000002", name: "Moderator", color: 0x3498db, position: 5 },
          { guildId: GUILD, id: "320000000000000003", name: "Gone", color: 0, position: 3, dateDeleted: new Date() },
          { guildId: "300000000000000002", id: "320000000000000004", name: "Elsewhere", color: 0, position: 9 },
        ]),
      );
      const roles = yield* (yield* Comparison).roles(GUILD);
      expect(roles).toEqual([
        { id: "320000000000000002", name: "Moderator", color: 0x3498db },
        { id: "320000000000000001", name: "Member", color: 0 },
      ]);
    }),
  );
});
