/**
 * Code-based TanStack Router routes: `/sign-in`, `/roster`, `/members` (Discord members against
 * app accounts), `/members/history` (member sync runs), `/roles` (role reconciliation), `/jobs` (background jobs, admins),
 * `/notifications` (channel webhooks and their deliveries, admins), `/tokens` (API tokens, admins),
 * `/integrations` (the bot installed per guild; admins add and delete), and
 * `/` (redirects to `/roster`).
 * Loaders fill the query cache with `queryClient.ensureQueryData(trpc.x.queryOptions(...))`,
 * so pages render from cache with no loading flash (STYLE.md, TanStack/router examples).
 */
import { createRootRouteWithContext, createRoute, createRouter, Outlet, redirect } from "@tanstack/react-router";
import { authClient } from "./lib/auth";
import { appConfigQuery } from "./lib/config";
import { validateJobsSearch } from "./lib/jobs";
import { comparisonInput, validateMembersSearch } from "./lib/members";
import { rememberOrganization, selectedOrganization } from "./lib/organization";
import { HISTORY_INPUT, MEMBERS_PAGE_SIZE, ROSTER_INPUT, SYNC_INPUT } from "./lib/queries";
import { parseSearchParams, stringifySearchParams } from "./lib/search";
import { isUnauthorized, queryClient, type RouterContext, trpc } from "./lib/trpc";
import type { Me } from "./lib/types";
import { NotFoundPage, RouteError, RoutePending } from "./routes/fallbacks";
import { IntegrationsPage } from "./routes/IntegrationsPage";
import { JobsPage } from "./routes/JobsPage";
import { MembersPage } from "./routes/MembersPage";
import { DELIVERIES_INPUT, NotificationsPage } from "./routes/NotificationsPage";
import { RolesPage } from "./routes/RolesPage";
import { RosterPage } from "./routes/RosterPage";
import { SignInPage } from "./routes/SignInPage";
import { SyncHistoryPage } from "./routes/SyncHistoryPage";
import { TokensPage } from "./routes/TokensPage";

const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: Outlet,
  notFoundComponent: NotFoundPage,
});

const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/",
  beforeLoad: () => {
    throw redirect({ to: "/roster" });
  },
});

const signInRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sign-in",
  // Already signed in: straight to the roster. A failed session read just shows the form.
  beforeLoad: async () => {
    const session = await authClient.getSession().catch(() => null);
    if (session?.data) throw redirect({ to: "/roster" });
  },
  component: SignInPage,
});

/**
 * The `beforeLoad` of every signed-in page: puts `me` (`session.me`) in the route context,
 * where loaders and the page (`getRouteApi(path).useRouteContext()`) read it. Who is signed in
 * decides everything below; no session -> /sign-in.
 */
async function requireMe({ context }: { context: RouterContext }): Promise<{ me: Me }> {
  try {
    const me = await context.queryClient.ensureQueryData(context.trpc.session.me.queryOptions());
    const selected = selectedOrganization();
    if (selected !== null && !me.organizations.some((o) => o.organizationId === selected)) {
      // A choice that no longer holds (removed from that organization): back to the default one.
      rememberOrganization(null);
      return { me: await context.queryClient.fetchQuery(context.trpc.session.me.queryOptions()) };
    }
    return { me };
  } catch (error) {
    if (isUnauthorized(error)) throw redirect({ to: "/sign-in" });
    throw error;
  }
}

const rosterRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/roster",
  beforeLoad: requireMe,
  loader: async ({ context }) => {
    if (!context.me.staff) return; // signed in but not staff: the page says so, nothing to load
    // The chart and the bot panel may arrive after the roster; only the roster blocks.
    void context.queryClient.prefetchQuery(context.trpc.roster.history.queryOptions(HISTORY_INPUT));
    void context.queryClient.prefetchQuery(context.trpc.bot.status.queryOptions());
    await context.queryClient.ensureQueryData(context.trpc.roster.list.queryOptions(ROSTER_INPUT));
  },
  component: RosterPage,
  pendingComponent: RoutePending,
  errorComponent: RouteError,
});

