/**
 * Pure logic of the "Staff online, last hour" chart: `roster.history` buckets as chart points.
 * No React, no IO.
 */
import type { HistoryPoint } from "./types";

/** One chart point: bucket end (epoch ms) and staff counts per status. */
export interface ChartPoint {
  readonly t: number;
  readonly online: number;
  readonly idle: number;
  readonly dnd: number;
}

const isEmpty = (p: HistoryPoint) => p.online === 0 && p.idle === 0 && p.dnd === 0;

/**
 * `roster.history` buckets (oldest first) as chart points, starting where the data starts.
 *
 * The API answers every bucket of the window, with zeros where no sample existed yet (a fresh
 * install, or a guild the bot joined ten minutes ago). Leading buckets in which nobody is
 * online, idle or dnd are dropped, so the chart does not draw an hour of zeros before the
 * first sample. Zeros after the first non-empty bucket are kept: they are data. (A window that
 * opens with every staff member offline starts at the first one to come online; the API does
 * not tell "offline" from "no sample" apart.) Empty when nobody was online in the window.
 */
export function chartPoints(history: ReadonlyArray<HistoryPoint>): ChartPoint[] {
  const first = history.findIndex((p) => !isEmpty(p));
  if (first === -1) return [];
  return history.slice(first).map((p) => ({ t: Date.parse(p.at), online: p.online, idle: p.idle, dnd: p.dnd }));
}
