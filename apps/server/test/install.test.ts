/**
 * The bot install through the emulator's OAuth2, end to end over HTTP: the admin asks for an
 * authorize URL, the emulator's authorize page is posted as the signed-in Discord user, the
 * browser follows the redirect to the callback with the admin's session cookie.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type GuildhallClient, logTo } from "@guildhall/api";
import { Database, schema } from "@guildhall/db";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import { Directory, generateEncryptionKey, INSTALL_CALLBACK_PATH, Integrations } from "@guildhall/sync";
import { eq } from "drizzle-orm";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureFirstAdmin, type RunningServer, startServer } from "../src";
import { ADMIN, codeOf, signIn } from "./helpers";

const KEY_1 = generateEncryptionKey("k1");
const KEY_2 = generateEncryptionKey("k2");

let emulator: Emulator;
let guild: SeededGuild;
let other: SeededGuild;
let dataDir: string;
let server: RunningServer;

const start = (keys: string) =>
  startServer({
    port: 0,
    host: "127.0.0.1",
    dataDir,
    botKey: "test-bot-key-0123456789abcdef",
    webDist: "/nonexistent",
    firstSightSync: false,
    discordClient: { clientId: emulator.applicationId, clientSecret: emulator.clientSecret },
    discord: { token: emulator.token, api: emulator.apiUrl },
    discordApiUrl: emulator.apiUrl,
    discordAuthorizeUrl: emulator.oauth2().authorizeUrl,
    encryptionKey: keys,
    onReady: async (services) => {
      await ensureFirstAdmin(services, ADMIN);
    },
  });

const callbackUrl = (s: RunningServer) => new URL(INSTALL_CALLBACK_PATH, `http://localhost:${s.port}`).toString();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, oauth2TokenTtlMs: 3_600_000 });
  guild = emulator.seedGuild({ seed: 91, members: 20, admins: 3, name: "Install Guild", withBot: false });
  other = emulator.seedGuild({ seed: 92, members: 20, admins: 3, name: "Elsewhere Guild", withBot: false });
  dataDir = mkdtempSync(join(tmpdir(), "guildhall-install-"));
  server = await start(KEY_1);
  emulator.setRedirectUris([callbackUrl(server)]);
});

afterAll(async () => {
  await server?.close();
  await emulator?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** The admin's session cookie and a client on it. */
const admin = async (): Promise<{ cookie: string; client: GuildhallClient }> => {
  const cookie = await signIn(server);
  return { cookie, client: createClient({ url: server.url, cookie }) };
};

/**
 * Approves (or cancels) the authorize URL on the emulator's page as Discord user `userId` for
 * `guildId`, as the page's form posts it. Resolves to the redirect's URL (the callback with its query).
 */
const consent = async (authorizeUrl: string, userId: string, guildId: string, action: "authorize" | "cancel" = "authorize") => {
  const url = new URL(authorizeUrl);
  const form = new URLSearchParams(url.searchParams);
  form.set("guild_id", guildId);
  form.set("user_id", userId);
  form.set("action", action);
  const res = await fetch(new URL("/oauth2/authorize", emulator.url), {
    method: "POST",
    body: form,
    redirect: "manual",
  });
  expect(res.status, await res.clone().text()).toBeGreaterThanOrEqual(300);
  expect(res.status).toBeLessThan(400);
  return new URL(res.headers.get("location") ?? "");
};

/** GETs the callback as the browser would (on the server's own port), with `cookie`. */
const callback = async (redirect: URL, cookie: string | null) => {
  const target = new URL(`${redirect.pathname}${redirect.search}`, server.url);
  const res = await fetch(target, { redirect: "manual", headers: cookie ? { cookie } : {} });
  return { status: res.status, location: res.headers.get("location"), body: await res.text() };
};

const integrationRows = () =>
  server.runtime.runPromise(Database.use(({ db }) => Effect.promise(() => db.select().from(schema.integrations))));

