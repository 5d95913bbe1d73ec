import type { PresenceUpdate } from "@guildhall/api";
import {
  type DeadLetter,
  DeadLetterList,
  type DeadLetterSummary,
  itemText,
  MAX_ERROR_CHARS,
  MAX_SUMMARY_CHARS,
  printable,
} from "./deadLetter";

/**
 * How a failed push is treated:
 * - `transient`: the server could not take it now (network error, connection closed, timeout,
 *   429, 502/503/504, or the bot's own key refused): the batch is kept, in order, and retried
 *   with backoff, never split;
 * - `refused`: the server will refuse this input again (a 4xx: BAD_REQUEST, CONFLICT,
 *   NOT_FOUND, PAYLOAD_TOO_LARGE, UNPROCESSABLE_CONTENT, ...): the batch is split until the
 *   refused item is alone, and that item is dead-lettered;
 * - `server`: the server failed (500). Maybe the item, maybe the server: the batch is split as
 *   for a refusal, but an item alone is retried a few times, and dead-lettered only while the
 *   server otherwise answers healthy (`serverHealthy`).
 */
export type FailureKind = "transient" | "refused" | "server";

/** A failed push as the forwarder understood it. */
export interface Failure {
  readonly kind: FailureKind;
  /** The tRPC error code (`BAD_REQUEST`, ...) when the server answered one, else null. */
  readonly code: string | null;
  /** The error's message (the server's, for an answer); printable, at most 1,000 characters. */
  readonly message: string;
}

// Not about the item: the bot's key (every item would fail alike), rate limits, the server or a
// proxy unavailable, timeouts, a procedure the server does not have (yet).
const TRANSIENT_CODES = new Set([
  "UNAUTHORIZED",
  "FORBIDDEN",
  "TIMEOUT",
  "TOO_MANY_REQUESTS",
  "CLIENT_CLOSED_REQUEST",
  "NOT_IMPLEMENTED",
  "BAD_GATEWAY",
  "SERVICE_UNAVAILABLE",
  "GATEWAY_TIMEOUT",
]);
const TRANSIENT_STATUSES = new Set([401, 403, 408, 429, 499, 501, 502, 503, 504]);

/**
 * Sorts a rejected push (a `TRPCClientError` from the typed client, or any other error) into
 * {@link FailureKind}s by the tRPC code the server answered (`error.data.code`, else
 * `error.data.httpStatus`). No code at all (network error, WebSocket closed, aborted or timed
 * out push) is transient. Codes: https://trpc.io/docs/server/error-handling#error-codes.
 */
export const classifyFailure = (error: unknown): Failure => {
  const data = typeof error === "object" && error !== null && "data" in error ? (error as { data?: unknown }).data : undefined;
  const record = typeof data === "object" && data !== null ? (data as { code?: unknown; httpStatus?: unknown }) : {};
  const code = typeof record.code === "string" ? record.code : null;
  const status = typeof record.httpStatus === "number" ? record.httpStatus : null;
  const message = printable(error instanceof Error ? error.message : String(error), MAX_ERROR_CHARS);
  if (code === null && status === null) return { kind: "transient", code: null, message };
  if ((code !== null && TRANSIENT_CODES.has(code)) || (status !== null && TRANSIENT_STATUSES.has(status))) {
    return { kind: "transient", code, message };
  }
  if (code === "INTERNAL_SERVER_ERROR" || (status !== null && status >= 500)) return { kind: "server", code, message };
  return { kind: "refused", code, message };
};

