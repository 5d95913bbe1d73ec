import { randomBytes } from "node:crypto";
import { expect, it } from "@effect/vitest";
import { Effect, Exit } from "effect";
import { keyIdOf, parseWebhookUrl, SecretBox, type SecretKey } from "../src";

const key = (): SecretKey => {
  const bytes = randomBytes(32);
  return { id: keyIdOf(bytes), key: bytes };
};

it.effect("a sealed token reads back only with its key, and old keys still open what they sealed after a rotation", () =>
  Effect.gen(function* () {
    const [old, fresh] = [key(), key()];
    const token = "a-webhook-token_0123456789";
    const sealed = yield* SecretBox.use((box) => box.seal(token)).pipe(Effect.provide(SecretBox.layer([old])));
    expect(sealed.keyId).toBe(old.id);
    expect(Buffer.from(sealed.sealed, "base64url").toString("latin1")).not.toContain(token);

    // Rotated: the new key seals, the old one still opens.
    const rotated = SecretBox.layer([fresh, old]);
    expect(yield* SecretBox.use((box) => box.open(sealed.keyId, sealed.sealed)).pipe(Effect.provide(rotated))).toBe(token);
    expect((yield* SecretBox.use((box) => box.seal(token)).pipe(Effect.provide(rotated))).keyId).toBe(fresh.id);

    // Without the key, or altered: SecretUnreadable, never the value.
    const withoutKey = yield* Effect.exit(
      SecretBox.use((box) => box.open(sealed.keyId, sealed.sealed)).pipe(Effect.provide(SecretBox.layer([fresh]))),
    );
    expect(Exit.isFailure(withoutKey)).toBe(true);
    const raw = Buffer.from(sealed.sealed, "base64url");
    raw[14] = (raw[14] ?? 0) ^ 1;
    const altered = yield* Effect.exit(
      SecretBox.use((box) => box.open(sealed.keyId, raw.toString("base64url"))).pipe(Effect.provide(SecretBox.layer([old]))),
    );
    expect(Exit.isFailure(altered)).toBe(true);
  }),
);

it.effect("accepts Discord webhook URLs (and the configured API's), and refuses others without quoting the token", () =>
  Effect.gen(function* () {
    const ok = (url: string, apiBase?: string) => parseWebhookUrl(url, { apiBase });
    expect(yield* ok("https://discord.com/api/webhooks/1234567890123456789/tok_en-1")).toEqual({
      webhookId: "1234567890123456789",
      token: "tok_en-1",
    });
    expect((yield* ok("https://canary.discord.com/api/v10/webhooks/1234567890123456789/abc")).token).toBe("abc");
    expect((yield* ok("http://127.0.0.1:3001/api/webhooks/1234567890123456789/abc", "http://127.0.0.1:3001/api")).webhookId).toBe(
      "1234567890123456789",
    );
    for (const bad of [
      "not a url",
      "http://discord.com/api/webhooks/1234567890123456789/secret-token",
      "https://evil.example/api/webhooks/1234567890123456789/secret-token",
      "https://discord.com/api/webhooks/123/secret-token",
      "https://discord.com/api/webhooks/1234567890123456789/secret-token?wait=true",
      "https://discord.com:8443/api/webhooks/1234567890123456789/secret-token",
      "http://127.0.0.1:3002/api/webhooks/1234567890123456789/secret-token",
    ]) {
      const exit = yield* Effect.exit(ok(bad, "http://127.0.0.1:3001/api"));
      expect(Exit.isFailure(exit), bad).toBe(true);
      expect(JSON.stringify(exit)).not.toContain("secret-token");
    }
  }),
);
