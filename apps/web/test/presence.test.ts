import { describe, expect, it } from "vitest";
import {
  activityText,
  applyPresenceChange,
  countByStatus,
  initials,
  matchesSearch,
  primaryActivity,
  rosterStatusOf,
  sortEntries,
} from "../src/lib/presence";
import { relativeTime, secondsAgo } from "../src/lib/time";
import type { PresenceChange, RosterEntry, RosterPresence, RosterSnapshot } from "../src/lib/types";

const presence = (status: RosterPresence["status"], extra: Partial<RosterPresence> = {}): RosterPresence => ({
  status,
  customStatus: null,
  activities: [],
  clientStatus: {},
  updatedAt: "2026-01-01T00:00:00.000Z",
  lastSeenAt: "2026-01-01T00:00:00.000Z",
  ...extra,
});

const entry = (name: string, discordId: string | null, p: RosterPresence | null): RosterEntry => ({
  staffId: `staff-${name}`,
  userId: `user-${name}`,
  name,
  email: `${name.toLowerCase().replace(/\s+/g, ".")}@example.com`,
  role: "staff",
  title: null,
  discordId,
  linked: discordId !== null,
  presence: p,
});

const change = (userId: string, status: PresenceChange["status"], observedAt = "2026-01-01T00:05:00.000Z"): PresenceChange => ({
  id: 42,
  guildId: "1",
  userId,
  status,
  customStatus: status === "offline" ? null : "Busy",
  activities: [{ name: "Garry's Mod", type: 0 }],
  clientStatus: status === "offline" ? {} : { desktop: status },
  observedAt,
});

const snapshot = (entries: RosterEntry[]): RosterSnapshot => ({ guild: { id: "1", name: "G" }, entries, cursor: 7 });

describe("rosterStatusOf", () => {
  it("reads unlinked, never-seen and seen members", () => {
    expect(rosterStatusOf(entry("A", null, null))).toBe("unlinked");
    expect(rosterStatusOf(entry("B", "10", null))).toBe("offline");
    expect(rosterStatusOf(entry("C", "11", presence("dnd")))).toBe("dnd");
  });
});

describe("sortEntries", () => {
  it("orders online, idle, dnd, offline, not linked, then by name", () => {
    const sorted = sortEntries([
      entry("zed", null, null),
      entry("Off", "1", presence("offline")),
      entry("bob", "2", presence("online")),
      entry("Dnd", "3", presence("dnd")),
      entry("Alice", "4", presence("online")),
      entry("Idle", "5", presence("idle")),
      entry("Never", "6", null),
    ]);
    expect(sorted.map((e) => e.name)).toEqual(["Alice", "bob", "Idle", "Dnd", "Never", "Off", "zed"]);
  });
});

describe("countByStatus / matchesSearch", () => {
  it("counts every status, unlinked included", () => {
    const counts = countByStatus([entry("a", "1", presence("online")), entry("b", null, null), entry("c", "2", null)]);
    expect(counts).toEqual({ online: 1, idle: 0, dnd: 0, offline: 1, unlinked: 1 });
  });
  it("searches name, email and Discord id, case-insensitively", () => {
    const e = entry("Ada Lovelace", "123456789", null);
    expect(matchesSearch(e, "  ada ")).toBe(true);
    expect(matchesSearch(e, "LOVELACE@example")).toBe(true);
    expect(matchesSearch(e, "45678")).toBe(true);
    expect(matchesSearch(e, "grace")).toBe(false);
    expect(matchesSearch(entry("No Id", null, null), "123")).toBe(false);
  });
});

describe("applyPresenceChange", () => {
  it("patches the matching entry and keeps the cursor", () => {
    const before = snapshot([entry("A", "100", presence("online")), entry("B", "200", presence("idle"))]);
    const after = applyPresenceChange(before, change("200", "dnd"));
    expect(after.cursor).toBe(7);
    expect(after.entries[0]).toBe(before.entries[0]);
    expect(after.entries[1]?.presence).toEqual({
      status: "dnd",
      customStatus: "Busy",
      activities: [{ name: "Garry's Mod", type: 0 }],
      clientStatus: { desktop: "dnd" },
      updatedAt: "2026-01-01T00:05:00.000Z",
      lastSeenAt: "2026-01-01T00:05:00.000Z",
    });
  });

  it("returns the same snapshot when nobody matches (unlinked staff never match)", () => {
    const before = snapshot([entry("A", null, null)]);
    expect(applyPresenceChange(before, change("999", "online"))).toBe(before);
  });

  it("moves lastSeenAt when going offline from online, not when staying offline", () => {
    const wasOnline = snapshot([entry("A", "1", presence("online", { lastSeenAt: "2026-01-01T00:00:00.000Z" }))]);
    expect(applyPresenceChange(wasOnline, change("1", "offline")).entries[0]?.presence?.lastSeenAt).toBe("2026-01-01T00:05:00.000Z");
    const wasOffline = snapshot([entry("A", "1", presence("offline", { lastSeenAt: "2026-01-01T00:00:00.000Z" }))]);
    expect(applyPresenceChange(wasOffline, change("1", "offline")).entries[0]?.presence?.lastSeenAt).toBe("2026-01-01T00:00:00.000Z");
    const neverSeen = snapshot([entry("A", "1", null)]);
    expect(applyPresenceChange(neverSeen, change("1", "offline")).entries[0]?.presence?.lastSeenAt).toBeNull();
    expect(applyPresenceChange(neverSeen, change("1", "idle")).entries[0]?.presence?.lastSeenAt).toBe("2026-01-01T00:05:00.000Z");
  });
});

describe("activities", () => {
  it("reads as Discord shows them and skips custom statuses", () => {
    expect(activityText({ name: "Garry's Mod", type: 0 })).toBe("Playing Garry's Mod");
    expect(activityText({ name: "Spotify", type: 2 })).toBe("Listening to Spotify");
    expect(activityText({ name: "Custom Status", type: 4, state: "hi" })).toBeNull();
    expect(
      primaryActivity([
        { name: "Custom Status", type: 4 },
        { name: "YouTube", type: 3, details: "a video" },
      ]),
    ).toEqual({
      text: "Watching YouTube",
      detail: "a video",
    });
    expect(primaryActivity([])).toBeNull();
  });
});

describe("initials / relative time", () => {
  it("makes initials", () => {
    expect(initials("Ada Lovelace")).toBe("AL");
    expect(initials("robin")).toBe("R");
    expect(initials("sam.nielsen14")).toBe("SN");
    expect(initials("  ")).toBe("?");
  });
  it("formats relative times", () => {
    const now = Date.parse("2026-01-01T01:00:00.000Z");
    expect(relativeTime("2026-01-01T00:59:30.000Z", now)).toBe("just now");
    expect(relativeTime("2026-01-01T00:57:00.000Z", now)).toBe("3 min ago");
    expect(relativeTime("2026-01-01T00:00:00.000Z", now)).toBe("1 h ago");
    expect(relativeTime("2025-12-30T01:00:00.000Z", now)).toBe("2 d ago");
    expect(relativeTime("2026-01-01T01:00:10.000Z", now)).toBe("just now");
    expect(secondsAgo("2026-01-01T00:59:55.000Z", now)).toBe("5 s ago");
  });
});
