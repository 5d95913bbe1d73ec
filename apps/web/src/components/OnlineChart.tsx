/** Online / idle / dnd staff over the last hour, as a stacked area chart. */
import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useMemo } from "react";
import { type ChartPoint, chartPoints } from "../lib/chart";
import { HISTORY_INPUT, HISTORY_REFETCH_MS } from "../lib/queries";
import { trpc } from "../lib/trpc";
import type { ChartSeries } from "./OnlineChartPlot";

const OnlineChartPlot = lazy(() => import("./OnlineChartPlot"));

const SERIES: ReadonlyArray<ChartSeries> = [
  { key: "online", label: "Online", color: "#16a34a" },
  { key: "idle", label: "Idle", color: "#d97706" },
  { key: "dnd", label: "DND", color: "#dc2626" },
];

/**
 * `roster.history` for the last 60 minutes in 1-minute buckets, refetched every 60 s, drawn
 * from the first bucket with data on (see `chartPoints`). `data-testid="online-chart"` marks
 * the plot area; its `data-state` is `loading`, `error`, `empty` (nobody online in the hour),
 * `first` (the data started in the last minute: one bucket, which an area cannot draw, so it
 * is said in words) or `plot` (the plot itself, once its lazy chunk has loaded, is
 * `data-testid="online-chart-plot"`). (Live counts are on
 * the roster's status filter; the chart's last bucket can lag them by up to a minute, so it
 * does not repeat them.)
 */
export function OnlineChart() {
  const history = useQuery(trpc.roster.history.queryOptions(HISTORY_INPUT, { refetchInterval: HISTORY_REFETCH_MS }));
  const points = useMemo<ChartPoint[]>(() => chartPoints(history.data ?? []), [history.data]);
  const state = history.isPending
    ? "loading"
    : history.isError && points.length === 0
      ? "error"
      : points.length === 0
        ? "empty"
        : points.length === 1
          ? "first"
          : "plot";
  const loading = <p className="muted small chart-note">Loading history…</p>;

  return (
    <section className="card chart" aria-labelledby="chart-title">
      <div className="card-header">
        <h2 className="card-title" id="chart-title">
          Staff online, last hour
        </h2>
        <ul className="legend" aria-label="Legend">
          {SERIES.map((s) => (
            <li key={s.key}>
              <span className="swatch" style={{ background: s.color }} aria-hidden="true" />
              {s.label}
            </li>
          ))}
        </ul>
      </div>
      <div className="chart-box" data-testid="online-chart" data-state={state}>
        {state === "loading" ? (
          loading
        ) : state === "error" ? (
          <p className="error small chart-note" role="alert">
            Could not load presence history.
          </p>
        ) : state === "empty" ? (
          <p className="muted small chart-note">No staff online in the last hour.</p>
        ) : state === "first" ? (
          <FirstSample point={points[0]!} />
        ) : (
          <Suspense fallback={loading}>
            <OnlineChartPlot points={points} series={SERIES} />
          </Suspense>
        )}
      </div>
    </section>
  );
}

/** The one bucket there is so far, in words: the chart draws from the next one on. */
function FirstSample({ point }: { point: ChartPoint }) {
  const at = new Date(point.t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return (
    <p className="small chart-note chart-first">
      <span>
        Presence history starts at <time dateTime={new Date(point.t).toISOString()}>{at}</time>:{" "}
        <span className="strong">
          {point.online} online, {point.idle} idle, {point.dnd} DND
        </span>
        .
      </span>
      <span className="muted">The chart fills in from the next minute.</span>
    </p>
  );
}
