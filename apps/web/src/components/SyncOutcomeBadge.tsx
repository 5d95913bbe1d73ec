/** A member sync run's status as a pill: dot plus label (colour is never the only signal). */
import { SYNC_STATUS_LABEL } from "../lib/sync";
import type { SyncStatus } from "../lib/types";

/** Status badge of one sync run; `data-status` (running | completed | incomplete | failed | awaiting_confirmation | discarded) is a stable test hook. */
export function SyncOutcomeBadge({ status }: { status: SyncStatus }) {
  return (
    <span className={`badge badge-sync-${status}`} data-testid="sync-outcome" data-status={status}>
      <span className="dot" aria-hidden="true" />
      {SYNC_STATUS_LABEL[status]}
    </span>
  );
}
