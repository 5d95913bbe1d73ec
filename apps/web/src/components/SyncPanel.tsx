/** The member sync panel: "Sync now", the live progress bar of a running sync, and the last run's outcome. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useEffect, useState } from "react";
import { SYNC_INPUT } from "../lib/queries";
import { durationSeconds, heldText, SYNC_SOURCE_LABEL, SYNC_TRIGGER_LABEL, syncCountsText, syncPercent, upsertRun } from "../lib/sync";
import { relativeTime, useNow } from "../lib/time";
import { trpc } from "../lib/trpc";
import type { SyncRun } from "../lib/types";
import { useSyncProgress } from "../lib/useSyncProgress";
import { SyncOutcomeBadge } from "./SyncOutcomeBadge";

/** After this long without a new run, a "Sync now" request is reported as not picked up (ms). */
const PICKUP_WARN_MS = 30_000;

/**
 * The sync panel, live from `members.progress`. Test hooks: `data-testid="sync-progress"` with
 * `data-status` (the newest run's status: running | completed | incomplete | failed |
 * awaiting_confirmation | discarded, or "none" before the first sync), `data-chunks` (chunks
 * received), `data-chunk-count` (the run's chunk count, "" while unknown), `data-requested="true"`
 * between a "Sync now" click and the run it started, and `data-loading` ("true" until the last
 * run is known); the button is `data-testid="sync-now"`. A run held by the mass-leave guard
 * shows what it would do, and (for admins, `isAdmin`) the buttons that decide it:
 * `data-testid="sync-confirm"` and `"sync-discard"`. `showHistoryLink` adds a link to
 * /members/history.
 */
export function SyncPanel({ showHistoryLink = false, isAdmin = false }: { showHistoryLink?: boolean; isAdmin?: boolean }) {
  const { run, loading, live } = useSyncProgress();
  const now = useNow(1_000);
  // The newest run's id when "Sync now" was pressed: until another run shows up, we are waiting for the bot.
  const [request, setRequest] = useState<{ baseline: string | null; at: number } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const requestSync = useMutation(
    trpc.members.requestSync.mutationOptions({
      onError: (e) => {
        setRequest(null);
        setError(`Could not request a sync: ${e.message}`);
      },
    }),
  );

  const runId = run?.id ?? null;
  // Derived state, set during render: the run we were waiting for has started.
  if (request && runId !== request.baseline) setRequest(null);
  const waiting = request !== null;
  const running = run?.status === "running";

  useEffect(() => {
    if (!error) return;
    const timer = window.setTimeout(() => setError(null), 10_000);
    return () => window.clearTimeout(timer);
  }, [error]);

  return (
    <section
      className="card sync"
      aria-labelledby="sync-title"
      data-testid="sync-progress"
      data-status={run?.status ?? "none"}
      data-chunks={run?.chunksReceived ?? 0}
      data-chunk-count={run?.chunkCount ?? ""}
      data-requested={waiting ? "true" : undefined}
      data-loading={loading ? "true" : "false"}
    >
      <div className="sync-head">
        <div className="sync-title-row">
          <h2 className="card-title" id="sync-title">
            Member sync
          </h2>
          {run ? <SyncOutcomeBadge status={run.status} /> : null}
          {live === "reconnecting" ? (
            <span className="muted small" title="The live progress connection dropped; it reconnects by itself">
              Reconnecting…
            </span>
          ) : null}
        </div>
        <div className="sync-actions">
          {showHistoryLink ? (
            <Link to="/members/history" className="button ghost">
              History
            </Link>
          ) : null}
          <button
            type="button"
            className="button primary"
            data-testid="sync-now"
            disabled={loading || running || waiting || requestSync.isPending}
            title={running ? "A sync is already running" : "Ask the bot to read every guild member from Discord now"}
            onClick={() => {
              setError(null);
              setRequest({ baseline: runId, at: Date.now() });
              requestSync.mutate(SYNC_INPUT);
            }}
          >
            <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true">
              <path
                d="M20 12a8 8 0 1 1-2.3-5.7M20 4v5h-5"
                fill="none"
                stroke="currentColor"
                strokeWidth="2"
                strokeLinecap="round"
                strokeLinejoin="round"
              />
            </svg>
            {running ? "Syncing…" : waiting ? "Requested…" : "Sync now"}
          </button>
        </div>
      </div>
      <div className="sync-body" role="status" aria-live="polite">
        {error ? (
          <p className="error small" role="alert" data-testid="sync-error">
            {error}
          </p>
        ) : waiting ? (
          <p className={now - (request?.at ?? now) > PICKUP_WARN_MS ? "error small" : "muted small"} data-testid="sync-waiting">
            {now - (request?.at ?? now) > PICKUP_WARN_MS
              ? "The bot has not started the sync yet. Check that it is running (Roster → Bot); the request stays queued."
              : "Sync requested; waiting for the bot to start it…"}
          </p>
        ) : loading ? (
          <p className="muted small">Loading the last sync…</p>
        ) : !run ? (
          <p className="muted small">No member sync has run yet. Press “Sync now” to read the guild’s members.</p>
        ) : run.status === "running" ? (
          <RunningSync run={run} now={now} />
        ) : run.status === "awaiting_confirmation" ? (
          <HeldSync run={run} now={now} isAdmin={isAdmin} />
        ) : (
          <EndedSync run={run} now={now} />
        )}
      </div>
    </section>
  );
}

