import { expect, signIn, test } from "./fixtures";

test("an admin's Jobs page lists the scheduled work, and a job's state change arrives without a reload", async ({ browser, page }) => {
  await signIn(page);
  await page.getByTestId("nav-jobs").click();
  await expect(page).toHaveURL(/\/jobs/);
  await expect(page.getByRole("heading", { level: 1, name: "Jobs" })).toBeVisible();
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "live");
  await page.evaluate(() => ((window as unknown as { noReload: boolean }).noReload = true));

  // The scheduled work: the member sync scheduler and the stale-run expiry every minute, the prune hourly.
  const queue = (name: string) => page.locator(`[data-testid="jobs-queue-row"][data-queue="${name}"]`);
  await expect(queue("member-sync.scheduler").getByTestId("queue-schedule")).toHaveAttribute("data-cron", "* * * * *");
  await expect(queue("member-sync.scheduler").getByTestId("queue-schedule")).toHaveText("every minute");
  await expect(queue("member-sync.expire-stale").getByTestId("queue-schedule")).toHaveAttribute("data-cron", "* * * * *");
  await expect(queue("presence.prune").getByTestId("queue-schedule")).toHaveAttribute("data-cron", "0 * * * *");
  // First sight: the demo guild's first member sync ran as a bot command when the bot first reported it.
  await expect(queue("bot.members-sync").getByTestId("count-completed")).not.toHaveAttribute("data-count", "0", { timeout: 30_000 });

  // Watch the presence resync queue while another page asks for a resync.
  await queue("bot.presence-resync").getByRole("button").click();
  await expect(page.getByTestId("queue-jobs")).toHaveAttribute("data-queue", "bot.presence-resync");
  const completedBefore = Number(await queue("bot.presence-resync").getByTestId("count-completed").getAttribute("data-count"));

  const other = await (await browser.newContext()).newPage();
  await signIn(other);
  await other.getByRole("button", { name: "Resync presences" }).click();
  await expect(other.getByTestId("resync-notice")).toContainText("Resync requested");

  // The bot runs it and acknowledges it: the Jobs page shows the job, then its completion, live.
  await expect(queue("bot.presence-resync").getByTestId("count-completed")).toHaveAttribute("data-count", String(completedBefore + 1), {
    timeout: 30_000,
  });
  const row = page.getByTestId("job-row").first();
  await expect(row).toHaveAttribute("data-state", "completed");
  await expect(row.getByTestId("job-attempts")).toHaveText("1 of 4");
  await expect(row.getByRole("button", { name: /^Retry job/ })).toBeDisabled();
  expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
  await other.context().close();
});

test("the Jobs page is keyboard reachable: a queue is chosen and the state filter set without a mouse", async ({ page }) => {
  await signIn(page);
  await page.goto("/jobs");
  const scheduler = page.locator('[data-testid="jobs-queue-row"][data-queue="member-sync.scheduler"]').getByRole("button");
  await scheduler.focus();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("queue-jobs")).toHaveAttribute("data-queue", "member-sync.scheduler");
  await expect(scheduler).toHaveAttribute("aria-pressed", "true");
  const filter = page.getByLabel("Show");
  await filter.focus();
  await filter.selectOption("failed");
  await expect(page).toHaveURL(/state=failed/);
  await expect(page.getByTestId("jobs-empty")).toHaveText("No failed jobs in this queue.");
});
