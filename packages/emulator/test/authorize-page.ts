/**
 * Drives the emulator's authorize page over HTTP as a browser would: fetch the page, read its form
 * (hidden fields, selects, checkboxes) out of the HTML, post it back, follow nothing (302s are returned).
 */

/** Decodes the numeric entities the page writes (`&#38;` ...). */
function decode(text: string): string {
  return text.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)));
}

/** An `<option>` of a select. */
export interface PageOption {
  value: string;
  text: string;
  disabled: boolean;
  selected: boolean;
}

/** A form of the page, found by its aria-label. */
export interface PageForm {
  method: string;
  action: string;
  /** Hidden inputs, in order. */
  hidden: URLSearchParams;
  /** The options of the select with this id. */
  options(selectId: string): PageOption[];
  /** Whether the select with this id is disabled. */
  selectDisabled(selectId: string): boolean;
  /** Checkboxes named `name`: value and whether checked. */
  checkboxes(name: string): Array<{ value: string; checked: boolean; label: string }>;
  /** The submit buttons' `name=value` pairs and labels. */
  buttons: Array<{ name: string; value: string; label: string }>;
}

/** The form labelled `label` (aria-label) in `html`; throws when absent. */
export function pageForm(html: string, label: string): PageForm {
  const match = new RegExp(`<form method="(get|post)" action="([^"]*)" aria-label="${label}">([\\s\\S]*?)</form>`).exec(html);
  if (!match) throw new Error(`no form "${label}" on the page:\n${html}`);
  const body = match[3] as string;
  const hidden = new URLSearchParams();
  for (const m of body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    hidden.append(decode(m[1] as string), decode(m[2] as string));
  const select = (id: string) => {
    const s = new RegExp(`<select id="${id}" name="[^"]*"([^>]*)>([\\s\\S]*?)</select>`).exec(body);
    if (!s) throw new Error(`no select #${id} in form "${label}"`);
    return { attrs: s[1] as string, inner: s[2] as string };
  };
  return {
    method: (match[1] as string).toUpperCase(),
    action: match[2] as string,
    hidden,
    options: (id) =>
      [...select(id).inner.matchAll(/<option value="([^"]*)"([^>]*)>([^<]*)<\/option>/g)].map((m) => ({
        value: decode(m[1] as string),
        text: decode(m[3] as string),
        disabled: (m[2] as string).includes("disabled"),
        selected: (m[2] as string).includes("selected"),
      })),
    selectDisabled: (id) => select(id).attrs.includes("disabled"),
    checkboxes: (name) =>
      [...body.matchAll(new RegExp(`<label><input type="checkbox" name="${name}" value="([^"]*)"( checked)?> ([^<]*)</label>`, "g"))].map(
        (m) => ({
          value: m[1] as string,
          checked: m[2] !== undefined,
          label: decode(m[3] as string),
        }),
      ),
    buttons: [...body.matchAll(/<button[^>]*type="submit" name="([^"]*)" value="([^"]*)"[^>]*>([^<]*)<\/button>/g)].map((m) => ({
      name: m[1] as string,
      value: m[2] as string,
      label: m[3] as string,
    })),
  };
}

/** GETs the authorize page with `query`, not following redirects. */
export async function openAuthorize(
  baseUrl: string,
  query: Record<string, string>,
  cookie?: string,
): Promise<{ status: number; html: string; location: string | null; setCookie: string | null }> {
  const res = await fetch(`${baseUrl}/oauth2/authorize?${new URLSearchParams(query)}`, {
    redirect: "manual",
    headers: cookie ? { cookie } : {},
  });
  return { status: res.status, html: await res.text(), location: res.headers.get("location"), setCookie: res.headers.get("set-cookie") };
}

/** POSTs `fields` (form-urlencoded) to the page's action, not following redirects. */
export async function submitAuthorize(
  baseUrl: string,
  fields: URLSearchParams,
  cookie?: string,
): Promise<{ status: number; html: string; location: string | null }> {
  const res = await fetch(`${baseUrl}/oauth2/authorize`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
    body: fields.toString(),
  });
  return { status: res.status, html: await res.text(), location: res.headers.get("location") };
}

/**
 * Opens the page for `query` as the signed-in user, fills the Authorize form (guild, channel,
 * unticked permissions) and presses `action`. Returns the answer (a 302 to the redirect_uri, or a page).
 */
export async function authorizeThroughPage(
  baseUrl: string,
  query: Record<string, string>,
  choice: { action?: "authorize" | "cancel"; guildId?: string; channelId?: string; untick?: bigint[]; cookie?: string } = {},
): Promise<{ status: number; html: string; location: string | null }> {
  const page = await openAuthorize(baseUrl, query, choice.cookie);
  if (page.status !== 200) throw new Error(`the authorize page answered ${page.status}: ${page.location ?? page.html}`);
  const form = pageForm(page.html, "Authorize");
  const fields = new URLSearchParams(form.hidden);
  if (choice.guildId !== undefined) fields.set("guild_id", choice.guildId);
  if (choice.channelId !== undefined) fields.set("channel_id", choice.channelId);
  if (query.scope?.includes("bot") && query.permissions !== undefined && query.permissions !== "0") {
    for (const box of form.checkboxes("permission"))
      if (box.checked && !(choice.untick ?? []).includes(BigInt(box.value))) fields.append("permission", box.value);
  }
  const action = choice.action ?? "authorize";
  const button = form.buttons.find((b) => b.value === action);
  if (!button) throw new Error(`no ${action} button on the page`);
  fields.set(button.name, button.value);
  return submitAuthorize(baseUrl, fields, choice.cookie);
}

/** The query parameters of a redirect `location`. */
export function redirectParams(location: string | null): URLSearchParams {
  if (location === null) throw new Error("expected a redirect");
  return new URL(location).searchParams;
}
