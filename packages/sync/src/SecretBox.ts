/**
 * Guildhall's one encryption of secrets at rest (OAuth2 access and refresh tokens of
 * integrations, webhook tokens): AES-256-GCM through node:crypto under a key ring whose keys
 * have ids, so keys rotate: the ring's first key seals from then on, every key of the ring
 * still opens what it sealed. Each sealed record stores the id of its key beside it.
 *
 * The ring comes from one setting, GUILDHALL_ENCRYPTION_KEY (apps/server/src/env.ts): comma-
 * separated entries, each `id:base64key` or a bare key (64 hex digits, or base64 / base64url of
 * 32 bytes), the first one current. Rotating = prepending a new entry and keeping the old ones.
 *
 * Two formats came before this one, and both still open:
 * - the webhook tokens' SecretBox: a bare key, named by its fingerprint ({@link keyIdOf}), and
 *   the sealed layout `iv | ciphertext | tag`;
 * - the OAuth2 tokens' key ring (GUILDHALL_TOKEN_KEYS, now a deprecated alias): `id:base64key`
 *   entries, and the layout `iv | tag | ciphertext`, which is the one sealed today.
 * A key is found by its id or by its fingerprint, so a key once given bare and later as
 * `id:key` still opens its old records.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { Context, Effect, Layer, Schema } from "effect";

/** A sealed value could not be opened: its key is not configured, or it was altered. Never carries the value. */
export class SecretUnreadable extends Schema.TaggedError<SecretUnreadable>()("SecretUnreadable", {
  keyId: Schema.String,
}) {}

/** One key: `id` names it in sealed records (1-32 of `A-Za-z0-9_-`); `key` is 32 bytes. */
export interface SecretKey {
  readonly id: string;
  readonly key: Uint8Array;
}

/** Thrown by {@link parseEncryptionKeys}; the message names the entry by position or id, never key material. */
export class InvalidEncryptionKeys extends Error {
  override readonly name = "InvalidEncryptionKeys";
}

/** A key id for `key`: the first 8 hex digits of its SHA-256 (names the key without revealing it). */
export const keyIdOf = (key: Uint8Array): string => createHash("sha256").update(key).digest("hex").slice(0, 8);

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** 32 bytes from 64 hex digits or base64 / base64url, or null. */
const keyBytes = (text: string): Buffer | null => {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, "hex");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return null;
  const bytes = Buffer.from(
    text.replace(/[-_]/g, (c) => (c === "-" ? "+" : "/")),
    "base64",
  );
  return bytes.length === 32 ? bytes : null;
};

/**
 * Reads one bare key given as 64 hex digits or as base64/base64url of 32 bytes, named by its
 * fingerprint ({@link keyIdOf}); null when it is neither.
 */
export const parseSecretKey = (text: string): SecretKey | null => {
  const bytes = keyBytes(text.trim());
  return bytes ? { id: keyIdOf(bytes), key: bytes } : null;
};

/**
 * The key ring from its text (GUILDHALL_ENCRYPTION_KEY, and the deprecated GUILDHALL_TOKEN_KEYS):
 * comma-separated entries, each `id:base64key` or a bare key (named by its fingerprint), the
 * first one current. An entry repeated exactly (the same id and key, e.g. listed in both
 * variables) counts once. Throws {@link InvalidEncryptionKeys} for an empty list, a bad id, a
 * key that is not 32 bytes, or one id given two different keys.
 */
