/** Bench child: the Guildhall server with an admin and the bench guild's staff. */
import { ensureFirstAdmin, seedDemoGuild, startServer } from "@guildhall/server";
import { childInput, takeLoopDelay, tellParent } from "./child";

interface Input {
  databaseUrl?: string;
  admin: { email: string; password: string; name: string };
  guild: { guildId: string; name: string; staff: Array<{ discordId: string; name: string; handle: string }> };
}

const input = childInput<Input>();
const server = await startServer({
  port: 0,
  host: "127.0.0.1",
  dataDir: "memory://",
  databaseUrl: input.databaseUrl,
  webDist: "/nonexistent",
  // The benchmarks time the syncs they ask for: no automatic first-sight sync underneath them.
  firstSightSync: false,
  onReady: async (services) => {
    await ensureFirstAdmin(services, input.admin);
    await seedDemoGuild(services, input.guild);
  },
});
tellParent({ url: server.url, port: server.port, botKey: server.botKey });
process.on("message", (message: { type: string }) => {
  if (message.type === "stats") tellParent({ rssBytes: process.memoryUsage().rss, loop: takeLoopDelay() });
});
process.once("SIGTERM", () => void server.close().finally(() => process.exit(0)));
