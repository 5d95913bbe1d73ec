/**
 * Secrets never appear in the logs (issue #9): one realistic run of the server against the
 * emulator, logging everything down to Trace, while every line the process writes is captured
 * (the console, stdout and stderr, the emulator's own log): a password sign-in, the bot installed
 * through the OAuth2 flow, Sign in with Discord, an API token made and used over HTTP and
 * WebSocket, a webhook's test message and a domain event delivered to it, a signed `/sync_members`
 * interaction through the interactions endpoint, and the bot kicked from the guild. The log is
 * then searched for every secret that run handled: the bot token, the OAuth2 client secret, the
 * install's and the sign-in's access and refresh tokens and codes, the API token, the session
 * tokens and ids, the webhook token, the interaction token, the bot key, the session secret and
 * the encryption keys (as given, in hex and in base64). None may be in it; and the log must hold
 * the lines of each step, so the search cannot pass on an empty or unrelated log.
 */
import { randomBytes } from "node:crypto";
import { createClient, type GuildhallClient } from "@guildhall/api";
import { SYNC_MEMBERS_COMMAND } from "@guildhall/api/interactions";
import { Database, executeRows } from "@guildhall/db";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import { generateEncryptionKey, INSTALL_CALLBACK_PATH, parseEncryptionKeys, SecretBox } from "@guildhall/sync";
import { sql } from "drizzle-orm";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureFirstAdmin, type RunningServer, startServer } from "../src";
import { ADMIN, codeOf, signIn } from "./helpers";

const WAIT = { timeout: 30_000, interval: 50 };
/** The key ring: a current key with an id, and an older bare key (64 hex digits). */
const OLD_KEY_HEX = randomBytes(32).toString("hex");
const ENCRYPTION_KEY = `${generateEncryptionKey("k2")},${OLD_KEY_HEX}`;
const BOT_KEY = `secrets-bot-key-${randomBytes(16).toString("hex")}`;
const SESSION_SECRET = randomBytes(32).toString("base64url");

