/**
 * The authorize page, `/oauth2/authorize` (also served at `/api/oauth2/authorize` and
 * `/api/v10/oauth2/authorize`): plain HTML forms a person or a Playwright test drives.
 *
 * - Who is signed in: the form's `user_id` (HTTP-driven tests), else the account the browser picked
 *   on the page (`login_as`, remembered in the `emulator_oauth_user` cookie), else the control API's
 *   default (`setOAuthUser`). Nobody signed in: the page offers a sign-in picker.
 * - Validation as Discord does it: an unknown `client_id` or a `redirect_uri` not registered for the
 *   application is an error page (nowhere safe to redirect to); once the redirect_uri is trusted, other
 *   errors (bad `scope`, `response_type`, `permissions`, ...) redirect with `error` and `error_description`.
 * - Approve: the bot joins the chosen guild (the user needs MANAGE_GUILD there) with the permissions
 *   left ticked, a `webhook.incoming` consent creates a webhook in the chosen channel (MANAGE_WEBHOOKS),
 *   and the browser is redirected with `code`, `state`, and for the bot `guild_id` and `permissions`.
 *   Deny: `error=access_denied`. `prompt=none` skips the page when the user's grant already covers
 *   the scopes (never for `bot` or `webhook.incoming`).
 * https://discord.com/developers/docs/topics/oauth2#authorization-code-grant
 * https://discord.com/developers/docs/topics/oauth2#bot-authorization-flow
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ChannelType, PermissionFlagsBits } from "discord-api-types/v10";
import type { GuildState } from "./guild";
import { BodyError, readForm } from "./http";
import type { Installs } from "./installs";
import type { CodeChallenge, OAuth2 } from "./oauth2";
import { BOT_FLOW_SCOPES, OAUTH2_SCOPES } from "./oauth2";
import { isSnowflake } from "./snowflake";
import type { OAuthUser, Users } from "./users";
import { hasPermission } from "./users";

/** The cookie that remembers the account a browser picked on the page. */
export const USER_COOKIE = "emulator_oauth_user";
/** Where the page's forms post. */
const PAGE_PATH = "/oauth2/authorize";
/** Form fields of the page itself, never carried over as authorize parameters. */
const PAGE_FIELDS = new Set(["user_id", "action", "permission", "permissions_reviewed", "login_as", "channel_id"]);

/** What the page needs from the emulator. */
export interface AuthorizeContext {
  readonly applicationId: string;
  /** The application's name, shown on the page. */
  readonly applicationName: string;
  readonly oauth: OAuth2;
  readonly users: Users;
  readonly installs: Installs;
  /** Any guild the emulator holds, the bot's or not. */
  guild(id: string): GuildState | undefined;
  /** Creates a `webhook.incoming` webhook in `channelId` of `guild` for `userId`; returns its id. */
  createWebhook(guild: GuildState, channelId: string, userId: string): string;
  log(line: string): void;
}

/** An authorize request, checked. */
interface AuthorizeRequest {
  /** The parameters as received (carried over as hidden fields). */
  params: URLSearchParams;
  scopes: string[];
  /** Where to send the browser back; null for the bot flow without a redirect_uri. */
  redirectUri: string | null;
  redirectUriGiven: boolean;
  responseType: "code" | null;
  state: string | null;
  permissions: bigint;
  guildId: string | null;
  disableGuildSelect: boolean;
  prompt: "consent" | "none";
  challenge: CodeChallenge | null;
}

/** Where a request cannot go on: an error page, or a redirect back with `error`. */
type Stop =
  | { kind: "page"; status: number; title: string; message: string }
  | { kind: "redirect"; location: string; headers?: Record<string, string> };
type Outcome = { kind: "ok"; request: AuthorizeRequest } | Stop;
/** What the page answers: a stop, or HTML. */
type Answer = Stop | { kind: "html"; status: number; html: string };

const page = (status: number, title: string, message: string): Stop => ({ kind: "page", status, title, message });

/** `base` with `extra` added to its query (existing parameters kept); undefined and null values are left out. */
function withQuery(base: string, extra: Record<string, string | null | undefined>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(extra)) if (value !== null && value !== undefined) url.searchParams.append(key, value);
  return url.toString();
}

