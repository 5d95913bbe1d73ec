/**
 * One encryption at rest, and the data an older version sealed: before it, webhook tokens were
 * sealed by a bare key (`encryptionKey` in secrets.json, records named by its fingerprint, layout
 * iv | ciphertext | tag) and integrations' OAuth2 tokens by a separate key ring (`tokenKeys`,
 * `k1:...`, layout iv | tag | ciphertext). A server started on such a data dir opens both: the
 * webhook still delivers, the integration's token still reads. Given GUILDHALL_ENCRYPTION_KEY
 * later, it seals with that key and still opens the old records.
 */
import { createCipheriv, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@guildhall/api";
import { Database, schema } from "@guildhall/db";
import { type Emulator, startEmulator } from "@guildhall/emulator";
import { generateEncryptionKey, Integrations, keyIdOf } from "@guildhall/sync";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_ORGANIZATION, ensureFirstAdmin, type RunningServer, startServer } from "../src";
import { ADMIN, signIn } from "./helpers";

const WAIT = { timeout: 20_000, interval: 50 };

/** The old webhook layout: base64url of iv | ciphertext | tag. */
const sealOldWebhook = (key: Buffer, plaintext: string): string => {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
};

/** The old token layout: base64url of iv | tag | ciphertext. */
const sealOldToken = (key: Buffer, plaintext: string): string => {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
};

describe("data sealed by the two older formats", () => {
  let emulator: Emulator;
  let dataDir: string;
  let server: RunningServer | undefined;
  // What an older version generated and kept in secrets.json.
  const webhookKey = randomBytes(32);
  const tokenKey = randomBytes(32);
  const oldSecrets = {
    botKey: randomBytes(32).toString("base64url"),
    sessionSecret: randomBytes(32).toString("base64url"),
    encryptionKey: webhookKey.toString("base64url"),
    tokenKeys: `k1:${tokenKey.toString("base64")}`,
  };

  const start = (encryptionKey?: string) =>
    startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir,
      webDist: "/nonexistent",
      firstSightSync: false,
      discordApiUrl: emulator.apiUrl,
      jobs: { pollingIntervalSeconds: 0.5 },
      encryptionKey,
      discordClient: { clientId: emulator.applicationId, clientSecret: emulator.clientSecret },
      onReady: (services) => ensureFirstAdmin(services, ADMIN).then(() => undefined),
    });

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, log: () => {} });
    dataDir = mkdtempSync(join(tmpdir(), "guildhall-upgrade-"));
    writeFileSync(join(dataDir, "secrets.json"), JSON.stringify(oldSecrets), { mode: 0o600 });
  });
  afterAll(async () => {
    await server?.close();
    await emulator?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("opens a webhook token and an integration's tokens sealed the old ways, before and after GUILDHALL_ENCRYPTION_KEY is set", async () => {
    const guild = emulator.seedGuild({ seed: 5, members: 5, name: "Upgrade Guild" });
    const channels = (await (
      await fetch(`${emulator.apiUrl}/v10/guilds/${guild.guildId}/channels`, { headers: { authorization: `Bot ${emulator.token}` } })
    ).json()) as Array<{ id: string; type: number }>;
    const hook = emulator.createWebhook(guild.guildId, { channelId: channels.find((c) => c.type === 0)!.id, name: "Old" });

    server = await start();
    // The rows an older version wrote.
    await server.runtime.runPromise(
      Database.use((database) =>
        database.use("test.oldRows", async (db) => {
          await db.insert(schema.webhooks).values({
            id: "00000000-0000-4000-8000-00000000a001",
            organizationId: DEFAULT_ORGANIZATION.id,
            name: "Old webhook",
            webhookId: hook.webhook.id,
            tokenSealed: sealOldWebhook(webhookKey, hook.webhook.token!),
            tokenKeyId: keyIdOf(webhookKey),
            kinds: [],
          });
          await db.insert(schema.integrations).values({
            id: "00000000-0000-4000-8000-00000000b001",
            organizationId: DEFAULT_ORGANIZATION.id,
            guildId: guild.guildId,
            guildName: guild.name,
            botUserId: "900000000000000009",
            installerDiscordId: guild.ownerId,
            installedAt: new Date(),
            scopes: "bot",
            permissions: "0",
            keyId: "k1",
            accessToken: sealOldToken(tokenKey, "old-access-token"),
            refreshToken: sealOldToken(tokenKey, "old-refresh-token"),
            tokenExpiresAt: new Date(Date.now() + 86_400_000),
          });
        }),
      ),
    );

    const check = async (running: RunningServer, expectedMessages: number) => {
      const accessToken = await running.runtime.runPromise(Integrations.use((i) => i.accessToken("00000000-0000-4000-8000-00000000b001")));
      expect(accessToken).toBe("old-access-token");
      const admin = createClient({ url: running.url, cookie: await signIn(running) });
      try {
        await admin.trpc.notifications.sendTest.mutate({ id: "00000000-0000-4000-8000-00000000a001" });
        await vi.waitFor(() => expect(emulator.webhook(hook.webhook.id).messages.length).toBe(expectedMessages), WAIT);
        const { deliveries } = await admin.trpc.notifications.deliveries.query({ webhookId: "00000000-0000-4000-8000-00000000a001" });
        expect(deliveries[0]?.status).toBe("delivered");
      } finally {
        admin.close();
      }
    };
    await check(server, 1);

    // The operator sets GUILDHALL_ENCRYPTION_KEY: it seals from now on; the kept keys still open the old rows.
    await server.close();
    const current = generateEncryptionKey("k3");
    server = await start(current);
    await check(server, 2);
    const admin = createClient({ url: server.url, cookie: await signIn(server) });
    try {
      const another = emulator.createWebhook(guild.guildId, { channelId: channels.find((c) => c.type === 0)!.id, name: "Fresh" });
      const fresh = await admin.trpc.notifications.create.mutate({ name: "Fresh", url: another.webhook.url!, kinds: [] });
      const [row] = await server.runtime.runPromise(
        Database.use((database) =>
          database.use("test.freshKey", (db) =>
            db.select({ keyId: schema.webhooks.tokenKeyId }).from(schema.webhooks).where(eq(schema.webhooks.id, fresh.id)),
          ),
        ),
      );
      expect(row?.keyId).toBe("k3");
    } finally {
      admin.close();
    }
    // The operator's key is not written to disk; the old keys stay kept.
    const kept = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")) as Record<string, string>;
    expect(kept).toMatchObject({ encryptionKey: oldSecrets.encryptionKey, tokenKeys: oldSecrets.tokenKeys });
    expect(JSON.stringify(kept)).not.toContain(current.slice(3));
  }, 120_000);
});
