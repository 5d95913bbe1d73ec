import { expect, signIn, test } from "./fixtures";

test("an admin sends a test notification to the demo webhook: the delivery and the Discord message appear", async ({ page, emulator }) => {
  await signIn(page);
  await page.getByTestId("nav-notifications").click();
  await expect(page).toHaveURL(/\/notifications/);
  await expect(page.getByRole("heading", { level: 1, name: "Notifications" })).toBeVisible();

  // npm start seeds one webhook on the emulator, receiving every kind; its token is never on the page.
  const row = page.getByTestId("webhook-row").filter({ hasText: "Demo notices" });
  await expect(row).toHaveAttribute("data-status", "active");
  const [hook] = (await emulator.webhooks()).filter((w) => !w.deleted);
  expect(hook).toBeDefined();
  await expect(page.locator("body")).not.toContainText(hook!.webhook.token!);

  const before = hook!.messages.length;
  await row.getByRole("button", { name: "Send test" }).click();
  await expect(page.getByTestId("delivery-row").filter({ hasText: "Test" }).first()).toHaveAttribute("data-status", "delivered", {
    timeout: 20_000,
  });
  await expect.poll(async () => (await emulator.webhook(hook!.webhook.id)).messages.length, { timeout: 10_000 }).toBeGreaterThan(before);
  const last = (await emulator.webhook(hook!.webhook.id)).messages.at(-1) as { embeds?: Array<{ title?: string }> };
  expect(last.embeds?.[0]?.title).toBe("Test notification");
});
