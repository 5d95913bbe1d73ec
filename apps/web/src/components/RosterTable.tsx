/** The staff table with its status filter and search box. */
import { type ReactNode, useDeferredValue, useMemo, useState } from "react";
import {
  countByStatus,
  matchesSearch,
  primaryActivity,
  ROSTER_STATUSES,
  type RosterStatus,
  rosterStatusOf,
  STATUS_LABEL,
  sortEntries,
} from "../lib/presence";
import { relativeTime, useNow } from "../lib/time";
import type { RosterEntry } from "../lib/types";
import { Avatar } from "./Avatar";
import { Platforms } from "./Platforms";
import { PresenceBadge } from "./PresenceBadge";
import { ScrollRegion } from "./ScrollRegion";

/** A filter choice: every row, or one status. */
type Filter = "all" | RosterStatus;

const FILTER_LABEL: Record<Filter, string> = { all: "All", ...STATUS_LABEL, dnd: "DND" };

/** How often "last seen" times are recomputed (ms). */
const LAST_SEEN_TICK_MS = 30_000;

/**
 * The roster: status filter (with counts), search (name, email, Discord id) and rows sorted
 * online, idle, dnd, offline, not linked, then by name. Rows carry the e2e hooks
 * `data-testid="roster-row"`, `data-discord-id` and `data-name`.
 */
export function RosterTable({ entries, toolbarEnd }: { entries: ReadonlyArray<RosterEntry>; toolbarEnd?: ReactNode }) {
  const [filter, setFilter] = useState<Filter>("all");
  const [search, setSearch] = useState("");
  const deferredSearch = useDeferredValue(search);
  const now = useNow(LAST_SEEN_TICK_MS);

  const counts = useMemo(() => countByStatus(entries), [entries]);
  const rows = useMemo(
    () => sortEntries(entries).filter((e) => (filter === "all" || rosterStatusOf(e) === filter) && matchesSearch(e, deferredSearch)),
    [entries, filter, deferredSearch],
  );

  return (
    <section className="card roster" aria-labelledby="roster-title">
      <div className="card-header">
        <h2 className="card-title" id="roster-title">
          Staff
          <span className="count-pill">{entries.length}</span>
        </h2>
        {toolbarEnd}
      </div>
      <div className="toolbar">
        <fieldset className="segmented">
          <legend className="sr-only">Filter by status</legend>
          {(["all", ...ROSTER_STATUSES] as const).map((f) => (
            <button
              key={f}
              type="button"
              className={`segment${filter === f ? " active" : ""}`}
              aria-pressed={filter === f}
              data-filter={f}
              onClick={() => setFilter(f)}
            >
              {f !== "all" ? <span className={`dot dot-${f}`} aria-hidden="true" /> : null}
              {FILTER_LABEL[f]}
              <span className="segment-count" data-testid={`count-${f}`}>
                {f === "all" ? entries.length : counts[f]}
              </span>
            </button>
          ))}
        </fieldset>
        <label className="search">
          <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
            <path
              d="M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14M20 20l-4-4"
              fill="none"
              stroke="currentColor"
              strokeWidth="2"
              strokeLinecap="round"
            />
          </svg>
          <span className="sr-only">Search staff</span>
          <input
            className="input"
            type="search"
            placeholder="Search name, email, Discord id"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            data-testid="roster-search"
          />
        </label>
      </div>
      <ScrollRegion label="Staff table">
        <table className="table" data-testid="roster-table">
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col" className="col-role">
                Role
              </th>
              <th scope="col">Presence</th>
              <th scope="col">Clients</th>
              <th scope="col" className="right">
                Last seen
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((entry) => (
              <RosterRow key={entry.staffId} entry={entry} now={now} />
            ))}
          </tbody>
        </table>
        {rows.length === 0 ? (
          <p className="empty muted" data-testid="roster-empty">
            {entries.length === 0 ? "No staff in this organization yet." : "No staff match these filters."}
          </p>
        ) : null}
      </ScrollRegion>
    </section>
  );
}

function RosterRow({ entry, now }: { entry: RosterEntry; now: number }) {
  const status = rosterStatusOf(entry);
  const presence = entry.presence;
  const activity = presence && status !== "offline" ? primaryActivity(presence.activities) : null;
  const customStatus = status !== "offline" && status !== "unlinked" ? presence?.customStatus : null;
  return (
    <tr data-testid="roster-row" data-discord-id={entry.discordId ?? ""} data-name={entry.name} className={`row-${status}`}>
      <td>
        <div className="member">
          <Avatar name={entry.name} />
          <div className="member-text">
            <span className="member-name" title={entry.email}>
              {entry.name}
            </span>
            <span className="member-sub muted">{entry.title ?? entry.email}</span>
          </div>
        </div>
      </td>
      <td className="col-role">
        <span className={`role role-${entry.role}`}>{entry.role === "admin" ? "Admin" : "Staff"}</span>
      </td>
      <td>
        <div className="presence">
          <PresenceBadge status={status} />
          {customStatus || activity ? (
            <div className="presence-text">
              {customStatus ? (
                <span className="custom-status" data-testid="custom-status" title={customStatus}>
                  {customStatus}
                </span>
              ) : null}
              {activity ? (
                <span className="activity muted" data-testid="activity" title={activity.detail ?? activity.text}>
                  {activity.text}
                </span>
              ) : null}
            </div>
          ) : null}
        </div>
      </td>
      <td>{status === "unlinked" ? <span className="muted">—</span> : <Platforms clientStatus={presence?.clientStatus} />}</td>
      <td className="right nowrap">
        <LastSeen entry={entry} status={status} now={now} />
      </td>
    </tr>
  );
}

function LastSeen({ entry, status, now }: { entry: RosterEntry; status: RosterStatus; now: number }) {
  if (status === "unlinked") return <span className="muted">—</span>;
  const seen = entry.presence?.lastSeenAt ?? null;
  // Someone online right now was last seen now, whenever their status last changed.
  if (status !== "offline") return <span className="last-seen-now">Now</span>;
  if (!seen) return <span className="muted">Never</span>;
  return (
    <time dateTime={seen} title={new Date(seen).toLocaleString()} className="muted">
      {relativeTime(seen, now)}
    </time>
  );
}
