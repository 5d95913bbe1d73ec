/** @guildhall/bot: the discord.js gateway client that brings the Discord side into Guildhall. */
export { type BotOptions, type RunningBot, type ShutdownReport, startBot } from "./bot";
export { type DeadLetter, type DeadLetterSummary, printable } from "./deadLetter";
export { type BotEnv, BotEnvError, DEFAULT_EMULATOR_URL, loadBotEnv, readBotEnv } from "./env";
export { classifyFailure, type Failure, type FailureKind, Forwarder, type ForwarderOptions, PresenceForwarder } from "./forwarder";
export { type BotLogger, type BotLoggerOptions, makeBotLogger } from "./log";
export { offlinePresence, toPresenceUpdate } from "./presence";
export { type SpoolEntry, spoolPath, takeSpool, writeSpool } from "./spool";
