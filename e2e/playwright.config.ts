import { defineConfig } from "@playwright/test";

/** Ports of the stack the suite starts (override when they are taken). */
export const SERVER_PORT = Number(process.env.E2E_SERVER_PORT ?? 3390);
export const EMULATOR_PORT = Number(process.env.E2E_EMULATOR_PORT ?? 3391);
/** The bot key of the stack the suite starts, so a test can call a bot procedure as the bot does (a test value, no secret). */
export const BOT_KEY = "e2e-bot-key-0123456789abcdef";

/**
 * End to end: the whole stack (emulator with the demo guild, server on an in-memory PGlite,
 * bot) started by scripts/start.ts, driven in Debian's Chromium. Presence churn is off so the
 * suite decides every presence change itself.
 */
export default defineConfig({
  testDir: "tests",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: true,
  timeout: 60_000,
  reporter: [["list"]],
  use: {
    baseURL: `http://localhost:${SERVER_PORT}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: "npx tsx ../scripts/start.ts",
    url: `http://127.0.0.1:${SERVER_PORT}/healthz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "pipe",
    env: {
      PORT: String(SERVER_PORT),
      EMULATOR_PORT: String(EMULATOR_PORT),
      GUILDHALL_DATA_DIR: "memory://",
      GUILDHALL_DEMO_CHURN: "0",
      GUILDHALL_BOT_KEY: BOT_KEY,
      // Every test signs in afresh from one address: far more than the default 10 a minute.
      // The limit itself is covered by apps/server/test/signInLimit.test.ts.
      GUILDHALL_SIGN_IN_LIMIT: "1000",
    },
  },
});
