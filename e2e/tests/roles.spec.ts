import { ensureSynced, expect, signIn, test } from "./fixtures";

test("an admin creates a group and a mapping, previews the plan, applies it with live progress, and sees the roles in Discord and the audit entries", async ({
  page,
  emulator,
  demo,
}) => {
  await signIn(page);
  await ensureSynced(page);
  await page.getByTestId("nav-roles").click();
  await expect(page).toHaveURL(/\/roles/);
  await expect(page.getByRole("heading", { level: 1, name: "Roles" })).toBeVisible();
  // The demo seeds two groups with preview-only mappings: the plan is there at once.
  await expect(page.getByTestId("preview-summary")).toContainText("new mapping(s) are in preview");

  // A new group with one linked staff member, mapped to the "Artist" role.
  const staffMember = (await emulator.member(demo.guildId, demo.staff[1]!.userId))!;
  const artist = demo.roles.find((r) => r.name === "Artist")!;
  await page.getByTestId("group-name").fill("E2E Artists");
  await page.getByTestId("group-create").click();
  const row = page.locator('[data-testid="group-row"][data-name="E2E Artists"]');
  await expect(row).toBeVisible();
  await row.getByRole("button", { name: /E2E Artists/ }).click();
  await row.getByTestId("group-user-search").fill(staffMember.globalName ?? staffMember.username);
  await row.getByTestId("group-user-add").first().click();
  await expect(row.getByRole("button", { name: /E2E Artists \(1 members\)/ })).toBeVisible();

  await page.getByTestId("mapping-group").selectOption({ label: "E2E Artists" });
  await page.getByTestId("mapping-role").selectOption(artist.id);
  await page.getByTestId("mapping-create").click();
  await expect(page.getByTestId("mapping-row").filter({ hasText: "E2E Artists" })).toContainText("Preview only");

  // The preview lists the changes; apply, and watch the run complete.
  await expect(page.getByTestId("preview-row").first()).toBeVisible();
  await page.getByTestId("roles-apply").click();
  await expect(page.getByTestId("roles-progress")).toHaveAttribute("data-status", "completed", { timeout: 30_000 });

  // The emulator (Discord) has the role; the audit log lists the applied changes.
  const after = await emulator.member(demo.guildId, staffMember.userId);
  expect(after?.roles).toContain(artist.id);
  await expect(page.getByTestId("audit-row").filter({ hasText: staffMember.userId }).first()).toBeVisible();
  await page.getByTestId("audit-outcome").selectOption("applied");
  await expect(page.locator('[data-testid="audit-row"][data-outcome="applied"]').first()).toBeVisible();
  await expect(page.getByTestId("mapping-row").filter({ hasText: "E2E Artists" })).toContainText("Active");
});

test("an admin sets the guild's role schedules, and sees no member flagged as flapping", async ({ page }) => {
  await signIn(page);
  await page.goto("/roles");
  const card = page.getByTestId("roles-schedule");
  // The demo's mappings registered the defaults: a verify every 5 minutes and the weekly hard check.
  await expect(card.getByTestId("schedule-registered")).toContainText("*/5 * * * *");
  await card.getByTestId("schedule-verify").selectOption("15");
  await card.getByTestId("schedule-max-flips").fill("4");
  await card.getByTestId("schedule-save").click();
  await expect(card.getByTestId("schedule-registered")).toContainText("*/15 * * * *");
  await expect(card.getByTestId("schedule-max-flips")).toHaveValue("4");
  await card.getByTestId("schedule-hard-check").selectOption("off");
  await card.getByTestId("schedule-save").click();
  await expect(card.getByTestId("schedule-registered")).toContainText("Hard check: off");
  await expect(page.getByTestId("roles-flagged")).toContainText("None.");
});

test("an admin sets the nickname template, sees the nicknames it gives in the preview, and clears it", async ({ page }) => {
  await signIn(page);
  await page.goto("/roles");
  const card = page.getByTestId("roles-settings");
  await expect(card.getByTestId("settings-authority")).toHaveValue("app");
  await card.getByTestId("settings-nickname-template").fill("{display_name} [{group}]");
  await card.getByTestId("settings-save").click();
  await expect(card.getByTestId("settings-save")).toBeDisabled();
  // The preview now gives the members of mapped groups their templated nickname.
  await expect(
    page
      .getByTestId("preview-row")
      .filter({ hasText: /\[[^\]]+\]/ })
      .first(),
  ).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("roles-settings").getByTestId("settings-nickname-template")).toHaveValue("{display_name} [{group}]");
  // Cleared, nicknames are left alone again (the other specs expect the demo's plan as seeded).
  await page.getByTestId("roles-settings").getByTestId("settings-nickname-template").fill("");
  await page.getByTestId("roles-settings").getByTestId("settings-save").click();
  await page.reload();
  await expect(page.getByTestId("roles-settings").getByTestId("settings-nickname-template")).toHaveValue("");
});
