/**
 * The SPA's one QueryClient and one tRPC options proxy (STYLE.md: "one module-level
 * `queryClient` and one `trpc` options proxy, passed to the router context").
 *
 * Queries and mutations go over HTTP (batched) to `/trpc`; subscriptions over one WebSocket to
 * the same path. Both authenticate with the same-origin better-auth session cookie, and both
 * name the organization chosen in the switcher (./organization.ts). No transformer: the API speaks plain JSON (dates are ISO-8601 strings).
 */
import type { AppRouter } from "@guildhall/api";
import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, TRPCClientError, wsLink } from "@trpc/client";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { selectedOrganization } from "./organization";

/** The tRPC error code of `error` (`"UNAUTHORIZED"`, `"FORBIDDEN"`, ...), or null when it is not a tRPC error. */
export function errorCode(error: unknown): string | null {
  if (!(error instanceof TRPCClientError)) return null;
  const data: unknown = error.data;
  return data && typeof data === "object" && "code" in data && typeof data.code === "string" ? data.code : null;
}

/** True when `error` is the API's "no session" answer: the caller must sign in again. */
export function isUnauthorized(error: unknown): boolean {
  return errorCode(error) === "UNAUTHORIZED";
}

/** Codes a retry cannot fix. */
const FINAL_CODES = new Set(["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "BAD_REQUEST"]);

/**
 * Sends the browser to the sign-in page after the session ran out mid-use. A full page load
 * (not a router navigation) on purpose: it also drops the WebSocket, whose tRPC context was
 * built from the old cookie when it connected.
 */
export function redirectToSignIn(): void {
  if (window.location.pathname !== "/sign-in") window.location.assign("/sign-in");
}

/**
 * The one QueryClient. A mutation, or a refetch of data already shown, failing with
 * UNAUTHORIZED (the session ended mid-use) sends the user to /sign-in. First loads are left to
 * the route's `beforeLoad`, which redirects without a page load.
 */
export const queryClient = new QueryClient({
  queryCache: new QueryCache({
    onError: (error, query) => isUnauthorized(error) && query.state.data !== undefined && redirectToSignIn(),
  }),
  mutationCache: new MutationCache({ onError: (error) => isUnauthorized(error) && redirectToSignIn() }),
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      retry: (failures, error) => !FINAL_CODES.has(errorCode(error) ?? "") && failures < 3,
    },
  },
});

const wsUrl = `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/trpc`;

/**
 * The subscription socket. Lazy: it opens with the first subscription (after sign-in, so the
 * cookie it carries is the right one) and closes when none is left. It reconnects with
 * backoff on its own, and tRPC resends each tracked subscription's last event id so the
 * server resumes it where it stopped.
 */
export const wsClient = createWSClient({
  url: wsUrl,
  lazy: { enabled: true, closeMs: 2_000 },
  // The server pings every 15 s; our own pings notice a dead link (sleep, Wi-Fi change) sooner.
  keepAlive: { enabled: true, intervalMs: 10_000, pongTimeoutMs: 5_000 },
  // A live dashboard should come back quickly: 0.5 s doubling, capped at 5 s (tRPC's default caps at 30 s).
  retryDelayMs: (attempt) => Math.min(500 * 2 ** attempt, 5_000),
  connectionParams: () => {
    const organization = selectedOrganization();
    return organization ? { organization } : {};
  },
});

/** The typed tRPC client: subscriptions over the WebSocket, everything else batched over HTTP. */
export const trpcClient = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === "subscription",
      true: wsLink({ client: wsClient }),
      false: httpBatchLink({
        url: `${window.location.origin}/trpc`,
        headers: () => {
          const organization = selectedOrganization();
          return organization ? { "x-guildhall-organization": organization } : {};
        },
      }),
    }),
  ],
});

/** The tRPC options proxy: `trpc.roster.list.queryOptions({})`, `trpc.roster.list.queryKey({})`, ... */
export const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });

/** What the router hands every route's `beforeLoad` / `loader` as `context`. */
export interface RouterContext {
  readonly queryClient: QueryClient;
  readonly trpc: typeof trpc;
}
