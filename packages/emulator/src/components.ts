/**
 * Message components: the checks and defaults Discord applies to a message's `components` (legacy action
 * rows, and the Components V2 layout a message gets with flag IS_COMPONENTS_V2 (1 << 15): containers,
 * sections, text displays, selects; at most 40 components), and finding the component a member
 * interacts with and checking what they chose in a select.
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
 * request gave none), select menus their default min_values / max_values of 1, containers, separators,
 * thumbnails and files their defaults (accent_color null, spoiler false, spacing 1, divider true, ...).
 * Returns a copy.
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
    // Components V2 defaults Discord fills in its answers.
    switch (c.type) {
      case ComponentType.Container:
        c.accent_color ??= null;
        c.spoiler ??= false;
        break;
      case ComponentType.Separator:
        c.spacing ??= 1;
        c.divider ??= true;
        break;
      case ComponentType.Thumbnail:
        c.description ??= null;
        c.spoiler ??= false;
        break;
      case ComponentType.File:
        c.spoiler ??= false;
        c.name ??= null;
        c.size ??= null;
        break;
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

const T = ComponentType;
/** Select menus: string, user, role, mentionable, channel. */
const SELECT_TYPES: ReadonlySet<number> = new Set([T.StringSelect, T.UserSelect, T.RoleSelect, T.MentionableSelect, T.ChannelSelect]);
/** What a Components V2 message may hold at its top level. */
const V2_TOP_LEVEL: ReadonlySet<number> = new Set([
  T.ActionRow,
  T.Section,
  T.TextDisplay,
  T.MediaGallery,
  T.File,
  T.Separator,
  T.Container,
]);
/** What a Container may hold. */
const CONTAINER_CHILDREN: ReadonlySet<number> = new Set([T.ActionRow, T.TextDisplay, T.Section, T.MediaGallery, T.Separator, T.File]);
/** Most components in a Components V2 message, nested ones included. */
export const MAX_V2_COMPONENTS = 40;
/** Most options of a string select, and most values any select takes. */
export const MAX_SELECT_OPTIONS = 25;
/** Most characters over all the Text Displays of a message. */
const MAX_TEXT_DISPLAY_TOTAL = 4000;

/**
 * Records 50035 field errors for the layout rules Discord applies: without Components V2 only action
 * rows at the top (at most 5); with it the V2 top-level types, at most 40 components in all, containers
 * of rows, texts, sections, galleries, separators and files, sections of 1-3 text displays with a button
 * or thumbnail accessory, text displays with 1-4000 characters of content (4000 over the message). An
 * action row holds 1-5 buttons or exactly one select; a string select 1-25 options with unique values;
 * `min_values` / `max_values` in 0-25 and consistent. `components` are the message's top-level
 * components (already known to be objects); paths start at `components`.
 * https://discord.com/developers/docs/components/reference
 */
