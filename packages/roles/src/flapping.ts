/**
 * Flapping: a member whose roles flip on and off again and again (two bots or a bot and a
 * moderator fighting) is flagged and left alone until someone looks. The caller keeps each
 * member's recent role-change times (from the mirror's history or the audit log), asks
 * {@link isFlapping}, and passes flagged members to the planner in `actual.flagged`.
 */

/** One hour, in ms: the default window of {@link isFlapping}. */
export const FLAP_WINDOW_MS = 3_600_000;

/**
 * The largest number of changes that fall within any one window of `windowMs` milliseconds:
 * changes at `t1 <= t2` share a window when `t2 - t1 < windowMs`. Times are ms since the epoch,
 * in any order. O(n log n).
 */
export const maxChangesInWindow = (changeTimes: ReadonlyArray<number>, windowMs: number = FLAP_WINDOW_MS): number => {
  const times = Float64Array.from(changeTimes).sort();
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
};

/** Options of {@link isFlapping}. */
export interface FlappingOptions {
  /** The most role changes allowed in one window; more is flapping. */
  readonly maxFlips: number;
  /** The window in ms; default one hour ({@link FLAP_WINDOW_MS}). */
  readonly windowMs?: number;
}

/**
 * True when a member's roles changed more than `maxFlips` times within some window of
 * `windowMs` (default one hour). `changeTimes`: one timestamp (ms since the epoch) per role
 * change of that member, any order; a PATCH that changed several roles at once counts once if
 * the caller records it once.
 */
export const isFlapping = (changeTimes: ReadonlyArray<number>, options: FlappingOptions): boolean =>
  changeTimes.length > options.maxFlips && maxChangesInWindow(changeTimes, options.windowMs ?? FLAP_WINDOW_MS) > options.maxFlips;
