/**
 * The header at phone width (390 px) and on a laptop: nothing in it overlaps, the organization's
 * name is shown whole, every page link is on screen and can be clicked and tabbed to, and the
 * page never scrolls sideways. Checked on every signed-in page (pages.ts), and again with two
 * more links in the bar (pages to come, such as Jobs) and a long organization name.
 */
import type { Locator, Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { openPage, PAGES, VIEWPORTS } from "./pages";

type Box = { x: number; y: number; width: number; height: number };

const boxOf = async (locator: Locator, what: string): Promise<Box & { what: string }> => {
  const box = await locator.boundingBox();
  if (!box) throw new Error(`${what} is not rendered`);
  return { ...box, what };
};

const overlap = (a: Box, b: Box) =>
  Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) *
  Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));

/** Asserts the header's parts do not overlap, are on screen, and the links can be clicked and tabbed to. */
async function checkHeader(page: Page, width: number): Promise<void> {
  const header = page.locator("header.topbar");
  const links = header.getByRole("navigation", { name: "Pages" }).getByRole("link");
  const linkCount = await links.count();
  expect(linkCount).toBeGreaterThanOrEqual(3);

  const parts = [
    await boxOf(header.getByTestId("org-name"), "organization name"),
    await boxOf(header.getByTestId("user-menu"), "user menu"),
  ];
  for (let i = 0; i < linkCount; i++) parts.push(await boxOf(links.nth(i), `link "${await links.nth(i).textContent()}"`));
  for (const part of parts) {
    expect(part.x, `${part.what} starts on screen`).toBeGreaterThanOrEqual(0);
    expect(part.x + part.width, `${part.what} ends on screen`).toBeLessThanOrEqual(width);
  }
  for (let i = 0; i < parts.length; i++) {
    for (let j = i + 1; j < parts.length; j++) {
      expect(overlap(parts[i]!, parts[j]!), `${parts[i]!.what} overlaps ${parts[j]!.what}`).toBe(0);
    }
  }

  // The organization's name is shown whole: not cut off, not clamped.
  const org = header.getByTestId("org-name");
  const fits = await org.evaluate((el) => el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight + 1);
  expect(fits, "organization name fits its box").toBe(true);

  // Clickable (visible, enabled, nothing on top of them) and reachable with Tab, in order.
  for (let i = 0; i < linkCount; i++) await links.nth(i).click({ trial: true });
  await header.getByTestId("user-menu").click({ trial: true });
  // Tab from the brand (made focusable by script only, as the starting point) through the bar.
  await header.locator(".brand").evaluate((brand: HTMLElement) => {
    brand.tabIndex = -1;
    brand.focus();
  });
  for (let i = 0; i < linkCount; i++) {
    await page.keyboard.press("Tab");
    await expect(links.nth(i)).toBeFocused();
  }
  await page.keyboard.press("Tab");
  await expect(header.getByTestId("user-menu")).toBeFocused();

  const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(sideways, "the page scrolls sideways").toBeLessThanOrEqual(0);
}

for (const viewport of VIEWPORTS) {
  test.describe(`header at ${viewport.name} width (${viewport.width} px)`, () => {
    test.use({ viewport: { width: viewport.width, height: viewport.height } });

    for (const app of PAGES.filter((p) => p.signedIn)) {
      test(`${app.name}: nothing overlaps, every link is reachable`, async ({ browser, session }) => {
        const context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height }, storageState: session });
        const page = await context.newPage();
        await openPage(page, app);
        await checkHeader(page, viewport.width);
        await context.close();
      });
    }

    test("holds two more links and a long organization name", async ({ browser, session }) => {
      const context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height }, storageState: session });
      const page = await context.newPage();
      await openPage(page, PAGES.find((p) => p.name === "roster")!);
      await page.evaluate(() => {
        const nav = document.querySelector('header nav[aria-label="Pages"]')!;
        for (const [label, href] of [
          ["Jobs", "/jobs"],
          ["Integrations", "/integrations"],
        ]) {
          const link = nav.querySelector("a")!.cloneNode() as HTMLAnchorElement;
          link.removeAttribute("aria-current");
          link.removeAttribute("data-status");
          link.href = href!;
          link.textContent = label!;
          nav.append(link);
        }
        document.querySelector('[data-testid="org-name"]')!.textContent = "The Northern Lights Gaming Guild";
      });
      await checkHeader(page, viewport.width);
      await context.close();
    });

    test("the user menu opens with who is signed in, and Escape closes it", async ({ browser, session }) => {
      const context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height }, storageState: session });
      const page = await context.newPage();
      await openPage(page, PAGES.find((p) => p.name === "roster")!);
      const button = page.getByTestId("user-menu");
      await button.focus();
      await page.keyboard.press("Enter");
      await expect(button).toHaveAttribute("aria-expanded", "true");
      const panel = page.locator(`#${await button.getAttribute("aria-controls")}`);
      await expect(panel).toContainText("admin@guildhall.local");
      const signOut = page.getByTestId("sign-out");
      const box = await boxOf(signOut, "sign out");
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
      await signOut.click({ trial: true });
      await page.keyboard.press("Escape");
      await expect(panel).toBeHidden();
      await expect(button).toBeFocused();
      await expect(button).toHaveAttribute("aria-expanded", "false");
      await context.close();
    });
  });
}
