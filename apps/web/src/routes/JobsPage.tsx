/**
 * `/jobs` (admins): every background queue with its pending, active, failed and dead jobs of the
 * selected organization (the server scopes them) and its schedule; a queue's jobs with their attempts and last error; retry and discard. Counts
 * arrive live (`jobs.live`), and each change refreshes the job list shown.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { getRouteApi, useNavigate } from "@tanstack/react-router";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useId, useState } from "react";
import { AppHeader } from "../components/AppHeader";
import { LiveIndicator, type LiveState } from "../components/LiveIndicator";
import { AdminsOnly, NotStaff } from "../components/NotStaff";
import {
  canDiscard,
  canRetry,
  describeCron,
  JOB_STATE,
  type JobListInput,
  type JobRow,
  type JobStateFilter,
  type QueueOverview,
  STATE_FILTERS,
} from "../lib/jobs";
import { formatDateTime, relativeTime, useNow } from "../lib/time";
import { isUnauthorized, redirectToSignIn, trpc } from "../lib/trpc";
import "./JobsPage.css";

const jobsRoute = getRouteApi("/jobs");

/** After the server ends the live feed with an error, start it again after this long (ms). */
const RESTART_AFTER_ERROR_MS = 3_000;

/** The Jobs page: admins see the queues; other staff are told it is for admins. */
export function JobsPage() {
  const { me } = jobsRoute.useRouteContext();
  return (
    <div className="app">
      <AppHeader me={me} />
      {!me.staff ? (
        <NotStaff me={me} />
      ) : me.staff.role !== "admin" ? (
        <AdminsOnly reason="The Jobs page shows and changes the server's background work; it needs the admin role." />
      ) : (
        <Jobs />
      )}
    </div>
  );
}

/** Follows `jobs.live`: writes each snapshot into the `jobs.queues` cache and refetches the job lists. */
function useJobsLive(): LiveState {
  const queryClient = useQueryClient();
  const [wasLive, setWasLive] = useState(false);
  const subscription = useSubscription(
    trpc.jobs.live.subscriptionOptions(undefined, {
      onData: ({ data }) => {
        queryClient.setQueryData(trpc.jobs.queues.queryKey(), data.queues);
        void queryClient.invalidateQueries(trpc.jobs.list.pathFilter(), { cancelRefetch: false });
      },
      onError: (error) => {
        if (isUnauthorized(error)) redirectToSignIn();
      },
    }),
  );
  const { status, error, reset } = subscription;
  useEffect(() => {
    if (status !== "error" || isUnauthorized(error)) return;
    const timer = window.setTimeout(reset, RESTART_AFTER_ERROR_MS);
    return () => window.clearTimeout(timer);
  }, [status, error, reset]);
  if (status === "pending" && !wasLive) setWasLive(true);
  return status === "pending" ? "live" : wasLive ? "reconnecting" : "connecting";
}

function Jobs() {
  const live = useJobsLive();
  const queues = useQuery(trpc.jobs.queues.queryOptions());
  const search = jobsRoute.useSearch();
  const { me } = jobsRoute.useRouteContext();
  const list = queues.data ?? [];
  const selected = list.find((q) => q.name === search.queue) ?? list[0] ?? null;

  return (
    <main className="page">
      <div className="page-head">
        <div>
          <h1 className="page-title">Jobs</h1>
          <p className="muted page-sub">
            The server's background work for {me.staff?.organizationName}: the commands it queues for the bot, role changes and webhook
            deliveries of this organization's guilds (the installation's own scheduled upkeep shows to its first organization only). A
            failed attempt is retried with a growing delay; a job out of retries goes to its queue's dead letters, where you can retry or
            discard it.
          </p>
        </div>
        <LiveIndicator state={live} />
      </div>

      <section className="card roster" aria-labelledby="queues-title">
        <div className="card-header">
          <h2 className="card-title" id="queues-title">
            Queues
            <span className="count-pill">{list.length}</span>
          </h2>
        </div>
        {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1). */}
        <section className="table-wrap" tabIndex={0} aria-labelledby="queues-title">
          <table className="table jobs-queues">
            <thead>
              <tr>
                <th scope="col">Queue</th>
                <th scope="col" className="right">
                  Pending
                </th>
                <th scope="col" className="right">
                  Active
                </th>
                <th scope="col" className="right">
                  Failed
                </th>
                <th scope="col" className="right">
                  Dead
                </th>
                <th scope="col" className="right">
                  Completed
                </th>
                <th scope="col">Schedule</th>
                <th scope="col">Runs on</th>
              </tr>
            </thead>
            <tbody>
              {list.map((queue) => (
                <QueueRow key={queue.name} queue={queue} selected={queue.name === selected?.name} />
              ))}
            </tbody>
          </table>
          {queues.isPending ? (
            <p className="empty muted">Loading the queues…</p>
          ) : queues.isError && list.length === 0 ? (
            <p className="empty error" role="alert">
              Could not load the queues: {queues.error.message}
            </p>
          ) : null}
        </section>
      </section>

      {selected ? <QueueJobs queue={selected} state={search.state} page={search.page ?? 1} /> : null}
    </main>
  );
}

