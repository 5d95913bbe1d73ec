/**
 * The organization the SPA works in, for a user who is staff of several: kept in localStorage
 * (`guildhall.organization`), sent with every call (header `x-guildhall-organization` over
 * HTTP, connectionParam `organization` over the WebSocket). Absent: the server picks the
 * user's oldest organization.
 */
const KEY = "guildhall.organization";

/** The selected organization's id, or null (the server's default). */
export function selectedOrganization(): string | null {
  try {
    return window.localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** Remembers `id` as the organization to work in (null forgets the choice). */
export function rememberOrganization(id: string | null): void {
  try {
    if (id === null) window.localStorage.removeItem(KEY);
    else window.localStorage.setItem(KEY, id);
  } catch {
    // Storage refused (private mode): the choice lasts until the page is left.
  }
}

/**
 * Switches to organization `id`: remembers it and reloads the page, so every query is fetched
 * again and the WebSocket reconnects with the new organization (nothing of the old one stays
 * on screen or in the cache).
 */
export function switchOrganization(id: string): void {
  rememberOrganization(id);
  window.location.reload();
}
