/**
 * Encryption of OAuth2 tokens at rest: AES-256-GCM (node:crypto) under a key named by an id, so
 * keys can be rotated: a new current key encrypts from then on, older keys are kept to decrypt
 * what they encrypted. A sealed value is base64url of `iv (12 bytes) | tag (16 bytes) | ciphertext`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/** One AES-256 key and its id (1-32 of `A-Za-z0-9_-`). */
export interface TokenKey {
  readonly id: string;
  /** 32 bytes. */
  readonly key: Buffer;
}

/** The keys tokens are sealed with: `current` encrypts, every key of `all` (current included) decrypts. */
export interface TokenKeyRing {
  readonly current: TokenKey;
  readonly all: ReadonlyMap<string, TokenKey>;
}

/** Thrown by {@link parseTokenKeys}; the message names the entry by position, never the key. */
export class InvalidTokenKeys extends Error {
  override readonly name = "InvalidTokenKeys";
}

/**
 * The key ring from GUILDHALL_TOKEN_KEYS: comma-separated `id:base64key` entries, the first one
 * current (`k2:<base64 of 32 bytes>,k1:<...>`). Throws InvalidTokenKeys for an empty list, an
 * entry without an id, a repeated id, or a key that is not 32 bytes of base64 / base64url.
 */
export const parseTokenKeys = (text: string): TokenKeyRing => {
  const entries = text
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  if (entries.length === 0) throw new InvalidTokenKeys("must list at least one key as id:base64key");
  const keys: TokenKey[] = entries.map((entry, index) => {
    const colon = entry.indexOf(":");
    const id = colon < 0 ? "" : entry.slice(0, colon);
    const encoded = colon < 0 ? "" : entry.slice(colon + 1);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id))
      throw new InvalidTokenKeys(`entry ${index + 1} must start with a key id (1-32 of A-Z a-z 0-9 _ -) and ":"`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw new InvalidTokenKeys(`key ${id} is not base64`);
    const key = Buffer.from(encoded, "base64");
    if (key.length !== 32) throw new InvalidTokenKeys(`key ${id} must be 32 bytes (AES-256), base64-encoded`);
    return { id, key };
  });
  const all = new Map<string, TokenKey>();
  for (const key of keys) {
    if (all.has(key.id)) throw new InvalidTokenKeys(`key id ${key.id} is listed twice`);
    all.set(key.id, key);
  }
  return { current: keys[0]!, all };
};

/** A fresh key ring entry `id:base64key` (32 random bytes), as GUILDHALL_TOKEN_KEYS takes it. */
export const generateTokenKey = (id = "k1"): string => `${id}:${randomBytes(32).toString("base64")}`;

/** `plaintext` sealed under the ring's current key: `{keyId, sealed}` (see the module doc for the layout). */
export const sealToken = (ring: TokenKeyRing, plaintext: string): { keyId: string; sealed: string } => {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", ring.current.key, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return { keyId: ring.current.id, sealed: Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url") };
};

/**
 * The plaintext of `sealed` under key `keyId`, or null when the ring lacks that key or the value
 * does not authenticate (altered, or another key).
 */
export const openToken = (ring: TokenKeyRing, keyId: string, sealed: string): string | null => {
  const key = ring.all.get(keyId);
  if (!key) return null;
  const raw = Buffer.from(sealed, "base64url");
  if (raw.length < 28) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
};
