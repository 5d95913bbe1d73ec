import { describe, expect, it } from "vitest";
import { chartPoints } from "../src/lib/chart";

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();
const bucket = (minute: number, online: number, idle = 0, dnd = 0) => ({ at: at(minute), online, idle, dnd });

describe("chartPoints", () => {
  it("starts at the first bucket with anyone online, idle or dnd", () => {
    const history = [bucket(1, 0), bucket(2, 0), bucket(3, 0, 2), bucket(4, 3, 1, 1)];
    expect(chartPoints(history)).toEqual([
      { t: Date.parse(at(3)), online: 0, idle: 2, dnd: 0 },
      { t: Date.parse(at(4)), online: 3, idle: 1, dnd: 1 },
    ]);
  });

  it("keeps zeros after the data starts: they are data", () => {
    const history = [bucket(1, 0), bucket(2, 0, 0, 1), bucket(3, 0), bucket(4, 2)];
    expect(chartPoints(history).map((p) => p.t)).toEqual([2, 3, 4].map((m) => Date.parse(at(m))));
    expect(chartPoints(history)[1]).toEqual({ t: Date.parse(at(3)), online: 0, idle: 0, dnd: 0 });
  });

  it("keeps every bucket when the first one has data", () => {
    const history = [bucket(1, 1), bucket(2, 0), bucket(3, 4)];
    expect(chartPoints(history)).toHaveLength(3);
  });

  it("is empty when nobody was online in the window, or there are no buckets", () => {
    expect(chartPoints([bucket(1, 0), bucket(2, 0)])).toEqual([]);
    expect(chartPoints([])).toEqual([]);
  });
});