/** Checks the authorize parameters in Discord's order (client, then redirect_uri, then the rest). */
function parse(ctx: AuthorizeContext, params: URLSearchParams): Outcome {
  const clientId = params.get("client_id");
  if (clientId === null || clientId === "") return page(400, "Invalid OAuth2 request", "client_id is required.");
  if (clientId !== ctx.applicationId) return page(400, "Unknown Application", `No application has the client_id ${clientId}.`);
  const scopes = [...new Set((params.get("scope") ?? "").split(/[\s+]+/).filter((s) => s !== ""))];
  const botFlowOnly = scopes.length > 0 && scopes.every((s) => BOT_FLOW_SCOPES.has(s));
  const registered = ctx.oauth.redirectUris;
  const given = params.get("redirect_uri");
  let redirectUri: string | null;
  if (given !== null) {
    if (!registered.includes(given))
      return page(400, "Invalid OAuth2 redirect_uri", `The redirect_uri ${given} is not registered for ${ctx.applicationName}.`);
    redirectUri = given;
  } else if (botFlowOnly) redirectUri = null;
  else {
    redirectUri = registered[0] ?? null;
    if (redirectUri === null)
      return page(400, "Invalid OAuth2 redirect_uri", "No redirect_uri was given and the application has none registered.");
  }
  const state = params.get("state");
  const fail = (error: string, description: string): Stop =>
    redirectUri === null
      ? page(400, "Invalid OAuth2 request", description)
      : { kind: "redirect", location: withQuery(redirectUri, { error, error_description: description, state }) };

  if (scopes.length === 0) return fail("invalid_scope", "No scope was requested.");
  const unknown = scopes.filter((s) => !OAUTH2_SCOPES.has(s));
  if (unknown.length) return fail("invalid_scope", `Invalid scope: ${unknown.join(" ")}.`);
  const responseType = params.get("response_type");
  if (responseType !== null && responseType !== "code")
    return fail("unsupported_response_type", `response_type ${responseType} is not supported: the emulator implements the code grant.`);
  if (responseType === null && !botFlowOnly)
    return fail("invalid_request", "response_type is required when scopes beyond bot and applications.commands are requested.");
  const rawPermissions = params.get("permissions");
  if (rawPermissions !== null && !/^[0-9]{1,20}$/.test(rawPermissions))
    return fail("invalid_request", "permissions must be a permission integer.");
  const integrationType = params.get("integration_type");
  if (integrationType !== null && integrationType !== "0" && integrationType !== "1")
    return fail("invalid_request", "integration_type must be 0 (guild install) or 1 (user install).");
  if (integrationType === "1" && scopes.includes("bot"))
    return fail("invalid_request", "The bot scope needs integration_type 0 (a guild install).");
  const guildId = params.get("guild_id");
  if (guildId !== null && guildId !== "" && !isSnowflake(guildId)) return fail("invalid_request", "guild_id must be a snowflake.");
  const disable = params.get("disable_guild_select");
  if (disable !== null && disable !== "true" && disable !== "false")
    return fail("invalid_request", "disable_guild_select must be true or false.");
  const prompt = params.get("prompt");
  if (prompt !== null && prompt !== "consent" && prompt !== "none") return fail("invalid_request", "prompt must be consent or none.");
  const challengeValue = params.get("code_challenge");
  const challengeMethod = params.get("code_challenge_method");
  if (challengeMethod !== null && challengeMethod !== "S256" && challengeMethod !== "plain")
    return fail("invalid_request", "code_challenge_method must be S256 or plain.");
  if (challengeMethod !== null && challengeValue === null) return fail("invalid_request", "code_challenge_method without code_challenge.");
  return {
    kind: "ok",
    request: {
      params,
      scopes,
      redirectUri,
      redirectUriGiven: given !== null,
      responseType: responseType === "code" ? "code" : null,
      state,
      permissions: rawPermissions === null ? 0n : BigInt(rawPermissions),
      guildId: guildId === null || guildId === "" ? null : guildId,
      disableGuildSelect: disable === "true",
      prompt: prompt === "none" ? "none" : "consent",
      challenge: challengeValue === null ? null : { method: challengeMethod === "S256" ? "S256" : "plain", value: challengeValue },
    },
  };
}

