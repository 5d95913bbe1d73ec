/** Whether the roster is receiving live presence updates. */

/** Connection state of the live roster: "live" while the subscription runs, "reconnecting" otherwise. */
export type LiveState = "live" | "connecting" | "reconnecting";

/**
 * "Live" (green, pulsing) or "Connecting…"/"Reconnecting…" (amber). `data-state` is the stable
 * test hook and is only ever "live" or "reconnecting".
 */
export function LiveIndicator({ state }: { state: LiveState }) {
  const live = state === "live";
  return (
    <span
      className={`live ${live ? "live-on" : "live-off"}`}
      data-testid="live-indicator"
      data-state={live ? "live" : "reconnecting"}
      role="status"
      aria-live="polite"
      title={live ? "Presence changes appear as they happen" : "Waiting for the live connection; the roster may be stale"}
    >
      <span className="live-dot" aria-hidden="true" />
      {live ? "Live" : state === "connecting" ? "Connecting…" : "Reconnecting…"}
    </span>
  );
}
