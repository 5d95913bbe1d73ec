/**
 * The one definition of a Discord snowflake in Guildhall: a 64-bit id written as a decimal
 * string (https://discord.com/developers/docs/reference#snowflakes). Every package that checks
 * an id (the API's inputs, the bot's gateway payloads, the SPA's URLs, the emulator) imports
 * it from here, so they cannot disagree.
 *
 * Valid: 1 to 20 digits, no leading zero, greater than 0 and below 2^64. Ids such as `0`,
 * `007` or `99999999999999999999` (above 2^64) are refused. The Effect Schema lives in
 * `./schema` so that this module stays free of dependencies (the SPA imports it).
 */

/** The shape of a snowflake: 1 to 20 digits without a leading zero (the range is checked by {@link isSnowflake}). */
export const SNOWFLAKE_PATTERN = /^[1-9][0-9]{0,19}$/;

const TWO_TO_THE_64 = 18_446_744_073_709_551_616n;

/** The message every snowflake check gives. */
export const SNOWFLAKE_MESSAGE = "must be a snowflake: a decimal string of 1 to 20 digits, above 0 and below 2^64";

/** True when `value` is a snowflake string (see the module comment). */
export const isSnowflake = (value: unknown): value is string =>
  typeof value === "string" && SNOWFLAKE_PATTERN.test(value) && (value.length < 20 || BigInt(value) < TWO_TO_THE_64);
