/**
 * The shape every Guildhall subscription follows (after trpc/trpc's examples): subscribe to
 * the live feed first, then backfill from the database after the client's cursor, then
 * yield live items, skipping any the backfill already covered. Nothing committed between the
 * two steps is lost, and nothing is sent twice.
 */

/**
 * What a follower yields: the items committed together (one NOTIFY, or one page of backfill,
 * in id order), or `reset` when the client fell too far behind to replay. Yielding batches
 * rather than single items keeps one message per burst per subscriber.
 */
export type Followed<T> = { readonly type: "items"; readonly items: ReadonlyArray<T> } | { readonly type: "reset"; readonly cursor: number };

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
  /** Most items in one yielded batch (default 500). */
  readonly maxBatch?: number;
}

/** Yields the items of a feed from a cursor on, live, until `signal` aborts. See {@link FollowOptions}. */
export async function* follow<T extends { readonly id: number }>(options: FollowOptions<T>): AsyncGenerator<Followed<T>> {
  const maxBacklog = options.maxBacklog ?? 5_000;
  const maxBatch = options.maxBatch ?? 500;
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
        const accepted = missed.filter((item) => options.accept(item));
        cursor = missed.at(-1)?.id ?? cursor;
        for (let i = 0; i < accepted.length; i += maxBatch) yield { type: "items", items: accepted.slice(i, i + maxBatch) };
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
      const fresh = buffer.filter((item) => item.id > cursor);
      buffer = [];
      if (fresh.length === 0) continue;
      cursor = fresh[fresh.length - 1]!.id;
      for (let i = 0; i < fresh.length; i += maxBatch) yield { type: "items", items: fresh.slice(i, i + maxBatch) };
    }
  } finally {
    unsubscribe();
  }
}
