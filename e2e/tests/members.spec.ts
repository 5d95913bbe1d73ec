import { ensureSynced, expect, signIn, test } from "./fixtures";

test("a sync from the SPA fills the comparison; a member who leaves moves to Left guild without a reload", async ({
  page,
  emulator,
  demo,
}) => {
  await signIn(page);
  await page.goto("/members");
  await page.evaluate(() => ((window as unknown as { noReload: boolean }).noReload = true));

  await page.getByTestId("sync-now").click();
  const progress = page.getByTestId("sync-progress");
  // The click marks the panel as requested until the new run shows up; then it must complete.
  await expect(progress).not.toHaveAttribute("data-requested", "true", { timeout: 30_000 });
  await expect(progress).toHaveAttribute("data-status", "completed", { timeout: 30_000 });

  // Every member but those with an app account (the linked staff, and anyone an earlier spec signed
  // in with Discord) is guild-only; the bot itself is a member too.
  const linkedCount = page.getByTestId("category-linked");
  await expect(linkedCount).not.toHaveAttribute("data-count", "0", { timeout: 10_000 });
  const linked = Number(await linkedCount.getAttribute("data-count"));
  expect(linked).toBeGreaterThanOrEqual(demo.staff.length);
  await expect(page.getByTestId("category-guild_only")).toHaveAttribute("data-count", String(demo.memberCount - linked), {
    timeout: 10_000,
  });
  await expect(page.getByTestId("category-left")).toHaveAttribute("data-count", "0");
  await expect(page.getByTestId("category-no_guild_record")).toHaveAttribute("data-count", "0");

  const leaver = demo.staff[2]!;
  await emulator.removeMember(demo.guildId, leaver.userId);
  await expect(page.getByTestId("category-left")).toHaveAttribute("data-count", "1", { timeout: 15_000 });
  await expect(page.getByTestId("category-linked")).toHaveAttribute("data-count", String(linked - 1));
  await page.getByTestId("category-left").click();
  await expect(page.locator(`[data-testid="member-row"][data-discord-id="${leaver.userId}"]`)).toHaveCount(1);
  expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
});

test("an admin links a guild member to an app user found by name, with the keyboard, and unlinks them again", async ({ page }) => {
  await signIn(page);
  await ensureSynced(page);
  const linkedCount = Number(await page.getByTestId("category-linked").getAttribute("data-count"));

  // The first guild-only member gets linked to Robin, a staff member who never linked Discord.
  const firstUnlinked = page.locator('[data-testid="member-row"]').filter({ has: page.getByTestId("link-action") });
  const discordId = (await firstUnlinked.first().getAttribute("data-discord-id"))!;
  const row = page.locator(`[data-testid="member-row"][data-discord-id="${discordId}"]`);
  await row.getByTestId("link-action").click();
  const search = row.getByTestId("link-search");
  await expect(search).toBeFocused();
  await page.keyboard.type("robin");
  const match = row.getByTestId("link-match");
  await expect(match).toHaveCount(1);
  await expect(match).toContainText("Robin Unlinked");
  const userId = (await match.getAttribute("data-user-id"))!;
  await page.keyboard.press("Tab");
  await page.keyboard.press("Space");
  await expect(row.getByTestId("link-submit")).toHaveText("Link Robin Unlinked");
  await page.keyboard.press("Enter");

  await expect(page.getByTestId("members-notice")).toContainText(`Discord id ${discordId}) to app user Robin Unlinked`);
  await expect(page.getByTestId("category-linked")).toHaveAttribute("data-count", String(linkedCount + 1));
  await page.getByTestId("category-linked").click();
  const linkedRow = page.locator(`[data-testid="member-row"][data-discord-id="${discordId}"]`);
  await expect(linkedRow).toHaveAttribute("data-user-id", userId);

  // Unlinking asks first; Escape backs out and gives focus back to the button.
  await linkedRow.getByTestId("unlink-action").click();
  await expect(linkedRow.getByTestId("unlink-confirm")).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(linkedRow.getByTestId("unlink-action")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(linkedRow.getByTestId("unlink-confirm")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("members-notice")).toContainText(`Unlinked Robin Unlinked from Discord id ${discordId}`);
  await expect(page.getByTestId("category-linked")).toHaveAttribute("data-count", String(linkedCount));
});
