/**
 * The bot on its own (docker-compose, or beside a separately run server).
 * With DISCORD_TOKEN it connects to Discord. Without it, to the emulator at EMULATOR_URL
 * (default http://127.0.0.1:3001, as `npm run emulator` starts it), taking the token and
 * URLs from the emulator's control API.
 */
import { EmulatorControl } from "@guildhall/emulator";
import { startBot } from "./bot";
import { readBotEnv } from "./env";

const fromEmulator = async () => {
  const url = process.env.EMULATOR_URL ?? "http://127.0.0.1:3001";
  const info = await new EmulatorControl(url).info().catch((error: unknown) => {
    const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    console.error(
      `[bot] no DISCORD_TOKEN, and the Discord emulator at ${url} does not answer (${cause}).\n` +
        "[bot] Set DISCORD_TOKEN to connect to Discord, or start the emulator (npm run emulator) or set EMULATOR_URL.",
    );
    process.exit(1);
  });
  console.log(`[bot] no DISCORD_TOKEN: using the Discord emulator at ${info.url}`);
  return { DISCORD_TOKEN: info.token, DISCORD_API_URL: info.apiUrl, DISCORD_CDN_URL: info.cdnUrl };
};

const env = readBotEnv({ ...process.env, ...(process.env.DISCORD_TOKEN ? {} : await fromEmulator()) });
const started = startBot(env);
// SIGTERM / SIGINT: a bounded shutdown (bot.close delivers for at most 10 s and keeps the rest in
// the spool), then exit 0. Caught from the start: a signal during start-up stops the bot once it
// is up. A second signal of the same kind is not caught: it ends the process at once.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.log(`[bot] ${signal}: stopping`);
    void started
      .then((bot) => bot.close())
      .catch((error: unknown) => console.error(`[bot] shutdown failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => process.exit(0));
  });
}
await started;
