/**
 * The event ids of `members.progress`, derived from the run row alone, so every server
 * instance gives the same state of a run the same id and ids grow along the database's own
 * order (no per-process counter):
 *
 *   `<startedAt, epoch ms, 13 digits>.<stage: 0 running | 1 awaiting confirmation | 2 ended>.<chunks received, 10 digits>`
 *
 * - Runs of a guild are ordered by `startedAt` (Postgres `now()` at insert): a run can only
 *   start once the previous one has stopped running (one running run per guild, a unique index).
 * - Within a run, `chunksReceived` only grows while it runs (chunk rows are only added); a run
 *   then ends once (completed, incomplete, failed), or is held for an admin
 *   (`awaiting_confirmation`) and later decided once (completed or discarded): the stage only
 *   grows, and an ended state is final.
 *
 * The parts are zero-padded to fixed widths, so comparing two ids as strings compares the
 * states: a later state has a greater id.
 */
import type { SyncRun } from "@guildhall/sync";
import { Schema } from "effect";

/** A `members.progress` event id, as {@link progressId} writes it (what tRPC's client sends back as `lastEventId`). */
export const ProgressCursor = Schema.String.check(
  Schema.isPattern(/^[0-9]{13}\.[0-2]\.[0-9]{10}$/, { message: "must be a members.progress event id" }),
);

/** How far a run's status is along its one way: 0 running, 1 held for an admin, 2 ended for good. */
const stageOf = (status: SyncRun["status"]): 0 | 1 | 2 => (status === "running" ? 0 : status === "awaiting_confirmation" ? 1 : 2);

/** The event id of `run` in its current state. */
export const progressId = (run: Pick<SyncRun, "startedAt" | "status" | "chunksReceived">): string =>
  `${String(Date.parse(run.startedAt)).padStart(13, "0")}.${stageOf(run.status)}.${String(run.chunksReceived).padStart(10, "0")}`;

/**
 * Of `runs` (any order), the states a subscriber whose last event was `after` has not seen,
 * oldest first: every run whose id is greater (one state per run). `after` null (a new
 * subscriber) gives just the newest run, as a starting point.
 */
export const progressAfter = (runs: ReadonlyArray<SyncRun>, after: string | null): ReadonlyArray<SyncRun> => {
  const byId = new Map<string, SyncRun>();
  for (const run of runs) {
    const id = progressId(run);
    const kept = byId.get(run.id);
    if (!kept || progressId(kept) < id) byId.set(run.id, run);
  }
  const sorted = [...byId.values()].sort((a, b) => (progressId(a) < progressId(b) ? -1 : 1));
  if (after === null) return sorted.slice(-1);
  return sorted.filter((run) => progressId(run) > after);
};
