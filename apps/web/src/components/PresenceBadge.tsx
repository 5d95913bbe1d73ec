/** A status pill: coloured dot plus a text label (colour is never the only signal). */
import { type RosterStatus, STATUS_LABEL } from "../lib/presence";

/** Presence badge for one roster row; `data-status` is a stable test hook. */
export function PresenceBadge({ status }: { status: RosterStatus }) {
  return (
    <span className={`badge badge-${status}`} data-testid="presence-badge" data-status={status}>
      <span className="dot" aria-hidden="true" />
      {STATUS_LABEL[status]}
    </span>
  );
}
