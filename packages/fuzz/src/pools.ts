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

/** The known values, by kind, newest last. Mutable on purpose: arbitraries read it when they generate. */
export class Pools {
  readonly snowflakes: Array<string> = [];
  readonly uuids: Array<string> = [];
  readonly ids: Array<string> = [];

  constructor(seed: Partial<Record<PoolKind, ReadonlyArray<string>>> = {}) {
    for (const kind of ["snowflakes", "uuids", "ids"] as const) for (const value of seed[kind] ?? []) this.add(kind, value);
  }

  /** Adds `value` to a pool (moved to the end when already there), dropping the oldest beyond the pool size. */
  add(kind: PoolKind, value: string): void {
    const pool = this[kind];
    const at = pool.indexOf(value);
    if (at !== -1) pool.splice(at, 1);
    pool.push(value);
    if (pool.length > POOL_SIZE) pool.shift();
  }

  /**
   * Collects the snowflakes, UUIDs and other ids in `value` (an answer's data), at most
   * HARVEST_DEPTH levels deep and HARVEST_ITEMS values in all.
   */
  harvest(value: unknown): void {
    let budget = HARVEST_ITEMS;
    const visit = (node: unknown, key: string, depth: number): void => {
      if (budget-- <= 0 || depth > HARVEST_DEPTH) return;
      if (typeof node === "string") {
        if (node.length > 100) return;
        const text: string = node;
        if (isSnowflake(text as unknown)) this.add("snowflakes", text);
        else if (UUID.test(text)) this.add("uuids", text.toLowerCase());
        else if (/(^id|Id)$/.test(key) && text.length > 0) this.add("ids", text);
        // tRPC tracked ids such as "<uuid>:<attempt>" carry a UUID too.
        else if (/^[0-9a-f-]{36}:\d+$/i.test(text)) this.add("uuids", text.slice(0, 36).toLowerCase());
        return;
      }
      if (Array.isArray(node)) for (const item of node) visit(item, key, depth + 1);
      else if (node !== null && typeof node === "object") for (const [k, v] of Object.entries(node)) visit(v, k, depth + 1);
    };
    visit(value, "", 0);
  }

  /** One of the pool's values picked by `index` (any non-negative integer), or undefined when the pool is empty. */
  pick(kind: PoolKind, index: number): string | undefined {
    const pool = this[kind];
    return pool.length === 0 ? undefined : pool[index % pool.length];
  }
}