// Category, filters and page live in the URL (see lib/members.ts), so a reload or a shared link keeps them.
const membersRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/members",
  validateSearch: validateMembersSearch,
  beforeLoad: requireMe,
  loaderDeps: ({ search }) => search,
  loader: async ({ context, deps, cause }) => {
    if (!context.me.staff) return;
    const comparison = context.trpc.members.comparison.queryOptions(comparisonInput(deps, MEMBERS_PAGE_SIZE));
    // A new filter or page while on the page: the page keeps showing the previous rows (dimmed)
    // until these arrive, rather than the route's pending screen after each keystroke.
    if (cause === "stay") {
      void context.queryClient.prefetchQuery(comparison);
      return;
    }
    // Sync history feeds the progress panel's "last run" line; it may arrive after the list.
    void context.queryClient.prefetchQuery(context.trpc.members.history.queryOptions(SYNC_INPUT));
    await Promise.all([
      context.queryClient.ensureQueryData(comparison),
      // Never fails (falls back to Discord's CDN); awaited so avatars do not swap in after the first paint.
      context.queryClient.ensureQueryData(appConfigQuery),
    ]);
  },
  component: MembersPage,
  pendingComponent: RoutePending,
  errorComponent: RouteError,
});

const membersHistoryRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/members/history",
  beforeLoad: requireMe,
  loader: async ({ context }) => {
    if (!context.me.staff) return;
    await context.queryClient.ensureQueryData(context.trpc.members.history.queryOptions(SYNC_INPUT));
  },
  component: SyncHistoryPage,
  pendingComponent: RoutePending,
  errorComponent: RouteError,
});

// Queue, state filter and page live in the URL (see lib/jobs.ts). Only admins get data: the page tells others why not.
const jobsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/jobs",
  validateSearch: validateJobsSearch,
  beforeLoad: requireMe,
  loader: async ({ context }) => {
    if (context.me.staff?.role !== "admin") return;
    await context.queryClient.ensureQueryData(context.trpc.jobs.queues.queryOptions());
  },
  component: JobsPage,
  pendingComponent: RoutePending,
  errorComponent: RouteError,
});

// Admins only get data; the page tells others why not.
const tokensRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/tokens",
  beforeLoad: requireMe,
  loader: async ({ context }) => {
    if (context.me.staff?.role !== "admin") return;
    await context.queryClient.ensureQueryData(context.trpc.tokens.list.queryOptions());
  },
  component: TokensPage,
  pendingComponent: RoutePending,
  errorComponent: RouteError,
});

// Role reconciliation: groups, mappings, the plan's preview, apply with progress, audit log, suppressions, preflight.
const rolesRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/roles",
  beforeLoad: requireMe,
  loader: async ({ context }) => {
    if (!context.me.staff) return;
    await Promise.all([
      context.queryClient.ensureQueryData(context.trpc.groups.list.queryOptions()),
      context.queryClient.ensureQueryData(context.trpc.roles.mappings.queryOptions({})),
    ]);
  },
  component: RolesPage,
  pendingComponent: RoutePending,
  errorComponent: RouteError,
});

// Admins only, like Jobs: the page tells others why there is nothing for them.
const notificationsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/notifications",
  beforeLoad: requireMe,
  loader: async ({ context }) => {
    if (context.me.staff?.role !== "admin") return;
    await Promise.all([
      context.queryClient.ensureQueryData(context.trpc.notifications.kinds.queryOptions()),
      context.queryClient.ensureQueryData(context.trpc.notifications.webhooks.queryOptions()),
      context.queryClient.ensureQueryData(context.trpc.notifications.deliveries.queryOptions(DELIVERIES_INPUT)),
    ]);
  },
  component: NotificationsPage,
  pendingComponent: RoutePending,
  errorComponent: RouteError,
});

// `installed` (a guild id) is where Discord's install sends the admin back (apps/server/src/install.ts).
const integrationsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/integrations",
  validateSearch: (search: Record<string, unknown>): { installed?: string } =>
    typeof search.installed === "string" && /^[0-9]{1,20}$/.test(search.installed) ? { installed: search.installed } : {},
  beforeLoad: requireMe,
  loader: async ({ context }) => {
    if (!context.me.staff) return;
    await context.queryClient.ensureQueryData(context.trpc.integrations.list.queryOptions());
  },
  component: IntegrationsPage,
  pendingComponent: RoutePending,
  errorComponent: RouteError,
});

const routeTree = rootRoute.addChildren([
  indexRoute,
  signInRoute,
  rosterRoute,
  membersRoute,
  membersHistoryRoute,
  rolesRoute,
  jobsRoute,
  notificationsRoute,
  tokensRoute,
  integrationsRoute,
]);

/** The app's router; its context carries the one `queryClient` and the one `trpc` proxy. */
export const router = createRouter({
  routeTree,
  context: { queryClient, trpc },
  // Plain string search params: the default codec would turn snowflakes into (rounded) numbers.
  parseSearch: parseSearchParams,
  stringifySearch: stringifySearchParams,
  defaultPreload: "intent",
  // Freshness is TanStack Query's business: always run loaders, they read from its cache.
  defaultPreloadStaleTime: 0,
  defaultPendingMs: 300,
  scrollRestoration: true,
});

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
