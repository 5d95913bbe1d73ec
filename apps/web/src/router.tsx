/**
 * Code-based TanStack Router routes: `/sign-in`, `/roster`, and `/` (redirects to `/roster`).
 * Loaders fill the query cache with `queryClient.ensureQueryData(trpc.x.queryOptions(...))`,
 * so pages render from cache with no loading flash (STYLE.md, TanStack/router examples).
 */
import { createRootRouteWithContext, createRoute, createRouter, Outlet, redirect } from "@tanstack/react-router";
import { authClient } from "./lib/auth";
import { HISTORY_INPUT, ROSTER_INPUT } from "./lib/queries";
import { isUnauthorized, queryClient, type RouterContext, trpc } from "./lib/trpc";
import { NotFoundPage, RouteError, RoutePending } from "./routes/fallbacks";
import { RosterPage } from "./routes/RosterPage";
import { SignInPage } from "./routes/SignInPage";

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

// The page reads `me` from this route's context (`getRouteApi("/roster").useRouteContext()`).
const rosterRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/roster",
  // Who is signed in decides everything below; no session -> /sign-in.
  beforeLoad: async ({ context }) => {
    try {
      const me = await context.queryClient.ensureQueryData(context.trpc.session.me.queryOptions());
      return { me };
    } catch (error) {
      if (isUnauthorized(error)) throw redirect({ to: "/sign-in" });
      throw error;
    }
  },
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

const routeTree = rootRoute.addChildren([indexRoute, signInRoute, rosterRoute]);

/** The app's router; its context carries the one `queryClient` and the one `trpc` proxy. */
export const router = createRouter({
  routeTree,
  context: { queryClient, trpc },
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
