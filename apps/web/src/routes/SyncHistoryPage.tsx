/** `/members/history`: the guild's member sync runs, newest first, live while one runs. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { useState } from "react";
import { AppHeader } from "../components/AppHeader";
import { NotStaff } from "../components/NotStaff";
import { ScrollRegion } from "../components/ScrollRegion";
import { SyncOutcomeBadge } from "../components/SyncOutcomeBadge";
import { SyncPanel } from "../components/SyncPanel";
import { SYNC_INPUT } from "../lib/queries";
import { durationSeconds, heldText, SYNC_SOURCE_LABEL, SYNC_TRIGGER_LABEL, syncPercent } from "../lib/sync";
import { formatDateTime, relativeTime, useNow } from "../lib/time";
import { trpc } from "../lib/trpc";
import type { SyncRun, SyncSettings } from "../lib/types";

const historyRoute = getRouteApi("/members/history");

/** The sync history page; signed-in users who are not staff get an explanation instead. */
export function SyncHistoryPage() {
  const { me } = historyRoute.useRouteContext();
  return (
    <div className="app">
      <AppHeader me={me} />
      {me.staff ? <History isAdmin={me.staff.role === "admin"} /> : <NotStaff me={me} />}
    </div>
  );
}

/** The runs table: `data-testid="sync-history"`, with `data-loading` ("true" until `members.history` answered). */
function History({ isAdmin }: { isAdmin: boolean }) {
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
            Full member syncs of your guild, newest first (the last 50). Members are marked left only by a completed sync; one that would
            mark too many left at once waits for an admin.
          </p>
        </div>
      </div>
      <SyncPanel isAdmin={isAdmin} />
      <SyncSettingsCard isAdmin={isAdmin} />
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
      <td className="right num">
        {run.status === "awaiting_confirmation" || (run.status === "discarded" && run.pendingLeft > 0) ? (
          <span title={heldText(run)} data-testid="sync-history-held">
            {count(run.markedLeft)} <span className="muted small">({run.pendingLeft.toLocaleString("en")} held)</span>
          </span>
        ) : (
          count(run.markedLeft)
        )}
      </td>
      <td className="right num">{count(run.unchanged)}</td>
      <td className="right num" title={run.durationMs === null ? undefined : `${run.durationMs.toLocaleString("en")} ms`}>
        {durationSeconds(run.durationMs)}
      </td>
      <td className="reason">{run.reason ? <span title={run.reason}>{run.reason}</span> : <span className="muted">—</span>}</td>
    </tr>
  );
}

/**
 * The guild's member sync settings: the schedule (minutes between syncs, empty for none) and
 * the mass-leave guard (the share of present members, in percent, a sync may mark left before
 * it waits for an admin; never for the floor's few members or fewer). Admins edit them
 * (`members.updateSettings`); other staff read them. `data-testid="sync-settings"`, with
 * inputs `sync-interval` and `leave-guard` and the button `sync-settings-save`.
 */
function SyncSettingsCard({ isAdmin }: { isAdmin: boolean }) {
  const settings = useQuery(trpc.members.settings.queryOptions(SYNC_INPUT));
  return (
    <section className="card" aria-labelledby="sync-settings-title" data-testid="sync-settings">
      <div className="card-header">
        <h2 className="card-title" id="sync-settings-title">
          Sync settings
        </h2>
      </div>
      {settings.data ? (
        <SettingsForm settings={settings.data} isAdmin={isAdmin} />
      ) : settings.isError ? (
        <p className="error small" role="alert">
          Could not load the settings: {settings.error.message}
        </p>
      ) : (
        <p className="muted small">Loading the settings…</p>
      )}
    </section>
  );
}

/** The form, initialised from the settings as first loaded (what an admin types is not overwritten by a refetch). */
function SettingsForm({ settings, isAdmin }: { settings: SyncSettings; isAdmin: boolean }) {
  const queryClient = useQueryClient();
  const [intervalText, setIntervalText] = useState(settings.syncIntervalMinutes === null ? "" : String(settings.syncIntervalMinutes));
  const [guard, setGuard] = useState(String(settings.leaveGuardPercent));
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const save = useMutation(
    trpc.members.updateSettings.mutationOptions({
      onSuccess: (saved) => {
        setNotice({ ok: true, text: "Saved." });
        queryClient.setQueryData(trpc.members.settings.queryKey(SYNC_INPUT), {
          syncIntervalMinutes: saved.syncIntervalMinutes,
          syncAdminRoleId: saved.syncAdminRoleId,
          leaveGuardPercent: saved.leaveGuardPercent,
          leaveGuardFloor: saved.leaveGuardFloor,
        });
      },
      onError: (error) => setNotice({ ok: false, text: `Could not save: ${error.message}` }),
    }),
  );
  const intervalValue = intervalText.trim() === "" ? null : Number(intervalText);
  const guardValue = Number(guard);
  const intervalValid = intervalValue === null || (Number.isInteger(intervalValue) && intervalValue >= 15 && intervalValue <= 10_080);
  const guardValid = guard.trim() !== "" && Number.isInteger(guardValue) && guardValue >= 0 && guardValue <= 100;
  return (
    <form
      className="settings-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (!intervalValid || !guardValid) return;
        setNotice(null);
        save.mutate({
          ...SYNC_INPUT,
          syncIntervalMinutes: intervalValue,
          syncAdminRoleId: settings.syncAdminRoleId,
          leaveGuardPercent: guardValue,
        });
      }}
    >
      <label className="small">
        Sync every (minutes, 15 to 10,080; empty: never)
        <input
          type="number"
          inputMode="numeric"
          min={15}
          max={10_080}
          value={intervalText}
          disabled={!isAdmin}
          aria-invalid={!intervalValid}
          data-testid="sync-interval"
          onChange={(e) => setIntervalText(e.target.value)}
        />
      </label>
      <label className="small">
        Ask before marking more than (% of present members)
        <input
          type="number"
          inputMode="numeric"
          min={0}
          max={100}
          value={guard}
          disabled={!isAdmin}
          aria-invalid={!guardValid}
          aria-describedby="leave-guard-help"
          data-testid="leave-guard"
          onChange={(e) => setGuard(e.target.value)}
        />
      </label>
      {isAdmin ? (
        <button
          type="submit"
          className="button primary"
          data-testid="sync-settings-save"
          disabled={!intervalValid || !guardValid || save.isPending}
        >
          {save.isPending ? "Saving…" : "Save"}
        </button>
      ) : null}
      <p className="muted small" id="leave-guard-help">
        A sync that would mark more than this share left (and more than {settings.leaveGuardFloor} members) waits for an admin to confirm
        it. 100 never asks.{isAdmin ? "" : " Only admins can change these."}
      </p>
      {notice ? (
        <p className={notice.ok ? "muted small" : "error small"} role={notice.ok ? "status" : "alert"} data-testid="sync-settings-notice">
          {notice.text}
        </p>
      ) : null}
    </form>
  );
}