/** Builds the handler for GET and POST on the authorize page. */
export function createAuthorizeHandler(ctx: AuthorizeContext): (req: IncomingMessage, res: ServerResponse, url: URL) => void {
  const cookieUser = (req: IncomingMessage): string | undefined => {
    for (const part of (req.headers.cookie ?? "").split(";")) {
      const [name, ...rest] = part.trim().split("=");
      if (name === USER_COOKIE) return decodeURIComponent(rest.join("="));
    }
    return undefined;
  };
  const signedIn = (req: IncomingMessage): OAuthUser | undefined => {
    const id = cookieUser(req) ?? ctx.oauth.signedInUserId;
    return id === undefined || id === null ? undefined : ctx.users.find(id);
  };

  const get = (req: IncomingMessage, params: URLSearchParams): Answer => {
    const loginAs = params.get("login_as");
    if (loginAs !== null) {
      params.delete("login_as");
      const user = ctx.users.find(loginAs.trim());
      if (!user) return html(400, signInPage(ctx, params, `No user with the id ${loginAs} is known to the emulator.`));
      return {
        kind: "redirect",
        location: `${PAGE_PATH}?${params.toString()}`,
        headers: { "set-cookie": `${USER_COOKIE}=${user.id}; Path=/; HttpOnly; SameSite=Lax` },
      };
    }
    const outcome = parse(ctx, params);
    if (outcome.kind !== "ok") return outcome;
    const request = outcome.request;
    const user = signedIn(req);
    if (!user) return html(200, signInPage(ctx, params, null));
    if (
      request.prompt === "none" &&
      request.redirectUri !== null &&
      request.responseType === "code" &&
      ctx.oauth.covered(user.id, request.scopes)
    ) {
      const code = ctx.oauth.issueCode(
        user.id,
        request.scopes,
        request.redirectUri,
        request.redirectUriGiven,
        { guildId: null, webhookId: null },
        request.challenge,
      );
      return { kind: "redirect", location: withQuery(request.redirectUri, { code, state: request.state }) };
    }
    return html(200, consentPage(ctx, request, user));
  };

  const post = async (req: IncomingMessage): Promise<Answer> => {
    const form = (await readForm(req)).all;
    const outcome = parse(ctx, form);
    if (outcome.kind !== "ok") return outcome;
    const request = outcome.request;
    const formUser = form.get("user_id");
    const user = formUser !== null ? ctx.users.find(formUser) : signedIn(req);
    if (!user) {
      return formUser !== null
        ? page(400, "Not signed in", `No user with the id ${formUser} is known to the emulator.`)
        : page(401, "Not signed in", "Sign in first.");
    }
    const action = form.get("action");
    if (action === "cancel") {
      ctx.log(`oauth2: ${user.id} denied ${request.scopes.join(" ")}`);
      if (request.redirectUri === null) return html(200, messagePage("Cancelled", `${ctx.applicationName} was not added.`));
      return {
        kind: "redirect",
        location: withQuery(request.redirectUri, {
          error: "access_denied",
          error_description: "The resource owner or authorization server denied the request",
          state: request.state,
        }),
      };
    }
    if (action !== "authorize") return page(400, "Invalid form", "action must be authorize or cancel.");
    return approve(request, user, form);
  };

  const approve = (request: AuthorizeRequest, user: OAuthUser, form: URLSearchParams): Answer => {
    let guild: GuildState | undefined;
    let granted = 0n;
    if (request.scopes.includes("bot")) {
      if (request.guildId === null) return page(400, "Choose a server", "Choose a server to add the bot to.");
      guild = ctx.guild(request.guildId);
      if (!guild?.hasMember(user.id)) return page(400, "Unknown server", "You are not a member of that server.");
      if (!ctx.users.canManage(guild, user.id))
        return page(403, "Missing permission", `You need the Manage Server permission in ${guild.name} to add a bot to it.`);
      granted = request.permissions;
      if (form.get("permissions_reviewed") !== null) {
        let ticked = 0n;
        for (const bit of form.getAll("permission")) if (/^[0-9]{1,20}$/.test(bit)) ticked |= BigInt(bit);
        granted &= ticked;
      }
    }
    let webhookId: string | null = null;
    if (request.scopes.includes("webhook.incoming")) {
      const channelId = form.get("channel_id") ?? "";
      const home = ctx.users.guildsOf(user.id).find((g) => g.channels.some((c) => c.id === channelId && c.type === ChannelType.GuildText));
      if (!home) return page(400, "Choose a channel", "Choose a text channel of one of your servers for the webhook.");
      if (!hasPermission(home, user.id, PermissionFlagsBits.ManageWebhooks))
        return page(403, "Missing permission", `You need the Manage Webhooks permission in ${home.name} to add a webhook.`);
      webhookId = ctx.createWebhook(home, channelId, user.id);
    }
    if (guild) ctx.installs.join(guild, granted);
    ctx.log(`oauth2: ${user.id} authorized ${request.scopes.join(" ")}${guild ? ` in guild ${guild.id}` : ""}`);
    if (request.redirectUri === null) {
      const where = guild?.name ?? "the server";
      return html(200, messagePage("Authorized", `${ctx.applicationName} has been added to ${where}. You can close this window.`));
    }
    const code =
      request.responseType === "code"
        ? ctx.oauth.issueCode(
            user.id,
            request.scopes,
            request.redirectUri,
            request.redirectUriGiven,
            { guildId: guild?.id ?? null, webhookId },
            request.challenge,
          )
        : null;
    return {
      kind: "redirect",
      location: withQuery(request.redirectUri, {
        code,
        state: request.state,
        guild_id: guild?.id ?? null,
        permissions: guild ? String(granted) : null,
      }),
    };
  };

  return (req, res, url) => {
    if (req.method === "GET" || req.method === "HEAD") send(res, get(req, new URLSearchParams(url.searchParams)));
    else if (req.method === "POST") {
      post(req).then(
        (result) => send(res, result),
        (err: unknown) => {
          if (err instanceof BodyError) send(res, page(413, "Request too large", err.message));
          else send(res, page(500, "Emulator error", err instanceof Error ? err.message : String(err)));
        },
      );
    } else {
      res.writeHead(405, { allow: "GET, POST", "content-type": "text/plain; charset=utf-8" });
      res.end("405: Method Not Allowed");
    }
  };
}