/** Options for {@link Forwarder}. */
export interface ForwarderOptions<T> {
  /** Names the queue in dead letters and the spool, e.g. `presence`. */
  readonly kind: string;
  /**
   * Sends one batch to the server, in order; rejects on failure (see {@link classifyFailure}).
   * `signal` aborts when the push takes longer than `pushTimeoutMs` or the forwarder stops.
   */
  readonly push: (items: ReadonlyArray<T>, signal: AbortSignal) => Promise<unknown>;
  /** Identity for coalescing: of several waiting items with one key, only the latest is kept. */
  readonly keyOf: (item: T) => string;
  /** One line about an item for a dead letter (ids, not its text). Default: `kind key`. */
  readonly describe?: (item: T) => string;
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
  /** A push that has not settled after this long is abandoned as transient (ms). Default 30,000. */
  readonly pushTimeoutMs?: number;
  /** First retry delay after a transient failure, doubling per failure (ms). Default 250. */
  readonly retryBaseMs?: number;
  /** Longest retry delay (ms). Default 5,000. */
  readonly retryMaxMs?: number;
  /** Pushes of an item alone that keeps failing with a server error (500) before it is given up. Default 3. */
  readonly serverErrorTries?: number;
  /**
   * Asked before an item is given up for a server error: true when the server is otherwise
   * healthy (so the error is the item's own). False keeps the item, as a transient failure.
   * Default: always healthy.
   */
  readonly serverHealthy?: () => Promise<boolean>;
  /** Each transient failure (the batch will be retried). */
  readonly onError?: (failure: Failure) => void;
  /** Each item given up, after it has been recorded; see {@link DeadLetter}. */
  readonly onDeadLetter?: (letter: DeadLetter) => void;
  /** How many dead letters are kept in memory (the newest). Default 100. */
  readonly keepDeadLetters?: number;
}

type Outcome = "ok" | Failure;

/** The items a transient failure left undelivered, in order (empty: all delivered or given up). */
type Undelivered<T> = Array<T>;

/**
 * Coalesces bursts of gateway events into batches for the server: one push in flight at a
 * time (so the server applies them in order), the next batch collected meanwhile.
 *
 * A failed push is sorted by {@link classifyFailure}. A transient failure puts the batch back
 * in front, whole and in order, and retries with backoff (`retryBaseMs` doubling to
 * `retryMaxMs`). A refusal is isolated by bisection: the first half of the refused range is
 * pushed; when it lands the refusal lies in the second half (not pushed again, only split), when
 * it is refused too the search goes on inside it. Once an item is alone, it is pushed once more
 * on its own (for its own error) and dead-lettered, and everything after it is pushed as one
 * batch. One refused item among n thus costs at most 1 + ceil(log2 n) + 2 pushes, and the items
 * behind it land in order, delayed only by those pushes.
 */
export class Forwarder<T> {
  private buffer: Array<T> = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private failures = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly stopping = new AbortController();
  private readonly letters: DeadLetterList;
  /** Items queued since start (replayed ones included). */
  received = 0;
  /** Items pushed successfully since start. */
  forwarded = 0;
  /** Items dropped by coalescing while the server was unreachable. */
  coalesced = 0;
  /** Pushes made since start (successful or not). */
  pushes = 0;

  constructor(private readonly options: ForwarderOptions<T>) {
    this.letters = new DeadLetterList(options.keepDeadLetters ?? 100);
  }

  /** The queue's name (`kind`). */
  get kind(): string {
    return this.options.kind;
  }

  /** Queues one item (ignored once stopped). */
  add(item: T): void {
    if (this.closed) return;
    this.received++;
    this.buffer.push(item);
    if (this.buffer.length > (this.options.maxBuffered ?? 50_000)) this.coalesce();
    this.schedule();
  }

  /** Items waiting to be sent (a batch in flight excluded). */
  get pending(): number {
    return this.buffer.length;
  }

  /** Items given up since start, and the newest of them. */
  deadLetters(): DeadLetterSummary {
    return this.letters.summary();
  }

