/**
 * The shape every Guildhall subscription follows (after trpc/trpc's examples): subscribe to
 * the live feed first, then backfill from the database after the client's cursor, then
 * yield live batches, skipping anything the backfill already covered. Nothing committed
 * between the two steps is lost, and nothing is sent twice.
 */

/**
 * What a follower yields: items committed together (one NOTIFY, or one page of backfill),
 * in id order, or `reset` when the client fell too far behind to replay. A live batch that
 * needed no trimming is yielded as the very array `select` returned, so callers can share
 * one event (and its serialization) between all subscribers.
 */
export type Followed<T> =
  | { readonly type: "items"; readonly items: ReadonlyArray<T> }
  | { readonly type: "reset"; readonly cursor: number };

export interface FollowOptions<T extends { readonly id: number }> {
  /** Starts live delivery of committed batches; returns the function that stops it. */
  readonly subscribe: (push: (items: ReadonlyArray<T>) => void) => () => void;
  /** Items with id > `afterId`, oldest first, at most `limit`. */
  readonly backfill: (afterId: number, limit: number) => Promise<ReadonlyArray<T>>;
  /** The newest id now; where a follower with no cursor starts. */
  readonly latestId: () => Promise<number>;
  /** Resume after this id; null to start from now. */
  readonly after: number | null;
  /**
   * The items of a batch this follower may see, in order. Called once per live batch; return
   * the same array for the same batch (memoize) to let subscribers share events.
   */
  readonly select: (items: ReadonlyArray<T>) => ReadonlyArray<T>;
  readonly signal: AbortSignal | undefined;
  /** Most items replayed or buffered before the follower is told to `reset` (default 5,000). */
  readonly maxBacklog?: number;
  /** Most items in one yielded backfill page (default 500). */
  readonly maxBatch?: number;
}

/** Yields a feed's items from a cursor on, live, until `signal` aborts. See {@link FollowOptions}. */
export async function* follow<T extends { readonly id: number }>(options: FollowOptions<T>): AsyncGenerator<Followed<T>> {
  const maxBacklog = options.maxBacklog ?? 5_000;
  const maxBatch = options.maxBatch ?? 500;
  let buffer: Array<ReadonlyArray<T>> = [];
  let buffered = 0;
  let overflowed = false;
  let wake: (() => void) | null = null;
  const unsubscribe = options.subscribe((items) => {
    const selected = options.select(items);
    if (selected.length > 0) {
      buffer.push(selected);
      buffered += selected.length;
    }
    if (buffered > maxBacklog) {
      buffer = [];
      buffered = 0;
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
        cursor = missed.at(-1)?.id ?? cursor;
        const selected = options.select(missed);
        for (let i = 0; i < selected.length; i += maxBatch) yield { type: "items", items: selected.slice(i, i + maxBatch) };
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
      const batches = buffer;
      buffer = [];
      buffered = 0;
      for (const batch of batches) {
        if (batch[batch.length - 1]!.id <= cursor) continue;
        // Only a batch overlapping the backfill needs trimming (and loses its shared identity).
        const items = batch[0]!.id > cursor ? batch : batch.filter((item) => item.id > cursor);
        cursor = items[items.length - 1]!.id;
        yield { type: "items", items };
      }
    }
  } finally {
    unsubscribe();
  }
}
