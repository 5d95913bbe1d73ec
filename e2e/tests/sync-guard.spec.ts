import { ensureSynced, expect, signIn, test } from "./fixtures";

/**
 * The mass-leave guard, end to end: members leave while the bot cannot see it (the emulator's
 * silent member changes), so only the next full sync finds them gone; when that is more than
 * the guild's share (10%), the sync waits in the SPA for an admin, who confirms (they are
 * marked left) or discards it (nobody is). Runs last: it makes a fifth of the demo guild leave.
 */
test("a sync that would mark a fifth of the guild left waits for an admin: confirmed, they leave; discarded, nobody does", async ({
  page,
  emulator,
  demo,
}) => {
  // Two full syncs: the bot keeps Discord's limit of one full member request per guild per 30 s.
  test.setTimeout(150_000);
  await signIn(page);
  await ensureSynced(page);
  const counts = async () => ({
    guildOnly: Number(await page.getByTestId("category-guild_only").getAttribute("data-count")),
    linked: Number(await page.getByTestId("category-linked").getAttribute("data-count")),
    left: Number(await page.getByTestId("category-left").getAttribute("data-count")),
  });
  const before = await counts();

  const present = (await emulator.guild(demo.guildId)).memberCount;
  const leaving = Math.ceil(present / 5);
  const first = await emulator.applyMemberChanges(demo.guildId, { leave: leaving, seed: 81, silent: true });
  expect(first.left).toHaveLength(leaving);

  await page.goto("/members/history");
  const progress = page.getByTestId("sync-progress");
  await expect(progress).toHaveAttribute("data-loading", "false");
  await page.getByTestId("sync-now").click();
  await expect(progress).toHaveAttribute("data-status", "awaiting_confirmation", { timeout: 60_000 });
  await expect(page.getByTestId("sync-held-text")).toContainText(`would mark ${leaving} members of ${present} present left`);
  const heldRow = page.locator('[data-testid="sync-history-row"]').first();
  await expect(heldRow).toHaveAttribute("data-status", "awaiting_confirmation");
  await expect(heldRow.getByTestId("sync-history-held")).toContainText(`${leaving} held`);

  // Nobody left yet: the Members page still counts them present.
  await page.goto("/members");
  await expect(page.getByTestId("category-guild_only")).toHaveAttribute("data-count", String(before.guildOnly));
  await expect(page.getByTestId("sync-progress")).toHaveAttribute("data-status", "awaiting_confirmation");
  await page.getByTestId("sync-confirm").click();
  await expect(page.getByTestId("sync-progress")).toHaveAttribute("data-status", "completed", { timeout: 15_000 });
  await expect(page.getByTestId("sync-outcome-text")).toContainText(`${leaving} marked left`);
  await expect
    .poll(async () => {
      const now = await counts();
      return now.guildOnly + now.linked;
    })
    .toBe(before.guildOnly + before.linked - leaving);
  const confirmed = await counts();

  // Another fifth of what is left goes quietly; this time the admin discards the snapshot.
  const second = await emulator.applyMemberChanges(demo.guildId, { leave: Math.ceil((present - leaving) / 5), seed: 82, silent: true });
  await page.goto("/members/history");
  await expect(page.getByTestId("sync-progress")).toHaveAttribute("data-loading", "false");
  await page.getByTestId("sync-now").click();
  await expect(page.getByTestId("sync-progress")).toHaveAttribute("data-status", "awaiting_confirmation", { timeout: 60_000 });
  await expect(page.getByTestId("sync-held-text")).toContainText(`would mark ${second.left.length} members`);
  await page.getByTestId("sync-discard").click();
  await expect(page.getByTestId("sync-progress")).toHaveAttribute("data-status", "discarded", { timeout: 15_000 });
  await expect(page.locator('[data-testid="sync-history-row"]').first()).toHaveAttribute("data-status", "discarded");
  await page.goto("/members");
  await expect(page.getByTestId("category-guild_only")).toHaveAttribute("data-count", String(confirmed.guildOnly));
  await expect(page.getByTestId("category-linked")).toHaveAttribute("data-count", String(confirmed.linked));
});

test("an admin sets the guild's mass-leave guard on the sync history page", async ({ page }) => {
  await signIn(page);
  await page.goto("/members/history");
  const guard = page.getByTestId("leave-guard");
  await expect(guard).toHaveValue("10");
  await guard.fill("25");
  await page.getByTestId("sync-settings-save").click();
  await expect(page.getByTestId("sync-settings-notice")).toHaveText("Saved.");
  await page.reload();
  await expect(page.getByTestId("leave-guard")).toHaveValue("25");
  await page.getByTestId("leave-guard").fill("10");
  await page.getByTestId("sync-settings-save").click();
  await expect(page.getByTestId("sync-settings-notice")).toHaveText("Saved.");
});