/** One queue. `data-testid="jobs-queue-row"`, `data-queue`; each count cell `data-testid="count-<group>"`. */
function QueueRow({ queue, selected }: { queue: QueueOverview; selected: boolean }) {
  const navigate = useNavigate({ from: "/jobs" });
  const count = (group: keyof QueueOverview["counts"], tone?: string) => {
    const n = queue.counts[group];
    return (
      <td className="right num" data-testid={`count-${group}`} data-count={n}>
        <span className={n === 0 ? "muted" : tone}>{n.toLocaleString("en")}</span>
      </td>
    );
  };
  return (
    <tr data-testid="jobs-queue-row" data-queue={queue.name} data-selected={selected} className={selected ? "jobs-selected" : undefined}>
      <td>
        <button
          type="button"
          className="jobs-queue-button"
          aria-pressed={selected}
          aria-controls="queue-jobs"
          onClick={() => void navigate({ search: { queue: queue.name } })}
        >
          <span className="strong">{queue.title}</span>
          <span className="mono muted">{queue.name}</span>
        </button>
      </td>
      {count("pending")}
      {count("active")}
      {count("failed", "error strong")}
      {count("dead", "error strong")}
      {count("completed")}
      <td className="nowrap" data-testid="queue-schedule" data-cron={queue.schedule?.cron ?? ""}>
        {queue.schedule ? (
          <span title={`cron "${queue.schedule.cron}" (UTC)`}>
            {describeCron(queue.schedule.cron)}
            {queue.schedule.registered ? null : <span className="error"> (not registered)</span>}
          </span>
        ) : (
          <span className="muted">on demand</span>
        )}
      </td>
      <td className="nowrap">{queue.consumer === "bot" ? "Bot" : "Server"}</td>
    </tr>
  );
}

/** The selected queue's jobs, newest first, filtered by state, 25 a page. */
function QueueJobs({ queue, state, page }: { queue: QueueOverview; state: JobStateFilter | undefined; page: number }) {
  const navigate = useNavigate({ from: "/jobs" });
  const filterId = useId();
  const input: JobListInput = { queue: queue.name as JobListInput["queue"], ...(state ? { state } : {}), ...(page > 1 ? { page } : {}) };
  const jobs = useQuery({ ...trpc.jobs.list.queryOptions(input), placeholderData: (previous) => previous });
  const now = useNow(30_000);
  const [notice, setNotice] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const rows = jobs.data?.jobs ?? [];
  const total = jobs.data?.total ?? 0;
  const pageSize = jobs.data?.pageSize ?? 25;
  const pages = Math.max(1, Math.ceil(total / pageSize));

  return (
    <section className="card roster" id="queue-jobs" aria-labelledby="jobs-title" data-testid="queue-jobs" data-queue={queue.name}>
      <div className="card-header jobs-header">
        <h2 className="card-title" id="jobs-title">
          {queue.title}
          <span className="count-pill" data-testid="jobs-total">
            {total}
          </span>
        </h2>
        <div className="row gap">
          <span
            className={`notice ${notice?.kind === "error" ? "error" : "ok"}`}
            role="status"
            aria-live="polite"
            data-testid="jobs-notice"
          >
            {notice?.text}
          </span>
          <label className="jobs-filter" htmlFor={filterId}>
            <span>Show</span>
            <select
              id={filterId}
              className="input input-small jobs-select"
              value={state ?? "all"}
              onChange={(event) => {
                const value = event.target.value;
                void navigate({ search: { queue: queue.name, ...(value === "all" ? {} : { state: value as JobStateFilter }) } });
              }}
            >
              {STATE_FILTERS.map((f) => (
                <option key={f.value} value={f.value}>
                  {f.label}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <p className="muted small jobs-policy">
        Retried up to {queue.retryLimit} time{queue.retryLimit === 1 ? "" : "s"}, from {queue.retryDelaySeconds} s
        {queue.retryBackoff ? " doubling each time" : ""}; an attempt still running after {queue.expireInSeconds} s is retried. Dead letters
        wait in <span className="mono">{queue.deadLetter}</span>.
      </p>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1). */}
      <section className="table-wrap" tabIndex={0} aria-labelledby="jobs-title">
        <table className="table jobs-table">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">State</th>
              <th scope="col" className="right">
                Attempts
              </th>
              <th scope="col">Last error</th>
              <th scope="col">Created</th>
              <th scope="col">Started</th>
              <th scope="col">Finished</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((job) => (
              <JobRowView key={job.id} job={job} now={now} onNotice={setNotice} />
            ))}
          </tbody>
        </table>
        {jobs.isPending ? (
          <p className="empty muted">Loading jobs…</p>
        ) : jobs.isError && rows.length === 0 ? (
          <p className="empty error" role="alert">
            Could not load the jobs: {jobs.error.message}
          </p>
        ) : rows.length === 0 ? (
          <p className="empty muted" data-testid="jobs-empty">
            {state
              ? `No ${STATE_FILTERS.find((f) => f.value === state)?.label.toLowerCase()} jobs in this queue.`
              : "No jobs in this queue yet."}
          </p>
        ) : null}
      </section>
      {pages > 1 ? (
        <nav className="jobs-pager" aria-label="Job pages">
          <button
            type="button"
            className="button small-button"
            disabled={page <= 1}
            onClick={() => void navigate({ search: (s) => ({ ...s, page: page - 1 > 1 ? page - 1 : undefined }) })}
          >
            Newer
          </button>
          <span className="muted small">
            Page {page} of {pages}
          </span>
          <button
            type="button"
            className="button small-button"
            disabled={page >= pages}
            onClick={() => void navigate({ search: (s) => ({ ...s, page: page + 1 }) })}
          >
            Older
          </button>
        </nav>
      ) : null}
    </section>
  );
}

