/**
 * The recharts part of the online chart, in its own module so the (large) charting library
 * loads in a separate chunk after the roster has rendered.
 */
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ChartPoint } from "../lib/chart";

/** A series of the chart: which count, its label and colour. */
export interface ChartSeries {
  readonly key: "online" | "idle" | "dnd";
  readonly label: string;
  readonly color: string;
}

const timeLabel = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

/**
 * Stacked areas of `series` over `points` (two or more), filling its container
 * (`data-testid="online-chart-plot"`). Default export for `React.lazy`.
 */
export default function OnlineChartPlot({ points, series }: { points: ReadonlyArray<ChartPoint>; series: ReadonlyArray<ChartSeries> }) {
  return (
    <div className="chart-plot" data-testid="online-chart-plot">
      <ResponsiveContainer width="100%" height="100%">
        <AreaChart data={[...points]} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid stroke="#eef0f3" vertical={false} />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={["dataMin", "dataMax"]}
            tickFormatter={timeLabel}
            tick={{ fontSize: 11, fill: "#6b7280" }}
            tickLine={false}
            axisLine={{ stroke: "#e5e7eb" }}
            minTickGap={40}
          />
          <YAxis allowDecimals={false} tick={{ fontSize: 11, fill: "#6b7280" }} tickLine={false} axisLine={false} width={40} />
          <Tooltip
            labelFormatter={(value) => timeLabel(Number(value))}
            contentStyle={{ borderRadius: 8, border: "1px solid #e5e7eb", fontSize: 12 }}
          />
          {series.map((s) => (
            <Area
              key={s.key}
              type="linear"
              dataKey={s.key}
              name={s.label}
              stackId="presence"
              stroke={s.color}
              fill={s.color}
              fillOpacity={0.18}
              strokeWidth={1.5}
              isAnimationActive={false}
            />
          ))}
        </AreaChart>
      </ResponsiveContainer>
    </div>
  );
}
