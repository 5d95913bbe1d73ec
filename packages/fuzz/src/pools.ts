/**
 * Known values: ids that exist on the server under test (the seeded guild, its members, run ids,
 * job ids, user ids), so that derived inputs reach past "not found" into the code behind it.
 * Seeded by the test, then grown from every successful answer (`harvest`).
 */
import { isSnowflake } from "@guildhall/discord/snowflake";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How many values each pool keeps (the newest). */
const POOL_SIZE = 64;
/** How deep and how wide `harvest` looks into an answer. */
const HARVEST_DEPTH = 6;
const HARVEST_ITEMS = 2_000;

/** Kinds of known value. `ids` are strings found under an `id` or `...Id` key that are neither snowflakes nor UUIDs (e.g. user ids). */
export type PoolKind = "snowflakes" | "uuids" | "ids";

/**
 * A field name as pools key it: lower case, without `_` and a plural `s` (`guild_id`, `guildId`
 * and `guildIds` are all `guildid`).
 */
export const fieldKey = (name: string): string => name.toLowerCase().replace(/_/g, "").replace(/s$/, "");

/** The known values, by kind and by the field they were seen in, newest last. Mutable on purpose: arbitraries read it when they generate. */
export class Pools {
  readonly snowflakes: Array<string> = [];
  readonly uuids: Array<string> = [];
  readonly ids: Array<string> = [];
  /** Values by {@link fieldKey} of the field they were seen in (an `id` inside a `guild` object counts as `guildid`). */
  readonly byField = new Map<string, Array<string>>();

  constructor(seed: Partial<Record<PoolKind, ReadonlyArray<string>>> = {}) {
    for (const kind of ["snowflakes", "uuids", "ids"] as const) for (const value of seed[kind] ?? []) this.add(kind, value);
  }

  /**
   * Adds `value` to a pool (moved to the end when already there), dropping the oldest beyond the
   * pool size; with `field`, also to the values of that field (see {@link fieldKey}).
   */
  add(kind: PoolKind, value: string, field?: string): void {
    push(this[kind], value);
    if (field !== undefined && field !== "") {
      const key = fieldKey(field);
      const values = this.byField.get(key) ?? [];
      this.byField.set(key, values);
      push(values, value);
    }
  }

  /**
   * Collects the snowflakes, UUIDs and other ids in `value` (an answer's data), at most
   * HARVEST_DEPTH levels deep and HARVEST_ITEMS values in all.
   */
  harvest(value: unknown): void {
    let budget = HARVEST_ITEMS;
    // `key` is the field a value sits in; an `id` takes its object's field name (`guild.id` is a guild id).
    const visit = (node: unknown, key: string, parent: string, depth: number): void => {
      if (budget-- <= 0 || depth > HARVEST_DEPTH) return;
      if (typeof node === "string") {
        if (node.length > 100) return;
        const text: string = node;
        const field = key === "id" && parent !== "" ? `${parent}id` : key;
        if (isSnowflake(text as unknown)) this.add("snowflakes", text, field);
        else if (UUID.test(text)) this.add("uuids", text.toLowerCase(), field);
        else if (/(^id|Id)$/.test(key) && text.length > 0) this.add("ids", text, field);
        // tRPC tracked ids such as "<uuid>:<attempt>" carry a UUID too.
        else if (/^[0-9a-f-]{36}:\d+$/i.test(text)) this.add("uuids", text.slice(0, 36).toLowerCase(), parent ? `${parent}id` : undefined);
        return;
      }
      if (Array.isArray(node)) for (const item of node) visit(item, key, parent, depth + 1);
      else if (node !== null && typeof node === "object")
        for (const [k, v] of Object.entries(node)) visit(v, k, key === "" ? parent : fieldKey(key), depth + 1);
    };
    visit(value, "", "", 0);
  }

  /** Remembers `values` as seen in `field` (each in the pool of its kind too). */
  remember(field: string, ...values: ReadonlyArray<string>): void {
    for (const value of values) this.add(isSnowflake(value as unknown) ? "snowflakes" : UUID.test(value) ? "uuids" : "ids", value, field);
  }

  /** One of the pool's values picked by `index` (any non-negative integer), or undefined when the pool is empty. */
  pick(kind: PoolKind, index: number): string | undefined {
    const pool = this[kind];
    return pool.length === 0 ? undefined : pool[index % pool.length];
  }

  /** One of the values seen in `field` that `accept` takes, picked by `index`; undefined when there is none. */
  pickFor(field: string, accept: (value: string) => boolean, index: number): string | undefined {
    const values = (this.byField.get(fieldKey(field)) ?? []).filter(accept);
    return values.length === 0 ? undefined : values[index % values.length];
  }
}

const push = (pool: Array<string>, value: string) => {
  const at = pool.indexOf(value);
  if (at !== -1) pool.splice(at, 1);
  pool.push(value);
  if (pool.length > POOL_SIZE) pool.shift();
};
