import type { PresenceUpdate } from "@guildhall/api";

/** Options for {@link Forwarder}. */
export interface ForwarderOptions<T> {
  /** Sends one batch to the server; rejects on failure (the batch is then retried). */
  readonly push: (updates: ReadonlyArray<T>) => Promise<unknown>;
  /** Identity for coalescing: of several waiting items with one key, only the latest is kept. */
  readonly keyOf: (item: T) => string;
  /** How long the first update of a batch waits for company (ms). Default 10. */
  readonly flushMs?: number;
  /** Largest batch sent at once. Default 500 (the server takes up to 1,000). */
  readonly maxBatch?: number;
  /**
   * Above this many waiting updates (the server unreachable for a long time), older updates
   * of the same user are dropped, keeping each user's latest: the current state is never lost.
   * Default 50,000.
   */
  readonly maxBuffered?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Coalesces bursts of gateway events into batches for the server: one push in flight at a
 * time (so the server applies them in order), the next batch collected meanwhile, failed
 * pushes retried with backoff (250 ms doubling to 5 s).
 */
export class Forwarder<T> {
  private buffer: Array<T> = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = false;
  private failures = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  /** Updates pushed successfully since start. */
  forwarded = 0;
  /** Updates dropped by coalescing while the server was unreachable. */
  coalesced = 0;

  constructor(private readonly options: ForwarderOptions<T>) {}

  /** Queues one item. */
  add(update: T): void {
    if (this.closed) return;
    this.buffer.push(update);
    if (this.buffer.length > (this.options.maxBuffered ?? 50_000)) this.coalesce();
    this.schedule();
  }

  /** Updates waiting to be sent. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Resolves once everything queued so far has been pushed. */
  drain(): Promise<void> {
    if (this.buffer.length === 0 && !this.inFlight) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops sending; pending updates are dropped. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private schedule(delay = this.options.flushMs ?? 10): void {
    if (this.timer || this.inFlight || this.closed) return;
    const full = this.buffer.length >= (this.options.maxBatch ?? 500);
    this.timer = setTimeout(
      () => {
        this.timer = null;
        void this.flush();
      },
      full && this.failures === 0 ? 0 : delay,
    );
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.closed || this.buffer.length === 0) return;
    this.inFlight = true;
    const batch = this.buffer.splice(0, this.options.maxBatch ?? 500);
    try {
      await this.options.push(batch);
      this.forwarded += batch.length;
      this.failures = 0;
    } catch (error) {
      // Keep order: the failed batch goes back in front of anything that arrived meanwhile.
      this.buffer = batch.concat(this.buffer);
      this.failures++;
      this.options.onError?.(error);
    } finally {
      this.inFlight = false;
    }
    if (this.buffer.length > 0) {
      this.schedule(this.failures > 0 ? Math.min(250 * 2 ** (this.failures - 1), 5_000) : (this.options.flushMs ?? 10));
    } else {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private coalesce(): void {
    const latest = new Map<string, T>();
    for (const item of this.buffer) latest.set(this.options.keyOf(item), item);
    this.coalesced += this.buffer.length - latest.size;
    this.buffer = [...latest.values()];
  }
}

/** Presence updates, coalesced per guild and user. */
export class PresenceForwarder extends Forwarder<PresenceUpdate> {
  constructor(options: Omit<ForwarderOptions<PresenceUpdate>, "keyOf">) {
    super({ ...options, keyOf: (update) => `${update.guildId}:${update.userId}` });
  }
}
