import { BOT_KEY } from "../playwright.config";
import { expect, signIn, test } from "./fixtures";

/**
 * A dead letter the bot reports (an update the server refused) is kept as a job: the bot panel
 * on the roster counts it and links to its queue on the Jobs page, where it waits as a dead letter.
 */
test("the bot panel counts the bot's dead letters and links to them on the Jobs page", async ({ page, request, demo }) => {
  await signIn(page);
  const count = page.getByTestId("dead-letters");
  await expect(count).toHaveAttribute("data-count", /^\d+$/);
  const before = Number(await count.getAttribute("data-count"));

  // Reported as the bot reports one (bot.reportDeadLetter, with the bot's key and no session).
  const summary = `presence (online) of user 1 in guild ${demo.guildId}`;
  const response = await request.post("/trpc/bot.reportDeadLetter", {
    headers: { "x-guildhall-bot-key": BOT_KEY, "content-type": "application/json" },
    data: {
      letters: [
        {
          kind: "presence",
          key: `${demo.guildId}:1`,
          summary,
          item: "{}",
          code: "BAD_REQUEST",
          error: "Invalid input: updates.0.observedAt: out of range",
          attempts: 1,
          at: Date.now(),
        },
      ],
    },
  });
  expect(response.ok(), await response.text()).toBe(true);

  // The panel refetches every 10 s.
  await expect(count).toHaveAttribute("data-count", String(before + 1), { timeout: 20_000 });
  await count.getByRole("link").click();
  await expect(page).toHaveURL(/\/jobs\?.*queue=bot\.dead-letters/);
  await expect(page.getByTestId("queue-jobs")).toHaveAttribute("data-queue", "bot.dead-letters");
  await expect(page.getByTestId("queue-jobs")).toContainText(summary, { timeout: 10_000 });
});
