import { EmulatorControl, type GuildSummary } from "@guildhall/emulator";
import { type BrowserContextOptions, test as base, expect, type Page } from "@playwright/test";
import { EMULATOR_PORT } from "../playwright.config";

export const ADMIN = { email: "admin@guildhall.local", password: "guildhall-demo" };

/** Signs in through the form, as a person would, and waits for the roster. */
export const signIn = async (page: Page): Promise<void> => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);
  await page.locator('input[name="email"]').fill(ADMIN.email);
  await page.locator('input[name="password"]').fill(ADMIN.password);
  await page.locator('button[type="submit"]').click();
  await expect(page).toHaveURL(/\/roster/);
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "live");
};

/**
 * The presence status the server has stored for staff member `discordId` (a snowflake), read
 * with `roster.list` over HTTP in `page`'s session (so it works while WebSockets are cut).
 * Null when they have no presence yet.
 */
export const storedStatus = async (page: Page, discordId: string): Promise<string | null> => {
  const response = await page.request.get(`/trpc/roster.list?input=${encodeURIComponent(JSON.stringify({}))}`);
  expect(response.ok()).toBe(true);
  const body = (await response.json()) as {
    result: { data: { entries: Array<{ discordId: string | null; presence: { status: string } | null }> } };
  };
  return body.result.data.entries.find((e) => e.discordId === discordId)?.presence?.status ?? null;
};

/**
 * Makes sure the demo guild has a completed member sync, so the members pages have rows: waits
 * for a run in progress, or starts one ("Sync now") when the newest run did not complete.
 * `page` must be signed in.
 */
export const ensureSynced = async (page: Page): Promise<void> => {
  await page.goto("/members");
  const progress = page.getByTestId("sync-progress");
  await expect(progress).toHaveAttribute("data-loading", "false");
  const status = await progress.getAttribute("data-status");
  if (status !== "completed" && status !== "running") await page.getByTestId("sync-now").click();
  await expect(progress).toHaveAttribute("data-status", "completed", { timeout: 30_000 });
};

/** A signed-in session (the admin's cookies), for tests that open many pages in contexts of their own. */
type SessionState = Exclude<BrowserContextOptions["storageState"], string | undefined>;

/**
 * The emulator's control API and the demo guild it seeded; `session`: the admin signed in once
 * per worker (through the form), to pass as a new context's `storageState`.
 */
export const test = base.extend<{ emulator: EmulatorControl; demo: GuildSummary }, { session: SessionState }>({
  session: [
    async ({ browser }, use) => {
      const context = await browser.newContext();
      await signIn(await context.newPage());
      const state = await context.storageState();
      await context.close();
      await use(state);
    },
    { scope: "worker" },
  ],
  // biome-ignore lint/correctness/noEmptyPattern: Playwright fixtures must destructure their first argument.
  emulator: async ({}, use) => {
    await use(new EmulatorControl(`http://127.0.0.1:${EMULATOR_PORT}`));
  },
  demo: async ({ emulator }, use) => {
    const [guild] = await emulator.guilds();
    if (!guild) throw new Error("the emulator has no demo guild");
    await use(guild);
  },
});

export { expect };
