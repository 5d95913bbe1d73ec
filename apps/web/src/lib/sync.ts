/**
 * Pure logic of member sync runs: labels, the progress bar's percentage, the outcome counts,
 * durations, and how a run from `members.progress` is folded into the cached history.
 * No React, no IO.
 */
import type { SyncRun, SyncStatus, SyncTrigger } from "./types";

/** Human labels of run statuses (colour is never the only signal). */
export const SYNC_STATUS_LABEL: Record<SyncStatus, string> = {
  running: "Running",
  completed: "Completed",
  incomplete: "Incomplete",
  failed: "Failed",
  awaiting_confirmation: "Awaiting confirmation",
  discarded: "Discarded",
};

/**
 * How far a status is along a run's one way: 0 running, 1 held for an admin (the mass-leave
 * guard), 2 ended for good. A state is never replaced by one of a lower stage.
 */
export function syncStage(status: SyncStatus): 0 | 1 | 2 {
  return status === "running" ? 0 : status === "awaiting_confirmation" ? 1 : 2;
}

/**
 * What a held run would do, as text: "would mark 39 of 39 present members left (100%)". The
 * share is of the members present when the guard weighed it, rounded down to one decimal.
 */
export function heldText(run: Pick<SyncRun, "pendingLeft" | "presentMembers">): string {
  const members = `${run.pendingLeft.toLocaleString("en")} ${run.pendingLeft === 1 ? "member" : "members"}`;
  if (!run.presentMembers) return `would mark ${members} left`;
  const share = Math.floor((run.pendingLeft * 1000) / run.presentMembers) / 10;
  return `would mark ${members} of ${run.presentMembers.toLocaleString("en")} present left (${share}%)`;
}

/** What started a run: the bot's slash command, the SPA's "Sync now", the bot's schedule, the legacy REST endpoint, an API call. */
export const SYNC_TRIGGER_LABEL: Record<SyncTrigger, string> = {
  command: "Command",
  button: "Button",
  schedule: "Schedule",
  rest: "REST",
  api: "API",
};

/** Where a run's members came from. */
export const SYNC_SOURCE_LABEL: Record<SyncRun["source"], string> = {
  gateway: "Gateway",
  rest: "REST",
  legacy: "Legacy endpoint",
};

/**
 * How far a run is, in whole percent 0-100: chunks received of `chunkCount`. Null while a
 * running run does not know its chunk count yet (the bar is then indeterminate); 100 once
 * the run completed.
 */
export function syncPercent(run: Pick<SyncRun, "status" | "chunkCount" | "chunksReceived">): number | null {
  if (run.status === "completed") return 100;
  if (!run.chunkCount || run.chunkCount <= 0) return null;
  return Math.max(0, Math.min(100, Math.floor((run.chunksReceived / run.chunkCount) * 100)));
}

/** The counts a run reports, in display order, with labels. */
export const SYNC_COUNTS = [
  { key: "created", label: "new" },
  { key: "updated", label: "updated" },
  { key: "rejoined", label: "rejoined" },
  { key: "markedLeft", label: "marked left" },
  { key: "unchanged", label: "unchanged" },
] as const satisfies ReadonlyArray<{ key: keyof SyncRun; label: string }>;

/** A run's non-zero counts as text: "3 new, 2 marked left, 495 unchanged"; "no members" when all are zero. */
export function syncCountsText(run: Pick<SyncRun, (typeof SYNC_COUNTS)[number]["key"]>): string {
  const parts = SYNC_COUNTS.filter((c) => run[c.key] > 0).map((c) => `${run[c.key].toLocaleString("en")} ${c.label}`);
  return parts.length > 0 ? parts.join(", ") : "no members";
}

/**
 * A duration given in ms as seconds, without the unit: one decimal under 10 s ("0.2", "9.5"),
 * whole seconds from there ("12", "340"). Null (still running) gives "—".
 */
export function durationSeconds(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  const seconds = Math.max(0, ms) / 1000;
  return seconds < 10 ? seconds.toFixed(1) : String(Math.round(seconds));
}

/** Most runs `members.history` returns; the cache never holds more. */
export const HISTORY_LIMIT = 50;

/**
 * `runs` (newest first) with `run` in it: replaced in place when its id is there (unless the
 * cached copy is further along, by stage or by chunks, which a late, out-of-order event must
 * not undo), else added
 * at the top. Capped at {@link HISTORY_LIMIT}. The same array when nothing changed.
 */
export function upsertRun(runs: ReadonlyArray<SyncRun>, run: SyncRun): ReadonlyArray<SyncRun> {
  const index = runs.findIndex((r) => r.id === run.id);
  if (index === -1) {
    return [run, ...runs].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt)).slice(0, HISTORY_LIMIT);
  }
  const cached = runs[index] as SyncRun;
  if (syncStage(run.status) < syncStage(cached.status)) return runs;
  if (cached.status === "running" && run.status === "running" && run.chunksReceived < cached.chunksReceived) return runs;
  const next = [...runs];
  next[index] = run;
  return next;
}
