/** Which Discord clients a member is on (desktop, mobile, web), as small labelled icons. */
import type { RosterPresence } from "../lib/types";

const PLATFORMS = [
  { key: "desktop", label: "Desktop", path: "M3 4h18v12H3zM8 20h8M12 16v4" },
  { key: "mobile", label: "Mobile", path: "M7 2h10v20H7zM11 18h2" },
  { key: "web", label: "Web", path: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M3 12h18M12 3c3 3.5 3 14.5 0 18M12 3c-3 3.5-3 14.5 0 18" },
] as const;

/**
 * The platforms in `clientStatus` (https://discord.com/developers/docs/events/gateway-events#client-status-object),
 * each tinted by its own status. Renders a muted dash when there are none.
 */
export function Platforms({ clientStatus }: { clientStatus: RosterPresence["clientStatus"] | undefined }) {
  const present = PLATFORMS.flatMap((p) => {
    const status = clientStatus?.[p.key];
    return status && status !== "offline" ? [{ ...p, status }] : [];
  });
  if (present.length === 0) return <span className="muted">—</span>;
  return (
    <span className="platforms" data-testid="platforms">
      {present.map((p) => (
        <span key={p.key} className={`platform platform-${p.status}`} title={`${p.label}: ${p.status}`} data-platform={p.key}>
          <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
            <path d={p.path} fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          <span className="platform-label">{p.label}</span>
        </span>
      ))}
    </span>
  );
}
