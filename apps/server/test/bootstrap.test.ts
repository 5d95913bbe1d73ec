import { type ApiRuntime, type Auth, createAuth, makeRuntime } from "@guildhall/api";
import { Database } from "@guildhall/db";
import { Effect, Logger } from "effect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureConfiguredAdmin } from "../src";

describe("ensureConfiguredAdmin: the first admin's password reaches the log only when the server made it up", () => {
  let lines: string[];
  let runtime: ApiRuntime;
  let auth: Auth;

  beforeEach(async () => {
    lines = [];
    const logger = Logger.make((entry) => lines.push(Logger.formatLogFmt.log(entry)));
    runtime = makeRuntime({ dataDir: "memory://" }, { logLevel: "Debug", logger });
    const database = await runtime.runPromise(Database.use(Effect.succeed));
    auth = createAuth(database.db, { secret: "s".repeat(32), baseURL: "http://localhost:3000" });
  });
  afterEach(() => runtime?.dispose());

  it("never logs a password that came from the environment", async () => {
    const admin = { email: "ops@test.invalid", password: "operator-chosen-secret" };
    const first = await ensureConfiguredAdmin({ runtime, auth }, admin);
    expect(first).toEqual({ email: admin.email, created: true, generated: false });
    await ensureConfiguredAdmin({ runtime, auth }, admin);
    expect(lines.some((l) => l.includes("created admin ops@test.invalid"))).toBe(true);
    expect(lines.join("\n")).not.toContain(admin.password);
  });

  it("logs a generated password once, on the start that created the account", async () => {
    const generate = () => "generated-pw-0123456789";
    const admin = { email: "first@test.invalid", password: undefined };
    expect(await ensureConfiguredAdmin({ runtime, auth }, admin, generate)).toMatchObject({ created: true, generated: true });
    // A restart: the account exists, so a new password would be a lie; nothing is printed.
    expect(await ensureConfiguredAdmin({ runtime, auth }, admin, () => "another-generated-pw-987")).toMatchObject({
      created: false,
      generated: false,
    });
    const shown = lines.filter((l) => l.includes("generated-pw-0123456789"));
    expect(shown).toHaveLength(1);
    expect(shown[0]).toContain("level=WARN");
    expect(lines.join("\n")).not.toContain("another-generated-pw-987");
  });
});
