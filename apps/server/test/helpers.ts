import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { createClient, type GuildhallClient, signIn as signInWithPassword } from "@guildhall/api";
import type { PresenceUpdate } from "@guildhall/sync";
import { TRPCClientError } from "@trpc/client";
import { ensureFirstAdmin, type RunningServer, type ServerOptions, seedDemoGuild, startServer } from "../src";

export const GUILD_ID = "800000000000000001";
export const ADMIN = { email: "admin@test.invalid", password: "correct horse battery", name: "Test Admin" };
export const STAFF = [
  { discordId: "810000000000000001", name: "Ada Lovelace", handle: "ada" },
  { discordId: "810000000000000002", name: "Grace Hopper", handle: "grace" },
  { discordId: null, name: "Nobody Linked", handle: "nobody" },
];

/** The test application's Ed25519 key pair (made per process): servers of {@link startTestServer} verify interactions with its public key. */
export const INTERACTIONS_KEY = generateKeyPairSync("ed25519");
/** {@link INTERACTIONS_KEY}'s public key as DISCORD_PUBLIC_KEY gives it: 64 hex characters. */
export const INTERACTIONS_PUBLIC_HEX = INTERACTIONS_KEY.publicKey.export({ format: "der", type: "spki" }).subarray(-32).toString("hex");

/** The signature headers Discord sends with `body` at `timestamp` (Unix seconds, default now), signed with `key`. */
export const signInteraction = (
  body: string | Buffer,
  timestamp = String(Math.floor(Date.now() / 1000)),
  key: KeyObject = INTERACTIONS_KEY.privateKey,
): Record<"x-signature-ed25519" | "x-signature-timestamp", string> => ({
  "x-signature-ed25519": sign(null, Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), key).toString("hex"),
  "x-signature-timestamp": timestamp,
});

/** A server on a random port with an admin and a guild of three staff (two linked), verifying interactions with {@link INTERACTIONS_KEY}. */
export const startTestServer = (options: { databaseUrl?: string; logLevel?: ServerOptions["logLevel"] } = {}): Promise<RunningServer> =>
  startServer({
    discordPublicKey: INTERACTIONS_PUBLIC_HEX,
    port: 0,
    host: "127.0.0.1",
    dataDir: "memory://",
    databaseUrl: options.databaseUrl,
    logLevel: options.logLevel,
    botKey: "test-bot-key-0123456789abcdef",
    webDist: "/nonexistent",
    // Installs can start (beginInstall needs no Discord); Discord itself is unreachable here.
    discordClient: { clientId: "900000000000000001", clientSecret: "test-client-secret" },
    discordApiUrl: "http://127.0.0.1:9/api",
    discordAuthorizeUrl: "http://127.0.0.1:9/oauth2/authorize",
    onReady: async (services) => {
      await ensureFirstAdmin(services, ADMIN);
      await seedDemoGuild(services, { guildId: GUILD_ID, name: "Test Guild", staff: STAFF });
    },
  });

/** Signs in through better-auth's endpoint and returns the session cookie. */
export const signIn = (server: RunningServer, credentials = ADMIN): Promise<string> => signInWithPassword(server.url, credentials);

export const staffClient = async (server: RunningServer): Promise<GuildhallClient> =>
  createClient({ url: server.url, cookie: await signIn(server) });

export const botClient = (server: RunningServer, botKey = server.botKey): GuildhallClient => createClient({ url: server.url, botKey });

export const presence = (userId: string, status: PresenceUpdate["status"], customStatus: string | null = null): PresenceUpdate => ({
  guildId: GUILD_ID,
  userId,
  status,
  customStatus,
  activities: customStatus ? [{ name: "Custom Status", type: 4, state: customStatus }] : [],
  clientStatus: status === "offline" ? {} : { desktop: status },
  observedAt: Date.now(),
});

/** Polls `check` every 10 ms until it returns a value other than undefined, or fails after `timeoutMs`. */
export const waitFor = async <A>(check: () => A | undefined, timeoutMs = 5_000, what = "condition"): Promise<A> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** The tRPC error code (`"UNAUTHORIZED"`, `"BAD_REQUEST"`, ...) of a client error, or undefined. */
export const codeOf = (error: unknown): string | undefined =>
  error instanceof TRPCClientError ? (error.data as { code?: string } | undefined)?.code : undefined;
