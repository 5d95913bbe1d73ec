/** A horizontally scrolling box for a wide table, reachable by keyboard when it does scroll. */
import { type ReactNode, useLayoutEffect, useRef, useState } from "react";

/**
 * Wraps a table that may be wider than the screen (a phone, a narrow window). While its
 * content overflows, the box is a named region in the tab order, so keyboard users can focus
 * it and scroll it with the arrow keys (WCAG 2.1.1; axe's `scrollable-region-focusable`);
 * while everything fits it is a plain box and no extra tab stop. `label` names the region
 * ("Staff table").
 */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  const ref = useRef<HTMLElement>(null);
  const [scrolls, setScrolls] = useState(false);

  useLayoutEffect(() => {
    const box = ref.current;
    if (!box) return;
    const measure = () => setScrolls(box.scrollWidth > box.clientWidth + 1);
    measure();
    // The box resizes with the window; its content with the rows shown.
    const observer = new ResizeObserver(measure);
    observer.observe(box);
    for (const child of box.children) observer.observe(child);
    return () => observer.disconnect();
  }, []);

  return (
    <section
      ref={ref}
      className="table-wrap"
      aria-label={scrolls ? label : undefined}
      tabIndex={scrolls ? 0 : undefined}
      data-scrolls={scrolls ? "true" : "false"}
    >
      {children}
    </section>
  );
}
