import { Database } from "@guildhall/db";
import { TRPCError } from "@trpc/server";
import { sql } from "drizzle-orm";
import { Effect, Logger, Schema } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiRuntime, answerFor, loggingLayer, logTo, makeRuntime } from "../src";
import { LogLevelSetting } from "../src/logging";
import { run } from "../src/trpc";

/** A logger that keeps each entry as the logfmt line the console logger would write. */
const collector = () => {
  const lines: string[] = [];
  return { lines, logger: Logger.make((entry) => lines.push(Logger.formatLogFmt.log(entry))) };
};

describe("the runtime's logger", () => {
  it("writes entries at or above the configured level only", () => {
    const info = collector();
    const debug = collector();
    const program = Effect.gen(function* () {
      yield* Effect.logDebug("detail");
      yield* Effect.logInfo("started");
      yield* Effect.logError("broken");
    });
    Effect.runSync(program.pipe(Effect.provide(loggingLayer({ logLevel: "Info", logger: info.logger }))));
    Effect.runSync(program.pipe(Effect.provide(loggingLayer({ logLevel: "Debug", logger: debug.logger }))));
    expect(info.lines.map((l) => l.match(/level=(\w+)/)?.[1])).toEqual(["INFO", "ERROR"]);
    expect(debug.lines.map((l) => l.match(/level=(\w+)/)?.[1])).toEqual(["DEBUG", "INFO", "ERROR"]);
    expect(info.lines[1]).toContain("message=broken");
  });

  it("reads GUILDHALL_LOG_LEVEL in any case, and names the accepted levels without echoing a bad value", () => {
    const decode = Schema.decodeUnknownExit(LogLevelSetting);
    for (const [raw, level] of [
      ["debug", "Debug"],
      ["WARN", "Warn"],
      ["Error", "Error"],
      ["none", "None"],
    ] as const) {
      const result = decode(raw);
      expect(result._tag === "Success" ? result.value : null).toBe(level);
    }
    const bad = decode("verbose-ish");
    expect(bad._tag).toBe("Failure");
    const message = bad._tag === "Failure" ? String(bad.cause) : "";
    expect(message).toContain("must be one of");
    expect(message).not.toContain("verbose-ish");
  });
});

describe("run(): failures of the server itself", () => {
  const SECRET = "parameter-value-5b2e91";
  const logs = collector();
  let runtime: ApiRuntime;

  beforeAll(() => {
    runtime = makeRuntime({ dataDir: "memory://" }, { logLevel: "Info", logger: logs.logger });
  });
  afterAll(() => runtime?.dispose());

  it("answers a failing query INTERNAL_SERVER_ERROR and logs Postgres' message, never the query's parameters", async () => {
    const failing = Database.use(({ use }) => use("test.divide", (db) => db.execute(sql`select 1 / 0 as n where ${SECRET} = ${SECRET}`)));
    const error = await run({ runtime }, failing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect(error).toMatchObject({ code: "INTERNAL_SERVER_ERROR", message: "Internal error." });
    const logged = logs.lines.filter((l) => l.includes("level=ERROR"));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain("DatabaseError");
    expect(logged[0]).toContain("test.divide");
    expect(logged[0]).toContain("division by zero");
    expect(logged[0]).toContain("22012");
    expect(logs.lines.join("\n")).not.toContain(SECRET);
  });

  it("does not log expected failures, which are answers (here NOT_FOUND)", async () => {
    const before = logs.lines.length;
    const { UserNotFound } = await import("@guildhall/sync");
    const error = await run({ runtime }, Effect.fail(new UserNotFound({ userId: "u1" }))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: answerFor(new UserNotFound({ userId: "u1" })).code });
    expect(logs.lines.length).toBe(before);
  });

  it("logs from code outside Effect through the same logger and level", async () => {
    await logTo(runtime, "Debug", "too detailed");
    await logTo(runtime, "Warn", "heads up", { guildId: "1" });
    expect(logs.lines.some((l) => l.includes("too detailed"))).toBe(false);
    expect(logs.lines.find((l) => l.includes("heads up"))).toMatch(/level=WARN .*guildId=1/);
  });
});
