import { createCipheriv, randomBytes } from "node:crypto";
import { expect, layer } from "@effect/vitest";
import { Database } from "@guildhall/db";
import { DiscordRest } from "@guildhall/discord";
import { Effect, Layer } from "effect";
import { TestClock } from "effect/testing";
import {
  Directory,
  generateEncryptionKey,
  INSTALL_STATE_TTL_MS,
  Integrations,
  IntegrationsSettings,
  InvalidEncryptionKeys,
  keyIdOf,
  memberPermissions,
  parseEncryptionKeys,
  SecretBox,
  SyncLayer,
} from "../src";

const settings = {
  client: { clientId: "900000000000000001", clientSecret: "secret-secret" },
  redirectUri: "http://localhost:1/api/public/integrations/discord/callback",
  authorizeUrl: "http://127.0.0.1:1/oauth2/authorize",
};

// No Discord call happens before the state is accepted: the port points nowhere.
const Services = Integrations.layer.pipe(
  Layer.provide(DiscordRest.layer({ token: "", api: "http://127.0.0.1:9/api", timeoutMs: 500 })),
  Layer.provide(Layer.succeed(IntegrationsSettings)(() => settings)),
  Layer.provide(SecretBox.layer(parseEncryptionKeys(generateEncryptionKey("k1")))),
  Layer.provideMerge(SyncLayer),
  Layer.provideMerge(Database.layer({ dataDir: "memory://" })),
);

const setup = Effect.gen(function* () {
  const directory = yield* Directory;
  yield* directory.ensureOrganization({ id: "org", name: "Org", slug: "org" });
  return yield* directory.ensureUser({ name: "Admin", email: "admin@org.invalid", discordId: null });
});

const stateOf = (url: string) => new URL(url).searchParams.get("state") ?? "";

layer(Services)("install states", (it) => {
  it.effect("a state older than 10 minutes is refused as expired, and nothing is stored", () =>
    Effect.gen(function* () {
      const userId = yield* setup;
      const integrations = yield* Integrations;
      const start = yield* integrations.beginInstall({ organizationId: "org", userId, sessionId: "s1", notifications: false });
      yield* TestClock.adjust(INSTALL_STATE_TTL_MS);
      const error = yield* integrations
        .completeInstall({ state: stateOf(start.url), code: "code", caller: { sessionId: "s1", userId } })
        .pipe(Effect.flip);
      expect(error).toMatchObject({ _tag: "InstallStateInvalid", reason: "expired" });
      expect(yield* integrations.list("org")).toEqual([]);
    }),
  );

  it.effect("a forged state is unknown; another session's state is refused and stays usable by its own session", () =>
    Effect.gen(function* () {
      const userId = yield* setup;
      const integrations = yield* Integrations;
      const forged = yield* integrations
        .completeInstall({ state: "x".repeat(43), code: "code", caller: { sessionId: "s1", userId } })
        .pipe(Effect.flip);
      expect(forged).toMatchObject({ _tag: "InstallStateInvalid", reason: "unknown" });
      const start = yield* integrations.beginInstall({ organizationId: "org", userId, sessionId: "s1", notifications: true });
      expect(start.scopes).toContain("webhook.incoming");
      const other = yield* integrations
        .completeInstall({ state: stateOf(start.url), code: "code", caller: { sessionId: "s2", userId } })
        .pipe(Effect.flip);
      expect(other).toMatchObject({ _tag: "InstallStateInvalid", reason: "other-session" });
      // Its own session gets past the state (and then meets Discord, unreachable here).
      const own = yield* integrations
        .completeInstall({ state: stateOf(start.url), code: "code", caller: { sessionId: "s1", userId } })
        .pipe(Effect.flip);
      expect(own._tag).toBe("DiscordCallFailed");
      const replay = yield* integrations
        .completeInstall({ state: stateOf(start.url), code: "code", caller: { sessionId: "s1", userId } })
        .pipe(Effect.flip);
      expect(replay).toMatchObject({ _tag: "InstallStateInvalid", reason: "used" });
    }),
  );
});

