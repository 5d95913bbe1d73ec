/**
 * The bot removed from a guild on Discord (GUILD_DELETE without `unavailable`): it reports the
 * removal, and the server marks the guild's integration removed for its admins. Nothing is deleted.
 */
import { createClient, type GuildhallClient, signIn } from "@guildhall/api";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import { ensureFirstAdmin, INSTALL_CALLBACK_PATH, type RunningServer, startServer } from "@guildhall/server";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { type RunningBot, startBot } from "../src";

const ADMIN = { email: "admin@bot-delete.invalid", password: "bot-delete-password", name: "Admin" };

let emulator: Emulator;
let guild: SeededGuild;
let server: RunningServer;
let bot: RunningBot;
let admin: GuildhallClient;
let cookie: string;
/** Every line the bot logged (down to Trace). */
const botLog: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
  guild = emulator.seedGuild({ seed: 77, members: 30, name: "Kicked Guild", withBot: false });
  server = await startServer({
    port: 0,
    host: "127.0.0.1",
    dataDir: "memory://",
    webDist: "/nonexistent",
    firstSightSync: false,
    discordClient: { clientId: emulator.applicationId, clientSecret: emulator.clientSecret },
    discord: { token: emulator.token, api: emulator.apiUrl },
    discordApiUrl: emulator.apiUrl,
    discordAuthorizeUrl: emulator.oauth2().authorizeUrl,
    onReady: async (services) => {
      await ensureFirstAdmin(services, ADMIN);
    },
  });
  emulator.setRedirectUris([new URL(INSTALL_CALLBACK_PATH, `http://localhost:${server.port}`).toString()]);
  cookie = await signIn(server.url, ADMIN);
  admin = createClient({ url: server.url, cookie });
  bot = await startBot({
    token: emulator.token,
    apiUrl: emulator.apiUrl,
    cdnUrl: emulator.cdnUrl,
    serverUrl: server.url,
    botKey: server.botKey,
    heartbeatMs: 500,
    logLevel: "Trace",
    log: (line) => void botLog.push(line),
  });
});

afterAll(async () => {
  admin?.close();
  await bot?.close();
  await server?.close();
  await emulator?.close();
});

it("marks the integration removed when the bot is kicked, keeping the record", async () => {
  // Install through the emulator's authorize page as the guild's owner.
  const start = await admin.trpc.integrations.beginInstall.mutate({});
  const form = new URLSearchParams(new URL(start.url).searchParams);
  for (const [name, value] of [
    ["guild_id", guild.guildId],
    ["user_id", guild.ownerId],
    ["action", "authorize"],
  ] as const)
    form.set(name, value);
  const consent = await fetch(new URL("/oauth2/authorize", emulator.url), { method: "POST", body: form, redirect: "manual" });
  const redirect = new URL(consent.headers.get("location") ?? "");
  const done = await fetch(new URL(`${redirect.pathname}${redirect.search}`, server.url), { redirect: "manual", headers: { cookie } });
  expect(done.status).toBe(303);
  expect((await admin.trpc.integrations.list.query())[0]).toMatchObject({ guildId: guild.guildId, status: "active" });

  emulator.removeBotFromGuild(guild.guildId);
  await vi.waitFor(async () => expect((await admin.trpc.integrations.list.query())[0]?.status).toBe("removed"), { timeout: 10_000 });
  const [integration] = await admin.trpc.integrations.list.query();
  expect(integration).toMatchObject({ guildId: guild.guildId, status: "removed", statusReason: expect.stringContaining("removed") });
});

it("the bot logged its work, never its token or its bot key", () => {
  expect(botLog.length).toBeGreaterThan(0);
  expect(botLog.join("\n")).toMatch(/guild/i);
  for (const secret of [emulator.token, server.botKey, emulator.clientSecret]) {
    expect(botLog.filter((line) => line.includes(secret))).toEqual([]);
  }
});
