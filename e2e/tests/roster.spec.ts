import { DEMO_GUILD } from "@guildhall/emulator";
import type { WebSocketRoute } from "@playwright/test";
import { expect, signIn, storedStatus, test } from "./fixtures";

test("signing in with a wrong password says so and stays on the sign-in page", async ({ page }) => {
  await page.goto("/sign-in");
  await page.locator('input[name="email"]').fill("admin@guildhall.local");
  await page.locator('input[name="password"]').fill("not the password");
  await page.locator('button[type="submit"]').click();
  await expect(page.getByTestId("sign-in-error")).toBeVisible();
  await expect(page).toHaveURL(/\/sign-in/);
});

test("the roster shows every seeded staff member, and staff without Discord as not linked", async ({ page, demo }) => {
  await signIn(page);
  const rows = page.getByTestId("roster-row");
  // 25 linked staff seeded in the emulator (some may have left the guild since: they are still
  // staff), 2 staff who never linked Discord, and the demo admin.
  await expect(rows).toHaveCount(DEMO_GUILD.staff + 3);
  for (const member of demo.staff) {
    await expect(page.locator(`[data-testid="roster-row"][data-discord-id="${member.userId}"]`)).toHaveCount(1);
  }
  const unlinked = page.locator('[data-testid="roster-row"][data-discord-id=""]');
  await expect(unlinked).toHaveCount(3);
  await expect(unlinked.getByTestId("presence-badge").first()).toHaveAttribute("data-status", "unlinked");
  await expect(page.getByTestId("bot-status")).toHaveAttribute("data-running", "true");
  await expect(page.getByTestId("online-chart")).toBeVisible();
});

test("a presence change in Discord shows on two open pages within 2 s, with no reload", async ({ browser, emulator, demo }) => {
  const pages = await Promise.all(
    [0, 1].map(async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await signIn(page);
      // Survives only as long as the document does: a reload would clear it.
      await page.evaluate(() => ((window as unknown as { noReload: boolean }).noReload = true));
      return page;
    }),
  );
  const target = demo.staff[3]!;
  const row = (page: (typeof pages)[number]) => page.locator(`[data-testid="roster-row"][data-discord-id="${target.userId}"]`);
  for (const page of pages) await expect(row(page)).toHaveCount(1);

  await emulator.setPresence(demo.guildId, target.userId, { status: "dnd", customStatus: "In a meeting" });
  for (const page of pages) {
    await expect(row(page).getByTestId("presence-badge")).toHaveAttribute("data-status", "dnd", { timeout: 2_000 });
    await expect(row(page).getByTestId("custom-status")).toHaveText("In a meeting", { timeout: 2_000 });
    expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
  }

  // And back: the badge follows every change, not just the first.
  await emulator.setPresence(demo.guildId, target.userId, { status: "online", customStatus: null });
  for (const page of pages) {
    await expect(row(page).getByTestId("presence-badge")).toHaveAttribute("data-status", "online", { timeout: 2_000 });
  }
  for (const page of pages) await page.context().close();
});

test("the roster catches up after the server connection drops", async ({ page, emulator, demo }) => {
  // Every tRPC WebSocket goes through this proxy (the client adds `?connectionParams=1` when it sends
  // the chosen organization). During the "outage" new sockets are held
  // open but never reach the server (like a dead network path), so nothing gets through.
  let outage = false;
  const live: WebSocketRoute[] = [];
  const held: WebSocketRoute[] = [];
  await page.routeWebSocket(/\/trpc(\?.*)?$/, (ws) => {
    if (outage) return void held.push(ws);
    ws.connectToServer();
    live.push(ws);
  });
  await signIn(page);
  const target = demo.staff[5]!;
  const badge = page.locator(`[data-testid="roster-row"][data-discord-id="${target.userId}"]`).getByTestId("presence-badge");

  outage = true;
  for (const socket of live.splice(0)) await socket.close();
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "reconnecting", { timeout: 10_000 });
  await emulator.setPresence(demo.guildId, target.userId, { status: "idle", customStatus: "Away while you were offline" });
  // The outage holds only WebSockets: over HTTP, wait until the server has stored (and announced)
  // the change. A live page would have it by now; this one must not.
  await expect.poll(() => storedStatus(page, target.userId), { timeout: 10_000 }).toBe("idle");
  await expect(badge).not.toHaveAttribute("data-status", "idle");

  outage = false;
  for (const socket of held.splice(0)) await socket.close();
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "live", { timeout: 15_000 });
  await expect(badge).toHaveAttribute("data-status", "idle", { timeout: 5_000 });
});
