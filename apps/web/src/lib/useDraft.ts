/** A text input's draft that is committed elsewhere (the URL) after a pause. */
import { useEffect, useState } from "react";

/**
 * Edits of an input whose committed value lives elsewhere (here: the URL search params).
 * Returns the text to show and its setter. The draft is handed to `commit` once the user has
 * paused for `delayMs` and `accept(draft)` holds (a date input's half-typed year is not
 * committed); it is shown until `value` catches up with it, so neither the debounce nor the
 * navigation makes the input jump. Without a draft, `value` is shown, so a change from
 * elsewhere (Back button, a "Clear" button) shows at once.
 */
export function useDraft(
  value: string,
  commit: (draft: string) => void,
  { delayMs, accept = () => true }: { delayMs: number; accept?: (draft: string) => boolean },
): [string, (draft: string) => void] {
  const [draft, setDraft] = useState<string | null>(null);
  // Derived state, set during render: the committed value has caught up with the draft.
  if (draft !== null && draft === value) setDraft(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: see the comment at the end of the effect.
  useEffect(() => {
    if (draft === null || draft === value || !accept(draft)) return;
    const timer = window.setTimeout(() => commit(draft), delayMs);
    return () => window.clearTimeout(timer);
    // Not keyed on `commit` / `accept`: they are inline closures, new on every render, and would
    // restart the pause on each one. The draft alone decides when to commit.
  }, [draft, value, delayMs]);

  return [draft ?? value, setDraft];
}
