import type { SyncRun } from "@guildhall/sync";
import { Schema } from "effect";
import { describe, expect, it } from "vitest";
import { ProgressCursor, progressAfter, progressId } from "../src/progress";

const run = (id: string, startedAt: string, status: SyncRun["status"], chunksReceived: number): SyncRun => ({
  id,
  guildId: "100000000000000001",
  trigger: "api",
  source: "gateway",
  requestedBy: null,
  status,
  chunkCount: 10,
  chunksReceived,
  rowsReceived: chunksReceived * 1_000,
  created: 0,
  updated: 0,
  rejoined: 0,
  unchanged: 0,
  markedLeft: 0,
  pendingLeft: status === "awaiting_confirmation" ? 30 : 0,
  presentMembers: null,
  decidedBy: null,
  decidedAt: null,
  reason: null,
  startedAt,
  finishedAt: status === "running" ? null : startedAt,
  durationMs: null,
});

const T1 = "2026-01-01T12:00:00.000Z";
const T2 = "2026-01-01T12:05:00.001Z";

describe("progressId", () => {
  it("orders a run's states as they happen, and a later run after all of them", () => {
    const states = [
      run("a", T1, "running", 0),
      run("a", T1, "running", 2),
      run("a", T1, "running", 10),
      run("a", T1, "completed", 10),
      run("b", T2, "running", 0),
      run("b", T2, "incomplete", 3),
    ];
    const ids = states.map(progressId);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
    // An ended run is past every running state of itself, whatever the chunk counts.
    expect(progressId(run("a", T1, "failed", 0)) > progressId(run("a", T1, "running", 999_999))).toBe(true);
    // A held run (the mass-leave guard) is past its running states, and its decision past it.
    const held = progressId(run("a", T1, "awaiting_confirmation", 10));
    expect(held > progressId(run("a", T1, "running", 999_999))).toBe(true);
    expect(progressId(run("a", T1, "completed", 10)) > held).toBe(true);
    expect(progressId(run("a", T1, "discarded", 10)) > held).toBe(true);
  });

  it("is the same for the same state (so every server instance agrees) and is a valid cursor", () => {
    const same: SyncRun = { ...run("a", T1, "running", 7), rowsReceived: 1 };
    expect(progressId(run("a", T1, "running", 7))).toBe(progressId(same));
    expect(progressId(run("a", T1, "running", 7))).toBe("1767268800000.0.0000000007");
    expect(Schema.is(ProgressCursor)(progressId(run("a", T1, "completed", 1_000_000)))).toBe(true);
    for (const bad of ["", "42", "1767268800000.3.0000000007", "1767268800000.0.7", "x767268800000.0.0000000007"]) {
      expect(Schema.is(ProgressCursor)(bad)).toBe(false);
    }
  });
});

describe("progressAfter", () => {
  const a0 = run("a", T1, "running", 0);
  const a4 = run("a", T1, "running", 4);
  const aDone = run("a", T1, "completed", 10);
  const b1 = run("b", T2, "running", 1);

  it("gives a new subscriber just the newest run", () => {
    expect(progressAfter([b1, aDone], null)).toEqual([b1]);
    expect(progressAfter([], null)).toEqual([]);
  });

  it("gives a returning subscriber every run that moved since its last id, oldest first, each in its newest state", () => {
    // Newest first, as members.history lists them.
    expect(progressAfter([b1, aDone], progressId(a4))).toEqual([aDone, b1]);
    expect(progressAfter([b1, aDone], progressId(aDone))).toEqual([b1]);
    expect(progressAfter([b1, aDone], progressId(b1))).toEqual([]);
  });

  it("drops states a subscriber already has or has passed (late or repeated announcements)", () => {
    expect(progressAfter([a0, a4], progressId(a4))).toEqual([]);
    expect(progressAfter([aDone, a4, a0], "")).toEqual([aDone]);
    expect(progressAfter([a4, b1, a0], progressId(a0))).toEqual([a4, b1]);
  });
});
