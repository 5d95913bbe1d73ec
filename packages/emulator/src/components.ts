/**
 * Message components: the checks and defaults Discord applies to a message's `components`, and
 * finding a component a member interacts with. Components V2 (containers, sections, selects) grow here.
 * https://discord.com/developers/docs/components/reference
 */
import { ComponentType } from "discord-api-types/v10";
import type { FormErrors } from "./discorderrors";
import { isPlainObject } from "./validate";

type Component = Record<string, unknown>;

/**
 * Records a 50035 field error in `errors` for every `custom_id` that is not 1-100 characters or
 * repeats one earlier in the message (any nesting). `components` are the message's top-level
 * components (already known to be objects); paths start at `components`.
 */
export function checkCustomIds(errors: FormErrors, components: ReadonlyArray<Component>): void {
  const customIds = new Set<string>();
  const walk = (component: Component, path: Array<string | number>): void => {
    if (component.custom_id !== undefined) {
      const id = component.custom_id;
      if (typeof id !== "string" || id.length < 1 || id.length > 100)
        errors.add([...path, "custom_id"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
      else if (customIds.has(id))
        errors.add([...path, "custom_id"], "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated");
      else customIds.add(id);
    }
    if (Array.isArray(component.components)) {
      component.components.forEach((child: unknown, i) => {
        if (isPlainObject(child)) walk(child, [...path, "components", i]);
      });
    }
  };
  components.forEach((c, i) => {
    walk(c, ["components", i]);
  });
}

/**
 * Components as Discord stores them: every component gets a numeric `id` (depth-first from 1 when the
 * request gave none) and select menus their default min_values / max_values of 1. Returns a copy.
 * https://discord.com/developers/docs/components/reference#anatomy-of-a-component
 */
export function normalizeComponents(components: ReadonlyArray<Component>): Component[] {
  const copy = structuredClone(components) as Component[];
  const used = new Set<number>();
  const all: Component[] = [];
  const collect = (c: Component): void => {
    all.push(c);
    if (Number.isInteger(c.id)) used.add(c.id as number);
    if (Array.isArray(c.components)) for (const child of c.components) if (isPlainObject(child)) collect(child);
    if (isPlainObject(c.accessory)) collect(c.accessory);
  };
  for (const c of copy) collect(c);
  let next = 1;
  for (const c of all) {
    if (!Number.isInteger(c.id)) {
      while (used.has(next)) next += 1;
      c.id = next;
      used.add(next);
    }
    if (
      typeof c.type === "number" &&
      c.type >= ComponentType.StringSelect &&
      c.type <= ComponentType.ChannelSelect &&
      c.type !== ComponentType.TextInput
    ) {
      c.min_values ??= 1;
      c.max_values ??= 1;
    }
  }
  return copy;
}

/** Finds the button with `customId` among a message's components (any nesting, section accessories included). */
export function findButton(components: ReadonlyArray<unknown>, customId: string): Component | undefined {
  for (const c of components) {
    if (!isPlainObject(c)) continue;
    if (c.type === ComponentType.Button && c.custom_id === customId) return c;
    if (Array.isArray(c.components)) {
      const found = findButton(c.components, customId);
      if (found) return found;
    }
    if (isPlainObject(c.accessory) && c.accessory.type === ComponentType.Button && c.accessory.custom_id === customId) return c.accessory;
  }
  return undefined;
}
