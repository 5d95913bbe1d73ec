/**
 * Short, printable renderings of fuzz inputs and answers for failure reports: long strings are
 * cut (with their length), deep values are cut, and NUL, control characters and lone
 * surrogates are written as `\uXXXX` escapes, so a report is always readable and never megabytes.
 */

const MAX_STRING = 80;
const MAX_DEPTH = 6;
const MAX_ITEMS = 12;

// biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is this pattern's purpose.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const escaped = (text: string) => text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

const render = (value: unknown, depth: number): string => {
  if (typeof value === "string") {
    const cut = value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
    return `"${escaped(cut).replace(/"/g, '\\"')}"${value.length > MAX_STRING ? `(${value.length} chars)` : ""}`;
  }
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (value === undefined) return "undefined";
  if (value === null || typeof value !== "object") return String(value);
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? "[…]" : "{…}";
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => render(item, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`…(${value.length} items)`);
    return `[${items.join(",")}]`;
  }
  const entries = Object.entries(value);
  const shown = entries.slice(0, MAX_ITEMS).map(([k, v]) => `${render(k, MAX_DEPTH)}:${render(v, depth + 1)}`);
  if (entries.length > MAX_ITEMS) shown.push(`…(${entries.length} keys)`);
  return `{${shown.join(",")}}`;
};

/** `value` as a short, printable, JSON-like string (see the module comment). */
export const show = (value: unknown): string => render(value, 0);