function RunningSync({ run, now }: { run: SyncRun; now: number }) {
  const percent = syncPercent(run);
  return (
    <div className="sync-running">
      <div
        className={`progress${percent === null ? " progress-indeterminate" : ""}`}
        role="progressbar"
        aria-label="Member sync progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent ?? undefined}
      >
        <div className="progress-fill" style={percent === null ? undefined : { width: `${percent}%` }} />
      </div>
      <p className="small sync-line">
        <span className="strong">
          {run.chunkCount
            ? `Chunk ${run.chunksReceived.toLocaleString("en")} of ${run.chunkCount.toLocaleString("en")}`
            : "Waiting for the first chunk"}
        </span>
        <span className="muted">
          {" · "}
          {run.rowsReceived.toLocaleString("en")} rows applied · started {relativeTime(run.startedAt, now)}
          {percent !== null ? ` · ${percent}%` : ""}
        </span>
      </p>
    </div>
  );
}

/**
 * A complete sync the mass-leave guard held: what it would do, and for admins the two
 * decisions (`members.confirmSync`, `members.discardSync`). The answer is folded into the
 * cached history at once; `members.progress` brings the same state to every other page.
 */
function HeldSync({ run, now, isAdmin }: { run: SyncRun; now: number; isAdmin: boolean }) {
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const settle = {
    onSuccess: (decided: SyncRun) => {
      setError(null);
      queryClient.setQueryData(trpc.members.history.queryKey(SYNC_INPUT), (runs) => runs && [...upsertRun(runs, decided)]);
      void queryClient.invalidateQueries(trpc.members.comparison.pathFilter(), { cancelRefetch: false });
      void queryClient.invalidateQueries(trpc.members.history.queryFilter(SYNC_INPUT), { cancelRefetch: false });
    },
    onError: (e: { message: string }) => setError(e.message),
  };
  const confirm = useMutation(trpc.members.confirmSync.mutationOptions(settle));
  const discard = useMutation(trpc.members.discardSync.mutationOptions(settle));
  const busy = confirm.isPending || discard.isPending;
  const when = run.finishedAt ?? run.startedAt;
  return (
    <div className="sync-held">
      <p className="small" data-testid="sync-outcome-text">
        The sync that completed{" "}
        <time dateTime={when} title={new Date(when).toLocaleString()}>
          {relativeTime(when, now)}
        </time>{" "}
        <span className="strong" data-testid="sync-held-text">
          {heldText(run)}
        </span>
        : more than this guild allows at once, so nobody was marked left.{" "}
        {isAdmin ? "Confirm it if they really left; discard it if the snapshot was wrong." : "An admin must confirm or discard it."}
      </p>
      {isAdmin ? (
        <div className="sync-held-actions">
          <button
            type="button"
            className="button danger"
            data-testid="sync-confirm"
            disabled={busy}
            onClick={() => confirm.mutate({ ...SYNC_INPUT, runId: run.id })}
          >
            {confirm.isPending ? "Marking…" : `Mark ${run.pendingLeft.toLocaleString("en")} left`}
          </button>
          <button
            type="button"
            className="button"
            data-testid="sync-discard"
            disabled={busy}
            onClick={() => discard.mutate({ ...SYNC_INPUT, runId: run.id })}
          >
            {discard.isPending ? "Discarding…" : "Discard"}
          </button>
        </div>
      ) : null}
      {error ? (
        <p className="error small" role="alert" data-testid="sync-decision-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function EndedSync({ run, now }: { run: SyncRun; now: number }) {
  const when = run.finishedAt ?? run.startedAt;
  const ago = (
    <time dateTime={when} title={new Date(when).toLocaleString()}>
      {relativeTime(when, now)}
    </time>
  );
  return (
    <div className="sync-ended">
      {run.status === "completed" ? (
        <p className="small" data-testid="sync-outcome-text">
          Last sync completed {ago} in {durationSeconds(run.durationMs)} s: <span className="strong">{syncCountsText(run)}</span>.
        </p>
      ) : run.status === "discarded" ? (
        <p className="small" data-testid="sync-outcome-text">
          Last sync was discarded {ago}: <span className="strong">{run.reason ?? "no reason given"}</span>.
        </p>
      ) : run.status === "incomplete" ? (
        <p className="small" data-testid="sync-outcome-text">
          Last sync ended incomplete {ago}
          {run.chunkCount ? ` after ${run.chunksReceived} of ${run.chunkCount} chunks` : ""}:{" "}
          <span className="strong">{run.reason ?? "no reason given"}</span>. Nobody was marked left.
        </p>
      ) : (
        <p className="small error" data-testid="sync-outcome-text">
          Last sync failed {ago}: <span className="strong">{run.reason ?? "no reason given"}</span>.
        </p>
      )}
      <p className="muted small">
        Trigger: {SYNC_TRIGGER_LABEL[run.trigger]} · Source: {SYNC_SOURCE_LABEL[run.source]}
      </p>
    </div>
  );
}
