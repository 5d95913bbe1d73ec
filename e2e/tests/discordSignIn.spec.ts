/**
 * Sign in with Discord (issue #9, item 3), in Chromium: the button on the sign-in page, the
 * emulator's authorize page (pick who you are, then Authorize or Cancel), and back on Guildhall.
 * A staff member linked by Discord id lands on the live roster; a member with no account gets one
 * and lands on the "not staff" page; a cancelled authorization comes back to the sign-in page.
 */
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures";

// Nobody is signed in on the emulator's page by default here: the person picks who they are. (The
// demo signs its guild's owner in for "Add to Discord"; integrations.spec.ts sets that itself.)
test.beforeEach(async ({ emulator }) => {
  await emulator.setOAuthUser(null);
});

/** Clicks "Sign in with Discord" on a fresh sign-in page and waits for the emulator's page. */
const startDiscordSignIn = async (page: Page): Promise<void> => {
  await page.goto("/sign-in");
  await page.getByTestId("sign-in-discord").click();
  await expect(page).toHaveURL(/\/oauth2\/authorize/);
  await expect(page.getByRole("heading", { name: "Sign in to the Discord emulator" })).toBeVisible();
};

/** On the emulator's consent page: the request is for `identify` only. */
const expectIdentifyOnly = async (page: Page): Promise<void> => {
  await expect(page.getByRole("list", { name: "Requested scopes" }).getByRole("listitem")).toHaveCount(1);
  await expect(page.getByRole("list", { name: "Requested scopes" })).toContainText("(identify)");
};

test("a staff member linked by Discord id signs in with Discord and lands on the live roster", async ({ page, demo }) => {
  const staff = demo.staff[0];
  if (!staff) throw new Error("the demo guild has no staff");
  await startDiscordSignIn(page);
  // The picker offers the demo's staff by name, as a person would choose.
  await page.getByLabel("Sign in as").selectOption(staff.userId);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expectIdentifyOnly(page);
  await page.getByRole("button", { name: "Authorize" }).click();
  await expect(page).toHaveURL(/\/roster$/);
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "live");
  await expect(page.getByTestId("roster-row").first()).toBeVisible();
});

test("a guild member with no account signs in with Discord: an account is made, and the page says they are not staff", async ({
  page,
  emulator,
  demo,
}) => {
  const member = await emulator.addMember(demo.guildId, { username: "e2e.newcomer", globalName: "E2E Newcomer" });
  await startDiscordSignIn(page);
  await page.getByLabel("Or any user id").fill(member.userId);
  await page.getByRole("button", { name: "Sign in with this id" }).click();
  await expectIdentifyOnly(page);
  await page.getByRole("button", { name: "Authorize" }).click();
  await expect(page).toHaveURL(/\/roster$/);
  const notStaff = page.getByTestId("not-staff");
  await expect(notStaff).toContainText("No staff access");
  await expect(notStaff).toContainText("E2E Newcomer (Discord)");
  const { violations } = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(violations.map((v) => v.id)).toEqual([]);
});

test("cancelling on Discord's page comes back to the sign-in page, which says so, signed out", async ({ page, demo }) => {
  const staff = demo.staff[1];
  if (!staff) throw new Error("the demo guild has too few staff");
  await startDiscordSignIn(page);
  await page.getByLabel("Sign in as").selectOption(staff.userId);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page).toHaveURL(/\/sign-in\?error=access_denied/);
  await expect(page.getByTestId("sign-in-error")).toHaveText("Discord sign-in was cancelled.");
  await page.goto("/roster");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("the Discord button fits a phone-width sign-in page", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  await page.goto("/sign-in");
  const button = page.getByTestId("sign-in-discord");
  await expect(button).toBeVisible();
  const box = await button.boundingBox();
  expect(box).not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(375);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await context.close();
});
