/**
 * Nickname templates: an organization's template, e.g. `{display_name} [{group}]`, rendered
 * per member and cut to Discord's limit of 32 characters
 * (https://discord.com/developers/docs/resources/user#usernames-and-nicknames: nicknames are 1
 * to 32 Unicode characters, counted as code points).
 *
 * Placeholders:
 * - `{display_name}`: the user's Discord display name (`global_name`), else their username.
 *   Never the guild nickname: that is what the template writes, so reading it would feed the
 *   result back into itself.
 * - `{username}`: the Discord username.
 * - `{name}`: the user's name in the app, else `{display_name}`.
 * - `{group}`: the name of the member's highest-priority mapped group (after the plan), else empty.
 *
 * Anything else in braces is kept literally; `nicknameTemplateProblems` lists such unknown
 * placeholders so a settings form can refuse them.
 *
 * Rendering, in order: placeholders are substituted; brackets left empty (`[]`, `()`, with only
 * spaces inside, as when `{group}` is empty) are dropped; whitespace runs become one space and
 * the ends are trimmed. When the result is longer than 32 code points, the name placeholders
 * (`display_name`, `username`, `name`) are shortened first, longest first, so that a suffix
 * such as ` [Officers]` survives; only then is the whole cut at 32 code points, never inside a
 * surrogate pair. Lone surrogates become U+FFFD, so the result is always well-formed UTF-16.
 * An empty result means "no nickname" (null): Discord's minimum is 1 character.
 */

/** Discord's maximum nickname length, in code points. */
export const NICKNAME_MAX = 32;

/** The placeholders a template may use. */
export const NICKNAME_PLACEHOLDERS = ["display_name", "username", "name", "group"] as const;
export type NicknamePlaceholder = (typeof NICKNAME_PLACEHOLDERS)[number];

/** The values of the placeholders for one member. */
export interface NicknameValues {
  readonly display_name: string;
  readonly username: string;
  readonly name: string;
  readonly group: string;
}

/** A parsed template: literal strings and placeholders in order. Build once per plan with {@link compileNicknameTemplate}. */
export interface CompiledNicknameTemplate {
  readonly template: string;
  readonly parts: ReadonlyArray<string | { readonly placeholder: NicknamePlaceholder }>;
}

const PLACEHOLDER = /\{([a-z_]+)\}/g;
const SHRINKABLE: ReadonlyArray<NicknamePlaceholder> = ["display_name", "username", "name"];
const isPlaceholder = (name: string): name is NicknamePlaceholder => (NICKNAME_PLACEHOLDERS as ReadonlyArray<string>).includes(name);

/** Parses a template (see the module comment). Unknown placeholders stay literal text. */
export const compileNicknameTemplate = (template: string): CompiledNicknameTemplate => {
  const parts: Array<string | { placeholder: NicknamePlaceholder }> = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? "";
    if (!isPlaceholder(name)) continue;
    if (match.index > last) parts.push(template.slice(last, match.index));
    parts.push({ placeholder: name });
    last = match.index + match[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  return { template, parts };
};

/** The unknown placeholders in `template` (names inside braces that are not {@link NICKNAME_PLACEHOLDERS}); empty when the template is valid. */
export const nicknameTemplateProblems = (template: string): ReadonlyArray<string> => {
  const unknown: string[] = [];
  for (const match of template.matchAll(/\{([^{}]*)\}/g)) {
    const name = match[1] ?? "";
    if (!isPlaceholder(name) && !unknown.includes(name)) unknown.push(name);
  }
  return unknown;
};

const substitute = (compiled: CompiledNicknameTemplate, values: NicknameValues): string => {
  let out = "";
  for (const part of compiled.parts) out += typeof part === "string" ? part : values[part.placeholder];
  return out;
};

const EMPTY_BRACKETS = /\[\s*\]|\(\s*\)/g;
const UNTIDY_SPACE = /\s{2}|[^\S ]/;

/** Drops empty brackets, collapses whitespace runs to one space, trims. Tests first: most names need nothing. */
const tidy = (text: string): string => {
  let out = text;
  if (out.includes("]") || out.includes(")")) out = out.replace(EMPTY_BRACKETS, "");
  if (UNTIDY_SPACE.test(out)) out = out.replace(/\s+/g, " ");
  return out.trim();
};

/** The number of code points in `text`. */
export const codePointLength = (text: string): number => {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
};

/** True when `text` has no lone surrogate. */
const isWellFormed = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff || i + 1 >= text.length) return false;
    const d = text.charCodeAt(++i);
    if (d < 0xdc00 || d > 0xdfff) return false;
  }
  return true;
};

/**
 * The first `max` code points of `text`, never splitting a surrogate pair; lone surrogates
 * become U+FFFD, so the result is well-formed UTF-16.
 */
export const cutCodePoints = (text: string, max: number): string => {
  let out = "";
  let n = 0;
  for (let i = 0; i < text.length && n < max; i++, n++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i++;
        continue;
      }
    }
    out += c >= 0xd800 && c <= 0xdfff ? "\ufffd" : text[i]!;
  }
  return out;
};

/**
 * Renders a compiled template for one member (see the module comment): at most
 * {@link NICKNAME_MAX} code points of well-formed UTF-16, or null when the result is empty.
 */
export const renderNickname = (compiled: CompiledNicknameTemplate, values: NicknameValues): string | null => {
  let text = tidy(substitute(compiled, values));
  let overflow = codePointLength(text) - NICKNAME_MAX;
  if (overflow <= 0 && isWellFormed(text)) return text === "" ? null : text;
  if (overflow > 0) {
    // Shorten the names, longest first, so that the template's fixed text and {group} survive.
    const shrunk: Record<NicknamePlaceholder, string[]> = {
      display_name: Array.from(values.display_name),
      username: Array.from(values.username),
      name: Array.from(values.name),
      group: [],
    };
    const used = SHRINKABLE.filter((p) => compiled.parts.some((part) => typeof part !== "string" && part.placeholder === p));
    while (overflow > 0) {
      let longest: NicknamePlaceholder | null = null;
      for (const p of used) if (shrunk[p].length > 0 && (longest === null || shrunk[p].length > shrunk[longest].length)) longest = p;
      if (longest === null) break;
      // One code point off a placeholder usually saves one (more if it occurs twice); the cut below catches the rest.
      shrunk[longest].pop();
      overflow--;
    }
    text = tidy(
      substitute(compiled, {
        display_name: shrunk.display_name.join(""),
        username: shrunk.username.join(""),
        name: shrunk.name.join(""),
        group: values.group,
      }),
    );
  }
  const cut = cutCodePoints(text, NICKNAME_MAX).trim();
  return cut === "" ? null : cut;
};
