/**
 * Discord's gateway close codes that no reconnect can fix
 * (https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes),
 * with what an operator must do about each; and how a failed login is told apart: fatal (the
 * same every time until someone acts) or transient (worth retrying with backoff).
 */
import { GatewayCloseCodes } from "discord-api-types/v10";

/** A close the bot will not recover from by itself: Discord's close `code` and what to do, for the log and the bot panel. */
export interface FatalClose {
  /** The gateway close code (4004 also stands for the token refused by REST with 401 at login). */
  readonly code: number;
  /** What happened and what to do, in one sentence. */
  readonly reason: string;
}

/** The closes discord.js does not reconnect after (its UNRECOVERABLE_CLOSE_CODES), with what to do. */
const FATAL: Readonly<Record<number, string>> = {
  [GatewayCloseCodes.AuthenticationFailed]:
    "Discord refused the token (close 4004, authentication failed): check DISCORD_TOKEN (Developer Portal > Bot > Reset Token), then restart the bot",
  [GatewayCloseCodes.InvalidShard]:
    "Discord refused the shard (close 4010, invalid shard): check the shard ids and count the bot runs with",
  [GatewayCloseCodes.ShardingRequired]: "Discord requires sharding for this bot (close 4011, sharding required): run it with more shards",
  [GatewayCloseCodes.InvalidAPIVersion]: "Discord refused the gateway version (close 4012, invalid API version): update discord.js",
  [GatewayCloseCodes.InvalidIntents]: "Discord refused the intents (close 4013, invalid intents): this is a bug of the bot's configuration",
  [GatewayCloseCodes.DisallowedIntents]:
    "the Server Members and Presence intents are not enabled for this application (close 4014, disallowed intents): enable them in the Developer Portal (Bot > Privileged Gateway Intents), then restart the bot",
};

/** The fatal close for gateway close `code`, or null when discord.js reconnects or resumes after it. */
export const fatalClose = (code: number): FatalClose | null => {
  const reason = FATAL[code];
  return reason === undefined ? null : { code, reason };
};

/**
 * What a rejected `client.login` means. `closed` is the fatal close the gateway sent during the
 * login, when one came (discord.js rejects with a plain Error then). A token that Discord's REST
 * API refused (401 on GET /gateway/bot: discord.js's TokenInvalid) is the same as close 4004.
 * Anything else (the network, a 5xx, a timeout) is transient: null.
 */
export const fatalLogin = (error: unknown, closed: FatalClose | null): FatalClose | null => {
  if (closed) return closed;
  if (typeof error === "object" && error !== null && "code" in error && error.code === "TokenInvalid") {
    return {
      code: GatewayCloseCodes.AuthenticationFailed,
      reason:
        "Discord refused the token (HTTP 401 at login, as close 4004): check DISCORD_TOKEN (Developer Portal > Bot > Reset Token), then restart the bot",
    };
  }
  return null;
};

/** Login retry delays (ms): `firstMs`, doubling, at most `maxMs`; defaults 1 s and 60 s. */
export const loginBackoff = (attempt: number, options: { firstMs?: number; maxMs?: number } = {}): number =>
  Math.min((options.firstMs ?? 1_000) * 2 ** Math.max(0, attempt - 1), options.maxMs ?? 60_000);