/** An HTML answer. */
function html(status: number, body: string): Answer {
  return { kind: "html", status, html: body };
}

/** Writes an answer: a page, a 302, or HTML. */
function send(res: ServerResponse, answer: Answer): void {
  if (answer.kind === "redirect") {
    res.writeHead(302, { location: answer.location, "cache-control": "no-store", ...answer.headers });
    res.end();
    return;
  }
  const body = answer.kind === "page" ? messagePage(answer.title, answer.message) : answer.html;
  res.writeHead(answer.status, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(body);
}

// ---------------------------------------------------------------------------------------------
// HTML

/** Escapes text for HTML content and attribute values. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const SCOPE_TEXT: Record<string, string> = {
  identify: "Access your username, avatar, and banner",
  email: "Access your email address",
  guilds: "Know what servers you're in",
  "guilds.join": "Join servers for you",
  "guilds.members.read": "Read your member info (nickname, avatar, roles) in the servers you're in",
  connections: "Access your third-party connections",
  bot: "Add a bot to a server",
  "applications.commands": "Create commands",
  "webhook.incoming": "Post messages to a channel of your choice as a webhook",
  "role_connections.write": "Update your connection and metadata for this app",
};

/** Permission bits by name ("Manage Roles"), one name per bit, in bit order. */
const PERMISSION_NAMES: ReadonlyArray<{ bit: bigint; name: string }> = (() => {
  const seen = new Map<bigint, string>();
  for (const [key, bit] of Object.entries(PermissionFlagsBits)) {
    if (!seen.has(bit)) seen.set(bit, key.replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2").replace(/([a-z])([A-Z])/g, "$1 $2"));
  }
  return [...seen].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([bit, name]) => ({ bit, name }));
})();

/** The named permissions in `bits`, lowest first; bits Discord does not name show as "1 << n". */
export function permissionNames(bits: bigint): Array<{ bit: bigint; name: string }> {
  const out: Array<{ bit: bigint; name: string }> = [];
  for (let n = 0n; bits >> n !== 0n; n++) {
    const bit = 1n << n;
    if ((bits & bit) === 0n) continue;
    out.push({ bit, name: PERMISSION_NAMES.find((p) => p.bit === bit)?.name ?? `1 << ${n}` });
  }
  return out;
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#313338;color:#dbdee1;margin:0;display:flex;justify-content:center}
main{background:#2b2d31;margin:2rem;padding:1.5rem 2rem;border-radius:8px;max-width:32rem;width:100%}
h1{font-size:1.3rem;color:#f2f3f5}h2{font-size:.8rem;text-transform:uppercase;color:#b5bac1;margin-top:1.2rem}
select,input[type=text]{width:100%;padding:.4rem;margin:.3rem 0;background:#1e1f22;color:#dbdee1;border:1px solid #1e1f22;border-radius:4px}
fieldset{border:1px solid #3f4147;border-radius:4px}label{display:block;margin:.2rem 0}
.actions{display:flex;justify-content:flex-end;gap:.5rem;margin-top:1.5rem}
button{padding:.5rem 1rem;border:0;border-radius:4px;background:#4e5058;color:#fff;cursor:pointer}
button.primary{background:#5865f2}.note{color:#949ba4;font-size:.85rem}.error{color:#fa777c}`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)} | Discord emulator</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body>
</html>`;
}

function messagePage(title: string, message: string): string {
  return layout(title, `<h1>${esc(title)}</h1>\n<p role="status">${esc(message)}</p>`);
}

/** Hidden inputs carrying the authorize parameters (less the page's own fields and those in `skip`). */
function hiddenParams(params: URLSearchParams, skip: ReadonlySet<string> = new Set()): string {
  return [...params]
    .filter(([key]) => !PAGE_FIELDS.has(key) && !skip.has(key))
    .map(([key, value]) => `<input type="hidden" name="${esc(key)}" value="${esc(value)}">`)
    .join("\n");
}

function displayName(user: OAuthUser): string {
  return user.global_name ?? user.username;
}

function signInPage(ctx: AuthorizeContext, params: URLSearchParams, error: string | null): string {
  const options = ctx.users
    .suggestions()
    .map((u) => `<option value="${esc(u.id)}">${esc(displayName(u))} (@${esc(u.username)}, ${esc(u.id)})</option>`)
    .join("\n");
  return layout(
    "Sign in",
    `<h1>Sign in to the Discord emulator</h1>
<p>${esc(ctx.applicationName)} wants to access your account. Pick who you are.</p>
${error === null ? "" : `<p class="error" role="alert">${esc(error)}</p>`}
<form method="get" action="${PAGE_PATH}" aria-label="Sign in">
${hiddenParams(params)}
<label for="login_as">Sign in as</label>
<select id="login_as" name="login_as">
${options}
</select>
<div class="actions"><button class="primary" type="submit">Sign in</button></div>
</form>
<form method="get" action="${PAGE_PATH}" aria-label="Sign in with a user id">
${hiddenParams(params)}
<label for="login_as_id">Or any user id</label>
<input type="text" id="login_as_id" name="login_as" inputmode="numeric" placeholder="snowflake">
<div class="actions"><button type="submit">Sign in with this id</button></div>
</form>`,
  );
}

function consentPage(ctx: AuthorizeContext, request: AuthorizeRequest, user: OAuthUser): string {
  const wantsBot = request.scopes.includes("bot");
  const wantsWebhook = request.scopes.includes("webhook.incoming");
  const guilds = ctx.users.guildsOf(user.id);
  const parts: string[] = [];
  parts.push(`<h1>${esc(ctx.applicationName)}</h1>
<p>wants to access your Discord account</p>
<section aria-label="Signed in">
<p>Signed in as <strong>${esc(displayName(user))}</strong> (@${esc(user.username)}, <span>${esc(user.id)}</span>)</p>
<form method="get" action="${PAGE_PATH}" aria-label="Switch account">
${hiddenParams(request.params)}
<label for="login_as">Switch account (user id)</label>
<input type="text" id="login_as" name="login_as" list="known-users" inputmode="numeric">
<datalist id="known-users">
${ctx.users
  .suggestions()
  .map((u) => `<option value="${esc(u.id)}">${esc(displayName(u))} (@${esc(u.username)})</option>`)
  .join("\n")}
</datalist>
<button type="submit">Switch</button>
</form>
</section>`);

  const fields: string[] = [];
  let manageableChosen = false;
  if (wantsBot) {
    const preselected = request.guildId;
    const options = guilds.map((g) => {
      const allowed = ctx.users.canManage(g, user.id);
      const chosen = g.id === preselected && allowed;
      if (chosen) manageableChosen = true;
      const notes = [allowed ? "" : "you need Manage Server", ctx.installs.isInstalled(g) ? "already added" : ""].filter(Boolean);
      return `<option value="${esc(g.id)}"${chosen ? " selected" : ""}${allowed ? "" : " disabled"}>${esc(g.name)}${notes.length ? ` (${notes.join(", ")})` : ""}</option>`;
    });
    const locked = request.disableGuildSelect && manageableChosen;
    fields.push(`<h2>Add to server</h2>
<label for="guild_id">Server</label>
<select id="guild_id" name="guild_id" required${locked ? " disabled" : ""}>
<option value="">Select a server</option>
${options.join("\n")}
</select>
${locked ? `<input type="hidden" name="guild_id" value="${esc(preselected ?? "")}">` : ""}
${guilds.length === 0 ? `<p class="note">You are not a member of any server.</p>` : ""}`);
    if (request.permissions !== 0n) {
      const boxes = permissionNames(request.permissions)
        .map((p) => `<label><input type="checkbox" name="permission" value="${p.bit}" checked> ${esc(p.name)}</label>`)
        .join("\n");
      fields.push(`<fieldset>
<legend>Permissions for the bot</legend>
<input type="hidden" name="permissions_reviewed" value="1">
${boxes}
</fieldset>`);
    }
  }
  if (wantsWebhook) {
    const groups = guilds.map((g) => {
      const allowed = hasPermission(g, user.id, PermissionFlagsBits.ManageWebhooks);
      const channels = g.channels
        .filter((c) => c.type === ChannelType.GuildText)
        .map((c) => `<option value="${esc(c.id)}"${allowed ? "" : " disabled"}>#${esc(c.name ?? c.id)}</option>`);
      return `<optgroup label="${esc(g.name)}${allowed ? "" : " (you need Manage Webhooks)"}">\n${channels.join("\n")}\n</optgroup>`;
    });
    fields.push(`<h2>Webhook</h2>
<label for="channel_id">Post webhook messages to</label>
<select id="channel_id" name="channel_id" required>
<option value="">Select a channel</option>
${groups.join("\n")}
</select>`);
  }
  const scopes = request.scopes.map((s) => `<li>${esc(SCOPE_TEXT[s] ?? s)} <span class="note">(${esc(s)})</span></li>`).join("\n");
  parts.push(`<form method="post" action="${PAGE_PATH}" aria-label="Authorize">
${hiddenParams(request.params, wantsBot ? new Set(["guild_id"]) : new Set())}
<input type="hidden" name="user_id" value="${esc(user.id)}">
<h2>This will allow ${esc(ctx.applicationName)} to</h2>
<ul aria-label="Requested scopes">
${scopes}
</ul>
${fields.join("\n")}
<div class="actions">
<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
<button class="primary" type="submit" name="action" value="authorize">Authorize</button>
</div>
</form>`);
  if (request.redirectUri !== null)
    parts.push(`<p class="note">Once you authorize, you will be redirected to ${esc(request.redirectUri)}</p>`);
  return layout(`Authorize ${ctx.applicationName}`, parts.join("\n"));
}
