/**
 * Self-service roles on the Roles page: the role menu and the invite link `npm start` seeds are
 * shown; an admin posts another menu from the page; a member's pick in the seeded menu (through
 * the emulator) gives the role and shows in the audit log; the page has no WCAG A/AA violations,
 * at desktop and at phone width.
 */
import AxeBuilder from "@axe-core/playwright";
import { expect, signIn, test } from "./fixtures";

const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

test("the seeded role menu and invite link show; an admin posts a menu; a member's pick is audited; no WCAG violations", async ({
  page,
  emulator,
  demo,
}) => {
  await signIn(page);
  await page.goto("/roles");
  const menus = page.getByTestId("role-menus");
  const seeded = menus.getByTestId("role-menu-row").filter({ hasText: "Pick your roles" }).first();
  await expect(seeded).toContainText("Artist");
  await expect(page.getByTestId("invite-current")).toContainText("https://discord.gg/");

  // A member picks Artist in the seeded menu (after unpicking everything, so the pick is a change).
  const menuId = (await seeded.getAttribute("data-menu-id"))!;
  const messageId = (await seeded.getAttribute("data-message-id"))!;
  const picker = demo.staff[3]!.userId;
  const artist = demo.roles.find((r) => r.name === "Artist")!;
  const reply = async (values: string[]) => {
    const id = await emulator.clickSelect(demo.guildId, picker, messageId, `rolemenu:${menuId}`, values);
    await expect.poll(async () => (await emulator.interaction(id)).original?.content ?? "", { timeout: 10_000 }).not.toBe("");
    return (await emulator.interaction(id)).original!;
  };
  await reply([]);
  const picked = await reply([artist.id]);
  expect(picked.flags).toBe(64);
  expect(picked.content).toContain("You now have @Artist");
  expect((await emulator.member(demo.guildId, picker))?.roles).toContain(artist.id);
  await page.reload();
  await expect(page.getByTestId("audit-row").filter({ hasText: picker }).first()).toBeVisible();

  // The admin posts another menu in #general offering Streamer.
  await page.getByTestId("role-menu-channel").selectOption({ label: "#general" });
  await page.getByTestId("role-menu-title").fill("E2E menu");
  await page
    .getByTestId("role-menu-roles")
    .getByLabel(/^Streamer/)
    .check();
  await page.getByTestId("role-menu-post").click();
  await expect(menus.getByTestId("role-menu-row").filter({ hasText: "E2E menu" })).toContainText("Streamer");

  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await expect(page.getByTestId("role-menus")).toHaveAttribute("data-loading", "false");
    const { violations } = await new AxeBuilder({ page })
      .include('[data-testid="role-menus"]')
      .include('[data-testid="invite-link"]')
      .withTags(WCAG_TAGS)
      .analyze();
    expect(violations.map((v) => `${v.id}: ${v.help} ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  }
});
