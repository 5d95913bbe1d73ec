import { describe, expect, it } from "vitest";
import { durationSeconds, HISTORY_LIMIT, heldText, syncCountsText, syncPercent, syncStage, upsertRun } from "../src/lib/sync";
import type { SyncRun } from "../src/lib/types";

const run = (extra: Partial<SyncRun> = {}): SyncRun => ({
  id: "run-1",
  guildId: "1",
  trigger: "button",
  source: "gateway",
  requestedBy: null,
  status: "running",
  chunkCount: null,
  chunksReceived: 0,
  rowsReceived: 0,
  created: 0,
  updated: 0,
  rejoined: 0,
  unchanged: 0,
  markedLeft: 0,
  pendingLeft: 0,
  presentMembers: null,
  decidedBy: null,
  decidedAt: null,
  reason: null,
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: null,
  durationMs: null,
  ...extra,
});

describe("syncPercent", () => {
  it("is chunks received of chunk count, in whole percent", () => {
    expect(syncPercent(run({ chunkCount: 4, chunksReceived: 1 }))).toBe(25);
    expect(syncPercent(run({ chunkCount: 3, chunksReceived: 2 }))).toBe(66);
    expect(syncPercent(run({ chunkCount: 3, chunksReceived: 3 }))).toBe(100);
    expect(syncPercent(run({ chunkCount: 3, chunksReceived: 5 }))).toBe(100);
  });
  it("is unknown until the chunk count is, and 100 once completed", () => {
    expect(syncPercent(run())).toBeNull();
    expect(syncPercent(run({ chunkCount: 0 }))).toBeNull();
    expect(syncPercent(run({ status: "completed", chunkCount: null }))).toBe(100);
    expect(syncPercent(run({ status: "incomplete", chunkCount: 4, chunksReceived: 2 }))).toBe(50);
  });
});

describe("syncCountsText / durationSeconds", () => {
  it("lists the non-zero counts", () => {
    expect(syncCountsText(run({ created: 3, markedLeft: 2, unchanged: 1495 }))).toBe("3 new, 2 marked left, 1,495 unchanged");
    expect(syncCountsText(run())).toBe("no members");
  });
  it("formats ms as seconds", () => {
    expect(durationSeconds(null)).toBe("—");
    expect(durationSeconds(241)).toBe("0.2");
    expect(durationSeconds(9_460)).toBe("9.5");
    expect(durationSeconds(12_400)).toBe("12");
    expect(durationSeconds(-5)).toBe("0.0");
  });
});

describe("upsertRun", () => {
  const older = run({ id: "old", status: "completed", startedAt: "2025-12-31T00:00:00.000Z" });

  it("adds a new run on top", () => {
    const next = run({ id: "new" });
    expect(upsertRun([older], next).map((r) => r.id)).toEqual(["new", "old"]);
  });

  it("keeps newest-first order even when an older run arrives late", () => {
    const newest = run({ id: "newest", startedAt: "2026-02-01T00:00:00.000Z" });
    expect(upsertRun([newest], older).map((r) => r.id)).toEqual(["newest", "old"]);
  });

  it("replaces a run in place with its newer state", () => {
    const runs = [run({ chunkCount: 4, chunksReceived: 1 }), older];
    const next = upsertRun(runs, run({ chunkCount: 4, chunksReceived: 2 }));
    expect(next[0]?.chunksReceived).toBe(2);
    expect(next[1]).toBe(older);
  });

  it("ignores stale states: fewer chunks, or running after it ended", () => {
    const ended = [run({ status: "completed", chunkCount: 4, chunksReceived: 4 })];
    expect(upsertRun(ended, run({ chunkCount: 4, chunksReceived: 3 }))).toBe(ended);
    const running = [run({ chunkCount: 4, chunksReceived: 3 })];
    expect(upsertRun(running, run({ chunkCount: 4, chunksReceived: 2 }))).toBe(running);
  });

  it("a held run moves on to its decision, never back (the mass-leave guard)", () => {
    const held = run({ status: "awaiting_confirmation", chunkCount: 4, chunksReceived: 4, pendingLeft: 39 });
    const decided = run({ status: "completed", chunkCount: 4, chunksReceived: 4, markedLeft: 39, pendingLeft: 39 });
    const fromRunning = upsertRun([run({ chunkCount: 4, chunksReceived: 3 })], held);
    expect(fromRunning[0]?.status).toBe("awaiting_confirmation");
    expect(upsertRun(fromRunning, decided)[0]?.status).toBe("completed");
    const done = [decided];
    expect(upsertRun(done, held)).toBe(done);
    expect(upsertRun([held], run({ chunkCount: 4, chunksReceived: 4 }))[0]?.status).toBe("awaiting_confirmation");
    expect([syncStage("running"), syncStage("awaiting_confirmation"), syncStage("discarded"), syncStage("failed")]).toEqual([0, 1, 2, 2]);
  });

  it("keeps at most HISTORY_LIMIT runs", () => {
    const full = Array.from({ length: HISTORY_LIMIT }, (_, i) =>
      run({ id: `r${i}`, status: "completed", startedAt: new Date(Date.UTC(2025, 0, 1) - i * 60_000).toISOString() }),
    );
    const next = upsertRun(full, run({ id: "new" }));
    expect(next).toHaveLength(HISTORY_LIMIT);
    expect(next[0]?.id).toBe("new");
    expect(next.at(-1)?.id).toBe(`r${HISTORY_LIMIT - 2}`);
  });
});

describe("heldText", () => {
  it("says how many of how many present members a held run would mark left", () => {
    expect(heldText({ pendingLeft: 39, presentMembers: 39 })).toBe("would mark 39 members of 39 present left (100%)");
    expect(heldText({ pendingLeft: 1_234, presentMembers: 9_999 })).toBe("would mark 1,234 members of 9,999 present left (12.3%)");
    expect(heldText({ pendingLeft: 1, presentMembers: null })).toBe("would mark 1 member left");
  });
});
