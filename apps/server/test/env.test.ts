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

describe("readServerEnv: trusted proxies and debug errors", () => {
  it("trusts no proxy and hides stack traces by default", () => {
    expect(readServerEnv({})).toMatchObject({ trustedProxies: null, debugErrors: false });
  });

  it("reads GUILDHALL_TRUSTED_PROXIES as addresses and CIDR ranges, comma or space separated", () => {
    const { trustedProxies } = readServerEnv({ GUILDHALL_TRUSTED_PROXIES: "10.0.0.0/8, 192.0.2.7 fd00::/8" });
    expect(trustedProxies?.check("10.1.2.3", "ipv4")).toBe(true);
    expect(trustedProxies?.check("192.0.2.7", "ipv4")).toBe(true);
    expect(trustedProxies?.check("192.0.2.8", "ipv4")).toBe(false);
    expect(trustedProxies?.check("fd12::1", "ipv6")).toBe(true);
  });

  it("names GUILDHALL_TRUSTED_PROXIES and the bad entry", () => {
    for (const bad of ["10.0.0.0/33", "proxy.internal", "10.0.0.1/8/1", "::1/129"]) {
      expect(() => readServerEnv({ GUILDHALL_TRUSTED_PROXIES: `127.0.0.1, ${bad}` }), bad).toThrow(/GUILDHALL_TRUSTED_PROXIES/);
    }
  });

  it("turns stack traces on only for GUILDHALL_DEBUG_ERRORS=1 or true", () => {
    expect(readServerEnv({ GUILDHALL_DEBUG_ERRORS: "1" }).debugErrors).toBe(true);
    expect(readServerEnv({ GUILDHALL_DEBUG_ERRORS: "true" }).debugErrors).toBe(true);
    expect(readServerEnv({ GUILDHALL_DEBUG_ERRORS: "0" }).debugErrors).toBe(false);
    expect(() => readServerEnv({ GUILDHALL_DEBUG_ERRORS: "yes please" })).toThrow(/GUILDHALL_DEBUG_ERRORS/);
  });
});

describe("readServerEnv: the sign-in limit", () => {
  it("keeps the default unless GUILDHALL_SIGN_IN_LIMIT sets attempts per minute", () => {
    expect(readServerEnv({}).signInLimit).toBeUndefined();
    expect(readServerEnv({ GUILDHALL_SIGN_IN_LIMIT: "50" }).signInLimit).toEqual({ windowS: 60, max: 50 });
  });

  it("names a limit that is not a whole number from 1 to 100000", () => {
    for (const bad of ["0", "ten", "2.5", "1000000"]) {
      expect(() => readServerEnv({ GUILDHALL_SIGN_IN_LIMIT: bad })).toThrow(/GUILDHALL_SIGN_IN_LIMIT/);
    }
  });
});

describe("readServerEnv: the Discord application", () => {
  it("reads DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET, both absent by default", () => {
    expect(readServerEnv({})).toMatchObject({ discordClient: undefined });
    expect(readServerEnv({ DISCORD_CLIENT_ID: "1173955490611335169", DISCORD_CLIENT_SECRET: "s3cr3t-value" })).toMatchObject({
      discordClient: { clientId: "1173955490611335169", clientSecret: "s3cr3t-value" },
    });
  });

  it("names a client id that is not a snowflake, without echoing the secret beside it", () => {
    const attempt = () => readServerEnv({ DISCORD_CLIENT_ID: "my-app", DISCORD_CLIENT_SECRET: "s3cr3t-value" });
    expect(attempt).toThrow(/DISCORD_CLIENT_ID/);
    expect(attempt).not.toThrow(/s3cr3t-value/);
  });
});

