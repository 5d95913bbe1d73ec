import { expect, layer } from "@effect/vitest";
import { Database, schema } from "@guildhall/db";
import { Effect, Layer } from "effect";
import { Directory } from "../src";

const Services = Directory.layer.pipe(Layer.provideMerge(Database.layer({ dataDir: "memory://" })));

layer(Services)("Directory.searchUsers", (it) => {
  it.effect("finds app users by name or email, best match first, at most `limit`", () =>
    Effect.gen(function* () {
      const { db } = yield* Database;
      const directory = yield* Directory;
      yield* Effect.promise(() =>
        db.insert(schema.users).values([
          { id: "u-ada", name: "Ada Lovelace", email: "ada@example.test", discordId: "200000000000000001" },
          { id: "u-grace", name: "Grace Hopper", email: "grace@example.test", discordId: null },
          { id: "u-nada", name: "Nada Surf", email: "nada@example.test", discordId: null },
          { id: "u-lovelace", name: "Byron", email: "ada.lovelace@example.test", discordId: null },
          { id: "u-odd", name: "50% Off_Sale", email: "odd\\name@example.test", discordId: null },
        ]),
      );
      const ids = (query: string, limit = 10) => directory.searchUsers(query, limit).pipe(Effect.map((rows) => rows.map((r) => r.id)));

      // Case-insensitive, in names and emails; names/emails starting with the query first.
      expect(yield* ids("ADA")).toEqual(["u-ada", "u-lovelace", "u-nada"]);
      expect(yield* ids("hopper")).toEqual(["u-grace"]);
      // The exact email first, whatever the names say.
      expect(yield* ids("ada.lovelace@example.test")).toEqual(["u-lovelace"]);
      expect(yield* ids("lovelace")).toEqual(["u-ada", "u-lovelace"]);
      // What it returns, with the Discord link.
      expect(yield* directory.searchUsers("  ada lovelace ", 10)).toEqual([
        { id: "u-ada", name: "Ada Lovelace", email: "ada@example.test", discordId: "200000000000000001" },
      ]);
      // LIKE's wildcards and its escape character match only themselves.
      expect(yield* ids("%")).toEqual(["u-odd"]);
      expect(yield* ids("f_s")).toEqual(["u-odd"]);
      expect(yield* ids("_")).toEqual(["u-odd"]);
      expect(yield* ids("\\")).toEqual(["u-odd"]);
      // Limit, no match, blank.
      expect(yield* ids("example.test", 2)).toHaveLength(2);
      expect(yield* ids("nobody")).toEqual([]);
      expect(yield* ids("   ")).toEqual([]);
    }),
  );
});
