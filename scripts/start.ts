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
import {
  ensureFirstAdmin,
  ensureOrganizationAdmin,
  INSTALL_CALLBACK_PATH,
  seedDemoGuild,
  seedDemoRoleMenu,
  seedDemoRoles,
  seedDemoWebhook,
  startServer,
} from "@guildhall/server";
import { DEMO_ADMIN_PASSWORD, readLauncherEnv } from "./env";

const env = readLauncherEnv();
const { admin, ...serverEnv } = env.server;
const DEMO_ADMIN = { email: admin.email, password: admin.password ?? DEMO_ADMIN_PASSWORD, name: "Demo Admin" };
/** Presence changes per second in the demo guild: enough to watch, not enough to blur (GUILDHALL_DEMO_CHURN). */
const DEMO_CHURN_PER_SECOND = env.demoChurnPerSecond;

const emulator = env.discord === null ? await startEmulator({ port: env.emulatorPort }) : null;
const demo = emulator?.seedGuild({ ...DEMO_GUILD, name: "Guildhall Demo" }) ?? null;
/** A second organization the demo admin also runs, with a small guild of its own: the organization switcher has two to show. */
const SECOND_ORGANIZATION = { id: "riverside", name: "Riverside League", slug: "riverside" } as const;
const second = emulator?.seedGuild({ seed: 2, members: 40, staff: 4, name: "Riverside League" }) ?? null;
// A guild the bot is in that no organization installed Guildhall in: listed to admins as "not installed".
emulator?.seedGuild({ seed: 3, members: 8, staff: 1, name: "Harbor Club" });

const server = await startServer({
  ...serverEnv,
  discordCdnUrl: emulator?.cdnUrl,
  discord: emulator ? { token: emulator.token, api: emulator.apiUrl } : serverEnv.discord,
  // Sign in with Discord against the emulator's own OAuth2 application (its authorize page lets
  // you pick who signs in: a demo staff member, linked by Discord id, or a member with no account).
  ...(emulator
    ? {
        discordClient: { clientId: emulator.applicationId, clientSecret: emulator.clientSecret },
        discordOAuth: { authorizeUrl: emulator.oauth2().authorizeUrl, apiUrl: `${emulator.apiUrl}/v10` },
      }
    : {}),
  // The emulator's application key: POST /api/interactions verifies what the emulator signs.
  ...(emulator ? { discordPublicKey: emulator.publicKey, discordApiUrl: emulator.apiUrl } : {}),
  // "Add to Discord" on the Integrations page installs the bot through the emulator's authorize page.
  ...(emulator
    ? {
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
      // Two groups mapped to two of the demo guild's roles, in preview: the Roles page opens on a real plan.
      const roleId = (name: string) => demo.roles.find((r) => r.name === name)?.id;
      const staffIds = demo.staff.map((s) => s.userId);
      await seedDemoRoles(
        services,
        demo.guildId,
        [
          { name: "Event Hosts", roleId: roleId("Event Host"), discordIds: staffIds.filter((_, i) => i % 2 === 0) },
          { name: "Veterans", roleId: roleId("Veteran"), discordIds: staffIds.filter((_, i) => i % 3 === 0) },
        ].flatMap((g) => (g.roleId ? [{ ...g, roleId: g.roleId }] : [])),
      );
      // A channel webhook on the emulator, so the Notifications page shows deliveries.
      const channels = (await (
        await fetch(`${emulator!.apiUrl}/v10/guilds/${demo.guildId}/channels`, { headers: { authorization: `Bot ${emulator!.token}` } })
      ).json()) as Array<{ id: string; type: number }>;
      const channel = channels.find((c) => c.type === 0);
      if (channel) {
        const hook = emulator!.createWebhook(demo.guildId, { channelId: channel.id, name: "Guildhall" });
        if (hook.webhook.url) await seedDemoWebhook(services, hook.webhook.url);
        // Self-service roles: a role menu of two roles whose groups follow Discord, and the guild's invite link.
        const menuGroups = [
          { name: "Artists", roleId: roleId("Artist"), authority: "discord" as const },
          { name: "Streamers", roleId: roleId("Streamer"), authority: "both" as const },
        ].flatMap((g) => (g.roleId ? [{ ...g, roleId: g.roleId }] : []));
        if (menuGroups.length > 0) await seedDemoRoleMenu(services, demo.guildId, channel.id, menuGroups);
      }
    }
    if (second) {
      await ensureOrganizationAdmin(services, SECOND_ORGANIZATION, DEMO_ADMIN);
      await seedDemoGuild(services, {
        organization: SECOND_ORGANIZATION,
        guildId: second.guildId,
        name: second.name,
        staff: second.staff.map((s) => ({ discordId: s.userId, name: s.globalName ?? s.username, handle: `${s.username}.riverside` })),
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
// The demo's interactions (/sync_members) reach the server over HTTP, signed, as with an
// interactions endpoint URL set in Discord's developer portal; the emulator checks it first.
const endpoint = emulator ? await emulator.setInteractionsEndpoint(`${server.url}/api/interactions`) : null;
if (emulator && demo && DEMO_CHURN_PER_SECOND > 0) {
  emulator.startChurn(demo.guildId, { updatesPerSecond: DEMO_CHURN_PER_SECOND, staffOnly: true });
}

const publicUrl = serverEnv.publicUrl ?? `http://localhost:${server.port}`;
// The emulator's application accepts Guildhall's Discord sign-in callback.
emulator?.setRedirectUris([...new Set([...emulator.oauth2().redirectUris, `${publicUrl}/api/auth/callback/discord`])]);
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
    ...(endpoint
      ? [
          endpoint.ok
            ? `  Interactions: delivered signed to ${endpoint.endpointUrl}`
            : `  Interactions: over the gateway (the endpoint was refused: ${endpoint.reasons.join("; ")})`,
        ]
      : []),
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
