import { createClient, type GuildhallClient, signIn } from "@guildhall/api";
import type { SeededGuild } from "@guildhall/emulator";
import { ensureFirstAdmin, type RunningServer, seedDemoGuild, startServer } from "@guildhall/server";

const ADMIN = { email: "admin@bot-test.invalid", password: "bot-test-password", name: "Admin" };

/**
 * A server on a random port (in-memory PGlite) whose default organization has `guild` linked,
 * its seeded staff as linked app users, and a signed-in staff client for the admin. The tests
 * that run their own member syncs keep the first-sight sync off (`firstSightSync`, default false here).
 */
export const startServerFor = async (
  guild: SeededGuild,
  options: { firstSightSync?: boolean; dataDir?: string; discordPublicKey?: string; discordApiUrl?: string } = {},
): Promise<{ server: RunningServer; staff: GuildhallClient }> => {
  const server = await startServer({
    port: 0,
    host: "127.0.0.1",
    dataDir: options.dataDir ?? "memory://",
    webDist: "/nonexistent",
    firstSightSync: options.firstSightSync ?? false,
    discordPublicKey: options.discordPublicKey,
    discordApiUrl: options.discordApiUrl,
    onReady: async (services) => {
      await ensureFirstAdmin(services, ADMIN);
      await seedDemoGuild(services, {
        guildId: guild.guildId,
        name: guild.name,
        staff: guild.staff.map((s) => ({ discordId: s.userId, name: s.globalName ?? s.username, handle: s.username })),
      });
    },
  });
  const staff = createClient({ url: server.url, cookie: await signIn(server.url, ADMIN) });
  return { server, staff };
};
