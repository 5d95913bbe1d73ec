/**
 * `npm start`: Guildhall on its embedded defaults, nothing to configure.
 *
 * Without DISCORD_TOKEN: the Discord emulator with the seeded demo guild (500 members, 25 of
 * them staff, presence churn you can watch), embedded PGlite under .guildhall/, the server
 * (API + SPA on http://localhost:3000) and the bot, all in this process.
 * With DISCORD_TOKEN (and DATABASE_URL): the server and the bot against the real Discord.
 */
import { startBot } from "@guildhall/bot";
import { DEMO_GUILD, startEmulator } from "@guildhall/emulator";
import { ensureFirstAdmin, INSTALL_CALLBACK_PATH, seedDemoGuild, startServer } from "@guildhall/server";
import { DEMO_ADMIN_PASSWORD, readLauncherEnv } from "./env";

const env = readLauncherEnv();
const { admin, ...serverEnv } = env.server;
const DEMO_ADMIN = { email: admin.email, password: admin.password ?? DEMO_ADMIN_PASSWORD, name: "Demo Admin" };
/** Presence changes per second in the demo guild: enough to watch, not enough to blur (GUILDHALL_DEMO_CHURN). */
const DEMO_CHURN_PER_SECOND = env.demoChurnPerSecond;

const emulator = env.discord === null ? await startEmulator({ port: env.emulatorPort }) : null;
const demo = emulator?.seedGuild({ ...DEMO_GUILD, name: "Guildhall Demo" }) ?? null;

const server = await startServer({
  ...serverEnv,
  discordCdnUrl: emulator?.cdnUrl,
  // "Add to Discord" on the Integrations page installs the bot through the emulator's authorize page.
  ...(emulator
    ? {
        oauthClient: { clientId: emulator.applicationId, clientSecret: emulator.clientSecret },
        discordToken: emulator.token,
        discordApiUrl: emulator.apiUrl,
        discordAuthorizeUrl: emulator.oauth2().authorizeUrl,
      }
    : {}),
  onReady: async (services) => {
    await ensureFirstAdmin(services, DEMO_ADMIN);
    if (demo) {
      await seedDemoGuild(services, {
        guildId: demo.guildId,
        name: demo.name,
        staff: [
          ...demo.staff.map((s) => ({ discordId: s.userId, name: s.globalName ?? s.username, handle: s.username })),
          // Two staff who never linked Discord, to show how the roster treats them.
          { discordId: null, name: "Robin Unlinked", handle: "robin.unlinked" },
          { discordId: null, name: "Sam Unlinked", handle: "sam.unlinked" },
        ],
      });
    }
  },
});

if (emulator && demo) {
  // Discord sends the browser back to the install callback only on a registered redirect URI.
  const origin = serverEnv.publicUrl ?? `http://localhost:${server.port}`;
  emulator.setRedirectUris([new URL(INSTALL_CALLBACK_PATH, origin).toString()]);
  // The authorize page signs in the demo guild's owner, who may install the bot there.
  emulator.setOAuthUser(demo.ownerId);
}

// A signal while the bot still retries its login (Discord unreachable) stops the retries.
const stopLogin = new AbortController();
const abortLogin = () => stopLogin.abort();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, abortLogin);
const bot = await startBot({
  ...(emulator
    ? { token: emulator.token, apiUrl: emulator.apiUrl, cdnUrl: emulator.cdnUrl, botKey: server.botKey, serverUrl: server.url }
    : { ...env.discord!(server.botKey), serverUrl: server.url }),
  // Undelivered updates wait here for the next start (under the data dir, private like it).
  stateDir: env.botStateDir,
  logLevel: serverEnv.logLevel,
  signal: stopLogin.signal,
}).catch(async (error: unknown) => {
  await server.close().catch(() => {});
  await emulator?.close().catch(() => {});
  console.error(
    stopLogin.signal.aborted ? "Stopped." : `The bot could not start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(stopLogin.signal.aborted ? 0 : 1);
});
if (emulator && demo && DEMO_CHURN_PER_SECOND > 0) {
  emulator.startChurn(demo.guildId, { updatesPerSecond: DEMO_CHURN_PER_SECOND, staffOnly: true });
}

const publicUrl = serverEnv.publicUrl ?? `http://localhost:${server.port}`;
console.log(
  [
    "",
    `  Guildhall is running: ${publicUrl}`,
    // A password from the environment is the operator's secret: never printed.
    `  Sign in as ${DEMO_ADMIN.email} / ${admin.password === undefined ? DEMO_ADMIN_PASSWORD : "(the password in GUILDHALL_ADMIN_PASSWORD)"}`,
    `  Database: ${serverEnv.databaseUrl ? "Postgres (DATABASE_URL)" : `embedded PGlite in ${serverEnv.dataDir}/pglite`}`,
    emulator
      ? `  Discord: the emulator at ${emulator.url} (demo guild "${demo?.name}", ${demo?.memberCount} members)`
      : "  Discord: discord.com",
    ...(bot.fatal() ? [`  The bot is stopped: ${bot.fatal()?.reason}`] : []),
    "",
  ].join("\n"),
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.off(signal, abortLogin);
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await bot.close().catch(() => {});
      await server.close().catch(() => {});
      await emulator?.close().catch(() => {});
      process.exit(0);
    })();
  });
}
