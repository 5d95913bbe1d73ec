import AxeBuilder from "@axe-core/playwright";
import { BOT_KEY } from "../playwright.config";
import { expect, signIn, test } from "./fixtures";

test("an admin installs the bot through the emulator's authorize page and sees the guild listed", async ({ page, emulator, demo }) => {
  // The emulator's authorize page signs in the demo guild's owner, as scripts/start.ts sets it.
  await emulator.setOAuthUser(demo.ownerId);
  await signIn(page);
  await page.getByTestId("nav-integrations").click();
  await expect(page).toHaveURL(/\/integrations/);
  await expect(page.getByRole("heading", { level: 1, name: "Integrations" })).toBeVisible();

  // The permissions the bot asks for, each explained, before Discord's page.
  await page.getByRole("button", { name: "Add to Discord" }).click();
  const permissions = page.getByTestId("install-permissions");
  await expect(permissions).toContainText("Manage Roles");
  await expect(permissions).toContainText("Create Events");
  await page.getByTestId("continue-to-discord").click();

  // The emulator's authorize page, signed in as the demo guild's owner.
  await expect(page).toHaveURL(/\/oauth2\/authorize/);
  await page.getByLabel("Server").selectOption(demo.guildId);
  await page.getByRole("button", { name: "Authorize" }).click();

  // Back on Guildhall: the callback stored the integration and sent the admin to the page.
  await expect(page).toHaveURL(new RegExp(`/integrations\\?installed=${demo.guildId}`));
  await expect(page.getByTestId("installed-notice")).toContainText(demo.name);
  const row = page.locator(`[data-testid="integration-row"][data-guild-id="${demo.guildId}"]`);
  await expect(row).toHaveAttribute("data-status", "active");
  await expect(row).toContainText("Demo Admin");
});

test("when the bot is kicked from an installed guild, admins see a banner at once, on every page, until it is reinstalled", async ({
  page,
  request,
  emulator,
  demo,
}) => {
  await emulator.setOAuthUser(demo.ownerId);
  await signIn(page);
  await page.getByTestId("nav-integrations").click();
  const row = page.locator(`[data-testid="integration-row"][data-guild-id="${demo.guildId}"]`);
  await expect(row).toHaveAttribute("data-status", "active");
  await page.getByTestId("nav-roster").click();
  const banner = page.getByTestId("integration-removed-banner");
  await expect(banner).toHaveCount(0);

  // The bot reports a GUILD_DELETE without `unavailable` (bot.guildRemoved, with the bot's key).
  const response = await request.post("/trpc/bot.guildRemoved", {
    headers: { "x-guildhall-bot-key": BOT_KEY, "content-type": "application/json" },
    data: { guildId: demo.guildId },
  });
  expect(response.ok(), await response.text()).toBe(true);

  // Live, without a reload: the integration.removed event reaches the page.
  await expect(banner).toContainText(`The bot was removed from ${demo.name}`);
  await banner.getByRole("link", { name: "Integrations page" }).click();
  await expect(page).toHaveURL(/\/integrations/);
  await expect(row).toHaveAttribute("data-status", "removed");
  await expect(banner).toBeVisible();
  // The banner is accessible (WCAG 2 A/AA) and fits a phone's width.
  const { violations } = await new AxeBuilder({ page })
    .include('[data-testid="integration-removed-banner"]')
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  expect(violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  await page.setViewportSize({ width: 390, height: 844 });
  const box = await banner.boundingBox();
  expect(box!.width).toBeLessThanOrEqual(390);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1280, height: 800 });

  // Reinstalled through the authorize page: active again, and the banner is gone.
  await page.getByRole("button", { name: "Add to Discord" }).click();
  await page.getByTestId("continue-to-discord").click();
  await page.getByLabel("Server").selectOption(demo.guildId);
  await page.getByRole("button", { name: "Authorize" }).click();
  await expect(page).toHaveURL(new RegExp(`/integrations\\?installed=${demo.guildId}`));
  await expect(row).toHaveAttribute("data-status", "active");
  await expect(banner).toHaveCount(0);
});
