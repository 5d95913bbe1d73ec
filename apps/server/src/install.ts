/**
 * The bot install's OAuth2 callback, `GET /api/public/integrations/discord/callback` (the old
 * integration guide's path, so Discord applications set up for it keep working): Discord sends
 * the admin's browser here from its authorize page with `code`, `state`, `guild_id` and
 * `permissions`, or with `error=access_denied`. The work is `Integrations.completeInstall`;
 * this module reads the query and the session and answers with a page: a redirect to the
 * SPA's Integrations page on success, a short HTML page saying what went wrong otherwise.
 * https://discord.com/developers/docs/topics/oauth2#advanced-bot-authorization
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ApiRuntime, type Auth, answerFor } from "@guildhall/api";
import { Integrations } from "@guildhall/sync";
import { Cause, Exit, Option } from "effect";

/** A `state` or `code` as Discord and Guildhall issue them: URL-safe characters, at most 200. */
const TOKEN_LIKE = /^[A-Za-z0-9._~-]{1,200}$/;

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

/** Answers `status` with a small self-contained HTML page titled `title` saying `message`, with a link back to the Integrations page. */
export const installPage = (res: ServerResponse, status: number, title: string, message: string): void => {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Guildhall</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#1f2328}a{color:#0b57d0}</style>
</head><body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>
<p><a href="/integrations">Back to Integrations</a></p></main></body></html>`;
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    "referrer-policy": "no-referrer",
  });
  res.end(body);
};

/** What the callback needs from the server. */
export interface InstallCallbackDeps {
  readonly runtime: ApiRuntime;
  readonly auth: Auth;
  /** The server's public URL: success redirects to its `/integrations`. */
  readonly publicUrl: string;
}

/**
 * Handles the callback (GET or HEAD; anything else 405). Query: `state` and `code` (each 1-200
 * URL-safe characters, once), or `error` (+ `error_description`, `state`) when the admin
 * cancelled on Discord's page. Answers: 303 to `/integrations?installed=<guild id>` on success;
 * 400 for a missing, repeated or malformed parameter or a state that is unknown, expired, used
 * or another session's; 403 when access was denied on Discord's page or the installer is not an
 * admin of the guild; 409 for a guild linked to another organization; 502 when Discord failed;
 * 503 when no OAuth2 client is configured. Nothing is stored unless the install succeeded.
 * Rejects only on a failure of the server itself (the caller answers 500).
 */
export const handleInstallCallback = async (deps: InstallCallbackDeps, req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    res.setHeader("connection", "close");
    return installPage(res, 405, "Method not allowed", "This address is where Discord sends you back after an install; use GET.");
  }
  let query: URLSearchParams;
  try {
    query = new URL(req.url ?? "/", "http://callback.invalid").searchParams;
  } catch {
    return installPage(res, 400, "Bad request", "The address of this request cannot be read.");
  }
  const single = (name: string): string | null | "repeated" => {
    const values = query.getAll(name);
    return values.length > 1 ? "repeated" : (values[0] ?? null);
  };
  const state = single("state");
  const error = single("error");
  if (state === "repeated" || error === "repeated") return installPage(res, 400, "Bad request", "A parameter was given twice.");
  const stateOk = state !== null && TOKEN_LIKE.test(state);

  if (error !== null) {
    if (stateOk) await deps.runtime.runPromise(Integrations.use((i) => i.cancelInstall(state)));
    if (error === "access_denied") {
      return installPage(res, 403, "Install cancelled", "The bot was not added: access was denied on Discord's page. Nothing was stored.");
    }
    return installPage(res, 400, "Install failed", "Discord reported an error and the bot was not added. Nothing was stored.");
  }
  const code = single("code");
  if (code === "repeated") return installPage(res, 400, "Bad request", "A parameter was given twice.");
  if (!stateOk)
    return installPage(
      res,
      400,
      "Install link not valid",
      "The state parameter is missing or malformed. Start again from the Integrations page.",
    );
  if (code === null || !TOKEN_LIKE.test(code)) {
    return installPage(res, 400, "Bad request", "The code parameter is missing or malformed. Start again from the Integrations page.");
  }

  const session = await deps.auth.api.getSession({ headers: headersOf(req) }).catch(() => null);
  const caller = { sessionId: session?.session.id ?? null, userId: session?.user.id ?? null };
  const exit = await deps.runtime.runPromiseExit(Integrations.use((i) => i.completeInstall({ state, code, caller })));
  if (Exit.isSuccess(exit)) {
    res.writeHead(303, { location: `/integrations?installed=${encodeURIComponent(exit.value.guildId)}`, "cache-control": "no-store" });
    return void res.end();
  }
  const failure = Cause.findErrorOption(exit.cause);
  if (Option.isNone(failure)) throw Cause.squash(exit.cause);
  const answer = answerFor(failure.value);
  if (answer.internal) throw new Error(`install callback: ${failure.value._tag}`);
  const titles: Record<string, string> = {
    InstallStateInvalid: "Install link not valid",
    InstallerNotGuildAdmin: "Not an admin of that server",
    GuildLinkedElsewhere: "Server already linked",
    DiscordCallFailed: "Discord did not complete the install",
    IntegrationsNotConfigured: "Installs are not configured",
  };
  return installPage(res, answer.status, titles[failure.value._tag] ?? "Install failed", answer.message);
};

const headersOf = (req: IncomingMessage): Headers => {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  return headers;
};