  /** Resolves once everything queued so far has been pushed or given up (or the forwarder stopped). */
  drain(): Promise<void> {
    if (this.closed || (this.buffer.length === 0 && !this.flushing)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops: keeps pushing for at most `timeoutMs` (default 10,000) while anything is left, then
   * aborts the push in flight and resolves with what was not delivered, in order (a batch whose
   * push was aborted included: the server may have applied it, so delivery is at least once).
   * Items added afterwards are ignored.
   */
  async stop(timeoutMs = 10_000): Promise<Array<T>> {
    if (!this.closed) {
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([this.drain(), new Promise<void>((resolve) => (deadline = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(deadline);
      this.close();
    }
    await this.flushing;
    return this.buffer.splice(0);
  }

  /** Stops at once: nothing more is pushed, the push in flight is aborted; what waits stays in `stop()`'s answer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stopping.abort();
    this.wakeIdle();
  }

  /**
   * Gives up `items` without pushing them (e.g. undelivered at shutdown and nowhere to keep
   * them): each is recorded as a dead letter with `reason`, without calling `onDeadLetter`.
   */
  abandon(items: ReadonlyArray<T>, reason: string): void {
    for (const item of items) this.letters.add(this.letterFor(item, { kind: "refused", code: null, message: reason }, 0));
  }

  private schedule(delay = this.options.flushMs ?? 10): void {
    if (this.timer || this.flushing || this.closed) return;
    const full = this.buffer.length >= (this.options.maxBatch ?? 500);
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.flushing = this.flush().finally(() => {
          this.flushing = null;
          this.afterFlush();
        });
      },
      full && this.failures === 0 ? 0 : delay,
    );
  }

  private afterFlush(): void {
    if (this.closed) {
      this.wakeIdle();
    } else if (this.buffer.length > 0) {
      const base = this.options.retryBaseMs ?? 250;
      this.schedule(this.failures > 0 ? Math.min(base * 2 ** (this.failures - 1), this.options.retryMaxMs ?? 5_000) : this.options.flushMs);
    } else {
      this.wakeIdle();
    }
  }

  private wakeIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async flush(): Promise<void> {
    if (this.closed || this.buffer.length === 0) return;
    const batch = this.buffer.splice(0, this.options.maxBatch ?? 500);
    let undelivered: Undelivered<T>;
    try {
      undelivered = await this.deliver(batch);
    } catch (error) {
      // A callback threw (a bug): keep the batch rather than lose it; it is retried like a transient failure.
      undelivered = batch;
      this.report({ kind: "transient", code: null, message: printable(`forwarder error: ${String(error)}`, MAX_ERROR_CHARS) });
    }
    if (undelivered.length > 0) {
      // Keep order: what was not delivered goes back in front of anything that arrived meanwhile.
      this.buffer = undelivered.concat(this.buffer);
      this.failures++;
    } else {
      this.failures = 0;
    }
  }

  /** Pushes `items`, isolating refused ones; returns what a transient failure left undelivered. */
  private async deliver(items: Array<T>): Promise<Undelivered<T>> {
    let rest = items;
    while (rest.length > 0) {
      if (this.closed) return rest;
      const outcome = await this.attempt(rest);
      if (outcome === "ok") return [];
      if (outcome.kind === "transient" || (outcome.kind === "server" && !(await this.healthy()))) {
        this.report(outcome);
        return rest;
      }
      const isolated = await this.isolate(rest, outcome);
      if (isolated.undelivered) return isolated.undelivered;
      rest = rest.slice(isolated.next);
    }
    return [];
  }

  /**
   * `segment` failed as a whole with `failure`. Bisects down to its first refused item, pushing
   * what lies before it, and settles that item. Returns where the untried rest begins, or the
   * items a transient failure left undelivered.
   */
  private async isolate(segment: Array<T>, failure: Failure): Promise<{ next: number; undelivered?: Undelivered<T> }> {
    let lo = 0;
    let hi = segment.length;
    // The failure seen for exactly [lo, hi): null when only inferred (the range before it landed).
    let seen: Failure | null = failure;
    while (hi - lo > 1) {
      const mid = lo + Math.ceil((hi - lo) / 2);
      const outcome = await this.attempt(segment.slice(lo, mid));
      if (outcome === "ok") {
        lo = mid;
        seen = null;
      } else if (outcome.kind === "transient") {
        this.report(outcome);
        return { next: lo, undelivered: segment.slice(lo) };
      } else {
        hi = mid;
        seen = outcome;
      }
    }
    const settled = await this.settleOne(segment[lo] as T, seen);
    if (!settled) return { next: lo, undelivered: segment.slice(lo) };
    return { next: lo + 1 };
  }

  /**
   * One item that failed (`seen`), or lies where a failure was inferred (`seen` null): pushes it
   * alone until it lands (true), is refused or keeps failing with a server error while the
   * server is otherwise healthy (dead-lettered, true), or meets a transient failure (false).
   */
  private async settleOne(item: T, seen: Failure | null): Promise<boolean> {
    let failure = seen;
    let attempts = seen ? 1 : 0;
    const tries = this.options.serverErrorTries ?? 3;
    for (;;) {
      if (!failure) {
        if (this.closed) return false;
        const outcome = await this.attempt([item]);
        attempts++;
        if (outcome === "ok") return true;
        failure = outcome;
      }
      if (failure.kind === "transient") {
        this.report(failure);
        return false;
      }
      if (failure.kind === "server" && attempts < tries) {
        await this.pause(Math.min((this.options.retryBaseMs ?? 250) * 2 ** (attempts - 1), this.options.retryMaxMs ?? 5_000));
        failure = null;
        continue;
      }
      if (failure.kind === "server" && !(await this.healthy())) {
        this.report(failure);
        return false;
      }
      const letter = this.letterFor(item, failure, attempts);
      this.letters.add(letter);
      try {
        this.options.onDeadLetter?.(letter);
      } catch {
        // The letter is recorded; a reporting callback that throws must not stop delivery.
      }
      return true;
    }
  }

  /** One push, bounded by `pushTimeoutMs` and aborted when the forwarder stops. */
  private async attempt(items: ReadonlyArray<T>): Promise<Outcome> {
    if (this.closed) return { kind: "transient", code: null, message: "the forwarder stopped" };
    this.pushes++;
    const controller = new AbortController();
    let reason = "";
    const abort = (why: string) => {
      reason = why;
      controller.abort();
    };
    const onStop = () => abort("the forwarder stopped");
    const timer = setTimeout(() => abort("the push timed out"), this.options.pushTimeoutMs ?? 30_000);
    this.stopping.signal.addEventListener("abort", onStop, { once: true });
    try {
      // Settles on abort even when the push itself never does (a request queued on a closed socket).
      await new Promise((resolve, reject) => {
        controller.signal.addEventListener("abort", () => reject(new Error(reason)), { once: true });
        this.options.push(items, controller.signal).then(resolve, reject);
      });
      this.forwarded += items.length;
      return "ok";
    } catch (error) {
      return controller.signal.aborted ? { kind: "transient", code: null, message: reason } : classifyFailure(error);
    } finally {
      clearTimeout(timer);
      this.stopping.signal.removeEventListener("abort", onStop);
    }
  }

  /** Tells `onError` about a transient failure (not once stopped: aborts are expected then). */
  private report(failure: Failure): void {
    if (this.closed) return;
    try {
      this.options.onError?.(failure);
    } catch {
      // A logging callback that throws must not stop delivery.
    }
  }

  private async healthy(): Promise<boolean> {
    if (this.closed) return false;
    return this.options.serverHealthy ? this.options.serverHealthy().catch(() => false) : true;
  }

  /** Waits `ms`, or less when the forwarder stops. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopping.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stopping.signal.addEventListener("abort", done, { once: true });
    });
  }

  private letterFor(item: T, failure: Failure, attempts: number): DeadLetter {
    const key = this.options.keyOf(item);
    return {
      kind: this.options.kind,
      key: printable(key, 100),
      summary: printable(this.options.describe?.(item) ?? `${this.options.kind} ${key}`, MAX_SUMMARY_CHARS),
      item: itemText(item),
      code: failure.code,
      error: failure.message,
      attempts,
      at: Date.now(),
    };
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
  constructor(options: Omit<ForwarderOptions<PresenceUpdate>, "keyOf" | "kind" | "describe">) {
    super({
      ...options,
      kind: "presence",
      keyOf: (update) => `${update.guildId}:${update.userId}`,
      describe: (update) => `presence (${update.status}) of user ${update.userId} in guild ${update.guildId}`,
    });
  }
}
