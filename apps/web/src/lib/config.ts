/**
 * `GET /api/config`: public settings the SPA needs that differ between deployments (the Discord
 * CDN base, which is the emulator's in development, and whether Sign in with Discord is offered).
 * Fetched once per page load.
 */
import { queryOptions } from "@tanstack/react-query";
import { DEFAULT_DISCORD_CDN } from "./members";

/** The server's public settings. `discordCdnUrl` has no trailing slash; `discordSignIn`: the Discord button is shown. */
export interface AppConfig {
  readonly discordCdnUrl: string;
  readonly discordSignIn: boolean;
}

const DEFAULTS: AppConfig = { discordCdnUrl: DEFAULT_DISCORD_CDN, discordSignIn: false };

/**
 * Reads `/api/config`. Never fails: when the server does not answer, answers with an error, or
 * lacks a field, the defaults are used (Discord's own CDN, no Discord sign-in), so avatars still
 * show and the password form still works.
 */
export async function fetchAppConfig(): Promise<AppConfig> {
  try {
    const res = await fetch("/api/config", { headers: { accept: "application/json" } });
    if (!res.ok) return DEFAULTS;
    const body: unknown = await res.json();
    const cdn = body && typeof body === "object" && "discordCdnUrl" in body ? body.discordCdnUrl : null;
    const discordSignIn = body && typeof body === "object" && "discordSignIn" in body ? body.discordSignIn === true : false;
    return {
      discordCdnUrl: typeof cdn === "string" && /^https?:\/\//.test(cdn) ? cdn.replace(/\/+$/, "") : DEFAULT_DISCORD_CDN,
      discordSignIn,
    };
  } catch {
    return DEFAULTS;
  }
}

/** The `/api/config` query: fetched once, then kept for the life of the page. */
export const appConfigQuery = queryOptions({
  queryKey: ["app-config"] as const,
  queryFn: fetchAppConfig,
  staleTime: Number.POSITIVE_INFINITY,
  gcTime: Number.POSITIVE_INFINITY,
});
