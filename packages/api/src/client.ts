import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from "@trpc/client";
import WebSocket from "ws";
import { BOT_KEY_HEADER, ORGANIZATION_HEADER } from "./headers";
import type { AppRouter } from "./root";

/** Options for {@link createClient}. */
export interface ClientOptions {
  /** The server's origin, e.g. `http://127.0.0.1:3000`; tRPC lives at `/trpc` under it. */
  readonly url: string;
  /** The bot key, for bot procedures (sent as a header over HTTP and in connectionParams over WebSocket). */
  readonly botKey?: string;
  /** A session cookie (`name=value`), for staff procedures from Node. */
  readonly cookie?: string;
  /**
   * An API token (`gh_...`, created on the SPA's API tokens page): sent as `Authorization:
   * Bearer <token>` over HTTP and as the connectionParam `token` over WebSocket. The client
   * then works in the token's organization with the token's scope.
   */
  readonly token?: string;
  /** The organization to work in (its id), for a user who is staff of several; default: their oldest. */
  readonly organization?: string;
  /** Send queries and mutations over the WebSocket too (one connection for everything). Default false. */
  readonly allOverWebSocket?: boolean;
  /** Called when the WebSocket opens or closes, e.g. to report reconnects. */
  readonly onConnectionChange?: (state: "open" | "closed") => void;
}

/** A typed Guildhall client and the function that closes its WebSocket. */
export interface GuildhallClient {
  readonly trpc: ReturnType<typeof createTRPCClient<AppRouter>>;
  readonly close: () => void;
}

/**
 * A typed tRPC client for Node callers (the bot, benchmarks, other TypeScript services),
 * authenticated by the bot key, a session cookie, or an API token (`createClient({ url, token })`):
 * subscriptions over WebSocket (`ws`, reconnecting with backoff and resuming tracked
 * subscriptions from their last id), everything else over HTTP batching unless
 * `allOverWebSocket`. Errors surface as `TRPCClientError` with the server's code.
 */
export const createClient = (options: ClientOptions): GuildhallClient => {
  const httpUrl = `${options.url.replace(/\/$/, "")}/trpc`;
  const headers: Record<string, string> = {};
  if (options.botKey) headers[BOT_KEY_HEADER] = options.botKey;
  if (options.cookie) headers.cookie = options.cookie;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.organization) headers[ORGANIZATION_HEADER] = options.organization;
  const connectionParams: Record<string, string> = {};
  if (options.botKey) connectionParams.botKey = options.botKey;
  if (options.token) connectionParams.token = options.token;
  if (options.organization) connectionParams.organization = options.organization;
  // tRPC constructs the socket with only (url, protocols); this subclass adds our headers.
  class AuthenticatedWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  const wsClient = createWSClient({
    url: httpUrl.replace(/^http/, "ws"),
    WebSocket: AuthenticatedWebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: Object.keys(connectionParams).length > 0 ? connectionParams : undefined,
    retryDelayMs: (attempt) => Math.min(250 * 2 ** attempt, 5_000),
    keepAlive: { enabled: true, intervalMs: 10_000, pongTimeoutMs: 5_000 },
    onOpen: () => options.onConnectionChange?.("open"),
    onClose: () => options.onConnectionChange?.("closed"),
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription" || options.allOverWebSocket === true,
        true: wsLink({ client: wsClient }),
        false: httpBatchLink({ url: httpUrl, headers }),
      }),
    ],
  });
  return { trpc, close: () => void wsClient.close() };
};

/**
 * Signs in with email + password through better-auth (`POST /api/auth/sign-in/email`) and
 * returns the session cookie (`name=value; ...`) for {@link createClient}'s `cookie`.
 * `url` is the server's origin; it is also sent as `Origin`, which better-auth checks.
 * Rejects with the status and body when the credentials are refused (401) or the server errs.
 */
export const signIn = async (url: string, credentials: { email: string; password: string }): Promise<string> => {
  const origin = url.replace(/\/$/, "");
  const response = await fetch(`${origin}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin },
    body: JSON.stringify(credentials),
  });
  if (!response.ok) throw new Error(`sign-in failed: ${response.status} ${await response.text()}`);
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  if (!cookie) throw new Error("sign-in set no session cookie");
  return cookie;
};
