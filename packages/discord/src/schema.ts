/**
 * Effect Schemas for Discord values, built on the plain checks of `./snowflake`.
 */
import { Schema } from "effect";
import { isSnowflake, SNOWFLAKE_MESSAGE } from "./snowflake";

/** A Discord snowflake as a decimal string (https://discord.com/developers/docs/reference#snowflakes); see `./snowflake`. */
export const Snowflake = Schema.String.check(Schema.makeFilter((value: string) => isSnowflake(value), { message: SNOWFLAKE_MESSAGE }));
export type Snowflake = typeof Snowflake.Type;
