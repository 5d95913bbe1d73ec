/**
 * Accessibility: axe-core's WCAG 2.0 and 2.1 A and AA rules find nothing on any page (the one
 * list in pages.ts), at desktop and at phone width. Each page's full screenshot is attached
 * to the test, for a person to look at.
 */
import AxeBuilder from "@axe-core/playwright";
import { ensureSynced, expect, test } from "./fixtures";
import { openPage, PAGES, VIEWPORTS } from "./pages";

const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

// The members pages are checked with their rows on show, not empty.
test.beforeAll(async ({ browser, session }) => {
  const context = await browser.newContext({ storageState: session });
  await ensureSynced(await context.newPage());
  await context.close();
});

for (const viewport of VIEWPORTS) {
  for (const app of PAGES) {
    test(`${app.name} (${viewport.name}, ${viewport.width} px): no WCAG A/AA violations`, async ({ browser, session }, testInfo) => {
      const context = await browser.newContext({
        viewport: { width: viewport.width, height: viewport.height },
        ...(app.signedIn ? { storageState: session } : {}),
      });
      const page = await context.newPage();
      await openPage(page, app);

      const screenshot = await page.screenshot({ fullPage: true, path: testInfo.outputPath(`${app.name}-${viewport.name}.png`) });
      await testInfo.attach(`${app.name}-${viewport.name}`, { body: screenshot, contentType: "image/png" });

      const { violations } = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
      const found = violations.map(
        (v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(" ")}: ${n.failureSummary ?? ""}`).join("\n")}`,
      );
      expect(found, found.join("\n")).toEqual([]);
      await context.close();
    });
  }
}
