/**
 * Snowflake helpers. A snowflake is a 64-bit id: milliseconds since the Discord epoch
 * (2015-01-01T00:00:00Z) in the top 42 bits, then worker/process/increment bits.
 * https://discord.com/developers/docs/reference#snowflakes
 *
 * The emulator keeps its own check on purpose: it stands in for Discord, and a stand-in that
 * shared Guildhall's definition (@guildhall/discord/snowflake) could not catch a mistake in it.
 */

/** The Discord epoch in ms since the Unix epoch. */
export const DISCORD_EPOCH_MS = 1_420_070_400_000;
const EPOCH = BigInt(DISCORD_EPOCH_MS);

/** Builds a snowflake from a Unix time in ms and up to 22 low bits. */
export function snowflakeAt(unixMs: number, low = 0): bigint {
  return ((BigInt(Math.floor(unixMs)) - EPOCH) << 22n) | BigInt(low & 0x3f_ffff);
}

/** The Unix time in ms a snowflake encodes. */
export function snowflakeTime(id: bigint): number {
  return Number((id >> 22n) + EPOCH);
}

/** True when `value` is a decimal snowflake string ("0" or no leading zero, at most 20 digits, < 2^64). */
export function isSnowflake(value: unknown): value is string {
  if (typeof value !== "string" || !/^(0|[1-9][0-9]{0,19})$/.test(value)) return false;
  return BigInt(value) < 1n << 64n;
}

let lastMs = 0;
let increment = 0;

/** A fresh snowflake for "now", strictly increasing within this process. */
export function newSnowflake(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    increment = 0;
  } else if (++increment > 0xfff) {
    // More than 4096 ids in one ms: borrow the next ms rather than repeat an id.
    lastMs += 1;
    increment = 0;
  }
  // Worker/process bits fixed at 1 so ids look like Discord's; increment keeps them unique.
  return snowflakeAt(lastMs, (1 << 17) | increment).toString();
}
