/** `/members/history`: the guild's member sync runs, newest first, live while one runs. */
import { useQuery } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { AppHeader } from "../components/AppHeader";
import { NotStaff } from "../components/NotStaff";
import { ScrollRegion } from "../components/ScrollRegion";
import { SyncOutcomeBadge } from "../components/SyncOutcomeBadge";
import { SyncPanel } from "../components/SyncPanel";
import { SYNC_INPUT } from "../lib/queries";
import { durationSeconds, SYNC_SOURCE_LABEL, SYNC_TRIGGER_LABEL, syncPercent } from "../lib/sync";
import { formatDateTime, relativeTime, useNow } from "../lib/time";
import { trpc } from "../lib/trpc";
import type { SyncRun } from "../lib/types";

const historyRoute = getRouteApi("/members/history");

/** The sync history page; signed-in users who are not staff get an explanation instead. */
export function SyncHistoryPage() {
  const { me } = historyRoute.useRouteContext();
  return (
    <div className="app">
      <AppHeader me={me} />
      {me.staff ? <History /> : <NotStaff me={me} />}
    </div>
  );
}

/** The runs table: `data-testid="sync-history"`, with `data-loading` ("true" until `members.history` answered). */
function History() {
  // Kept current by members.progress (the SyncPanel's subscription writes each run into this cache).
  const history = useQuery(trpc.members.history.queryOptions(SYNC_INPUT));
  const now = useNow(30_000);
  const runs = history.data ?? [];

  return (
    <main className="page">
      <div className="page-head">
        <div>
          <h1 className="page-title">Sync history</h1>
          <p className="muted page-sub">
            Full member syncs of your guild, newest first (the last 50). Members are marked left only by a completed sync.
          </p>
        </div>
      </div>
      <SyncPanel />
      <section
        className="card roster"
        aria-labelledby="history-title"
        data-testid="sync-history"
        data-loading={history.isPending ? "true" : "false"}
      >
        <div className="card-header">
          <h2 className="card-title" id="history-title">
            Runs
            <span className="count-pill">{runs.length}</span>
          </h2>
        </div>
        <ScrollRegion label="Sync runs table">
          <table className="table history-table">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Trigger</th>
                <th scope="col">Source</th>
                <th scope="col">Outcome</th>
                <th scope="col" className="right">
                  Created
                </th>
                <th scope="col" className="right">
                  Updated
                </th>
                <th scope="col" className="right">
                  Rejoined
                </th>
                <th scope="col" className="right">
                  Marked left
                </th>
                <th scope="col" className="right">
                  Unchanged
                </th>
                <th scope="col" className="right">
                  Duration (s)
                </th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <HistoryRow key={run.id} run={run} now={now} />
              ))}
            </tbody>
          </table>
          {history.isPending ? (
            <p className="empty muted">Loading sync history…</p>
          ) : history.isError && runs.length === 0 ? (
            <p className="empty error" role="alert">
              Could not load the sync history: {history.error.message}
            </p>
          ) : runs.length === 0 ? (
            <p className="empty muted" data-testid="sync-history-empty">
              No member sync has run yet.
            </p>
          ) : null}
        </ScrollRegion>
      </section>
    </main>
  );
}

/** One run. `data-testid="sync-history-row"`, `data-run-id`, `data-status`, `data-trigger`. */
function HistoryRow({ run, now }: { run: SyncRun; now: number }) {
  const percent = syncPercent(run);
  const count = (n: number) => <span className={n === 0 ? "muted" : undefined}>{n.toLocaleString("en")}</span>;
  return (
    <tr data-testid="sync-history-row" data-run-id={run.id} data-status={run.status} data-trigger={run.trigger}>
      <td className="nowrap">
        <div className="member-text">
          <time dateTime={run.startedAt}>{formatDateTime(run.startedAt)}</time>
          <span className="member-sub muted">{relativeTime(run.startedAt, now)}</span>
        </div>
      </td>
      <td className="nowrap">{SYNC_TRIGGER_LABEL[run.trigger]}</td>
      <td className="nowrap">{SYNC_SOURCE_LABEL[run.source]}</td>
      <td className="nowrap">
        <div className="outcome">
          <SyncOutcomeBadge status={run.status} />
          {run.status === "running" ? (
            <span className="muted small">
              {run.chunkCount ? `${run.chunksReceived}/${run.chunkCount} chunks` : "starting"}
              {percent !== null ? ` · ${percent}%` : ""}
            </span>
          ) : null}
        </div>
      </td>
      <td className="right num">{count(run.created)}</td>
      <td className="right num">{count(run.updated)}</td>
      <td className="right num">{count(run.rejoined)}</td>
      <td className="right num">{count(run.markedLeft)}</td>
      <td className="right num">{count(run.unchanged)}</td>
      <td className="right num" title={run.durationMs === null ? undefined : `${run.durationMs.toLocaleString("en")} ms`}>
        {durationSeconds(run.durationMs)}
      </td>
      <td className="reason">{run.reason ? <span title={run.reason}>{run.reason}</span> : <span className="muted">—</span>}</td>
    </tr>
  );
}
