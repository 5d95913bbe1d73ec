/**
 * Effect Schemas for Discord values, built on the plain checks of `./snowflake`.
 */
import { Schema } from "effect";
import { isSnowflake, SNOWFLAKE_MESSAGE } from "./snowflake";

/** A Discord snowflake as a decimal string (https://discord.com/developers/docs/reference#snowflakes); see `./snowflake`. */
export const Snowflake = Schema.String.check(Schema.makeFilter((value: string) => isSnowflake(value), { message: SNOWFLAKE_MESSAGE }));
export type Snowflake = typeof Snowflake.Type;

/**
 * An interaction token (https://discord.com/developers/docs/interactions/receiving-and-responding#followup-messages):
 * 1 to 1,000 printable ASCII characters without spaces (Discord's are base64url with dots).
 * It goes into webhook URLs and job payloads (Postgres jsonb, which refuses NUL), so nothing
 * else is accepted. A secret: never logged or answered.
 */
export const InteractionToken = Schema.String.check(
  Schema.isMinLength(1),
  Schema.isMaxLength(1000),
  Schema.isPattern(/^[\x21-\x7E]+$/, { message: "must be printable ASCII without spaces (an interaction token)" }),
);
export type InteractionToken = typeof InteractionToken.Type;
