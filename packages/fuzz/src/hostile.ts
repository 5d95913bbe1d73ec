/**
 * Hostile values: what a faulty peer, a careless client or an attacker puts where a field
 * expects something ordinary. Every value here is JSON-transportable (NaN and Infinity travel as
 * strings), so the same lists serve the tRPC procedures, the REST endpoints and gateway payloads.
 *
 * The lists are the probe's findings of issue #8 and the classic edges around them: NUL and lone
 * surrogates (Postgres refuses both in `text`), 1 MB strings, deep nesting, int32 / int53 / int64
 * edges, impossible dates, snowflake edges (`0`, 2^64, leading zeros, 21 digits), wrong types.
 */
import fc from "fast-check";

/** One mebibyte of text (1,048,576 UTF-16 code units). */
export const ONE_MB = "x".repeat(1024 * 1024);

/** Nesting depth of the deep values: far beyond any schema, well within what JSON.parse takes. */
export const DEEP = 2_000;

const nest = (depth: number, wrap: (inner: unknown) => unknown): unknown => {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
};

/** `[[[...0...]]]`, {@link DEEP} levels. */
export const DEEP_ARRAY = nest(DEEP, (inner) => [inner]);
/** `{"a":{"a":...0...}}`, {@link DEEP} levels. */
export const DEEP_OBJECT = nest(DEEP, (inner) => ({ a: inner }));

/** Text Postgres cannot store, or that breaks naive handling. */
export const HOSTILE_TEXT: ReadonlyArray<string> = [
  "",
  " ",
  "\u0000",
  "evil\u0000status",
  "\u0000\u0000\u0000",
  "\ud800",
  "\udfff",
  "a\ud800b",
  "\udc00\ud800",
  "\ud83d",
  "\uffff\ufffe",
  "\u202eRTL\u202c",
  "\u200b\u200d\ufeff",
  "\r\n\t\u0007\u001b[31m",
  "💩".repeat(64),
  "'; drop table users; --",
  "%_\\",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection probe, meant literally.
  "${7*7}{{7*7}}",
  "__proto__",
  "constructor",
  "=cmd|' /C calc'!A0",
  "null",
  "undefined",
  "true",
];

/** Numbers as strings and words a parser might take for numbers. */
export const NUMERIC_TEXT: ReadonlyArray<string> = [
  "NaN",
  "Infinity",
  "-Infinity",
  "1e309",
  "-0",
  "0x10",
  "1_000",
  " 1",
  "1 ",
  "１２３",
  "0.1e1",
];

/** Dates and instants that do not exist, or that only some parsers take. */
export const IMPOSSIBLE_DATES: ReadonlyArray<string> = [
  "2024-02-30",
  "2023-02-29",
  "2024-13-45",
  "2024-13-45T99:99:99Z",
  "0000-00-00",
  "0000-00-00T00:00:00Z",
  "2024-01-01 junk';--",
  "2024-02-29T24:00:00Z",
  "2024-01-01T00:00:60Z",
  "2024-06-01T12:00:00+99:99",
  "2024-01-01T00:00:00.0000000001Z",
  "+275760-09-13T00:00:00.001Z",
  "-000001-01-01T00:00:00Z",
  "275760-09-14",
  "9999-12-31T23:59:59.999-14:59",
  "0001-01-01T00:00:00+14:00",
  "2024-1-1",
  "infinity",
  "-infinity",
  "epoch",
  "allballs",
  "now",
  "today",
];

/** Ids that look like snowflakes but are not, and the extreme valid ones. */
export const SNOWFLAKE_EDGES: ReadonlyArray<string> = [
  "0",
  "00",
  "007",
  "-1",
  "1.5",
  "1e3",
  "18446744073709551615",
  "18446744073709551616",
  "99999999999999999999",
  "000000000000000000001",
  "123456789012345678901",
  "9".repeat(40),
  "080000000000000001",
  " 800000000000000001",
  "800000000000000001\u0000",
  "１",
];

/** Numbers at the edges of int32, int53 (safe integers), int64, Date and double. */
export const HOSTILE_NUMBERS: ReadonlyArray<number> = [
  0,
  -0,
  -1,
  0.5,
  -0.5,
  2_147_483_647,
  2_147_483_648,
  -2_147_483_648,
  -2_147_483_649,
  4_294_967_295,
  4_294_967_296,
  1e15,
  8.64e15,
  8.64e15 + 1,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER - 2,
  // 2^63 - 1 and 2^64, as the doubles a JSON parser makes of them.
  2 ** 63,
  2 ** 64,
  1e308,
  -1e308,
  Number.MIN_VALUE,
];

