/** Waiting on a condition without fixed sleeps: the emulator's `waitFor*` helpers poll with it. */

/**
 * Calls `read` every `everyMs` (ms) until `predicate` holds on its result and resolves with that
 * result; rejects after `timeoutMs` (ms) with an Error that names `what` and shows the last result,
 * or at once with whatever `read` throws.
 */
export async function pollUntil<T>(
  read: () => T | Promise<T>,
  predicate: (value: T) => boolean,
  timeoutMs: number,
  everyMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value)) return value;
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last state: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(everyMs, Math.max(1, deadline - Date.now()))));
  }
}
