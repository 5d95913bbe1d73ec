import { describe, expect, it } from "vitest";
import { EnvError, readServerEnv } from "../src";

describe("readServerEnv", () => {
  it("defaults to the embedded setup on port 3000", () => {
    expect(readServerEnv({})).toMatchObject({ port: 3000, host: "127.0.0.1", databaseUrl: undefined, dataDir: ".guildhall" });
  });

  it("names every bad variable and never echoes a value", () => {
    const attempt = () => readServerEnv({ PORT: "eighty", DATABASE_URL: "mysql://root:hunter2@db/app", GUILDHALL_BOT_KEY: "short-secret" });
    expect(attempt).toThrow(EnvError);
    const message = (() => {
      try {
        attempt();
        return "";
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toContain('["PORT"]');
    expect(message).toContain('["DATABASE_URL"]');
    expect(message).toContain('["GUILDHALL_BOT_KEY"]');
    expect(message).not.toContain("hunter2");
    expect(message).not.toContain("short-secret");
  });

  it("treats empty variables as unset", () => {
    expect(readServerEnv({ PORT: "", DATABASE_URL: "" })).toMatchObject({ port: 3000, databaseUrl: undefined });
  });
});
