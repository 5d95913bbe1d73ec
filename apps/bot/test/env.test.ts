import { startEmulator } from "@guildhall/emulator";
import { describe, expect, it } from "vitest";
import { BotEnvError, loadBotEnv, readBotEnv } from "../src/env";
import { makeBotLogger } from "../src/log";

const BOT_KEY = "bot-key-0123456789abcdef-secret";

/** The message `attempt` rejects or throws with. */
const messageOf = async (attempt: () => unknown): Promise<string> => {
  try {
    await attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(BotEnvError);
    return (error as Error).message;
  }
  throw new Error("expected a BotEnvError");
};

describe("readBotEnv", () => {
  it("reads the token, key, URLs and log level (any case), with defaults", () => {
    expect(readBotEnv({ DISCORD_TOKEN: "token", GUILDHALL_BOT_KEY: BOT_KEY })).toEqual({
      token: "token",
      botKey: BOT_KEY,
      serverUrl: "http://127.0.0.1:3000",
      apiUrl: undefined,
      cdnUrl: undefined,
      logLevel: "Info",
      stateDir: ".guildhall/bot",
    });
    expect(readBotEnv({ DISCORD_TOKEN: "token", GUILDHALL_BOT_KEY: BOT_KEY, GUILDHALL_LOG_LEVEL: "ERROR" }).logLevel).toBe("Error");
  });

  it("names every bad variable and never echoes a secret", async () => {
    const message = await messageOf(() =>
      readBotEnv({
        DISCORD_TOKEN: "token-7f00",
        GUILDHALL_BOT_KEY: "short-key-42",
        GUILDHALL_SERVER_URL: "ftp://x",
        GUILDHALL_LOG_LEVEL: "chatty",
      }),
    );
    expect(message).toContain('["GUILDHALL_BOT_KEY"]');
    expect(message).toContain('["GUILDHALL_SERVER_URL"]');
    expect(message).toContain('["GUILDHALL_LOG_LEVEL"]');
    expect(message).not.toContain("short-key-42");
    expect(message).not.toContain("token-7f00");
  });
});

describe("loadBotEnv", () => {
  it("uses DISCORD_TOKEN when set, without asking any emulator", async () => {
    const env = await loadBotEnv({ DISCORD_TOKEN: "token", GUILDHALL_BOT_KEY: BOT_KEY }, () => {
      throw new Error("no request expected");
    });
    expect(env).toMatchObject({ token: "token", emulatorUrl: null });
  });

  it("without DISCORD_TOKEN, takes the token and URLs from the emulator's control API over HTTP", async () => {
    const emulator = await startEmulator();
    try {
      const env = await loadBotEnv({ EMULATOR_URL: emulator.url, GUILDHALL_BOT_KEY: BOT_KEY });
      expect(env).toMatchObject({
        token: emulator.token,
        apiUrl: emulator.apiUrl,
        cdnUrl: emulator.cdnUrl,
        emulatorUrl: emulator.url,
        botKey: BOT_KEY,
      });
    } finally {
      await emulator.close();
    }
  });

  it("names EMULATOR_URL when the emulator does not answer, or answers something else", async () => {
    const unreachable = await messageOf(() =>
      loadBotEnv({ EMULATOR_URL: "http://127.0.0.1:9", GUILDHALL_BOT_KEY: BOT_KEY }, () => Promise.reject(new Error("ECONNREFUSED"))),
    );
    expect(unreachable).toContain("EMULATOR_URL (http://127.0.0.1:9)");
    expect(unreachable).toContain("ECONNREFUSED");
    expect(unreachable).toContain("DISCORD_TOKEN");

    const odd = await messageOf(() =>
      loadBotEnv({ GUILDHALL_BOT_KEY: BOT_KEY }, async () => Response.json({ url: "http://127.0.0.1:3001", token: "leaked-token-9" })),
    );
    expect(odd).toContain("EMULATOR_URL (http://127.0.0.1:3001)");
    expect(odd).toContain('["apiUrl"]');
    expect(odd).not.toContain("leaked-token-9");

    expect(await messageOf(() => loadBotEnv({ EMULATOR_URL: "localhost:3001", GUILDHALL_BOT_KEY: BOT_KEY }))).toContain('["EMULATOR_URL"]');
  });
});

describe("the bot's logger", () => {
  it("writes leveled logfmt lines at or above its level to the sink", () => {
    const lines: string[] = [];
    const log = makeBotLogger({ level: "Warn", sink: (line) => lines.push(line) });
    log("connected");
    log.debug("chunk 3 of 9");
    log.info("shard 0 resumed");
    log.warn("heartbeat failed");
    log.error("client error");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/level=WARN .*message="heartbeat failed".* app=bot/);
    expect(lines[1]).toMatch(/level=ERROR .*message="client error"/);
  });

  it("defaults to Info, and a throwing sink does not throw into the caller", () => {
    const lines: string[] = [];
    const log = makeBotLogger({ sink: (line) => lines.push(line) });
    log.debug("hidden");
    log("shown");
    expect(lines.map((l) => l.match(/level=(\w+)/)?.[1])).toEqual(["INFO"]);
    const broken = makeBotLogger({
      sink: () => {
        throw new Error("disk full");
      },
    });
    expect(() => broken.error("still fine")).not.toThrow();
  });
});