export function checkLayout(errors: FormErrors, components: ReadonlyArray<Component>, v2: boolean): void {
  let count = 0;
  let text = 0;
  const typeError = (path: Array<string | number>, allowed: ReadonlySet<number>) =>
    errors.add([...path, "type"], "UNION_TYPE_CHOICES", `Value of field "type" must be one of (${[...allowed].join(", ")}).`);
  const children = (c: Component, path: Array<string | number>): Component[] => {
    if (!Array.isArray(c.components) || !c.components.every(isPlainObject)) {
      errors.add([...path, "components"], "BASE_TYPE_ARRAY", "Must be an array of components.");
      return [];
    }
    return c.components as Component[];
  };
  const walk = (c: Component, path: Array<string | number>, allowed: ReadonlySet<number>): void => {
    count += 1;
    if (typeof c.type !== "number" || !allowed.has(c.type)) {
      typeError(path, allowed);
      return;
    }
    switch (c.type) {
      case T.ActionRow: {
        const items = children(c, path);
        const selects = items.filter((i) => typeof i.type === "number" && SELECT_TYPES.has(i.type)).length;
        const buttons = items.filter((i) => i.type === T.Button).length;
        if (items.length === 0) errors.add([...path, "components"], "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.");
        else if (selects > 0 && items.length > 1)
          errors.add([...path, "components"], "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "A select takes the whole action row.");
        else if (buttons > 5) errors.add([...path, "components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
        items.forEach((item, i) => {
          walk(item, [...path, "components", i], new Set([T.Button, ...SELECT_TYPES]));
        });
        break;
      }
      case T.Container:
        children(c, path).forEach((item, i) => {
          walk(item, [...path, "components", i], CONTAINER_CHILDREN);
        });
        break;
      case T.Section: {
        const items = children(c, path);
        if (items.length < 1 || items.length > 3)
          errors.add([...path, "components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 3 in length.");
        items.forEach((item, i) => {
          walk(item, [...path, "components", i], new Set([T.TextDisplay]));
        });
        if (!isPlainObject(c.accessory)) errors.add([...path, "accessory"], "BASE_TYPE_REQUIRED", "This field is required");
        else walk(c.accessory, [...path, "accessory"], new Set([T.Button, T.Thumbnail]));
        break;
      }
      case T.TextDisplay:
        if (typeof c.content !== "string" || c.content.length < 1 || c.content.length > MAX_TEXT_DISPLAY_TOTAL)
          errors.add([...path, "content"], "BASE_TYPE_BAD_LENGTH", `Must be between 1 and ${MAX_TEXT_DISPLAY_TOTAL} in length.`);
        else text += c.content.length;
        break;
      default:
        if (SELECT_TYPES.has(c.type)) checkSelect(errors, c, path);
    }
  };
  const topLevel: ReadonlySet<number> = v2 ? V2_TOP_LEVEL : new Set([T.ActionRow]);
  components.forEach((c, i) => {
    walk(c, ["components", i], topLevel);
  });
  if (!v2 && components.length > 5) errors.add(["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
  if (v2 && count > MAX_V2_COMPONENTS)
    errors.add(["components"], "BASE_TYPE_MAX_LENGTH", `Must be ${MAX_V2_COMPONENTS} or fewer components in total.`);
  if (text > MAX_TEXT_DISPLAY_TOTAL)
    errors.add(["components"], "MAX_TEXT_DISPLAY_LENGTH_EXCEEDED", `Text displays may hold ${MAX_TEXT_DISPLAY_TOTAL} characters in all.`);
}

/** The checks of one select menu: options (string select), placeholder, min_values / max_values, default_values. */
function checkSelect(errors: FormErrors, c: Component, path: Array<string | number>): void {
  const min = c.min_values ?? 1;
  const max = c.max_values ?? 1;
  if (typeof min !== "number" || !Number.isInteger(min) || min < 0 || min > MAX_SELECT_OPTIONS)
    errors.add([...path, "min_values"], "NUMBER_TYPE_MAX", `int value should be between 0 and ${MAX_SELECT_OPTIONS}.`);
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1 || max > MAX_SELECT_OPTIONS)
    errors.add([...path, "max_values"], "NUMBER_TYPE_MAX", `int value should be between 1 and ${MAX_SELECT_OPTIONS}.`);
  else if (typeof min === "number" && min > max)
    errors.add([...path, "min_values"], "SELECT_COMPONENT_MIN_VALUES_EXCEEDS_MAX", "min_values may not exceed max_values.");
  if (c.placeholder !== undefined && (typeof c.placeholder !== "string" || c.placeholder.length > 150))
    errors.add([...path, "placeholder"], "BASE_TYPE_MAX_LENGTH", "Must be 150 or fewer in length.");
  if (c.type === T.StringSelect) {
    if (!Array.isArray(c.options) || c.options.length < 1 || c.options.length > MAX_SELECT_OPTIONS) {
      errors.add([...path, "options"], "BASE_TYPE_BAD_LENGTH", `Must be between 1 and ${MAX_SELECT_OPTIONS} in length.`);
      return;
    }
    const values = new Set<string>();
    c.options.forEach((o: unknown, i) => {
      const at = [...path, "options", i];
      if (!isPlainObject(o)) {
        errors.add(at, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
        return;
      }
      for (const key of ["label", "value"])
        if (typeof o[key] !== "string" || (o[key] as string).length < 1 || (o[key] as string).length > 100)
          errors.add([...at, key], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
      if (o.description !== undefined && (typeof o.description !== "string" || o.description.length > 100))
        errors.add([...at, "description"], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.");
      if (typeof o.value === "string") {
        if (values.has(o.value)) errors.add([...at, "value"], "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED", "Option values must be unique.");
        values.add(o.value);
      }
    });
    if (typeof max === "number" && max > c.options.length)
      errors.add([...path, "max_values"], "BASE_TYPE_MAX", "max_values may not exceed the number of options.");
  } else if (c.default_values !== undefined) {
    if (!Array.isArray(c.default_values) || c.default_values.length > (typeof max === "number" ? max : MAX_SELECT_OPTIONS))
      errors.add([...path, "default_values"], "BASE_TYPE_BAD_LENGTH", "Must be within min_values and max_values.");
  }
}

/** True for a select menu component type. */
export function isSelect(component: Component): boolean {
  return typeof component.type === "number" && SELECT_TYPES.has(component.type);
}

/** Finds the select menu with `customId` among a message's components (any nesting). */
export function findSelect(components: ReadonlyArray<unknown>, customId: string): Component | undefined {
  for (const c of components) {
    if (!isPlainObject(c)) continue;
    if (isSelect(c) && c.custom_id === customId) return c;
    if (Array.isArray(c.components)) {
      const found = findSelect(c.components, customId);
      if (found) return found;
    }
  }
  return undefined;
}
