/** Online / idle / dnd staff over the last hour, as a stacked area chart. */
import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useMemo } from "react";
import { HISTORY_INPUT, HISTORY_REFETCH_MS } from "../lib/queries";
import { trpc } from "../lib/trpc";
import type { ChartPoint, ChartSeries } from "./OnlineChartPlot";

const OnlineChartPlot = lazy(() => import("./OnlineChartPlot"));

const SERIES: ReadonlyArray<ChartSeries> = [
  { key: "online", label: "Online", color: "#16a34a" },
  { key: "idle", label: "Idle", color: "#d97706" },
  { key: "dnd", label: "DND", color: "#dc2626" },
];

/**
 * `roster.history` for the last 60 minutes in 1-minute buckets, refetched every 60 s.
 * `data-testid="online-chart"` marks the plot area. (Live counts are on the roster's status
 * filter; the chart's last bucket can lag them by up to a minute, so it does not repeat them.)
 */
export function OnlineChart() {
  const history = useQuery(trpc.roster.history.queryOptions(HISTORY_INPUT, { refetchInterval: HISTORY_REFETCH_MS }));
  const points = useMemo<ChartPoint[]>(
    () => (history.data ?? []).map((p) => ({ t: Date.parse(p.at), online: p.online, idle: p.idle, dnd: p.dnd })),
    [history.data],
  );
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
      <div className="chart-box" data-testid="online-chart">
        {history.isPending ? (
          loading
        ) : history.isError && points.length === 0 ? (
          <p className="error small chart-note" role="alert">
            Could not load presence history.
          </p>
        ) : points.length === 0 ? (
          <p className="muted small chart-note">No presence samples yet.</p>
        ) : (
          <Suspense fallback={loading}>
            <OnlineChartPlot points={points} series={SERIES} />
          </Suspense>
        )}
      </div>
    </section>
  );
}
