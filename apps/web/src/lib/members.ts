/**
 * Pure logic of the members comparison page: categories and their labels, the page's URL
 * search params (parsed, patched, turned into a `members.comparison` input), paging, member
 * names, role colours, Discord avatar URLs and the CSV download's file name.
 * No React, no IO.
 */
import { isSnowflake } from "@guildhall/discord/snowflake";
import type { ComparisonCategory, ComparisonInput, ComparisonRow } from "./types";

/** The categories in display order. */
export const CATEGORIES: ReadonlyArray<ComparisonCategory> = ["guild_only", "linked", "left", "no_guild_record"];

/** The category shown when the URL names none. */
export const DEFAULT_CATEGORY: ComparisonCategory = "guild_only";

/** Each category's label and a one-line explanation. */
export const CATEGORY_INFO: Record<ComparisonCategory, { readonly label: string; readonly hint: string }> = {
  guild_only: { label: "Guild only", hint: "In the guild, no app account" },
  linked: { label: "Linked", hint: "In the guild, with an app account" },
  left: { label: "Left guild", hint: "Left the guild, still have an app account" },
  no_guild_record: { label: "Discord users without a guild record", hint: "App accounts the guild has never seen" },
};

/**
 * Whether the member filters (role, bots, joined dates) apply to a category. `no_guild_record`
 * rows have no guild member, so the API ignores those filters there.
 */
export function hasMemberFilters(category: ComparisonCategory): boolean {
  return category !== "no_guild_record";
}

/** The bots filter: absent = everyone, `only` = bots only, `none` = no bots. */
export type BotFilter = "only" | "none";

/**
 * The `/members` URL search params, validated. Every key is optional and absent when it holds
 * its default (category `guild_only`, page 1, no filter), so URLs stay short.
 * Dates are `YYYY-MM-DD`; `roleId` is a snowflake string; `page` is 2 or more.
 */
export interface MembersSearch {
  readonly category?: ComparisonCategory;
  readonly search?: string;
  readonly roleId?: string;
  readonly bots?: BotFilter;
  readonly joinedAfter?: string;
  readonly joinedBefore?: string;
  readonly page?: number;
}

/** The longest search the API accepts (characters). */
export const MAX_SEARCH_LENGTH = 100;

/** The highest page number the API accepts. */
const MAX_PAGE = 100_000;

/** True for a real calendar date written `YYYY-MM-DD` (so `2024-02-30` is false). */
export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().startsWith(value);
}

const text = (value: unknown): string | undefined =>
  typeof value === "string" ? value : typeof value === "number" && Number.isFinite(value) ? String(value) : undefined;

/**
 * The route's `validateSearch`: whatever the URL holds (strings, see `lib/search.ts`) -> a
 * {@link MembersSearch}. Anything invalid is dropped rather than rejected, so a hand-edited or
 * stale URL still opens the page: an unknown category, a role id that is not a snowflake, a
 * date that is not a real `YYYY-MM-DD` date, a page that is not a whole number from 2 up.
 * The search text is cut to {@link MAX_SEARCH_LENGTH} characters; a blank one is dropped.
 */
export function validateMembersSearch(raw: Record<string, unknown>): MembersSearch {
  const out: { -readonly [K in keyof MembersSearch]: MembersSearch[K] } = {};
  const category = text(raw.category);
  if (category && category !== DEFAULT_CATEGORY && (CATEGORIES as ReadonlyArray<string>).includes(category)) {
    out.category = category as ComparisonCategory;
  }
  const search = text(raw.search)?.slice(0, MAX_SEARCH_LENGTH);
  if (search?.trim()) out.search = search;
  const roleId = text(raw.roleId);
  if (roleId && isSnowflake(roleId)) out.roleId = roleId;
  const bots = text(raw.bots);
  if (bots === "only" || bots === "none") out.bots = bots;
  const after = text(raw.joinedAfter);
  if (after && isIsoDate(after)) out.joinedAfter = after;
  const before = text(raw.joinedBefore);
  if (before && isIsoDate(before)) out.joinedBefore = before;
  const page = text(raw.page);
  if (page && /^[0-9]{1,6}$/.test(page)) {
    const n = Number(page);
    if (n >= 2 && n <= MAX_PAGE) out.page = n;
  }
  return out;
}

/** A change to the search params; `undefined` (or `""`) clears a key. */
export type MembersSearchPatch = { readonly [K in keyof MembersSearch]?: MembersSearch[K] | undefined };

/**
 * `prev` with `patch` applied, normalized by {@link validateMembersSearch}. Changing anything
 * but the page (category, search, a filter) goes back to page 1, since the old page number
 * means nothing in the new list.
 */
export function patchMembersSearch(prev: MembersSearch, patch: MembersSearchPatch): MembersSearch {
  const changesList = Object.keys(patch).some((key) => key !== "page");
  const next: Record<string, unknown> = { ...prev, ...patch };
  if (changesList && !("page" in patch)) delete next.page;
  return validateMembersSearch(next);
}

