/**
 * The bot on its own (docker-compose, or beside a separately run server).
 * With DISCORD_TOKEN it connects to Discord. Without it, to the Discord emulator at
 * EMULATOR_URL (default http://127.0.0.1:3001, as `npm run emulator` starts it), taking the
 * token and URLs from the emulator's control API over HTTP (see env.ts).
 */
import { startBot } from "./bot";
import { loadBotEnv } from "./env";
import { makeBotLogger } from "./log";

const env = await loadBotEnv().catch((error: unknown) => {
  makeBotLogger().error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
const log = makeBotLogger({ level: env.logLevel });
if (env.emulatorUrl) log.info(`no DISCORD_TOKEN: using the Discord emulator at ${env.emulatorUrl}`);
const bot = await startBot(env);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void bot.close().finally(() => process.exit(0));
  });
}