export const parseEncryptionKeys = (text: string): ReadonlyArray<SecretKey> => {
  const entries = text
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  if (entries.length === 0) throw new InvalidEncryptionKeys("must list at least one key (id:base64key, or 64 hex digits)");
  const keys: SecretKey[] = [];
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(":");
    let key: SecretKey;
    if (colon < 0) {
      const bare = parseSecretKey(entry);
      if (!bare)
        throw new InvalidEncryptionKeys(`entry ${index + 1} must be id:base64key, or a key of 64 hex digits or base64 of 32 bytes`);
      key = bare;
    } else {
      const id = entry.slice(0, colon);
      if (!KEY_ID.test(id))
        throw new InvalidEncryptionKeys(`entry ${index + 1} must start with a key id (1-32 of A-Z a-z 0-9 _ -) and ":"`);
      const bytes = keyBytes(entry.slice(colon + 1));
      if (!bytes) throw new InvalidEncryptionKeys(`key ${id} must be 32 bytes (AES-256), base64-encoded or 64 hex digits`);
      key = { id, key: bytes };
    }
    const same = keys.find((k) => k.id === key.id);
    if (same && Buffer.compare(Buffer.from(same.key), Buffer.from(key.key)) !== 0)
      throw new InvalidEncryptionKeys(`key id ${key.id} is given two different keys`);
    if (!same) keys.push(key);
  });
  return keys;
};

/** A fresh ring entry `id:base64key` (32 random bytes), as GUILDHALL_ENCRYPTION_KEY takes it. */
export const generateEncryptionKey = (id = "k1"): string => `${id}:${randomBytes(32).toString("base64")}`;

/** `plaintext` sealed under `key`: base64url of `iv (12 bytes) | tag (16 bytes) | ciphertext`. */
const sealWith = (key: Uint8Array, plaintext: string): string => {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
};

/** One layout's attempt: the plaintext, or null when it does not authenticate. */
const openLayout = (key: Uint8Array, iv: Buffer, tag: Buffer, body: Buffer): string | null => {
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
};

/**
 * The plaintext of `sealed` under `key`: today's layout `iv | tag | ciphertext`, else the old
 * webhook layout `iv | ciphertext | tag` (GCM authenticates: a wrong layout never opens), or null.
 */
const openWith = (key: Uint8Array, sealed: string): string | null => {
  const raw = Buffer.from(sealed, "base64url");
  if (raw.length < 28) return null;
  const iv = raw.subarray(0, 12);
  return (
    openLayout(key, iv, raw.subarray(12, 28), raw.subarray(28)) ??
    openLayout(key, iv, raw.subarray(raw.length - 16), raw.subarray(12, raw.length - 16))
  );
};

/**
 * Seals and opens secrets at rest. `seal(text)` gives `{keyId, sealed}` under the ring's
 * current key (`sealed`: base64url of 12-byte IV + 16-byte tag + ciphertext); `open(keyId,
 * sealed)` gives the text back, or fails with SecretUnreadable (its key is not in the ring, or
 * the value was altered), never revealing the value. Both formats this one replaced still open
 * (see the module doc).
 */
export class SecretBox extends Context.Service<
  SecretBox,
  {
    readonly seal: (plaintext: string) => Effect.Effect<{ readonly keyId: string; readonly sealed: string }>;
    readonly open: (keyId: string, sealed: string) => Effect.Effect<string, SecretUnreadable>;
  }
>()("@guildhall/sync/SecretBox") {
  /**
   * A box over `keys` (see {@link parseEncryptionKeys}); the first one seals. At least one
   * 32-byte key is required (a defect otherwise).
   */
  static readonly layer = (keys: ReadonlyArray<SecretKey>): Layer.Layer<SecretBox> =>
    Layer.sync(SecretBox, () => {
      const current = keys[0];
      if (!current || keys.some((k) => k.key.length !== 32)) throw new Error("SecretBox needs 32-byte keys");
      // By id, then by fingerprint: a key given bare once (named by its fingerprint) and with an id later opens both.
      const byId = new Map<string, Uint8Array>();
      for (const k of keys) if (!byId.has(k.id)) byId.set(k.id, k.key);
      for (const k of keys) if (!byId.has(keyIdOf(k.key))) byId.set(keyIdOf(k.key), k.key);
      return SecretBox.of({
        seal: Effect.fn("SecretBox.seal")((plaintext: string) =>
          Effect.sync(() => ({ keyId: current.id, sealed: sealWith(current.key, plaintext) })),
        ),
        open: Effect.fn("SecretBox.open")(function* (keyId: string, sealed: string) {
          const key = byId.get(keyId);
          const opened = key ? openWith(key, sealed) : null;
          if (opened === null) return yield* new SecretUnreadable({ keyId });
          return opened;
        }),
      });
    });
}
