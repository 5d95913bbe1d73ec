/**
 * `npm start`: Guildhall on its embedded defaults, nothing to configure.
 *
 * Without DISCORD_TOKEN: the Discord emulator with the seeded demo guild (500 members, 25 of
 * them staff, presence churn you can watch), embedded PGlite under .guildhall/, the server
 * (API + SPA on http://localhost:3000) and the bot, all in this process.
 * With DISCORD_TOKEN (and DATABASE_URL): the server and the bot against the real Discord.
 */
import { readBotEnv, startBot } from "@guildhall/bot";
import { DEMO_GUILD, startEmulator } from "@guildhall/emulator";
import { ensureFirstAdmin, readServerEnv, seedDemoGuild, startServer } from "@guildhall/server";

const DEMO_ADMIN = {
  email: process.env.GUILDHALL_ADMIN_EMAIL ?? "admin@guildhall.local",
  password: process.env.GUILDHALL_ADMIN_PASSWORD ?? "guildhall-demo",
  name: "Demo Admin",
};
/** Presence changes per second in the demo guild: enough to watch, not enough to blur. */
const DEMO_CHURN_PER_SECOND = Number(process.env.GUILDHALL_DEMO_CHURN ?? 2);

const serverEnv = readServerEnv();
const useEmulator = !process.env.DISCORD_TOKEN;

const emulator = useEmulator ? await startEmulator({ port: Number(process.env.EMULATOR_PORT ?? 0) }) : null;
const demo = emulator?.seedGuild({ ...DEMO_GUILD, name: "Guildhall Demo" }) ?? null;

const server = await startServer({
  ...serverEnv,
  discordCdnUrl: emulator?.cdnUrl,
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

const bot = await startBot({
  ...(emulator
    ? { token: emulator.token, apiUrl: emulator.apiUrl, cdnUrl: emulator.cdnUrl, botKey: server.botKey, serverUrl: server.url }
    : { ...readBotEnv({ ...process.env, GUILDHALL_BOT_KEY: process.env.GUILDHALL_BOT_KEY ?? server.botKey }), serverUrl: server.url }),
});
if (emulator && demo && DEMO_CHURN_PER_SECOND > 0) {
  emulator.startChurn(demo.guildId, { updatesPerSecond: DEMO_CHURN_PER_SECOND, staffOnly: true });
}

const publicUrl = serverEnv.publicUrl ?? `http://localhost:${server.port}`;
console.log(
  [
    "",
    `  Guildhall is running: ${publicUrl}`,
    `  Sign in as ${DEMO_ADMIN.email} / ${DEMO_ADMIN.password}`,
    `  Database: ${serverEnv.databaseUrl ? "Postgres (DATABASE_URL)" : `embedded PGlite in ${serverEnv.dataDir}/pglite`}`,
    emulator
      ? `  Discord: the emulator at ${emulator.url} (demo guild "${demo?.name}", ${demo?.memberCount} members)`
      : "  Discord: discord.com",
    "",
  ].join("\n"),
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
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