/** One job. `data-testid="job-row"`, `data-job-id`, `data-state`. */
function JobRowView({
  job,
  now,
  onNotice,
}: {
  job: JobRow;
  now: number;
  onNotice: (notice: { kind: "ok" | "error"; text: string }) => void;
}) {
  const queryClient = useQueryClient();
  const refresh = () => {
    void queryClient.invalidateQueries(trpc.jobs.list.pathFilter());
    void queryClient.invalidateQueries(trpc.jobs.queues.queryFilter());
  };
  const what = job.summary || job.id;
  const retry = useMutation(
    trpc.jobs.retry.mutationOptions({
      onSuccess: () => {
        onNotice({ kind: "ok", text: `Job “${what}” is back in its queue.` });
        refresh();
      },
      onError: (error) => onNotice({ kind: "error", text: `Retry failed: ${error.message}` }),
    }),
  );
  const discard = useMutation(
    trpc.jobs.discard.mutationOptions({
      onSuccess: () => {
        onNotice({ kind: "ok", text: `Job “${what}” discarded.` });
        refresh();
      },
      onError: (error) => onNotice({ kind: "error", text: `Discard failed: ${error.message}` }),
    }),
  );
  const state = JOB_STATE[job.state];
  const time = (iso: string | null) =>
    iso ? (
      <time dateTime={iso} title={formatDateTime(iso)}>
        {relativeTime(iso, now)}
      </time>
    ) : (
      <span className="muted">—</span>
    );
  return (
    <tr data-testid="job-row" data-job-id={job.id} data-state={job.state}>
      <td>
        <div className="member-text">
          <span>{job.summary || <span className="muted">no payload</span>}</span>
          <span className="mono muted" title={job.id}>
            {job.id.slice(0, 8)}
          </span>
        </div>
      </td>
      <td className="nowrap">
        <span className={`badge ${state.badge}`}>
          <span className="dot" aria-hidden="true" />
          {state.label}
        </span>
      </td>
      <td className="right num" data-testid="job-attempts">
        {job.attempts} of {job.retryLimit + 1}
      </td>
      <td className="reason jobs-error" data-testid="job-error">
        {job.lastError ? <span title={job.lastError}>{job.lastError}</span> : <span className="muted">—</span>}
      </td>
      <td className="nowrap">{time(job.createdAt)}</td>
      <td className="nowrap">{time(job.startedAt)}</td>
      <td className="nowrap">{time(job.completedAt)}</td>
      <td className="nowrap right">
        <div className="jobs-actions">
          <button
            type="button"
            className="button small-button"
            disabled={!canRetry(job.state) || retry.isPending}
            onClick={() => retry.mutate({ id: job.id })}
            aria-label={`Retry job ${what}`}
          >
            Retry
          </button>
          <button
            type="button"
            className="button small-button ghost"
            disabled={!canDiscard(job.state) || discard.isPending}
            onClick={() => discard.mutate({ id: job.id })}
            aria-label={`Discard job ${what}`}
          >
            Discard
          </button>
        </div>
      </td>
    </tr>
  );
}
