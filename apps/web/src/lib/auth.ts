/**
 * better-auth's browser client. Same origin as the API: the session lives in an HttpOnly
 * cookie that tRPC's HTTP requests and WebSocket send along by themselves.
 */
import { createAuthClient } from "better-auth/react";

/** Sign-in (`authClient.signIn.email`), sign-out and session reads against `/api/auth`. */
export const authClient = createAuthClient({ baseURL: window.location.origin });
