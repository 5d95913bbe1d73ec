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

describe("readServerEnv: logging and the first admin", () => {
  it("defaults to Info and to admin@guildhall.local without a password (the server then generates one)", () => {
    expect(readServerEnv({})).toMatchObject({ logLevel: "Info", admin: { email: "admin@guildhall.local", password: undefined } });
  });

  it("reads GUILDHALL_LOG_LEVEL in any case, and the admin's email and password", () => {
    const env = readServerEnv({
      GUILDHALL_LOG_LEVEL: "debug",
      GUILDHALL_ADMIN_EMAIL: "ops@example.org",
      GUILDHALL_ADMIN_PASSWORD: "a long enough password",
    });
    expect(env).toMatchObject({ logLevel: "Debug", admin: { email: "ops@example.org", password: "a long enough password" } });
    expect(readServerEnv({ GUILDHALL_LOG_LEVEL: "WARN" }).logLevel).toBe("Warn");
  });

  it("names a bad level, email or password, and never echoes the password", () => {
    const message = (() => {
      try {
        readServerEnv({ GUILDHALL_LOG_LEVEL: "loud", GUILDHALL_ADMIN_EMAIL: "not-an-email", GUILDHALL_ADMIN_PASSWORD: "pw12345" });
        return "";
      } catch (error) {
        expect(error).toBeInstanceOf(EnvError);
        return (error as Error).message;
      }
    })();
    expect(message).toContain('["GUILDHALL_LOG_LEVEL"]');
    expect(message).toContain("must be one of");
    expect(message).toContain('["GUILDHALL_ADMIN_EMAIL"]');
    expect(message).toContain('["GUILDHALL_ADMIN_PASSWORD"]');
    expect(message).not.toContain("pw12345");
    expect(message).not.toContain("loud");
  });
});
