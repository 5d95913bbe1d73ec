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
