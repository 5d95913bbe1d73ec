import { expect, it } from "@effect/vitest";
import { Database } from "@guildhall/db";
import { DrizzleQueryError } from "drizzle-orm";
import { Effect, Layer, Logger, References } from "effect";
import { listenFeed } from "../src/Feed";

it.effect("a feed's read-back failure is logged at Error through the caller's logger, without the query's parameters", () => {
  const lines: string[] = [];
  const logging = Layer.mergeAll(
    Logger.layer([Logger.make((entry) => lines.push(Logger.formatLogFmt.log(entry)))]),
    Layer.succeed(References.MinimumLogLevel, "Info"),
  );
  const SECRET = "member-row-value-31c9";
  return Effect.gen(function* () {
    const database = yield* Database;
    const failing = async (): Promise<ReadonlyArray<never>> => {
      throw new DrizzleQueryError("select * from presence_samples where id between $1 and $2", [SECRET], new Error("canceling statement"));
    };
    yield* listenFeed(database, "guildhall_feed_test", "test", failing);
    // Too long for a payload: the feed must read the range back, and that read fails.
    yield* database.notify("guildhall_feed_test", JSON.stringify({ range: [1, 2] }));
    yield* Effect.promise(async () => {
      for (let i = 0; i < 200 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/level=ERROR .*message="test feed error: canceling statement".*channel=guildhall_feed_test/);
    expect(lines[0]).not.toContain(SECRET);
  }).pipe(Effect.scoped, Effect.provide(Layer.provideMerge(Database.layer({ dataDir: "memory://" }), logging)));
});
