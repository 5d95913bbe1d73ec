import { describe, expect, it } from "@effect/vitest";
import { eq } from "drizzle-orm";
import { Context, Effect, Exit, Layer, Schema } from "effect";
import postgres from "postgres";
import { Database, DatabaseError, schema } from "../src";

class Refused extends Schema.TaggedError<Refused>()("Refused", { why: Schema.String }) {}

const ORG = { id: "org-tx", name: "Tx", slug: "tx" };

const organizations = Effect.gen(function* () {
  const { use } = yield* Database;
  const rows = yield* use("list", (db) => db.select({ id: schema.organizations.id }).from(schema.organizations));
  return rows.map((r) => r.id).sort();
});

const insert = (id: string) =>
  Effect.gen(function* () {
    const { use } = yield* Database;
    yield* use("insert", (db) => db.insert(schema.organizations).values({ ...ORG, id, slug: id }));
  });

/** Each behaviour of `Database.transaction`, on whichever database `layer` opens. */
const behaviours = Effect.gen(function* () {
  const { transaction, use } = yield* Database;

  // Commits: both rows, and the value comes back.
  expect(yield* transaction("commit", Effect.as(Effect.andThen(insert("a"), insert("b")), 42))).toBe(42);
  expect(yield* organizations).toEqual(["a", "b"]);

  // A typed failure rolls back and comes back unchanged (same instance, same type).
  const refusal = new Refused({ why: "no" });
  const failed = yield* Effect.flip(transaction("typed", Effect.andThen(insert("c"), Effect.fail(refusal))));
  expect(failed).toBe(refusal);
  expect(yield* organizations).toEqual(["a", "b"]);

  // A defect rolls back and stays a defect.
  const died = yield* Effect.exit(transaction("defect", Effect.andThen(insert("d"), Effect.die(new Error("boom")))));
  expect(Exit.isFailure(died) && !Exit.hasFails(died)).toBe(true);
  expect(yield* organizations).toEqual(["a", "b"]);

  // A failing statement inside is a DatabaseError, and rolls back what came before it.
  const broken = yield* Effect.flip(transaction("broken", Effect.andThen(insert("e"), insert("a"))));
  expect(broken).toBeInstanceOf(DatabaseError);
  expect(yield* organizations).toEqual(["a", "b"]);

  // Nested: the inner failure rolls back only the savepoint when the outer recovers.
  yield* transaction(
    "outer",
    Effect.gen(function* () {
      yield* insert("f");
      yield* Effect.flip(transaction("inner", Effect.andThen(insert("g"), Effect.fail(refusal))));
    }),
  );
  expect(yield* organizations).toEqual(["a", "b", "f"]);

  // Queries inside see the transaction's own writes (they run on its connection).
  const seen = yield* transaction(
    "read your writes",
    Effect.gen(function* () {
      yield* insert("h");
      const rows = yield* use("read", (db) => db.select().from(schema.organizations).where(eq(schema.organizations.id, "h")));
      yield* Effect.fail(new Refused({ why: `saw ${rows.length}` }));
    }),
  ).pipe(Effect.flip);
  expect(seen).toMatchObject({ _tag: "Refused", why: "saw 1" });
  expect(yield* organizations).toEqual(["a", "b", "f"]);

  // Services the caller has reach the effect inside.
  const greeting = yield* transaction(
    "services",
    Greeting.use((g) => Effect.succeed(g.text)),
  ).pipe(Effect.provideService(Greeting, { text: "hello" }));
  expect(greeting).toBe("hello");
});

class Greeting extends Context.Service<Greeting, { readonly text: string }>()("test/Greeting") {}

const postgresUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

describe("Database.transaction", () => {
  it.effect("commits on success and rolls back on any failure, keeping its type (PGlite)", () =>
    Effect.scoped(behaviours).pipe(Effect.provide(Database.layer({ dataDir: "memory://" }))),
  );

  it.effect("the same on the local Postgres", () =>
    Effect.gen(function* () {
      const dbName = `guildhall_tx_${process.pid}_${Date.now()}`;
      const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} });
      yield* Effect.promise(() => admin.unsafe(`create database ${dbName}`));
      const url = postgresUrl.replace(/\/[^/]*$/, `/${dbName}`);
      yield* Effect.scoped(behaviours)
        .pipe(Effect.provide(Layer.fresh(Database.layer({ url }))))
        .pipe(
          Effect.ensuring(
            Effect.promise(async () => {
              await admin.unsafe(`drop database if exists ${dbName} with (force)`);
              await admin.end();
            }),
          ),
        );
    }),
  );
});