layer(Services)("token encryption", (it) => {
  // One key ring, one service: SecretBox seals integrations' OAuth2 tokens and webhook tokens alike.
  const withRing = (text: string) => {
    const box = Effect.runSync(SecretBox.use(Effect.succeed).pipe(Effect.provide(SecretBox.layer(parseEncryptionKeys(text)))));
    return {
      seal: (plaintext: string) => Effect.runSync(box.seal(plaintext)),
      open: (keyId: string, sealed: string) => Effect.runSync(box.open(keyId, sealed).pipe(Effect.orElseSucceed(() => null))),
    };
  };

  it.effect("sealed tokens do not contain the plaintext, open under their key id after a rotation, not without the key", () =>
    Effect.sync(() => {
      const k1 = generateEncryptionKey("k1");
      const old = withRing(k1);
      const sealed = old.seal("plaintext-access-token");
      expect(sealed.keyId).toBe("k1");
      expect(sealed.sealed).not.toContain("plaintext");
      expect(Buffer.from(sealed.sealed, "base64url").toString("latin1")).not.toContain("plaintext");
      const rotated = withRing(`${generateEncryptionKey("k2")},${k1}`);
      expect(rotated.open(sealed.keyId, sealed.sealed)).toBe("plaintext-access-token");
      expect(rotated.seal("x").keyId).toBe("k2");
      expect(withRing(generateEncryptionKey("k2")).open(sealed.keyId, sealed.sealed)).toBeNull();
      // A key under the same id but other bytes does not open it either (GCM authenticates).
      expect(withRing(generateEncryptionKey("k1")).open("k1", sealed.sealed)).toBeNull();
      const tampered = Buffer.from(sealed.sealed, "base64url");
      tampered[tampered.length - 1]! ^= 1;
      expect(old.open("k1", tampered.toString("base64url"))).toBeNull();
    }),
  );

  it.effect("both formats it replaced still open: the webhook tokens' bare key (iv | ciphertext | tag) and the token ring's", () =>
    Effect.sync(() => {
      // The old webhook SecretBox: a bare key named by its fingerprint, its own layout.
      const bare = randomBytes(32);
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", bare, iv);
      const body = Buffer.concat([cipher.update("webhook-token", "utf8"), cipher.final()]);
      const legacy = Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
      expect(withRing(bare.toString("hex")).open(keyIdOf(bare), legacy)).toBe("webhook-token");
      // The same key given later with an id (rotated behind a new current key) still opens it, by its fingerprint.
      const ring = withRing(`${generateEncryptionKey("k2")},k1:${bare.toString("base64")}`);
      expect(ring.open(keyIdOf(bare), legacy)).toBe("webhook-token");
      // And what it seals under that id opens too.
      const sealed = withRing(`k1:${bare.toString("base64")}`).seal("oauth-token");
      expect(ring.open("k1", sealed.sealed)).toBe("oauth-token");
    }),
  );

  it.effect("GUILDHALL_ENCRYPTION_KEY is checked without echoing key material", () =>
    Effect.sync(() => {
      expect(() => parseEncryptionKeys("")).toThrow(InvalidEncryptionKeys);
      expect(() => parseEncryptionKeys("k1:c2hvcnQ=")).toThrow(/32 bytes/);
      expect(() => parseEncryptionKeys("not a key")).toThrow(/entry 1/);
      const key = generateEncryptionKey("k1");
      // The same entry twice (both variables) counts once; one id with two keys is refused.
      expect(parseEncryptionKeys(`${key},${key}`)).toHaveLength(1);
      expect(() => parseEncryptionKeys(`${key},${generateEncryptionKey("k1")}`)).toThrow(/two different keys/);
      // A bare key is named by its fingerprint.
      const hex = "ab".repeat(32);
      expect(parseEncryptionKeys(hex)[0]!.id).toBe(keyIdOf(Buffer.from(hex, "hex")));
      try {
        parseEncryptionKeys("k1:c2hvcnQ=");
      } catch (error) {
        expect(String(error)).not.toContain("c2hvcnQ");
      }
    }),
  );

  it.effect("member permissions: owner and ADMINISTRATOR have Manage Guild; others only through @everyone or their roles", () =>
    Effect.sync(() => {
      const guild = {
        id: "1",
        owner_id: "10",
        roles: [
          { id: "1", permissions: "1024" },
          { id: "2", permissions: String(1 << 5) },
          { id: "3", permissions: String(1 << 3) },
        ],
      };
      const manage = (p: bigint) => (p & 32n) !== 0n;
      expect(manage(memberPermissions(guild, "10", []))).toBe(true);
      expect(manage(memberPermissions(guild, "11", []))).toBe(false);
      expect(manage(memberPermissions(guild, "11", ["2"]))).toBe(true);
      expect(manage(memberPermissions(guild, "11", ["3"]))).toBe(true);
      expect(manage(memberPermissions(guild, "11", ["99"]))).toBe(false);
    }),
  );
});
