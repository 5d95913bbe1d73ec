/**
 * Several organizations on one installation: the demo admin also runs "Riverside League"
 * (seeded by scripts/start.ts with a guild of its own), switches between the two in the user
 * menu, and sees each one's data only; the choice survives a reload. API tokens: created (shown
 * once), listed by their first characters, revoked; a guild the bot merely sees is listed as
 * not installed.
 */
import { expect, test } from "./fixtures";

test.describe("organizations", () => {
  test("an admin of two organizations switches between them and sees each one's data only", async ({ browser, session, demo }) => {
    const context = await browser.newContext({ storageState: session });
    const page = await context.newPage();
    await page.goto("/roster");
    await expect(page.getByTestId("org-name")).toHaveText("Guildhall");
    await expect(page.locator(".guild-name")).toHaveText(demo.name);

    await page.getByTestId("user-menu").click();
    await expect(page.getByTestId("org-switcher")).toBeVisible();
    await expect(page.getByTestId("org-option-default")).toHaveAttribute("aria-current", "true");
    await page.getByTestId("org-option-riverside").click();

    await expect(page.getByTestId("org-name")).toHaveText("Riverside League");
    await expect(page.locator(".guild-name")).toHaveText("Riverside League");
    await expect(page.getByTestId("roster-row").first()).toBeVisible();
    await expect(page.getByText(demo.name)).toHaveCount(0);
    // Every call names the organization: a request the page makes carries the header.
    const request = page.waitForRequest((r) => r.url().includes("/trpc/") && r.headers()["x-guildhall-organization"] === "riverside");
    await page.goto("/members");
    await request;
    await expect(page.locator(".guild-name")).toHaveText("Riverside League");

    // The choice is kept across a reload, and tokens are per organization.
    await page.goto("/tokens");
    await expect(page.getByTestId("org-name")).toHaveText("Riverside League");
    await expect(page.getByTestId("guild-linked")).toHaveText(/Riverside League/);
    await expect(page.getByTestId("guild-linked").filter({ hasText: demo.name })).toHaveCount(0);

    await page.getByTestId("user-menu").click();
    await page.getByTestId("org-option-default").click();
    await expect(page.getByTestId("org-name")).toHaveText("Guildhall");
    await expect(page.getByTestId("guild-linked")).toHaveText(new RegExp(demo.name));
    await expect(page.getByTestId("guild-linked").filter({ hasText: "Riverside League" })).toHaveCount(0);
    await expect(page.getByTestId("guild-not-installed")).toHaveText(/Harbor Club/);
    await context.close();
  });

  test("an admin creates an API token, sees it once, and revokes it", async ({ browser, session }) => {
    const context = await browser.newContext({ storageState: session });
    const page = await context.newPage();
    await page.goto("/tokens");
    await page.getByTestId("token-name").fill("E2E reader");
    await page.getByTestId("token-scope").selectOption("read");
    await page.getByTestId("token-create").click();
    const secret = (await page.getByTestId("token-secret").textContent())?.trim() ?? "";
    expect(secret).toMatch(/^gh_/);

    // The token works over HTTP for a read, in its organization.
    const read = await page.request.get(`/trpc/roster.list?input=${encodeURIComponent("{}")}`, {
      headers: { authorization: `Bearer ${secret}`, cookie: "" },
    });
    expect(read.status()).toBe(200);

    const row = page.getByTestId("token-row").filter({ hasText: "E2E reader" }).first();
    await expect(row).toContainText(secret.slice(0, 10));
    await page.reload();
    await expect(page.getByText(secret)).toHaveCount(0);
    await page.getByTestId("token-row").filter({ hasText: "E2E reader" }).first().getByTestId("token-revoke").click();
    await expect(page.getByTestId("token-row").filter({ hasText: "E2E reader" }).first()).toHaveAttribute("data-revoked", "true");
    const refused = await page.request.get(`/trpc/roster.list?input=${encodeURIComponent("{}")}`, {
      headers: { authorization: `Bearer ${secret}`, cookie: "" },
    });
    expect(refused.status()).toBe(401);
    await context.close();
  });
});
