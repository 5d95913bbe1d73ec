/**
 * Inputs and refresh intervals shared by route loaders and components, so both name the
 * same query keys.
 */

/** `roster.list` / `roster.live` input: the organization's default guild. */
export const ROSTER_INPUT = {} as const;

/** `roster.history` input: the last hour, in 1-minute buckets. */
export const HISTORY_INPUT = { minutes: 60, bucketMinutes: 1 } as const;

/** How often the online chart refetches `roster.history` (ms). */
export const HISTORY_REFETCH_MS = 60_000;

/** How often the bot panel refetches `bot.status` (ms). */
export const BOT_STATUS_REFETCH_MS = 10_000;

/** `members.history` / `members.progress` / `members.requestSync` input: the organization's default guild. */
export const SYNC_INPUT = {} as const;

/** Rows per page of the members comparison list (the API allows 1-100). */
export const MEMBERS_PAGE_SIZE = 50;

/**
 * How often the members comparison refetches while the page is visible (ms). Live
 * GUILD_MEMBER_ADD / REMOVE changes reach the database without a `members.progress` event,
 * so polling this one query is what shows joins and leaves without a reload.
 */
export const COMPARISON_REFETCH_MS = 5_000;
