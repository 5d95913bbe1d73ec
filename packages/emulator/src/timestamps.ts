/**
 * Discord's timestamp format, fast: every generated member carries one or two timestamps, so
 * formatting runs millions of times for a big guild. Results are the same as
 * `new Date(ms).toISOString()` with "Z" replaced by "000+00:00"; the per-day prefixes are memoised
 * (bounded caches of a pure function: they never change a result).
 */
import { asciiBytes, type JsonWriter } from "./jsonwriter";

/** One day in ms. */
export const DAY_MS = 86_400_000;
/** "00".."99", for formatting without padStart. */
export const TWO_DIGITS: ReadonlyArray<string> = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
/** "000".."999". */
export const THREE_DIGITS: ReadonlyArray<string> = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
/** Years 1970..9999 have the plain ISO form; others fall back to Date. */
const FAST_TIMESTAMP_LIMIT_MS = 253_402_300_800_000;
/** Day-prefix caches are cleared when they reach this many days. */
const MAX_CACHED_DAYS = 50_000;

/** "YYYY-MM-DDT" by day number since the Unix epoch. */
const dayPrefixes = new Map<number, string>();
/** '"YYYY-MM-DDT' by day number since the Unix epoch. */
const quotedDayPrefixes = new Map<number, string>();
/** '"YYYY-MM-DDT' as bytes by day number since the Unix epoch. */
const dayPrefixBytes = new Map<number, Uint8Array>();
/** "HH:MM:" for every minute of the day, and "SS." for every second. */
const TIME_OF_DAY_HM = Array.from({ length: 1440 }, (_, k) => `${TWO_DIGITS[Math.floor(k / 60)]}:${TWO_DIGITS[k % 60]}:`);
const SECONDS_DOT = Array.from({ length: 60 }, (_, k) => `${TWO_DIGITS[k]}.`);
const TIME_OF_DAY_HM_B = TIME_OF_DAY_HM.map(asciiBytes);
const SECONDS_DOT_B = SECONDS_DOT.map(asciiBytes);
const MICROS_OFFSET_QUOTE = asciiBytes('000+00:00"');

/** Stores `value` for `day` in a bounded cache (cleared when full); returns `value`. */
function remember<V>(cache: Map<number, V>, day: number, value: V): V {
  if (cache.size >= MAX_CACHED_DAYS) cache.clear();
  cache.set(day, value);
  return value;
}

/**
 * Discord's timestamp format: ISO 8601 with microseconds and an explicit +00:00 offset, e.g.
 * "2024-05-01T12:00:00.000000+00:00" (https://discord.com/developers/docs/reference#iso8601-datetime).
 * `unixMs` is ms since the Unix epoch; fractions of a ms are dropped.
 */
export function discordTimestamp(unixMs: number): string {
  if (!(unixMs >= 0 && unixMs < FAST_TIMESTAMP_LIMIT_MS)) return new Date(unixMs).toISOString().replace("Z", "000+00:00");
  const ms = Math.trunc(unixMs);
  const day = Math.floor(ms / DAY_MS);
  const prefix = dayPrefixes.get(day) ?? remember(dayPrefixes, day, new Date(day * DAY_MS).toISOString().slice(0, 11));
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  return `${prefix}${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[sec]}.${THREE_DIGITS[rest - sec * 1000]}000+00:00`;
}

/** Midnight UTC of the day containing `unixMs` (ms since the Unix epoch). */
export function startOfUtcDay(unixMs: number): number {
  return Math.floor(unixMs / DAY_MS) * DAY_MS;
}

/** A Discord timestamp (see {@link discordTimestamp}) between quotes, for JSON. */
function quotedTimestamp(unixMs: number): string {
  if (!(unixMs >= 0 && unixMs < FAST_TIMESTAMP_LIMIT_MS)) return `"${discordTimestamp(unixMs)}"`;
  const ms = Math.trunc(unixMs);
  const day = Math.floor(ms / DAY_MS);
  const prefix = quotedDayPrefixes.get(day) ?? remember(quotedDayPrefixes, day, `"${new Date(day * DAY_MS).toISOString().slice(0, 11)}`);
  const rest = ms - day * DAY_MS;
  const minute = Math.floor(rest / 60_000);
  const milli = rest - minute * 60_000;
  const sec = Math.floor(milli / 1000);
  return `${prefix}${TIME_OF_DAY_HM[minute]}${SECONDS_DOT[sec]}${THREE_DIGITS[milli - sec * 1000]}000+00:00"`;
}

/** Writes {@link discordTimestamp} of `unixMs` as a JSON string into `w`, from pre-encoded pieces. */
export function writeTimestamp(w: JsonWriter, unixMs: number): void {
  if (!(unixMs >= 0 && unixMs < FAST_TIMESTAMP_LIMIT_MS)) {
    w.ascii(quotedTimestamp(unixMs));
    return;
  }
  const ms = Math.trunc(unixMs);
  const day = Math.floor(ms / DAY_MS);
  const prefix = dayPrefixBytes.get(day) ?? remember(dayPrefixBytes, day, asciiBytes(quotedTimestamp(day * DAY_MS).slice(0, 12)));
  const rest = ms - day * DAY_MS;
  const minute = Math.floor(rest / 60_000);
  const milli = rest - minute * 60_000;
  const sec = Math.floor(milli / 1000);
  w.raw(prefix);
  w.raw(TIME_OF_DAY_HM_B[minute] as Uint8Array);
  w.raw(SECONDS_DOT_B[sec] as Uint8Array);
  w.padded(milli - sec * 1000, 3);
  w.raw(MICROS_OFFSET_QUOTE);
}