describe("installing the bot", () => {
  it("builds the authorize URL with the scopes, integration_type=0, the permissions and a state", async () => {
    const { client } = await admin();
    const start = await client.trpc.integrations.beginInstall.mutate({ notifications: true });
    const url = new URL(start.url);
    expect(url.origin + url.pathname).toBe(emulator.oauth2().authorizeUrl);
    expect(url.searchParams.get("client_id")).toBe(emulator.applicationId);
    expect(url.searchParams.get("scope")?.split(" ")).toEqual([
      "bot",
      "applications.commands",
      "identify",
      "guilds.members.read",
      "webhook.incoming",
    ]);
    expect(url.searchParams.get("integration_type")).toBe("0");
    expect(url.searchParams.get("redirect_uri")).toBe(callbackUrl(server));
    expect(url.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const permissions = BigInt(url.searchParams.get("permissions") ?? "0");
    expect(String(permissions)).toBe(start.permissions);
    // Manage Roles, Manage Nicknames, Create Events, Manage Events, Send Messages, each explained.
    for (const bit of [28n, 27n, 44n, 33n, 11n]) expect(permissions & (1n << bit)).not.toBe(0n);
    expect(start.explanation.map((p) => p.name)).toContain("Manage Roles");
    expect(start.expiresAt - Date.now()).toBeGreaterThan(590_000);
    const second = await client.trpc.integrations.beginInstall.mutate({});
    expect(new URL(second.url).searchParams.get("state")).not.toBe(url.searchParams.get("state"));
    expect(new URL(second.url).searchParams.get("scope")).not.toContain("webhook.incoming");
  });

  it("refuses a forged state, a state without a session and another session's state, storing nothing", async () => {
    const { cookie, client } = await admin();
    const { cookie: otherCookie } = await admin();
    const forged = await callback(new URL(`${INSTALL_CALLBACK_PATH}?state=${"A".repeat(43)}&code=abc`, server.url), cookie);
    expect(forged.status).toBe(400);
    expect(forged.body).toContain("not one Guildhall issued");

    const start = await client.trpc.integrations.beginInstall.mutate({});
    const redirect = await consent(start.url, guild.admins[1]!, guild.guildId);
    expect(redirect.searchParams.get("guild_id")).toBe(guild.guildId);
    const anonymous = await callback(redirect, null);
    expect(anonymous.status).toBe(400);
    const stolen = await callback(redirect, otherCookie);
    expect(stolen.status).toBe(400);
    expect(stolen.body).toContain("another sign-in");
    expect(await integrationRows()).toEqual([]);
  });

  it("shows a page when access is denied on Discord's page, and the state is spent", async () => {
    const { cookie, client } = await admin();
    const start = await client.trpc.integrations.beginInstall.mutate({});
    const redirect = await consent(start.url, guild.admins[1]!, guild.guildId, "cancel");
    expect(redirect.searchParams.get("error")).toBe("access_denied");
    const denied = await callback(redirect, cookie);
    expect(denied.status).toBe(403);
    expect(denied.body).toContain("access was denied");
    const state = new URL(start.url).searchParams.get("state") ?? "";
    const replay = await callback(new URL(`${INSTALL_CALLBACK_PATH}?state=${state}&code=abc`, server.url), cookie);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain("already used");
    expect(await integrationRows()).toEqual([]);
  });

  it("refuses an installer who is no longer an admin of the guild the token names", async () => {
    const { cookie, client } = await admin();
    const installer = guild.admins[2]!;
    const start = await client.trpc.integrations.beginInstall.mutate({});
    const redirect = await consent(start.url, installer, guild.guildId);
    // Demoted between the consent and the callback: Discord's own page checked, the server checks again.
    emulator.updateMember(guild.guildId, installer, { roles: [] });
    const refused = await callback(redirect, cookie);
    expect(refused.status, refused.body).toBe(403);
    expect(refused.body).toContain("not an admin");
    expect(await integrationRows()).toEqual([]);
  });

  it("installs: the integration is listed, the guild linked, the tokens encrypted; a replayed state is refused", async () => {
    const { cookie, client } = await admin();
    const start = await client.trpc.integrations.beginInstall.mutate({});
    const redirect = await consent(start.url, guild.ownerId, guild.guildId);
    const done = await callback(redirect, cookie);
    expect(done.status, done.body).toBe(303);
    expect(done.location).toBe(`/integrations?installed=${guild.guildId}`);

    const list = await client.trpc.integrations.list.query();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      guildId: guild.guildId,
      guildName: "Install Guild",
      status: "active",
      installedBy: { name: ADMIN.name, discordId: guild.ownerId },
      scopes: expect.arrayContaining(["bot", "applications.commands"]),
    });
    expect(JSON.stringify(list)).not.toMatch(/token":"[A-Za-z0-9_-]{20,}/);
    const linked = await server.runtime.runPromise(Directory.use((d) => d.guildFor("default", guild.guildId)));
    expect(linked.name).toBe("Install Guild");

    // At rest: ciphertext under k1, and the decrypted token is one Discord accepts.
    const rows = await integrationRows();
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.keyId).toBe("k1");
    const access = await server.runtime.runPromise(Integrations.use((i) => i.accessToken(row.id)));
    expect(access).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(JSON.stringify(rows)).not.toContain(access!);
    const me = await fetch(`${emulator.apiUrl}/v10/users/@me`, { headers: { authorization: `Bearer ${access}` } });
    expect(((await me.json()) as { id: string }).id).toBe(guild.ownerId);

    const replay = await callback(redirect, cookie);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain("already used");
    expect(await integrationRows()).toHaveLength(1);
  });

  it("refuses a guild already linked to another organization", async () => {
    await server.runtime.runPromise(
      Effect.gen(function* () {
        const directory = yield* Directory;
        yield* directory.ensureOrganization({ id: "rival", name: "Rival", slug: "rival" });
        yield* directory.ensureGuild("rival", { id: other.guildId, name: other.name, icon: null });
      }),
    );
    const { cookie, client } = await admin();
    const start = await client.trpc.integrations.beginInstall.mutate({});
    const redirect = await consent(start.url, other.ownerId, other.guildId);
    const refused = await callback(redirect, cookie);
    expect(refused.status).toBe(409);
    expect(refused.body).toContain("another organization");
    expect((await integrationRows()).map((r) => r.guildId)).toEqual([guild.guildId]);
  });

  it("refreshes tokens before they expire (the job's work), under the current key", async () => {
    // Tokens of this emulator last an hour: within the day before expiry, so due now.
    const before = (await integrationRows())[0]!;
    const result = await server.runtime.runPromise(Integrations.use((i) => i.refreshDue()));
    expect(result).toEqual({ refreshed: 1, failed: 0 });
    const after = (await integrationRows())[0]!;
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshedAt).not.toBeNull();
    const access = await server.runtime.runPromise(Integrations.use((i) => i.accessToken(after.id)));
    const me = await fetch(`${emulator.apiUrl}/v10/users/@me`, { headers: { authorization: `Bearer ${access}` } });
    expect(me.status).toBe(200);
  });

  it("after a key rotation (new current key, old kept) old integrations still decrypt; new tokens use the new key", async () => {
    await server.close();
    server = await start(`${KEY_2},${KEY_1}`);
    emulator.setRedirectUris([callbackUrl(server)]);
    const row = (await integrationRows())[0]!;
    expect(row.keyId).toBe("k1");
    const access = await server.runtime.runPromise(Integrations.use((i) => i.accessToken(row.id)));
    const me = await fetch(`${emulator.apiUrl}/v10/users/@me`, { headers: { authorization: `Bearer ${access}` } });
    expect(me.status).toBe(200);
    await server.runtime.runPromise(Integrations.use((i) => i.refreshDue()));
    expect((await integrationRows())[0]!.keyId).toBe("k2");
    // Without the old key, a k1 record would not decrypt: the key ring decides, not the row.
    await logTo(server.runtime, "Info", "rotation checked");
  });

  it("marks the integration removed when the bot is kicked, and deleting it revokes the token", async () => {
    const { client } = await admin();
    const bot = createClient({ url: server.url, botKey: server.botKey });
    const before = await client.trpc.events.list.query({ kinds: ["integration.removed"] });
    await bot.trpc.bot.guildRemoved.mutate({ guildId: guild.guildId });
    const list = await client.trpc.integrations.list.query();
    expect(list[0]).toMatchObject({ status: "removed" });
    // The admins are told: one `integration.removed` event in the organization's log (the event
    // stream, and the webhooks that want the kind); a second GUILD_DELETE tells nobody again.
    await bot.trpc.bot.guildRemoved.mutate({ guildId: guild.guildId });
    const after = await client.trpc.events.list.query({ kinds: ["integration.removed"] });
    expect(after.events.length).toBe(before.events.length + 1);
    expect(after.events[0]).toMatchObject({
      kind: "integration.removed",
      guildId: guild.guildId,
      payload: { integrationId: list[0]!.id, guildName: list[0]!.guildName, reason: expect.stringContaining("removed") },
    });
    bot.close();

    const row = (await integrationRows())[0]!;
    const access = await server.runtime.runPromise(Integrations.use((i) => i.accessToken(row.id)));
    const removed = await client.trpc.integrations.remove.mutate({ id: row.id });
    expect(removed).toEqual({ botLeft: false });
    expect(await integrationRows()).toEqual([]);
    const me = await fetch(`${emulator.apiUrl}/v10/users/@me`, { headers: { authorization: `Bearer ${access}` } });
    expect(me.status).toBe(401);
    await expect(client.trpc.integrations.remove.mutate({ id: row.id })).rejects.toSatisfy((e) => codeOf(e) === "NOT_FOUND");
  });

  it("deleting an active integration makes the bot leave the guild", async () => {
    const { cookie, client } = await admin();
    const start = await client.trpc.integrations.beginInstall.mutate({});
    const redirect = await consent(start.url, guild.ownerId, guild.guildId);
    expect((await callback(redirect, cookie)).status).toBe(303);
    expect(emulator.guild(guild.guildId).botMember).toBeTruthy();
    const [integration] = await client.trpc.integrations.list.query();
    expect(await client.trpc.integrations.remove.mutate({ id: integration!.id })).toEqual({ botLeft: true });
    expect(emulator.guild(guild.guildId).botMember).toBeFalsy();
  });

  it("an authorization revoked on Discord's side: the refresh is refused, the integration marked removed and its admins told", async () => {
    const { cookie, client } = await admin();
    const start = await client.trpc.integrations.beginInstall.mutate({});
    const redirect = await consent(start.url, guild.ownerId, guild.guildId);
    expect((await callback(redirect, cookie)).status).toBe(303);
    const row = (await integrationRows()).find((r) => r.guildId === guild.guildId)!;
    // The user revokes the app on Discord: every token of the grant stops working.
    const access = await server.runtime.runPromise(Integrations.use((i) => i.accessToken(row.id)));
    const revoked = await fetch(`${emulator.apiUrl}/v10/oauth2/token/revoke`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${emulator.applicationId}:${emulator.clientSecret}`).toString("base64")}`,
      },
      body: new URLSearchParams({ token: access!, token_type_hint: "access_token" }),
    });
    expect(revoked.status).toBe(200);
    const before = await client.trpc.events.list.query({ kinds: ["integration.removed"] });
    const result = await server.runtime.runPromise(Integrations.use((i) => i.refreshDue()));
    expect(result).toEqual({ refreshed: 0, failed: 1 });
    const [listed] = await client.trpc.integrations.list.query();
    expect(listed).toMatchObject({ status: "removed", statusReason: expect.stringContaining("revoked") });
    const after = await client.trpc.events.list.query({ kinds: ["integration.removed"] });
    expect(after.events.length).toBe(before.events.length + 1);
    expect(after.events[0]).toMatchObject({
      guildId: guild.guildId,
      payload: { integrationId: row.id, reason: expect.stringContaining("revoked") },
    });
    // Deleting a removed integration makes no Discord call on the bot's behalf (on Discord, revoking the app removes the bot).
    expect(await client.trpc.integrations.remove.mutate({ id: row.id })).toEqual({ botLeft: false });
    expect(await integrationRows()).toEqual([]);
  });

  it("answers staff without the admin role FORBIDDEN on beginInstall, and a caller without a session UNAUTHORIZED", async () => {
    const anonymous = createClient({ url: server.url });
    await expect(anonymous.trpc.integrations.beginInstall.mutate({})).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHORIZED");
    await expect(anonymous.trpc.integrations.list.query()).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHORIZED");
    anonymous.close();
  });

  it("does not keep the session cookie of a different user working on the callback's state (rows untouched by ids in the query)", async () => {
    const rows = await server.runtime.runPromise(
      Database.use(({ db }) =>
        Effect.promise(() => db.select().from(schema.integrationStates).where(eq(schema.integrationStates.organizationId, "default"))),
      ),
    );
    // Only hashes are kept: no row holds a state as issued (43 base64url characters).
    for (const row of rows) expect(row.stateHash).toMatch(/^[0-9a-f]{64}$/);
  });
});
