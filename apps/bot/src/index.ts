/** @guildhall/bot: the discord.js gateway client that brings the Discord side into Guildhall. */
export { type BotOptions, type RunningBot, startBot } from "./bot";
export { type BotEnv, readBotEnv } from "./env";
export { type ForwarderOptions, PresenceForwarder } from "./forwarder";
export { offlinePresence, toPresenceUpdate } from "./presence";