/** True when any filter (search, role, bots, dates) is set. */
export function hasFilters(search: MembersSearch): boolean {
  return Boolean(search.search || search.roleId || search.bots || search.joinedAfter || search.joinedBefore);
}

/**
 * The `members.comparison` / `members.exportCsv` input for `search`, `pageSize` rows a page.
 * The search text is trimmed; the member filters are left out for `no_guild_record` (the API
 * ignores them there), so that list has one cache entry whatever they are.
 */
export function comparisonInput(search: MembersSearch, pageSize: number): ComparisonInput {
  const category = search.category ?? DEFAULT_CATEGORY;
  const input: { -readonly [K in keyof ComparisonInput]: ComparisonInput[K] } = { category, pageSize };
  if (search.page && search.page > 1) input.page = search.page;
  const q = search.search?.trim();
  if (q) input.search = q;
  if (!hasMemberFilters(category)) return input;
  if (search.roleId) input.roleId = search.roleId;
  if (search.bots) input.isBot = search.bots === "only";
  if (search.joinedAfter) input.joinedAfter = search.joinedAfter;
  if (search.joinedBefore) input.joinedBefore = search.joinedBefore;
  return input;
}

/** How many pages `total` rows fill, `pageSize` a page; at least 1 (an empty list is one empty page). */
export function pageCount(total: number, pageSize: number): number {
  if (!(pageSize > 0) || !(total > 0)) return 1;
  return Math.ceil(total / pageSize);
}

/** The 1-based range of rows a page shows, `{from, to}`; `{from: 0, to: 0}` when it is empty. */
export function pageRange(page: number, pageSize: number, total: number): { from: number; to: number } {
  const from = (page - 1) * pageSize + 1;
  if (total <= 0 || from > total) return { from: 0, to: 0 };
  return { from, to: Math.min(total, page * pageSize) };
}

/**
 * How a row is named: `primary` is what Discord shows in the guild (nick, else global name,
 * else username; the app user's name when there is no guild member); `secondary` holds the
 * other names (the global name when a nick hides it, and `@username`).
 */
export function memberNames(row: ComparisonRow): { primary: string; secondary: string[] } {
  const m = row.member;
  if (!m) return { primary: row.user?.name || row.user?.email || row.discordId, secondary: [] };
  const primary = m.nick || m.globalName || m.username;
  const secondary: string[] = [];
  if (m.nick && m.globalName && m.globalName !== m.nick) secondary.push(m.globalName);
  secondary.push(`@${m.username}`);
  return { primary, secondary };
}

/**
 * A Discord role colour (an RGB integer) as `#rrggbb`; null for 0, which Discord uses for
 * "no colour" (https://discord.com/developers/docs/topics/permissions#role-object).
 */
export function roleColor(color: number): string | null {
  if (!Number.isInteger(color) || color <= 0 || color > 0xffffff) return null;
  return `#${color.toString(16).padStart(6, "0")}`;
}

/** Discord's CDN, used until (or if never) `GET /api/config` answers. */
export const DEFAULT_DISCORD_CDN = "https://cdn.discordapp.com";

/**
 * Which of the six default avatars Discord shows a user without one: `(id >> 22) % 6` (the
 * rule for users on the new username system; https://discord.com/developers/docs/reference#image-formatting-cdn-endpoints).
 * 0 for an id that is not a snowflake.
 */
export function defaultAvatarIndex(discordId: string): number {
  if (!isSnowflake(discordId)) return 0;
  return Number((BigInt(discordId) >> 22n) % 6n);
}

/**
 * The avatar image of Discord user `discordId`: `${cdn}/avatars/{id}/{hash}.png?size={size}`,
 * or the default avatar `${cdn}/embed/avatars/{n}.png` when `avatar` (the hash) is null.
 * `cdn` is the CDN base without a trailing slash (`https://cdn.discordapp.com`, or the
 * emulator's); `size` is in px, a power of two from 16 to 4096.
 * https://discord.com/developers/docs/reference#image-formatting
 */
export function avatarUrl(cdn: string, discordId: string, avatar: string | null, size = 64): string {
  const base = cdn.replace(/\/+$/, "");
  if (!avatar) return `${base}/embed/avatars/${defaultAvatarIndex(discordId)}.png`;
  return `${base}/avatars/${encodeURIComponent(discordId)}/${encodeURIComponent(avatar)}.png?size=${size}`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** `date` as the local calendar day, `YYYY-MM-DD`. */
export function localDay(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/**
 * The file name a CSV export is saved under: the API's `filename` (`guildhall-<guild>-<category>.csv`)
 * with the local day of `date` added (`guildhall-<guild>-<category>-2026-01-31.csv`), so exports
 * taken on different days do not overwrite each other. Characters other than letters, digits,
 * `.`, `_` and `-` become `-`; the name always ends in `.csv`.
 */
export function csvDownloadName(filename: string, date: Date): string {
  const stem =
    filename
      .trim()
      .replace(/\.csv$/i, "")
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^[-.]+|[-.]+$/g, "") || "guildhall-members";
  return `${stem}-${localDay(date)}.csv`;
}
