/**
 * A process-local fan-out of rows announced through Postgres NOTIFY.
 *
 * Writers NOTIFY a channel inside the transaction that writes the rows, so every server
 * instance on the database hears of every change once it is committed. Each instance keeps
 * one LISTEN and hands what it hears to its in-process subscribers, in id order.
 */
import { type Database, describeDatabaseFailure } from "@guildhall/db";
import { Effect } from "effect";

export type Listener<T> = (items: ReadonlyArray<T>) => void;

/** The NOTIFY payload: the rows themselves when they fit, otherwise the id range to read back. */
export type FeedPayload<T> = { readonly items: ReadonlyArray<T> } | { readonly range: readonly [number, number] };

/** Postgres refuses NOTIFY payloads of 8,000 bytes or more; stay clear of the edge. */
export const MAX_NOTIFY_BYTES = 7_500;

/** Encodes `items` (ids `fromId..toId`) as a NOTIFY payload, falling back to the id range when too long. */
export const encodePayload = <T>(items: ReadonlyArray<T>, fromId: number, toId: number): string => {
  const inline = JSON.stringify({ items });
  return Buffer.byteLength(inline) < MAX_NOTIFY_BYTES ? inline : JSON.stringify({ range: [fromId, toId] });
};

/**
 * Fans out notifications to subscribers. `fetchRange(from, to)` reads rows back when a
 * payload only carried their id range. Deliveries are serialised so subscribers see ids in
 * the order they were announced.
 */
export class Feed<T> {
  private readonly listeners = new Set<Listener<T>>();
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly fetchRange: (fromId: number, toId: number) => Promise<ReadonlyArray<T>>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Number of live subscribers (for health reporting). */
  get size(): number {
    return this.listeners.size;
  }

  /** Adds `listener`; returns the function that removes it. */
  subscribe(listener: Listener<T>): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Handles one raw NOTIFY payload (see {@link encodePayload}); malformed payloads are reported, not thrown. */
  receive(raw: string): void {
    this.tail = this.tail.then(async () => {
      try {
        const payload = JSON.parse(raw) as FeedPayload<T>;
        const items = "items" in payload ? payload.items : await this.fetchRange(payload.range[0], payload.range[1]);
        if (items.length > 0) this.publish(items);
      } catch (error) {
        this.onError(error);
      }
    });
  }

  /** Delivers `items` to every subscriber now; a throwing subscriber does not stop the others. */
  publish(items: ReadonlyArray<T>): void {
    for (const listener of this.listeners) {
      try {
        listener(items);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}

/**
 * A {@link Feed} fed by a LISTEN on `channel` for as long as the surrounding scope lasts;
 * `label` names it in the error log (an Effect log at Error level, through the caller's
 * logger; a database error is described without its query or parameters).
 * Fails with `DatabaseError` when the LISTEN fails.
 */
export const listenFeed = Effect.fn("Feed.listen")(function* <T>(
  database: Database["Service"],
  channel: string,
  label: string,
  fetchRange: (fromId: number, toId: number) => Promise<ReadonlyArray<T>>,
) {
  // Deliveries happen outside any fiber (in the driver's notification callback): log through
  // the context the feed was built in, so the process's logger and level apply.
  const logError = Effect.runForkWith(yield* Effect.context<never>());
  const feed = new Feed<T>(fetchRange, (error) =>
    logError(Effect.logError(`${label} feed error: ${describeDatabaseFailure(error).message}`).pipe(Effect.annotateLogs({ channel }))),
  );
  yield* database.listen(channel, (payload) => feed.receive(payload));
  return feed;
});
