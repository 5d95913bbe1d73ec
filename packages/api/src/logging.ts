/**
 * The log level setting every Guildhall process reads from its environment
 * (GUILDHALL_LOG_LEVEL), written once. Light on purpose (only `effect`): the bot imports it
 * through `@guildhall/api/logging` without loading the server side.
 */
import { LogLevel, Schema, SchemaTransformation } from "effect";

const NAMES = LogLevel.values.map((level) => level.toLowerCase());

/**
 * A log level by Effect's names in any case (`trace`, `debug`, `info`, `warn`, `error`,
 * `fatal`, `all`, `none`), decoded to Effect's `LogLevel` (`"Debug"`, ...). A bad value fails
 * with a message listing the accepted names (not echoing the value).
 */
export const LogLevelSetting = Schema.String.check(
  Schema.isPattern(new RegExp(`^(${NAMES.join("|")})$`, "i"), { message: `must be one of ${NAMES.join(", ")}` }),
).pipe(
  Schema.decodeTo(
    Schema.Literals(LogLevel.values),
    SchemaTransformation.transform({
      decode: (name: string) => LogLevel.values.find((level) => level.toLowerCase() === name.toLowerCase()) ?? "Info",
      encode: (level: LogLevel.LogLevel) => level.toLowerCase(),
    }),
  ),
);

/** The level a process logs at when GUILDHALL_LOG_LEVEL is unset. */
export const DEFAULT_LOG_LEVEL: LogLevel.LogLevel = "Info";
