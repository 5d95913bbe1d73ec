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
