/**
 * Pure roster logic: how an entry's status is read, sorted, filtered and counted, how a live
 * presence change is folded into a `roster.list` snapshot, and how activities read as text.
 * No React, no IO, so it is easy to reason about (and to test).
 */
import type { Activity, PresenceChange, PresenceStatus, RosterEntry, RosterPresence, RosterSnapshot } from "./types";

/** A roster row's status: a Discord presence status, or "unlinked" for staff without a Discord id. */
export type RosterStatus = PresenceStatus | "unlinked";

/** Display order: online first, then idle, dnd, offline, not linked. */
export const ROSTER_STATUSES: ReadonlyArray<RosterStatus> = ["online", "idle", "dnd", "offline", "unlinked"];

/** Human labels for statuses (colour is never the only signal). */
export const STATUS_LABEL: Record<RosterStatus, string> = {
  online: "Online",
  idle: "Idle",
  dnd: "Do not disturb",
  offline: "Offline",
  unlinked: "Not linked",
};

/** The status a row shows: "unlinked" without a Discord id; "offline" when linked but never seen. */
export function rosterStatusOf(entry: RosterEntry): RosterStatus {
  if (!entry.discordId) return "unlinked";
  return entry.presence?.status ?? "offline";
}

const rank = (status: RosterStatus) => ROSTER_STATUSES.indexOf(status);

/** Entries sorted by status (see {@link ROSTER_STATUSES}), then by name (locale-aware, case-insensitive). */
export function sortEntries(entries: ReadonlyArray<RosterEntry>): RosterEntry[] {
  return [...entries].sort(
    (a, b) =>
      rank(rosterStatusOf(a)) - rank(rosterStatusOf(b)) ||
      a.name.localeCompare(b.name, undefined, { sensitivity: "base" }) ||
      a.staffId.localeCompare(b.staffId),
  );
}

/** How many entries have each status. */
export function countByStatus(entries: ReadonlyArray<RosterEntry>): Record<RosterStatus, number> {
  const counts: Record<RosterStatus, number> = { online: 0, idle: 0, dnd: 0, offline: 0, unlinked: 0 };
  for (const entry of entries) counts[rosterStatusOf(entry)] += 1;
  return counts;
}

/** True when `query` (trimmed, case-insensitive) is part of the entry's name, email or Discord id. */
export function matchesSearch(entry: RosterEntry, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return [entry.name, entry.email, entry.discordId ?? ""].some((field) => field.toLowerCase().includes(q));
}

/**
 * `snapshot` with `change` applied to the entry whose Discord id is `change.userId` (the same
 * object when no entry matches). `lastSeenAt` moves to `observedAt` unless the member was
 * offline (or never seen) and still is. `cursor` is left alone on purpose: the live
 * subscription is keyed on it, and it already resumes by its own last event id.
 */
export function applyPresenceChange(snapshot: RosterSnapshot, change: PresenceChange): RosterSnapshot {
  let touched = false;
  const entries = snapshot.entries.map((entry) => {
    if (!entry.discordId || entry.discordId !== change.userId) return entry;
    touched = true;
    const before = entry.presence;
    const wasOnline = before !== null && before.status !== "offline";
    const presence: RosterPresence = {
      status: change.status,
      customStatus: change.customStatus,
      activities: change.activities,
      clientStatus: change.clientStatus,
      updatedAt: change.observedAt,
      lastSeenAt: change.status !== "offline" || wasOnline ? change.observedAt : (before?.lastSeenAt ?? null),
    };
    return { ...entry, presence };
  });
  return touched ? { ...snapshot, entries } : snapshot;
}

const ACTIVITY_VERB: Record<number, string> = {
  0: "Playing",
  1: "Streaming",
  2: "Listening to",
  3: "Watching",
  5: "Competing in",
};

/**
 * An activity as Discord shows it: "Playing Garry's Mod", "Listening to Spotify". Type 4
 * (custom status) has no verb and is shown as the custom status instead, so it gives null.
 * https://discord.com/developers/docs/events/gateway-events#activity-object-activity-types
 */
export function activityText(activity: Activity): string | null {
  if (activity.type === 4) return null;
  const verb = ACTIVITY_VERB[activity.type];
  return verb ? `${verb} ${activity.name}` : activity.name;
}

/** The activity a row shows: the first one that is not a custom status, as text; null when none. */
export function primaryActivity(activities: ReadonlyArray<Activity>): { text: string; detail: string | null } | null {
  for (const activity of activities) {
    const text = activityText(activity);
    if (text) return { text, detail: [activity.details, activity.state].filter(Boolean).join(" · ") || null };
  }
  return null;
}

/** Up to two initials for an avatar: "Ada Lovelace" -> "AL", "robin" -> "R". */
export function initials(name: string): string {
  const words = name
    .trim()
    .split(/[\s._-]+/)
    .filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : [words[0]];
  return letters.map((w) => (w ? [...w][0]?.toUpperCase() : "")).join("") || "?";
}
