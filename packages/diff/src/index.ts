/**
 * @guildhall/diff: pure, keyed diffing of snapshots. No IO; used by member sync to turn
 * "what Discord has now" and "what we stored" into the rows to write.
 */

/** One changed entry: its key, both values, and the names of the fields that differ. */
export interface Change<K, V> {
  readonly key: K;
  readonly before: V;
  readonly after: V;
  readonly fields: ReadonlyArray<keyof V & string>;
}

/** What turns `before` into `after`: entries added, changed (with the fields), removed, and how many stayed equal. */
export interface SnapshotDiff<K, V> {
  readonly added: ReadonlyArray<V>;
  readonly changed: ReadonlyArray<Change<K, V>>;
  readonly removed: ReadonlyArray<V>;
  readonly unchanged: number;
}

/** Options for {@link diffSnapshots}. */
export interface DiffOptions<K, V> {
  /** The identity of an entry (a member's user id, say). Keys must be unique within a snapshot. */
  readonly key: (value: V) => K;
  /** Fields to compare; default: every own enumerable field of either value. */
  readonly fields?: ReadonlyArray<keyof V & string>;
  /** Field equality; default {@link structuralEqual}. */
  readonly equal?: (a: unknown, b: unknown) => boolean;
}

/** Thrown when a snapshot holds two entries with one key: a diff of it would be meaningless. */
export class DuplicateKeyError extends Error {
  override readonly name = "DuplicateKeyError";
  constructor(
    readonly side: "before" | "after",
    readonly key: unknown,
  ) {
    super(`duplicate key ${String(key)} in the ${side} snapshot`);
  }
}

/**
 * Structural equality for JSON-like values: primitives by `Object.is` (so NaN equals NaN),
 * Dates by time, arrays element-wise in order, plain objects key by key (a missing key equals
 * `undefined`).
 */
export const structuralEqual = (a: unknown, b: unknown): boolean => {
  if (Object.is(a, b)) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => structuralEqual(item, b[i]));
  }
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      if (!structuralEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
    }
    return true;
  }
  return false;
};

const indexBy = <K, V>(values: Iterable<V>, key: (value: V) => K, side: "before" | "after"): Map<K, V> => {
  const map = new Map<K, V>();
  for (const value of values) {
    const k = key(value);
    if (map.has(k)) throw new DuplicateKeyError(side, k);
    map.set(k, value);
  }
  return map;
};

/**
 * Diffs two snapshots by key in O(n + m). `added` keeps `after`'s order, `removed` keeps
 * `before`'s, `changed` follows `after`'s. Throws `DuplicateKeyError` when a snapshot repeats a key.
 */
export const diffSnapshots = <K, V extends object>(
  before: Iterable<V>,
  after: Iterable<V>,
  options: DiffOptions<K, V>,
): SnapshotDiff<K, V> => {
  const equal = options.equal ?? structuralEqual;
  const old = indexBy(before, options.key, "before");
  const seen = new Set<K>();
  const added: V[] = [];
  const changed: Change<K, V>[] = [];
  let unchanged = 0;
  for (const value of indexBy(after, options.key, "after").values()) {
    const k = options.key(value);
    seen.add(k);
    const previous = old.get(k);
    if (previous === undefined) {
      added.push(value);
      continue;
    }
    const fields = (options.fields ?? ([...new Set([...Object.keys(previous), ...Object.keys(value)])] as Array<keyof V & string>)).filter(
      (field) => !equal(previous[field], value[field]),
    );
    if (fields.length === 0) unchanged++;
    else changed.push({ key: k, before: previous, after: value, fields });
  }
  const removed = [...old.entries()].filter(([k]) => !seen.has(k)).map(([, v]) => v);
  return { added, changed, removed, unchanged };
};

/**
 * Applies `diff` to `before`: removes `removed`, replaces `changed` with their `after`
 * values, appends `added`. For a diff made by {@link diffSnapshots} from `before` to `after`,
 * the result holds exactly `after`'s entries (the property the tests check).
 */
export const applyDiff = <K, V extends object>(before: Iterable<V>, diff: SnapshotDiff<K, V>, key: (value: V) => K): V[] => {
  const result = new Map<K, V>();
  for (const value of before) result.set(key(value), value);
  for (const value of diff.removed) result.delete(key(value));
  for (const change of diff.changed) result.set(change.key, change.after);
  for (const value of diff.added) result.set(key(value), value);
  return [...result.values()];
};
