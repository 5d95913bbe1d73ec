/** Initials in a tinted circle; the tint is derived from the name so it is stable. */
import { initials } from "../lib/presence";

const TINTS = ["#e0e7ff", "#dcfce7", "#fef3c7", "#fce7f3", "#e0f2fe", "#ede9fe", "#ffedd5", "#ccfbf1"];
const INKS = ["#3730a3", "#166534", "#92400e", "#9d174d", "#075985", "#5b21b6", "#9a3412", "#115e59"];

/** An avatar for `name` (decorative: the name is always shown beside it). */
export function Avatar({ name, size = 32 }: { name: string; size?: number }) {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  const i = hash % TINTS.length;
  return (
    <span
      className="avatar"
      aria-hidden="true"
      style={{ width: size, height: size, fontSize: size * 0.38, background: TINTS[i], color: INKS[i] }}
    >
      {initials(name)}
    </span>
  );
}
