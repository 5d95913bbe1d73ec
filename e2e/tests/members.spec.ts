import { expect, signIn, test } from "./fixtures";

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

  // Every member but the linked staff has no app account; the bot itself is a member too.
  const linked = demo.staff.length;
  await expect(page.getByTestId("category-guild_only")).toHaveAttribute("data-count", String(demo.memberCount - linked), {
    timeout: 10_000,
  });
  await expect(page.getByTestId("category-linked")).toHaveAttribute("data-count", String(linked));
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
