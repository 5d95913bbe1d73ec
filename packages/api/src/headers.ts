/** Header the bot (and any service caller) sends its API key in. Its own module so clients load nothing of the server. */
export const BOT_KEY_HEADER = "x-guildhall-bot-key";

/**
 * Header naming the organization a call works in (its id). Over WebSocket, the connectionParam
 * `organization` does the same. Absent: the caller's oldest organization. The SPA's switcher sets it.
 */
export const ORGANIZATION_HEADER = "x-guildhall-organization";
