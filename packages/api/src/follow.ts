/**
 * The shape every Guildhall subscription follows (after trpc/trpc's examples): subscribe to
 * the live feed first, then backfill from the database after the client's cursor, then
 * yield live items, skipping any the backfill already covered. Nothing committed between the
 * two steps is lost, and nothing is sent twice.
 */

/** What a follower yields: an item, or `reset` when the client fell too far behind to replay. */
export type Followed<T> = { readonly type: "item"; readonly item: T } | { readonly type: "reset"; readonly cursor: number };

export interface FollowOptions<T extends { readonly id: number }> {
  /** Starts live delivery; returns the function that stops it. */
  readonly subscribe: (push: (items: ReadonlyArray<T>) => void) => () => void;
  /** Items with id > `afterId`, oldest first, at most `limit`. */
  readonly backfill: (afterId: number, limit: number) => Promise<ReadonlyArray<T>>;
  /** The newest id now; where a follower with no cursor starts. */
  readonly latestId: () => Promise<number>;
  /** Resume after this id; null to start from now. */
  readonly after: number | null;
  /** Items the caller may see. */
  readonly accept: (item: T) => boolean;
  readonly signal: AbortSignal | undefined;
  /** Most items replayed or buffered before the follower is told to `reset` (default 5,000). */
  readonly maxBacklog?: number;
}

/** Yields the items of a feed from a cursor on, live, until `signal` aborts. See {@link FollowOptions}. */
export async function* follow<T extends { readonly id: number }>(options: FollowOptions<T>): AsyncGenerator<Followed<T>> {
  const maxBacklog = options.maxBacklog ?? 5_000;
  let buffer: Array<T> = [];
  let overflowed = false;
  let wake: (() => void) | null = null;
  const unsubscribe = options.subscribe((items) => {
    for (const item of items) if (options.accept(item)) buffer.push(item);
    if (buffer.length > maxBacklog) {
      buffer = [];
      overflowed = true;
    }
    wake?.();
  });
  const aborted = new Promise<void>((resolve) => {
    if (options.signal?.aborted) resolve();
    options.signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  try {
    let cursor: number;
    if (options.after === null) {
      cursor = await options.latestId();
    } else {
      cursor = options.after;
      const missed = await options.backfill(cursor, maxBacklog + 1);
      if (missed.length > maxBacklog) {
        cursor = await options.latestId();
        yield { type: "reset", cursor };
      } else {
        for (const item of missed) {
          cursor = item.id;
          if (options.accept(item)) yield { type: "item", item };
        }
      }
    }
    while (!options.signal?.aborted) {
      if (overflowed) {
        overflowed = false;
        cursor = await options.latestId();
        yield { type: "reset", cursor };
        continue;
      }
      if (buffer.length === 0) {
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
        wake = null;
        continue;
      }
      const batch = buffer;
      buffer = [];
      for (const item of batch) {
        if (item.id <= cursor) continue;
        cursor = item.id;
        yield { type: "item", item };
      }
    }
  } finally {
    unsubscribe();
  }
}
