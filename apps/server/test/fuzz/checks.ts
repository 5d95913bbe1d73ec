/**
 * The checks after every fuzz case, on the server under fuzz: nothing left open (runs, bot jobs;
 * then, waiting a bounded while, advisory locks, server jobs and idle transactions), /healthz
 * answering 200, and no error escaped to the process. What leaked is cleaned up (the run is
 * aborted) so that later cases start from a usable state; the leak is still reported.
 */
import { EscapedErrors, heldNow, leaks, type OpenState, openState } from "@guildhall/fuzz";
import { MemberSync } from "@guildhall/sync";
import { vi } from "vitest";
import type { FuzzTarget } from "./target";

export { EscapedErrors, type OpenState, openState };

/** How long locks, server jobs and transactions may take to close after an answer (ms). */
const SETTLE_MS = 5_000;

/** The problems after one case whose answer's text is `answerText` (empty: all is well). */
export const checkAfter = async (
  target: FuzzTarget,
  before: OpenState,
  answerText: string,
  escaped: EscapedErrors,
): Promise<Array<string>> => {
  const after = await openState(target.invariants);
  const problems = leaks(before, after, answerText);
  for (const id of after.runs) {
    if (!before.runs.has(id) && !answerText.includes(id)) {
      await target.server.runtime.runPromise(MemberSync.use((sync) => sync.abort(id, "fuzz cleanup: left running by a failed case")));
    }
  }
  const held = await vi
    .waitFor(
      async () => {
        const now = await heldNow(target.invariants);
        if (now.length > 0) throw new Error(now.join("; "));
      },
      { timeout: SETTLE_MS, interval: 20 },
    )
    .then(
      () => null,
      (error: Error) => error.message,
    );
  if (held) problems.push(`still held after ${SETTLE_MS / 1000} s: ${held}`);
  const health = await fetch(`${target.server.url}/healthz`, { signal: AbortSignal.timeout(10_000) }).then(
    (r) => r.status,
    (e: Error) => e.message,
  );
  if (health !== 200) problems.push(`/healthz answered ${health}`);
  problems.push(...escaped.take());
  return problems;
};
