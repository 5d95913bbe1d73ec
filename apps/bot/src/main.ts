/** The bot on its own (docker-compose, or beside a separately run server). */
import { startBot } from "./bot";
import { readBotEnv } from "./env";

const env = readBotEnv();
const bot = await startBot(env);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void bot.close().finally(() => process.exit(0));
  });
}
