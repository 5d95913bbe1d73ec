import { describe, expect, it } from "@effect/vitest";
import { DrizzleQueryError, sql } from "drizzle-orm";
import { Effect, type Layer } from "effect";
import postgres from "postgres";
import { Database, type DatabaseError, describeDatabaseFailure } from "../src";

/** A value that must never reach a log: it travels only as a query parameter. */
const SECRET = "member-list-value-7d1f3c";

/** Runs a query that fails in Postgres (division by zero) with SECRET among its parameters. */
const failingQuery = Effect.gen(function* () {
  const { use } = yield* Database;
  return yield* use("test.divide", (db) => db.execute(sql`select 1 / 0 as n where ${SECRET} = ${SECRET}`)).pipe(Effect.flip);
});

const expectSafe = (error: DatabaseError) => {
  expect(error._tag).toBe("DatabaseError");
  expect(error.operation).toBe("test.divide");
  // Postgres' own message and SQLSTATE survive...
  expect(error.message).toMatch(/division by zero/);
  expect(error.code).toBe("22012");
  // ...and nothing of the query or its parameters does, in any field or in the serialized error.
  const everything = `${error.message} ${JSON.stringify(error)} ${String(error)}`;
  expect(everything).not.toContain(SECRET);
  expect(everything).not.toMatch(/Failed query|params:/);
};

const postgresUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const onPostgres = <A, E>(effect: Effect.Effect<A, E, Database>) =>
  Effect.acquireUseRelease(
    Effect.promise(async () => {
      const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} });
      const name = `guildhall_errors_test_${process.pid}_${Date.now()}`;
      await admin.unsafe(`create database ${name}`);
      return { admin, name };
    }),
    ({ name }) =>
      effect.pipe(Effect.provide(Database.layer({ url: postgresUrl.replace(/\/[^/]*$/, `/${name}`) }) as Layer.Layer<Database>)),
    ({ admin, name }) =>
      Effect.promise(async () => {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        await admin.end();
      }),
  );

describe("DatabaseError", () => {
  it.effect("keeps Postgres' message and code and drops the query parameters (PGlite)", () =>
    Effect.gen(function* () {
      expectSafe(yield* failingQuery.pipe(Effect.provide(Database.layer({ dataDir: "memory://" }))));
    }),
  );

  it.effect("keeps Postgres' message and code and drops the query parameters (Postgres)", () =>
    Effect.gen(function* () {
      expectSafe(yield* onPostgres(failingQuery));
    }),
  );

  it("describes any failure without drizzle's query text", () => {
    const inner = Object.assign(new Error('relation "nope" does not exist'), { code: "42P01" });
    expect(describeDatabaseFailure(new DrizzleQueryError("select * from nope where x = $1", [SECRET], inner))).toEqual({
      message: 'relation "nope" does not exist',
      code: "42P01",
    });
    expect(describeDatabaseFailure(new DrizzleQueryError("select $1", [SECRET]))).toEqual({ message: "query failed" });
    expect(describeDatabaseFailure(new Error(`Failed query: select $1\nparams: ${SECRET}`))).toEqual({ message: "query failed" });
    expect(describeDatabaseFailure(new Error(`boom\nparams: ${SECRET}`))).toEqual({ message: "boom" });
    expect(describeDatabaseFailure(Object.assign(new Error("duplicate key"), { code: "23505" }))).toEqual({
      message: "duplicate key",
      code: "23505",
    });
    // Only a SQLSTATE counts as a code (a driver's own codes, e.g. "ECONNREFUSED", do not).
    expect(describeDatabaseFailure(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }))).toEqual({ message: "refused" });
  });
});
