/**
 * The application the emulator plays: its snowflake (also the bot user's), the bot user, the owner,
 * the Ed25519 key pair behind `verify_key`, the application object, and the IDENTIFY budget behind
 * `session_start_limit`. OAuth2 client credentials and signed interaction delivery belong here.
 * https://discord.com/developers/docs/resources/application
 */
import type { KeyObject } from "node:crypto";
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import type { APIUser } from "discord-api-types/v10";
import type { BotIdentity } from "./guild";
import { applicationFlags, applicationObject, botUserObject, userObject } from "./payloads";
import { hash3 } from "./random";
import { snowflakeAt } from "./snowflake";
import { discordTimestamp } from "./timestamps";

/** The bot token when EmulatorOptions.token is not given. */
export const DEFAULT_TOKEN = "emulator-bot-token";
/** Default application (and bot user) id: a snowflake from 2023-11-14. */
export const DEFAULT_APPLICATION_ID = snowflakeAt(Date.UTC(2023, 10, 14, 12), 0x21001).toString();
const BOT_USERNAME = "Guildhall";
/** IDENTIFYs allowed per 24 h (https://discord.com/developers/docs/events/gateway#session-start-limit-object). */
const IDENTIFY_TOTAL = 1000;
const DAY_MS = 86_400_000;
/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/**
 * The OAuth2 client secret when EmulatorOptions.clientSecret is not given: 32 base64url characters
 * derived from the application id, so it stays the same across restarts (demo configs can name it).
 */
export function defaultClientSecret(applicationId: string): string {
  return createHash("sha256").update(`emulator-client-secret:${applicationId}`).digest("base64url").slice(0, 32);
}

/** The application and its bot user. Ids are snowflake strings. */
export class Application {
  readonly id: string;
  /** Bitfield of the privileged intents the application may use. */
  readonly allowedPrivilegedIntents: number;
  /** The Ed25519 key the emulator signs with (stable per application id, across restarts). */
  readonly signingKey: KeyObject;
  /** The public key as 64 hex characters: the application's `verify_key`. */
  readonly verifyKey: string;
  /** The application's owner, a user outside every guild. */
  readonly owner: APIUser;

  constructor(id: string, allowedPrivilegedIntents: number) {
    this.id = id;
    this.allowedPrivilegedIntents = allowedPrivilegedIntents;
    const seed = Buffer.alloc(32);
    for (let i = 0; i < 8; i++) seed.writeUInt32BE(hash3(Number(BigInt(id) % 2n ** 52n), i, 11), i * 4);
    this.signingKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
    this.verifyKey = createPublicKey(this.signingKey).export({ format: "der", type: "spki" }).subarray(-32).toString("hex");
    this.owner = userObject({
      userId: snowflakeAt(Date.UTC(2019, 2, 3), 0x21002).toString(),
      username: "emulator-owner",
      globalName: "Emulator Owner",
      avatar: null,
      bot: false,
      nick: null,
      roles: [],
      joinedAt: discordTimestamp(0),
      premiumSince: null,
      pending: false,
    });
  }

  /** The application's name, as the authorize page and its webhooks show it. */
  get name(): string {
    return `${BOT_USERNAME} (emulator)`;
  }

  /** The bot as a member of every seeded guild. */
  get botIdentity(): BotIdentity {
    return { userId: this.id, username: BOT_USERNAME };
  }

  /** The application's flags (the GATEWAY_*_LIMITED bits of its allowed privileged intents). */
  get flags(): number {
    return applicationFlags(this.allowedPrivilegedIntents);
  }

  /** The bot user with its private fields, as GET /users/@me answers for a bot token. */
  botUser(): APIUser {
    return botUserObject(this.id, BOT_USERNAME);
  }

  /** The bot user as others see it (message authors, resolved users, GET /users/{id}). */
  publicBotUser(): APIUser {
    const { verified: _v, mfa_enabled: _m, email: _e, locale: _l, premium_type: _p, ...bot } = this.botUser();
    return bot;
  }

  /** A user the application knows outside the guilds (its owner), by id. */
  user(userId: string): APIUser | undefined {
    return userId === this.owner.id ? this.owner : undefined;
  }

  /** The application object (GET /applications/@me); `guildCount` is approximate_guild_count. */
  object(guildCount: number): unknown {
    return applicationObject({
      id: this.id,
      name: this.name,
      flags: this.flags,
      verifyKey: this.verifyKey,
      bot: this.publicBotUser(),
      owner: this.owner,
      guildCount,
    });
  }
}

/** The IDENTIFYs of the last 24 h: what GET /gateway/bot reports as `session_start_limit`. */
export class IdentifyBudget {
  /** Times of accepted IDENTIFYs, ms since the Unix epoch, oldest first. */
  private readonly identifies: number[] = [];

  /** Counts one accepted IDENTIFY, now. */
  record(): void {
    this.identifies.push(Date.now());
  }

  /** `total` and `remaining` IDENTIFYs, and ms until the oldest one stops counting (24 h if none). */
  sessionStartLimit(): { total: number; remaining: number; resetAfterMs: number } {
    const now = Date.now();
    while (this.identifies.length > 0 && (this.identifies[0] as number) <= now - DAY_MS) this.identifies.shift();
    const oldest = this.identifies[0];
    return {
      total: IDENTIFY_TOTAL,
      remaining: Math.max(0, IDENTIFY_TOTAL - this.identifies.length),
      resetAfterMs: oldest === undefined ? DAY_MS : oldest + DAY_MS - now,
    };
  }
}