describe("secrets never appear in the logs", () => {
  let emulator: Emulator;
  let guild: SeededGuild;
  let server: RunningServer;
  const clients: GuildhallClient[] = [];
  /** Every line written while the server and the emulator ran. */
  const logged: string[] = [];
  /** Every secret the run handled, by what it is. */
  const secrets = new Map<string, Set<string>>();
  const keep = (kind: string, ...values: ReadonlyArray<string | null | undefined>) => {
    const set = secrets.get(kind) ?? new Set<string>();
    for (const value of values) if (value) set.add(value);
    secrets.set(kind, set);
  };
  const realFetch = globalThis.fetch;

  beforeAll(async () => {
    for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
    }
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, "write").mockImplementation(((chunk: unknown) => {
        logged.push(String(chunk));
        return true;
      }) as never);
    }
    // What passes through fetch: the OAuth2 tokens Discord (the emulator) issues to better-auth,
    // and the interactions the emulator delivers, each with its token.
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.includes("/api/interactions") && typeof init?.body === "string") {
        keep("interaction token", (JSON.parse(init.body) as { token?: string }).token);
      }
      const response = await realFetch(input, init);
      if (url.includes("/oauth2/token") && response.ok) {
        const body = (await response.clone().json()) as { access_token?: string; refresh_token?: string };
        keep("sign-in OAuth2 token", body.access_token, body.refresh_token);
      }
      return response;
    });

    emulator = await startEmulator({ port: 0, log: (line) => logged.push(line) });
    guild = emulator.seedGuild({ seed: 41, members: 25, admins: 2, staff: 2, name: "Secret Guild", withBot: false });
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: "memory://",
      webDist: "/nonexistent",
      logLevel: "Trace",
      botKey: BOT_KEY,
      sessionSecret: SESSION_SECRET,
      encryptionKey: ENCRYPTION_KEY,
      firstSightSync: false,
      signInLimit: { windowS: 60, max: 1000 },
      jobs: { pollingIntervalSeconds: 0.5 },
      discord: { token: emulator.token, api: emulator.apiUrl },
      discordApiUrl: emulator.apiUrl,
      discordClient: { clientId: emulator.applicationId, clientSecret: emulator.clientSecret },
      discordOAuth: { authorizeUrl: emulator.oauth2().authorizeUrl, apiUrl: `${emulator.apiUrl}/v10` },
      discordAuthorizeUrl: emulator.oauth2().authorizeUrl,
      discordPublicKey: emulator.publicKey,
      onReady: async (services) => {
        await ensureFirstAdmin(services, ADMIN);
      },
    });
    const origin = `http://localhost:${server.port}`;
    emulator.setRedirectUris([new URL(INSTALL_CALLBACK_PATH, origin).toString(), `${origin}/api/auth/callback/discord`]);
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await server?.close();
    await emulator?.close();
    vi.restoreAllMocks();
  });

  it("runs the flows: install, Discord sign-in, an API token, a webhook, an interaction, the bot kicked", async () => {
    // A password sign-in: the admin's session.
    const cookie = await signIn(server, ADMIN);
    keep("session cookie", cookie, ...cookie.split(/[=;.]/).filter((part) => part.length >= 16));
    const admin = createClient({ url: server.url, cookie });
    clients.push(admin);

    // 1. The bot installed through the authorize page by the guild's owner.
    const begun = await admin.trpc.integrations.beginInstall.mutate({});
    const authorize = new URL(begun.url);
    keep("install state", authorize.searchParams.get("state"));
    const form = new URLSearchParams(authorize.searchParams);
    for (const [name, value] of [
      ["guild_id", guild.guildId],
      ["user_id", guild.ownerId],
      ["action", "authorize"],
    ] as const)
      form.set(name, value);
    const consent = await realFetch(new URL("/oauth2/authorize", emulator.url), { method: "POST", body: form, redirect: "manual" });
    const back = new URL(consent.headers.get("location") ?? "");
    keep("install code", back.searchParams.get("code"));
    const done = await realFetch(new URL(`${back.pathname}${back.search}`, server.url), { redirect: "manual", headers: { cookie } });
    expect(done.status).toBe(303);
    const [integration] = await admin.trpc.integrations.list.query();
    expect(integration).toMatchObject({ guildId: guild.guildId, status: "active" });

    // 2. Sign in with Discord, as a member of the guild with no account yet.
    const member = guild.admins[1]!;
    const start = await realFetch(`${server.url}/api/auth/sign-in/social`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({ provider: "discord", callbackURL: "/roster", errorCallbackURL: "/sign-in" }),
    });
    expect(start.status).toBe(200);
    const stateCookies = start.headers.getSetCookie().map((line) => line.split(";")[0]!);
    const signInUrl = new URL(((await start.json()) as { url: string }).url);
    keep("sign-in state", signInUrl.searchParams.get("state"));
    const signInForm = new URLSearchParams(signInUrl.searchParams);
    signInForm.set("user_id", member);
    signInForm.set("action", "authorize");
    const approved = await realFetch(`${emulator.url}/oauth2/authorize`, { method: "POST", body: signInForm, redirect: "manual" });
    const callback = new URL(approved.headers.get("location") ?? "");
    keep("sign-in code", callback.searchParams.get("code"));
    const signedIn = await fetch(callback, { headers: { cookie: stateCookies.join("; ") }, redirect: "manual" });
    expect(signedIn.status).toBe(302);
    const sessionCookie = signedIn.headers
      .getSetCookie()
      .map((line) => line.split(";")[0]!)
      .find((pair) => pair.includes("session_token="));
    expect(sessionCookie).toBeDefined();
    keep("session cookie", sessionCookie, ...sessionCookie!.split(/[=.]/).filter((part) => part.length >= 16));
    const discordUser = createClient({ url: server.url, cookie: sessionCookie! });
    clients.push(discordUser);
    expect((await discordUser.trpc.session.me.query()).user.name).toBeTruthy();

    // 3. An API token, made by the admin and used by another app over HTTP and over WebSocket, then revoked.
    const made = await admin.trpc.tokens.create.mutate({ name: "reporting app", scope: "read_write" });
    keep("API token", made.token);
    const app = createClient({ url: server.url, token: made.token });
    const appOverWs = createClient({ url: server.url, token: made.token, allOverWebSocket: true });
    clients.push(app, appOverWs);
    expect((await app.trpc.roster.list.query({})).guild.id).toBe(guild.guildId);
    expect((await appOverWs.trpc.roster.list.query({})).guild.id).toBe(guild.guildId);
    await admin.trpc.tokens.revoke.mutate({ id: made.info.id });
    await expect(app.trpc.roster.list.query({})).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHORIZED");

    // 4. A webhook: a test message, and the domain events it chose.
    const channels = (await (
      await realFetch(`${emulator.apiUrl}/v10/guilds/${guild.guildId}/channels`, { headers: { authorization: `Bot ${emulator.token}` } })
    ).json()) as Array<{ id: string; type: number }>;
    const hook = emulator.createWebhook(guild.guildId, { channelId: channels.find((c) => c.type === 0)!.id, name: "Notices" });
    keep("webhook token", hook.webhook.token, hook.webhook.url);
    const webhook = await admin.trpc.notifications.create.mutate({
      name: "Notices",
      url: hook.webhook.url!,
      kinds: ["integration.removed", "member.joined"],
    });
    await admin.trpc.notifications.sendTest.mutate({ id: webhook.id });
    await vi.waitFor(() => expect(emulator.webhook(hook.webhook.id).messages.length).toBeGreaterThanOrEqual(1), WAIT);

    // 5. /sync_members through the interactions endpoint, delivered signed by the emulator (the
    // command registered as the bot registers it).
    const registered = await realFetch(`${emulator.apiUrl}/v10/applications/${emulator.applicationId}/commands`, {
      method: "PUT",
      headers: { authorization: `Bot ${emulator.token}`, "content-type": "application/json" },
      body: JSON.stringify([SYNC_MEMBERS_COMMAND]),
    });
    expect(registered.status, await registered.clone().text()).toBe(200);
    const verdict = await emulator.setInteractionsEndpoint(`${server.url}/api/interactions`);
    expect(verdict.ok).toBe(true);
    const invoked = emulator.invokeCommand(guild.guildId, guild.ownerId, "sync_members");
    const answered = await emulator.waitForInteraction(invoked, (r) => r.acknowledged !== null, 30_000);
    expect(answered.delivery).toMatchObject({ via: "http", status: 200 });
    await emulator.setInteractionsEndpoint(null);

    // 6. The bot kicked from the guild: the integration is marked removed, the webhook told.
    const bot = createClient({ url: server.url, botKey: BOT_KEY });
    clients.push(bot);
    expect(await bot.trpc.bot.guildRemoved.mutate({ guildId: guild.guildId })).toEqual({ marked: 1 });
    await vi.waitFor(() => expect(emulator.webhook(hook.webhook.id).messages.length).toBeGreaterThanOrEqual(2), WAIT);
    const deliveries = await admin.trpc.notifications.deliveries.query({ webhookId: webhook.id });
    expect(deliveries.deliveries.map((d) => d.status)).toEqual(["delivered", "delivered"]);

    // 7. Failures log the most: the webhook deleted on Discord (its next delivery answers 10015 and
    // disables it), Discord's bad-signature probes of the endpoint, a forged session, a bad API token.
    emulator.deleteWebhook(hook.webhook.id);
    await admin.trpc.notifications.sendTest.mutate({ id: webhook.id });
    await vi.waitFor(
      async () => expect((await admin.trpc.notifications.webhooks.query()).find((w) => w.id === webhook.id)?.status).toBe("disabled"),
      WAIT,
    );
    expect((await emulator.setInteractionsEndpoint(`${server.url}/api/interactions`)).ok).toBe(true);
    expect((await emulator.probeInteractionsEndpoint()).checks.map((c) => c.status)).toEqual([401, 401, 401]);
    await emulator.setInteractionsEndpoint(null);
    const forged = createClient({ url: server.url, cookie: `${sessionCookie}x` });
    const badToken = createClient({ url: server.url, token: `${made.token.slice(0, -4)}AAAA` });
    clients.push(forged, badToken);
    await expect(forged.trpc.roster.list.query({})).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHORIZED");
    await expect(badToken.trpc.roster.list.query({})).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHORIZED");
  }, 180_000);

  it("logged none of the secrets it handled, and logged every step", async () => {
    // Secrets at rest, read back: the install's tokens (opened with the ring), better-auth's
    // stored Discord tokens, the sessions.
    const rows = await server.runtime.runPromise(
      Database.use((database) =>
        database.use("test.secrets", async (db) => ({
          integrations: await executeRows<{ key_id: string; access_token: string; refresh_token: string }>(
            db,
            sql`select key_id, access_token, refresh_token from integrations`,
          ),
          accounts: await executeRows<{ access_token: string | null; refresh_token: string | null; id_token: string | null }>(
            db,
            sql`select access_token, refresh_token, id_token from accounts where provider_id = 'discord'`,
          ),
          sessions: await executeRows<{ id: string; token: string }>(db, sql`select id, token from sessions`),
        })),
      ),
    );
    const open = (keyId: string, sealed: string) =>
      Effect.runSync(
        SecretBox.use((box) => box.open(keyId, sealed)).pipe(Effect.provide(SecretBox.layer(parseEncryptionKeys(ENCRYPTION_KEY)))),
      );
    expect(rows.integrations).toHaveLength(1);
    for (const row of rows.integrations)
      keep("install OAuth2 token", open(row.key_id, row.access_token), open(row.key_id, row.refresh_token));
    for (const row of rows.accounts) keep("sign-in OAuth2 token", row.access_token, row.refresh_token, row.id_token);
    for (const row of rows.sessions) keep("session", row.id, row.token);
    keep("bot token", emulator.token);
    keep("OAuth2 client secret", emulator.clientSecret);
    keep("bot key", BOT_KEY);
    keep("session secret", SESSION_SECRET);
    for (const key of parseEncryptionKeys(ENCRYPTION_KEY)) {
      const bytes = Buffer.from(key.key);
      keep("encryption key", bytes.toString("hex"), bytes.toString("base64"), bytes.toString("base64url"));
    }
    keep("encryption key", ENCRYPTION_KEY, ...ENCRYPTION_KEY.split(","));

    // The search is not vacuous: every kind was seen, with values long enough to mean something.
    const expectedKinds = [
      "bot token",
      "OAuth2 client secret",
      "install state",
      "install code",
      "install OAuth2 token",
      "sign-in state",
      "sign-in code",
      "sign-in OAuth2 token",
      "API token",
      "session cookie",
      "session",
      "webhook token",
      "interaction token",
      "bot key",
      "session secret",
      "encryption key",
    ];
    expect([...secrets.keys()].sort()).toEqual(expect.arrayContaining(expectedKinds));
    for (const kind of expectedKinds) expect(secrets.get(kind)!.size, kind).toBeGreaterThan(0);
    expect(secrets.get("install OAuth2 token")!.size).toBe(2);
    expect(secrets.get("sign-in OAuth2 token")!.size).toBeGreaterThanOrEqual(2);
    for (const [kind, values] of secrets) for (const value of values) expect(value.length, kind).toBeGreaterThanOrEqual(16);

    // And the log holds each step's lines (the server's, at every level down to Trace, and the emulator's).
    const log = logged.join("\n");
    for (const expected of [
      /level=DEBUG .*jobs: pg-boss started/,
      /integrations: bot installed in guild/,
      /oauth2: code exchanged for user \d+ \(identify\)/,
      /level=TRACE .*api token [0-9a-f-]{36} \(read_write\) authenticated/,
      /webhook [0-9a-f-]{36}: delivery \d+ delivered/,
      /webhook [0-9a-f-]{36} disabled/,
      /interaction \d+: \/sync_members/,
      /integrations: the bot was removed from guild/,
    ]) {
      expect(log, `the log has no line matching ${expected}`).toMatch(expected);
    }

    const leaks: string[] = [];
    for (const [kind, values] of secrets) {
      for (const value of values) {
        const at = log.indexOf(value);
        if (at >= 0)
          leaks.push(`${kind}: ...${log.slice(Math.max(0, at - 80), at)}[SECRET]${log.slice(at + value.length, at + value.length + 40)}`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
