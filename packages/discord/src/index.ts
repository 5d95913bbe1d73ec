/** @guildhall/discord: the Discord port, an Effect service over @discordjs/rest. */
export { DiscordRequestError, DiscordRest, type DiscordRestConfig, MEMBER_PAGE_LIMIT } from "./DiscordRest";