/** Values of the wrong type for any field. */
export const WRONG_TYPES: ReadonlyArray<unknown> = [
  null,
  true,
  false,
  0,
  "",
  [],
  {},
  [null],
  { "": "" },
  JSON.parse('{"__proto__": {"polluted": true}}'),
  "[object Object]",
];

/** Huge and deep values, kept apart because they are the expensive ones. */
export const MONSTERS: ReadonlyArray<unknown> = [
  ONE_MB,
  `${ONE_MB}\u0000`,
  DEEP_ARRAY,
  DEEP_OBJECT,
  Array.from({ length: 10_000 }, () => 0),
];

const EVERY_STRING = [...HOSTILE_TEXT, ...NUMERIC_TEXT, ...IMPOSSIBLE_DATES, ...SNOWFLAKE_EDGES];

/**
 * A hostile value picked by `j` (any non-negative integer): what replaces one leaf of an
 * otherwise valid input. `current` is the valid value it replaces, which some picks mutate.
 */
export type HostilePick = (j: number, current: unknown) => unknown;

const MUTATIONS: ReadonlyArray<(text: string, at: number) => string> = [
  (text, at) => `${text.slice(0, at)}\u0000${text.slice(at)}`,
  (text, at) => `${text.slice(0, at)}\ud800${text.slice(at)}`,
  (text, at) => `${text.slice(0, at)}\udc00${text.slice(at)}`,
  (text) => `0${text}`,
  (text) => ` ${text}`,
  (text) => `${text}9`,
  (text) => `${text}\u0000`,
  (text) => text.repeat(Math.max(2, Math.ceil(300 / Math.max(1, text.length)))),
];

/**
 * Hostile variants of a valid string: NUL or a lone surrogate put inside it, a leading zero or
 * space, the value repeated past any length limit, an extra digit. These stay close to what
 * the field takes, so they pass the checks that look only at the surface.
 */
export const mutateString = (text: string, j: number): string =>
  MUTATIONS[j % MUTATIONS.length]!(text, Math.floor(j / MUTATIONS.length) % (text.length + 1));

const pickFrom =
  (...lists: ReadonlyArray<ReadonlyArray<unknown>>): HostilePick =>
  (j) => {
    const all = lists.flat();
    return all[j % all.length];
  };

/** Hostile values for a string field: the lists above, mutations of the valid value, wrong types, monsters. */
export const hostileStringPick: HostilePick = (j, current) => {
  const lists = [EVERY_STRING, HOSTILE_NUMBERS, WRONG_TYPES, MONSTERS] as const;
  const listed = lists.reduce((n, l) => n + l.length, 0);
  // Half the picks are mutations of the value itself (when it is a string).
  if (typeof current === "string" && j % 2 === 1) return mutateString(current, Math.floor(j / 2));
  return pickFrom(...lists)(Math.floor(j / 2) % listed, current);
};

/** Hostile numbers near `bounds` (one past each bound, half past) and at the usual edges, numbers as text, wrong types. */
export const hostileNumberPick = (bounds: { readonly min?: number | undefined; readonly max?: number | undefined }): HostilePick => {
  const near: Array<number> = [];
  if (bounds.min !== undefined && Number.isFinite(bounds.min)) near.push(bounds.min - 1, bounds.min - 0.5);
  if (bounds.max !== undefined && Number.isFinite(bounds.max)) near.push(bounds.max + 1, bounds.max + 0.5);
  // The bounds' neighbours twice over: they are the likeliest to find an off-by-one.
  return pickFrom(near, near, HOSTILE_NUMBERS, NUMERIC_TEXT, WRONG_TYPES);
};

/** Hostile values for any other field (booleans, literals, objects, arrays). */
export const hostileAnyPick: HostilePick = pickFrom(WRONG_TYPES, EVERY_STRING, HOSTILE_NUMBERS, MONSTERS);

/** An arbitrary of the values `pick` gives for `current`. */
export const hostileOf = (pick: HostilePick, current: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.tuple(fc.nat(), current).map(([j, value]) => pick(j, value));

/** A hostile value for any field, on its own (for a whole input, or where no valid value is at hand). */
export const hostileAny: fc.Arbitrary<unknown> = fc.nat().map((j) => hostileAnyPick(j, undefined));

/** Keys a client should never send, for objects' extra keys. */
export const EXTRA_KEYS: ReadonlyArray<string> = ["__proto__", "constructor", "prototype", "", "\u0000", "extra", "id", "toString"];
