/**
 * Every page of the SPA, written once: the accessibility check (a11y.spec.ts) and the layout
 * checks (layout.spec.ts) run over this list at each of VIEWPORTS. A new page is one line here.
 */
import { expect, type Page } from "@playwright/test";

/** One page of the SPA: where it lives, and how to tell it has finished rendering. */
export interface AppPage {
  /** Names the page in test titles and screenshot files. */
  readonly name: string;
  /** The URL path (with search params) to open. */
  readonly path: string;
  /** False for pages opened without a session (sign-in). */
  readonly signedIn: boolean;
  /** Resolves once the page shows its data (and nothing on it is still loading). */
  readonly ready: (page: Page) => Promise<void>;
}

/** Ready once the element with `testId` is visible. */
export const visible = (testId: string) => (page: Page) => expect(page.getByTestId(testId)).toBeVisible();

/** A members category: ready once its own rows (not the previous category's, dimmed) are on show. */
const members = (category: string) => async (page: Page) => {
  const list = page.getByTestId("members-list");
  await expect(list).toHaveAttribute("data-category", category);
  await expect(list).toHaveAttribute("data-loading", "false");
  await expect(page.getByTestId("sync-progress")).not.toHaveAttribute("data-loading", "true");
};

export const PAGES: ReadonlyArray<AppPage> = [
  {
    name: "sign-in",
    path: "/sign-in",
    signedIn: false,
    // The stack e2e starts offers Sign in with Discord (the emulator's application): checked with its button.
    ready: async (page) => {
      await expect(page.getByTestId("sign-in-form")).toBeVisible();
      await expect(page.getByTestId("sign-in-discord")).toBeVisible();
    },
  },
  {
    name: "roster",
    path: "/roster",
    signedIn: true,
    ready: async (page) => {
      await expect(page.getByTestId("roster-row").first()).toBeVisible();
      await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "live");
      await expect(page.getByTestId("bot-status")).toHaveAttribute("data-running", "true");
      // The chart is drawn (its lazy chunk loaded), or says there is nothing to draw.
      await expect(
        page
          .locator(
            '[data-testid="online-chart-plot"] svg, [data-testid="online-chart"][data-state="empty"], [data-testid="online-chart"][data-state="first"]',
          )
          .first(),
      ).toBeVisible();
    },
  },
  { name: "members-guild-only", path: "/members", signedIn: true, ready: members("guild_only") },
  { name: "members-linked", path: "/members?category=linked", signedIn: true, ready: members("linked") },
  { name: "members-left", path: "/members?category=left", signedIn: true, ready: members("left") },
  { name: "members-no-guild-record", path: "/members?category=no_guild_record", signedIn: true, ready: members("no_guild_record") },
  {
    name: "sync-history",
    path: "/members/history",
    signedIn: true,
    ready: async (page) => {
      await expect(page.getByTestId("sync-history")).toHaveAttribute("data-loading", "false");
      await expect(page.getByTestId("sync-progress")).not.toHaveAttribute("data-loading", "true");
    },
  },
  {
    name: "roles",
    path: "/roles",
    signedIn: true,
    ready: async (page) => {
      await expect(page.getByTestId("roles-preview")).toHaveAttribute("data-loading", "false");
      await expect(page.getByTestId("roles-preflight")).toHaveAttribute("data-loading", "false");
      await expect(page.getByTestId("roles-audit")).toHaveAttribute("data-loading", "false");
      await expect(page.getByTestId("role-menus")).toHaveAttribute("data-loading", "false");
      await expect(page.getByTestId("invite-link")).toHaveAttribute("data-loading", "false");
    },
  },
  {
    name: "jobs",
    path: "/jobs",
    signedIn: true,
    ready: async (page) => {
      await expect(page.getByTestId("jobs-queue-row").first()).toBeVisible();
      await expect(page.getByTestId("queue-jobs")).toBeVisible();
    },
  },
  {
    name: "tokens",
    path: "/tokens",
    signedIn: true,
    ready: async (page) => {
      await expect(page.getByTestId("token-list")).toHaveAttribute("data-loading", "false");
      await expect(page.getByTestId("guild-list")).toHaveAttribute("data-loading", "false");
    },
  },
  {
    name: "notifications",
    path: "/notifications",
    signedIn: true,
    ready: async (page) => {
      await expect(page.getByTestId("webhooks")).toHaveAttribute("data-loading", "false");
      await expect(page.getByTestId("deliveries")).toHaveAttribute("data-loading", "false");
    },
  },
  { name: "integrations", path: "/integrations", signedIn: true, ready: visible("install-add") },
];

/** The widths every page is checked at: a laptop, and a phone (390 px: iPhone 12 to 15). */
export const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;

/** Opens `app` (the caller has signed in when it needs a session) and waits until it is ready. */
export async function openPage(page: Page, app: AppPage): Promise<void> {
  await page.goto(app.path);
  await app.ready(page);
}
