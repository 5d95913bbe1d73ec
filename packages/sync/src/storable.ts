/**
 * Values Postgres can store, checked or cleaned at the boundary: the ONE place where text that
 * Postgres refuses is cleaned, where timestamps are checked to be real instants, and where
 * integers are bounded to Postgres' `integer`. Every text field that reaches the database
 * through a sync schema (MemberSnapshot, RoleSnapshot; presences next) uses {@link PgText};
 * every timestamp uses {@link IsoInstant}; every integer column uses {@link Int32}.
 *
 * Why clean rather than refuse text: Discord users choose their own names, nicknames and
 * statuses, and one member's name must never stop a sync or a batch. Postgres refuses two
 * things in `text`: the NUL character (U+0000), and invalid UTF-8, which is what a lone UTF-16
 * surrogate (U+D800..U+DFFF without its pair) becomes. Cleaning drops every NUL and replaces
 * every lone surrogate with U+FFFD (the replacement character), as `String.prototype.toWellFormed`
 * does; everything else is kept as given. Length limits apply to the cleaned text.
 *
 * Timestamps and integers are refused (a 400 naming the field), never repaired: a date such
 * as `2024-02-30` has no meaning to keep.
 *
 * This module imports only `effect`, so the bot and the pack format may load it.
 */
import { Schema, SchemaGetter } from "effect";

const NUL = "\u0000";
const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text as Postgres can store it: NUL removed, then lone surrogates replaced with U+FFFD (as
 * `String.prototype.toWellFormed` does). Returns `text` itself when it is already clean (the
 * common case costs one scan and one regex test).
 */
export const cleanPgText = (text: string): string => {
  const hasNul = text.indexOf(NUL) !== -1;
  if (!hasNul && !SURROGATE.test(text)) return text;
  return (hasNul ? text.replaceAll(NUL, "") : text).replace(LONE_SURROGATE, "\uFFFD");
};

/**
 * A string, cleaned for Postgres on decoding (see the module comment). Add length checks with
 * `.check(...)`: they apply to the cleaned text. Encoding leaves the value as it is.
 */
export const PgText = Schema.String.pipe(
  Schema.decode({ decode: SchemaGetter.transform(cleanPgText), encode: SchemaGetter.transform((text: string) => text) }),
);

/** {@link PgText} of at most `max` UTF-16 code units (after cleaning), and at least `min` (default 0). */
export const pgText = (max: number, min = 0) =>
  min > 0 ? PgText.check(Schema.isMinLength(min), Schema.isMaxLength(max)) : PgText.check(Schema.isMaxLength(max));

/** The smallest value of Postgres' `integer` (int4): -2^31. */
export const INT32_MIN = -2_147_483_648;
/** The largest value of Postgres' `integer` (int4): 2^31-1. */
export const INT32_MAX = 2_147_483_647;

/** An integer Postgres' `integer` column holds: -2^31 to 2^31-1. */
export const Int32 = Schema.Int.check(Schema.isBetween({ minimum: INT32_MIN, maximum: INT32_MAX }));

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** The earliest and latest instants accepted (epoch ms): 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z. */
const EARLIEST_MS = -62_135_596_800_000;
const LATEST_MS = 253_402_300_799_999;

const daysIn = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/**
 * True when `value` is an ISO-8601 instant as Discord writes them (RFC 3339): `YYYY-MM-DDTHH:MM:SS`,
 * optional fraction of 1 to 9 digits, then `Z` or an offset `±HH:MM` (at most ±14:59); a
 * real calendar date and time of day (no month 13, no February 30, no hour 24, no leap
 * second), between the years 0001 and 9999 in UTC. Nothing may follow.
 */
export const isIsoInstant = (value: string): boolean => {
  const match = ISO_INSTANT.exec(value);
  if (!match) return false;
  const [, y, mo, d, h, mi, s, oh, om] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return false;
  if (oh !== undefined && (Number(oh) > 14 || Number(om) > 59)) return false;
  // Only at the ends of the range can an offset carry the instant outside it.
  if (year === 1 || year === 9999) {
    const ms = Date.parse(value);
    return ms >= EARLIEST_MS && ms <= LATEST_MS;
  }
  return true;
};

/** The message a bad timestamp gets (after the field's path). */
export const ISO_INSTANT_MESSAGE =
  "must be an ISO-8601 instant such as 2024-01-31T12:00:00.000Z (a real date and time, with Z or an offset)";

/** An ISO-8601 instant (see {@link isIsoInstant}); kept as given (Postgres parses it). */
export const IsoInstant = Schema.String.check(Schema.makeFilter((value: string) => isIsoInstant(value), { message: ISO_INSTANT_MESSAGE }));

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * True when `value` is a calendar date written `YYYY-MM-DD` (ISO 8601's extended form): a real
 * day (no month 13, no February 30, no day 0) of the years 0001 to 9999, and nothing else (no
 * time, no spaces, nothing after it).
 */
export const isIsoDate = (value: string): boolean => {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const [, y, mo, d] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month);
};

/** The message a bad calendar date gets (after the field's path). */
export const ISO_DATE_MESSAGE = "must be a calendar date written YYYY-MM-DD, such as 2024-02-29 (a real day of the years 0001 to 9999)";

/**
 * A calendar date `YYYY-MM-DD` (see {@link isIsoDate}), kept as given: a date filter's day.
 * Refused, never repaired (`2024-02-30` is a 400 naming the field).
 */
export const IsoDate = Schema.String.check(Schema.makeFilter((value: string) => isIsoDate(value), { message: ISO_DATE_MESSAGE }));

/** Discord's epoch, 2015-01-01T00:00:00.000Z (epoch ms): no snowflake, and no Discord event, is older. */
export const DISCORD_EPOCH_MS = 1_420_070_400_000;
/** The latest epoch ms accepted: 9999-12-31T23:59:59.999Z, the end of the range {@link IsoInstant} takes too. */
export const LATEST_EPOCH_MS = LATEST_MS;

/** The message an epoch-ms time out of range gets (after the field's path). */
export const EPOCH_MS_MESSAGE = "must be a time in epoch milliseconds between 2015-01-01 (1420070400000) and 9999-12-31 (253402300799999)";

/**
 * A moment the bot saw, in epoch milliseconds (`Date.now()`), from Discord's epoch
 * ({@link DISCORD_EPOCH_MS}, 2015-01-01) to the end of 9999 ({@link LATEST_EPOCH_MS}): every
 * such value is a Date that Postgres' `timestamptz` stores, and nothing Discord reports is
 * older. Fractions of a millisecond are allowed (and dropped by Postgres' precision).
 */
export const EpochMs = Schema.Finite.check(
  Schema.makeFilter((value: number) => value >= DISCORD_EPOCH_MS && value <= LATEST_EPOCH_MS, { message: EPOCH_MS_MESSAGE }),
);
