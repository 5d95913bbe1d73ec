import { expect, layer } from "@effect/vitest";
import { Database } from "@guildhall/db";
import { DiscordRest } from "@guildhall/discord";
import { Effect, Layer } from "effect";
import { TestClock } from "effect/testing";
import {
  Directory,
  generateTokenKey,
  INSTALL_STATE_TTL_MS,
  Integrations,
  IntegrationsSettings,
  InvalidTokenKeys,
  memberPermissions,
  openToken,
  parseTokenKeys,
  SyncLayer,
  sealToken,
} from "../src";

const ring = parseTokenKeys(generateTokenKey("k1"));
const settings = {
  client: { clientId: "900000000000000001", clientSecret: "secret-secret" },
  redirectUri: "http://localhost:1/api/public/integrations/discord/callback",
  authorizeUrl: "http://127.0.0.1:1/oauth2/authorize",
  keys: ring,
};

// No Discord call happens before the state is accepted: the port points nowhere.
const Services = Integrations.layer.pipe(
  Layer.provide(DiscordRest.layer({ token: "", api: "http://127.0.0.1:9/api", timeoutMs: 500 })),
  Layer.provide(Layer.succeed(IntegrationsSettings)(() => settings)),
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
  it.effect("sealed tokens do not contain the plaintext, open under their key id after a rotation, not without the key", () =>
    Effect.sync(() => {
      const old = parseTokenKeys(generateTokenKey("k1"));
      const sealed = sealToken(old, "plaintext-access-token");
      expect(sealed.keyId).toBe("k1");
      expect(sealed.sealed).not.toContain("plaintext");
      expect(Buffer.from(sealed.sealed, "base64url").toString("latin1")).not.toContain("plaintext");
      const k1 = [...old.all.values()][0]!;
      const rotated = parseTokenKeys(`${generateTokenKey("k2")},k1:${k1.key.toString("base64")}`);
      expect(rotated.current.id).toBe("k2");
      expect(openToken(rotated, sealed.keyId, sealed.sealed)).toBe("plaintext-access-token");
      expect(sealToken(rotated, "x").keyId).toBe("k2");
      const withoutOld = parseTokenKeys(generateTokenKey("k2"));
      expect(openToken(withoutOld, sealed.keyId, sealed.sealed)).toBeNull();
      // A key under the same id but other bytes does not open it either (GCM authenticates).
      expect(openToken(parseTokenKeys(generateTokenKey("k1")), "k1", sealed.sealed)).toBeNull();
      const tampered = Buffer.from(sealed.sealed, "base64url");
      tampered[tampered.length - 1]! ^= 1;
      expect(openToken(old, "k1", tampered.toString("base64url"))).toBeNull();
    }),
  );

  it.effect("GUILDHALL_TOKEN_KEYS is checked without echoing key material", () =>
    Effect.sync(() => {
      expect(() => parseTokenKeys("")).toThrow(InvalidTokenKeys);
      expect(() => parseTokenKeys("k1:c2hvcnQ=")).toThrow(/32 bytes/);
      expect(() => parseTokenKeys("nocolon")).toThrow(/key id/);
      const key = generateTokenKey("k1");
      expect(() => parseTokenKeys(`${key},${key}`)).toThrow(/twice/);
      try {
        parseTokenKeys("k1:c2hvcnQ=");
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
