/** Relative times ("3 min ago") and a clock hook that re-renders on an interval. */
import { useEffect, useState } from "react";

/**
 * `iso` relative to `now` (epoch ms): "just now" under 45 s, then "x min ago", "x h ago",
 * "x d ago"; a date beyond 30 days. Times slightly in the future (clock skew) read "just now".
 */
export function relativeTime(iso: string, now: number): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds)) return "unknown";
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days <= 30) return `${days} d ago`;
  return new Date(iso).toLocaleDateString();
}

/** Seconds since `iso` as "x s ago" / "x min ago" (for machine events such as the bot's last event). */
export function secondsAgo(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return "unknown";
  if (seconds < 120) return `${seconds} s ago`;
  return relativeTime(iso, now);
}

/** The current time (epoch ms), refreshed every `intervalMs` so relative times stay current. */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** `iso` as a local calendar date, "May 27, 2024" (in the browser's locale). */
export function formatDay(iso: string): string {
  const date = new Date(iso);
  if (!Number.isFinite(date.getTime())) return "unknown";
  return date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/** `iso` as a local date and time to the minute, "May 27, 2024, 3:55 PM" (in the browser's locale). */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (!Number.isFinite(date.getTime())) return "unknown";
  return date.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}
