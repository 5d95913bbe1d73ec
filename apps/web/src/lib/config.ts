/**
 * `GET /api/config`: public settings the SPA needs that differ between deployments (today the
 * Discord CDN base, which is the emulator's in development). Fetched once per page load.
 */
import { queryOptions } from "@tanstack/react-query";
import { DEFAULT_DISCORD_CDN } from "./members";

/** The server's public settings. `discordCdnUrl` has no trailing slash. */
export interface AppConfig {
  readonly discordCdnUrl: string;
}

/**
 * Reads `/api/config`. Never fails: when the server does not answer, answers with an error, or
 * lacks a field, the defaults are used (Discord's own CDN), so avatars still show.
 */
export async function fetchAppConfig(): Promise<AppConfig> {
  try {
    const res = await fetch("/api/config", { headers: { accept: "application/json" } });
    if (!res.ok) return { discordCdnUrl: DEFAULT_DISCORD_CDN };
    const body: unknown = await res.json();
    const cdn = body && typeof body === "object" && "discordCdnUrl" in body ? body.discordCdnUrl : null;
    return { discordCdnUrl: typeof cdn === "string" && /^https?:\/\//.test(cdn) ? cdn.replace(/\/+$/, "") : DEFAULT_DISCORD_CDN };
  } catch {
    return { discordCdnUrl: DEFAULT_DISCORD_CDN };
  }
}

/** The `/api/config` query: fetched once, then kept for the life of the page. */
export const appConfigQuery = queryOptions({
  queryKey: ["app-config"] as const,
  queryFn: fetchAppConfig,
  staleTime: Number.POSITIVE_INFINITY,
  gcTime: Number.POSITIVE_INFINITY,
});
