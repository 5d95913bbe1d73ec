/**
 * Secrets at rest (webhook tokens): AES-256-GCM through node:crypto, each sealed value tagged
 * with the id of the key that sealed it, so keys can be rotated (new values are sealed with
 * the first key; older keys still open what they sealed).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { Context, Effect, Layer, Schema } from "effect";

/** A sealed value could not be opened: its key is not configured, or it was altered. Never carries the value. */
export class SecretUnreadable extends Schema.TaggedError<SecretUnreadable>()("SecretUnreadable", {
  keyId: Schema.String,
}) {}

/** One key: `id` names it in sealed records; `key` is 32 bytes. */
export interface SecretKey {
  readonly id: string;
  readonly key: Uint8Array;
}

/** A key id for `key`: the first 8 hex digits of its SHA-256 (names the key without revealing it). */
export const keyIdOf = (key: Uint8Array): string => createHash("sha256").update(key).digest("hex").slice(0, 8);

/**
 * Reads a key given as 64 hex digits or as base64/base64url of 32 bytes; null when it is neither.
 */
export const parseSecretKey = (text: string): SecretKey | null => {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64url");
  return bytes.length === 32 ? { id: keyIdOf(bytes), key: bytes } : null;
};

/**
 * Seals and opens secrets. `seal(text)` gives `{keyId, sealed}` (`sealed`: base64url of
 * 12-byte IV + ciphertext + 16-byte tag); `open(keyId, sealed)` gives the text back or fails
 * with SecretUnreadable.
 */
export class SecretBox extends Context.Service<
  SecretBox,
  {
    readonly seal: (plaintext: string) => Effect.Effect<{ readonly keyId: string; readonly sealed: string }>;
    readonly open: (keyId: string, sealed: string) => Effect.Effect<string, SecretUnreadable>;
  }
>()("@guildhall/sync/SecretBox") {
  /** A box over `keys`; the first one seals. At least one key is required (a defect otherwise). */
  static readonly layer = (keys: ReadonlyArray<SecretKey>): Layer.Layer<SecretBox> =>
    Layer.sync(SecretBox, () => {
      const current = keys[0];
      if (!current || keys.some((k) => k.key.length !== 32)) throw new Error("SecretBox needs 32-byte keys");
      const byId = new Map(keys.map((k) => [k.id, k.key]));
      return SecretBox.of({
        seal: Effect.fn("SecretBox.seal")((plaintext: string) =>
          Effect.sync(() => {
            const iv = randomBytes(12);
            const cipher = createCipheriv("aes-256-gcm", current.key, iv);
            const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
            return { keyId: current.id, sealed: Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url") };
          }),
        ),
        open: Effect.fn("SecretBox.open")(function* (keyId: string, sealed: string) {
          const key = byId.get(keyId);
          if (!key) return yield* new SecretUnreadable({ keyId });
          return yield* Effect.try({
            try: () => {
              const raw = Buffer.from(sealed, "base64url");
              const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
              decipher.setAuthTag(raw.subarray(raw.length - 16));
              return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString("utf8");
            },
            catch: () => new SecretUnreadable({ keyId }),
          });
        }),
      });
    });
}
