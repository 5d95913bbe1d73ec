/** A member's guild roles as chips: the role's colour as a dot, then its name. */
import { roleColor } from "../lib/members";
import type { GuildRole } from "../lib/types";

/** Chips shown before the rest collapse into "+N". */
const MAX_CHIPS = 3;

/**
 * The roles in `roleIds`, in the guild's role order (highest first, as `roles` comes from the
 * API), at most three chips then "+N" (its tooltip names the rest). Role ids missing from
 * `roles` (deleted roles, or roles the bot has not synced yet) are counted but not named.
 * A muted dash when there are none.
 */
export function RoleChips({ roleIds, roles }: { roleIds: ReadonlyArray<string>; roles: ReadonlyArray<GuildRole> }) {
  const held = new Set(roleIds);
  const known = roles.filter((r) => held.has(r.id));
  const unknown = roleIds.length - known.length;
  if (roleIds.length === 0) return <span className="muted">—</span>;
  if (known.length === 0) {
    return (
      <span className="muted small" title="Role names arrive with the bot's next member sync">
        {unknown} role{unknown === 1 ? "" : "s"}
      </span>
    );
  }
  const shown = known.slice(0, MAX_CHIPS);
  const rest = [...known.slice(MAX_CHIPS).map((r) => r.name), ...(unknown > 0 ? [`${unknown} unnamed`] : [])];
  const restCount = known.length - shown.length + unknown;
  return (
    <span className="chips">
      {shown.map((role) => {
        const color = roleColor(role.color);
        return (
          <span key={role.id} className="chip" data-testid="role-chip" data-role-id={role.id} title={role.name}>
            <span className="dot" style={color ? { background: color } : undefined} aria-hidden="true" />
            {role.name}
          </span>
        );
      })}
      {restCount > 0 ? (
        <span className="chip chip-more" title={rest.join(", ")}>
          +{restCount}
        </span>
      ) : null}
    </span>
  );
}
