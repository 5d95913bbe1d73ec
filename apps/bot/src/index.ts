/** @guildhall/bot: the discord.js gateway client that brings the Discord side into Guildhall. */
export { type BotOptions, type RunningBot, startBot } from "./bot";
export { type BotEnv, BotEnvError, DEFAULT_EMULATOR_URL, loadBotEnv, readBotEnv } from "./env";
export { type ForwarderOptions, PresenceForwarder } from "./forwarder";
export { type BotLogger, type BotLoggerOptions, makeBotLogger } from "./log";
export { offlinePresence, toPresenceUpdate } from "./presence";