describe("readServerEnv: the interactions endpoint's key", () => {
  it("takes DISCORD_PUBLIC_KEY as 64 hex characters; without it the endpoint is off", () => {
    expect(readServerEnv({}).discordPublicKey).toBeUndefined();
    const key = "ab".repeat(32);
    expect(readServerEnv({ DISCORD_PUBLIC_KEY: key }).discordPublicKey).toBe(key);
  });

  it("names a key that is not 64 hex characters, without echoing it", () => {
    for (const bad of ["ab".repeat(31), "zz".repeat(32), `${"ab".repeat(32)}00`]) {
      expect(() => readServerEnv({ DISCORD_PUBLIC_KEY: bad })).toThrow(/DISCORD_PUBLIC_KEY/);
      expect(() => readServerEnv({ DISCORD_PUBLIC_KEY: bad })).not.toThrow(bad);
    }
  });
});

describe("readServerEnv: the Discord OAuth2 client and the encryption keys", () => {
  const key = (id: string) => `${id}:${Buffer.alloc(32, 7).toString("base64")}`;

  it("installs and Discord sign-in are off without a client; both variables together turn them on (one client for both)", () => {
    expect(readServerEnv({}).discordClient).toBeUndefined();
    const env = readServerEnv({
      DISCORD_CLIENT_ID: "900000000000000001",
      DISCORD_CLIENT_SECRET: "client-secret-value",
      DISCORD_TOKEN: "bot",
    });
    expect(env.discordClient).toEqual({ clientId: "900000000000000001", clientSecret: "client-secret-value" });
    expect(env.discord?.token).toBe("bot");
  });

  it("refuses one of the client's variables without the other, naming it, never echoing the secret", () => {
    expect(() => readServerEnv({ DISCORD_CLIENT_SECRET: "client-secret-value" })).toThrow(/DISCORD_CLIENT_ID/);
    try {
      readServerEnv({ DISCORD_CLIENT_SECRET: "client-secret-value" });
    } catch (error) {
      expect(String(error)).not.toContain("client-secret-value");
    }
    expect(() => readServerEnv({ DISCORD_CLIENT_ID: "900000000000000001" })).toThrow(/DISCORD_CLIENT_SECRET/);
  });

  it("reads GUILDHALL_ENCRYPTION_KEY as one key ring (id:key entries or a bare key), the deprecated GUILDHALL_TOKEN_KEYS appended", () => {
    expect(readServerEnv({}).encryptionKey).toBeUndefined();
    expect(readServerEnv({ GUILDHALL_ENCRYPTION_KEY: `${key("k2")},${key("k1")}` }).encryptionKey).toBe(`${key("k2")},${key("k1")}`);
    const bare = "ab".repeat(32);
    expect(readServerEnv({ GUILDHALL_ENCRYPTION_KEY: bare }).encryptionKey).toBe(bare);
    // The old variable alone still works; with the new one, its keys follow (they open, the new one seals).
    expect(readServerEnv({ GUILDHALL_TOKEN_KEYS: key("k1") }).encryptionKey).toBe(key("k1"));
    expect(readServerEnv({ GUILDHALL_ENCRYPTION_KEY: key("k2"), GUILDHALL_TOKEN_KEYS: key("k1") }).encryptionKey).toBe(
      `${key("k2")},${key("k1")}`,
    );
  });

  it("names a bad key list without echoing key material", () => {
    const short = `k1:${Buffer.alloc(16, 7).toString("base64")}`;
    for (const name of ["GUILDHALL_ENCRYPTION_KEY", "GUILDHALL_TOKEN_KEYS"]) {
      expect(() => readServerEnv({ [name]: short })).toThrow(EnvError);
      try {
        readServerEnv({ [name]: short });
      } catch (error) {
        expect(String(error)).toContain(`["${name}"]`);
        expect(String(error)).not.toContain(short.slice(3));
      }
    }
    // One id, two different keys across the two variables: refused.
    const other = `k1:${Buffer.alloc(32, 9).toString("base64")}`;
    expect(() => readServerEnv({ GUILDHALL_ENCRYPTION_KEY: key("k1"), GUILDHALL_TOKEN_KEYS: other })).toThrow(/two different keys/);
  });
});
