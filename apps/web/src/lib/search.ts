/**
 * The router's URL search-param codec: plain `key=value` pairs, every value a string.
 *
 * TanStack Router's default codec JSON-parses values, which turns a Discord snowflake such as
 * `?roleId=281287222886531072` into a JS number and rounds it (snowflakes need 64 bits), and
 * writes strings that look like numbers back quoted (`?roleId=%22281…%22`). Here values stay
 * strings both ways; each route's `validateSearch` turns them into typed values.
 */

/** `?a=1&b=x` (leading `?` optional) -> `{a: "1", b: "x"}`. A repeated key keeps its last value. */
export function parseSearchParams(searchStr: string): Record<string, string> {
  const params = new URLSearchParams(searchStr.startsWith("?") ? searchStr.slice(1) : searchStr);
  const out: Record<string, string> = {};
  for (const [key, value] of params) out[key] = value;
  return out;
}

/**
 * `{a: 1, b: "x"}` -> `"?a=1&b=x"`; `""` when nothing is left. `undefined`, `null` and `""`
 * values are dropped; other values are written with `String(value)`.
 */
export function stringifySearchParams(search: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(search)) {
    if (value === undefined || value === null || value === "") continue;
    params.set(key, typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}
