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
// Aborted by a signal while the login is still being retried (Discord unreachable): startBot then rejects.
const stop = new AbortController();
const started = startBot({ ...env, signal: stop.signal });
// SIGTERM / SIGINT: a bounded shutdown (bot.close delivers for at most 10 s and keeps the rest in
// the spool), then exit 0. Caught from the start: a signal during start-up stops the login
// retries, or stops the bot once it is up. A second signal of the same kind is not caught: it
// ends the process at once.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log.info(`${signal}: stopping`);
    stop.abort();
    void started
      .then((bot) => bot.close())
      .catch((error: unknown) => log.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => process.exit(0));
  });
}
// A fatal gateway close (bad token, disallowed intents) does not end the process: the bot stays
// up in its fatal state, reporting it to the server (the bot panel shows what to do).
await started.catch((error: unknown) => {
  if (stop.signal.aborted) return;
  log.error(`the bot could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
