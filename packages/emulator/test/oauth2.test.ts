import { createHash } from "node:crypto";
import type { APIGuild, APIUser, APIWebhook, RESTPostOAuth2AccessTokenResult } from "discord-api-types/v10";
import { GatewayIntentBits as I, PermissionFlagsBits as P } from "discord-api-types/v10";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Emulator, SeededGuild } from "../src/index";
import { EmulatorControl, startEmulator } from "../src/index";
import { authorizeThroughPage, openAuthorize, pageForm, redirectParams, submitAuthorize } from "./authorize-page";
import { componentValidator, RawGateway, responseValidator } from "./helpers";

const REDIRECT = "http://127.0.0.1:9/callback";
const OTHER_REDIRECT = "http://127.0.0.1:9/other";

let emulator: Emulator;
/** Seeded with the bot. */
let home: SeededGuild;
/** Seeded without the bot, for installs. */
let fresh: SeededGuild;
/** A user who administers both guilds. */
let admin: string;

beforeAll(async () => {
  emulator = await startEmulator({ redirectUris: [REDIRECT, OTHER_REDIRECT] });
  home = emulator.seedGuild({ seed: 21, members: 50, staff: 5 });
  fresh = emulator.seedGuild({ seed: 22, members: 40, staff: 4, withBot: false });
  admin = home.admins[0]!;
  emulator.addMember(fresh.guildId, { userId: admin, roles: [fresh.adminRoleId] });
  emulator.setOAuthUser(admin);
});
afterAll(() => emulator.close());
afterEach(() => {
  vi.useRealTimers();
});

const client = () => ({ client_id: emulator.applicationId, client_secret: emulator.clientSecret });
const basic = () => `Basic ${Buffer.from(`${emulator.applicationId}:${emulator.clientSecret}`).toString("base64")}`;

/** POSTs a form to /api/v10/oauth2/<path>; answers status and parsed JSON. */
async function oauthPost(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${emulator.apiUrl}/v10/oauth2/${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** GET /api/v10<path> with a bearer token; answers status and parsed JSON. */
async function asUser<T = unknown>(path: string, accessToken: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${emulator.apiUrl}/v10${path}`, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: res.status, body: (await res.json()) as T };
}

function expectSpec(path: string, method: string, body: unknown): void {
  const validate = responseValidator(path, method, 200);
  if (!validate(body)) throw new Error(`${method} ${path} does not match the spec: ${JSON.stringify(validate.errors, null, 1)}`);
}

/** Runs a user-scope consent through the page and returns the code from the redirect. */
async function codeFor(scope: string, extra: Record<string, string> = {}): Promise<string> {
  const answer = await authorizeThroughPage(emulator.url, {
    client_id: emulator.applicationId,
    response_type: "code",
    redirect_uri: REDIRECT,
    scope,
    state: "s1",
    ...extra,
  });
  expect(answer.status).toBe(302);
  const code = redirectParams(answer.location).get("code");
  expect(code).toBeTruthy();
  return code as string;
}

async function tokensFor(scope: string): Promise<RESTPostOAuth2AccessTokenResult> {
  const code = await codeFor(scope);
  const res = await oauthPost("token", { grant_type: "authorization_code", code, redirect_uri: REDIRECT }, { authorization: basic() });
  expect(res.status).toBe(200);
  return res.body as unknown as RESTPostOAuth2AccessTokenResult;
}

describe("the authorize page", () => {
  it("installs the bot: the admin picks a guild they manage, unticks a permission, and is redirected with code, state, guild_id and permissions", async () => {
    const gw = await RawGateway.connect(emulator.gatewayUrl);
    try {
      const ready = await gw.identify(emulator.token, I.Guilds);
      expect(ready.d.guilds.map((g) => g.id)).not.toContain(fresh.guildId);
      const requested = P.ManageRoles | P.SendMessages | P.ManageEvents;
      const query = {
        client_id: emulator.applicationId,
        scope: "bot applications.commands",
        permissions: String(requested),
        response_type: "code",
        redirect_uri: REDIRECT,
        state: "state-42",
        integration_type: "0",
      };
      const page = await openAuthorize(emulator.url, query);
      expect(page.status).toBe(200);
      expect(page.html).toContain('<label for="guild_id">');
      const form = pageForm(page.html, "Authorize");
      const options = form.options("guild_id");
      // Both guilds are listed; the admin manages both, so neither is disabled.
      expect(options.filter((o) => o.value !== "").map((o) => o.value)).toEqual([home.guildId, fresh.guildId]);
      expect(options.every((o) => !o.disabled)).toBe(true);
      expect(form.checkboxes("permission").map((c) => c.label)).toEqual(["Send Messages", "Manage Roles", "Manage Events"]);

      const answer = await authorizeThroughPage(emulator.url, query, { guildId: fresh.guildId, untick: [P.ManageEvents] });
      expect(answer.status).toBe(302);
      const back = redirectParams(answer.location);
      expect(answer.location?.startsWith(`${REDIRECT}?`)).toBe(true);
      expect(back.get("state")).toBe("state-42");
      expect(back.get("guild_id")).toBe(fresh.guildId);
      expect(back.get("permissions")).toBe(String(P.ManageRoles | P.SendMessages));

      // The bot joined: GUILD_CREATE with its managed role carrying the granted permissions.
      const created = await gw.dispatch("GUILD_CREATE", (d) => d.id === fresh.guildId);
      const botRole = created.d.roles.find((r) => r.managed && r.tags?.bot_id === emulator.applicationId);
      expect(botRole?.permissions).toBe(String(P.ManageRoles | P.SendMessages));
      expect(created.d.members.some((m) => m.user.id === emulator.applicationId)).toBe(true);
      expect(emulator.guild(fresh.guildId).botMember).toBe(true);

      // The code's token response carries the guild object: the truth, where guild_id was a hint.
      const token = await oauthPost(
        "token",
        { grant_type: "authorization_code", code: back.get("code") ?? "", redirect_uri: REDIRECT },
        { authorization: basic() },
      );
      expect(token.status).toBe(200);
      expect(token.body).toMatchObject({ token_type: "Bearer", expires_in: 604800, scope: "bot applications.commands" });
      const guild = token.body.guild as APIGuild;
      expect(guild.id).toBe(fresh.guildId);
      const validate = componentValidator("GuildResponse");
      if (!validate(guild)) throw new Error(`the token response's guild does not match GuildResponse: ${JSON.stringify(validate.errors)}`);
    } finally {
      gw.close();
    }
  });

  it("deny redirects with error=access_denied and the state; nothing is installed", async () => {
    const other = emulator.seedGuild({ seed: 23, members: 10, staff: 1, withBot: false });
    const answer = await authorizeThroughPage(
      emulator.url,
      { client_id: emulator.applicationId, scope: "bot", permissions: "8", response_type: "code", redirect_uri: REDIRECT, state: "no" },
      { action: "cancel", cookie: `emulator_oauth_user=${other.ownerId}` },
    );
    expect(answer.status).toBe(302);
    const back = redirectParams(answer.location);
    expect(back.get("error")).toBe("access_denied");
    expect(back.get("error_description")).toMatch(/denied/);
    expect(back.get("state")).toBe("no");
    expect(back.get("code")).toBeNull();
    expect(emulator.guild(other.guildId).botMember).toBe(false);
  });

  it("lists guilds the user cannot add the bot to as disabled, and refuses a forged post for one with 403", async () => {
    const plain = emulator.addMember(home.guildId, { username: "plain.member" }).userId;
    const cookie = `emulator_oauth_user=${plain}`;
    const query = { client_id: emulator.applicationId, scope: "bot", permissions: "8", response_type: "code", redirect_uri: REDIRECT };
    const page = await openAuthorize(emulator.url, query, cookie);
    expect(page.status).toBe(200);
    const options = pageForm(page.html, "Authorize").options("guild_id");
    expect(options.find((o) => o.value === home.guildId)).toMatchObject({ disabled: true });
    expect(options.find((o) => o.value === home.guildId)?.text).toMatch(/you need Manage Server/);
    const answer = await authorizeThroughPage(emulator.url, query, { guildId: home.guildId, cookie });
    expect(answer.status).toBe(403);
    expect(answer.html).toMatch(/Manage Server/);
  });

  it("pre-selects guild_id and locks it with disable_guild_select", async () => {
    const query = {
      client_id: emulator.applicationId,
      scope: "bot",
      permissions: "0",
      guild_id: home.guildId,
      disable_guild_select: "true",
      redirect_uri: REDIRECT,
      response_type: "code",
    };
    const form = pageForm((await openAuthorize(emulator.url, query)).html, "Authorize");
    expect(form.selectDisabled("guild_id")).toBe(true);
    expect(form.options("guild_id").find((o) => o.selected)?.value).toBe(home.guildId);
    expect(form.hidden.get("guild_id")).toBe(home.guildId);
  });

  it("answers Discord's errors: error pages for client_id and redirect_uri, redirects with error for the rest", async () => {
    const base = { client_id: emulator.applicationId, response_type: "code", redirect_uri: REDIRECT, scope: "identify", state: "x" };
    const unknownClient = await openAuthorize(emulator.url, { ...base, client_id: "123456789012345678" });
    expect(unknownClient.status).toBe(400);
    expect(unknownClient.html).toMatch(/Unknown Application/);
    const unregistered = await openAuthorize(emulator.url, { ...base, redirect_uri: "http://127.0.0.1:9/evil" });
    expect(unregistered.status).toBe(400);
    expect(unregistered.location).toBeNull();
    expect(unregistered.html).toMatch(/redirect_uri/);
    const badScope = await openAuthorize(emulator.url, { ...base, scope: "identify nonsense" });
    expect(badScope.status).toBe(302);
    expect(Object.fromEntries(redirectParams(badScope.location))).toMatchObject({ error: "invalid_scope", state: "x" });
    const implicit = await openAuthorize(emulator.url, { ...base, response_type: "token" });
    expect(redirectParams(implicit.location).get("error")).toBe("unsupported_response_type");
    const noResponseType = await openAuthorize(emulator.url, {
      client_id: emulator.applicationId,
      redirect_uri: REDIRECT,
      scope: "identify",
    });
    expect(redirectParams(noResponseType.location).get("error")).toBe("invalid_request");
    const badPermissions = await openAuthorize(emulator.url, { ...base, scope: "bot", permissions: "lots" });
    expect(redirectParams(badPermissions.location).get("error")).toBe("invalid_request");
    // Without redirect_uri a code grant goes to the first registered URI (Discord's documented default).
    const defaulted = await openAuthorize(emulator.url, {
      client_id: emulator.applicationId,
      response_type: "code",
      scope: "identify nonsense",
    });
    expect(defaulted.location?.startsWith(`${REDIRECT}?`)).toBe(true);
  });

  it("signs in: nobody by default shows a picker; login_as sets a cookie the page then uses; the control default applies otherwise", async () => {
    const twin = await startEmulator({ redirectUris: [REDIRECT] });
    try {
      const g = twin.seedGuild({ seed: 24, members: 20, staff: 2 });
      const query = { client_id: twin.applicationId, response_type: "code", redirect_uri: REDIRECT, scope: "identify" };
      const first = await openAuthorize(twin.url, query);
      expect(first.status).toBe(200);
      const signIn = pageForm(first.html, "Sign in");
      expect(signIn.options("login_as").map((o) => o.value)).toContain(g.ownerId);
      const switched = await openAuthorize(twin.url, { ...Object.fromEntries(signIn.hidden), login_as: g.admins[0]! });
      expect(switched.status).toBe(302);
      expect(switched.setCookie).toMatch(new RegExp(`emulator_oauth_user=${g.admins[0]}`));
      const cookie = (switched.setCookie ?? "").split(";")[0]!;
      const consent = await openAuthorize(twin.url, Object.fromEntries(new URL(switched.location!, twin.url).searchParams), cookie);
      expect(consent.html).toContain(g.admins[0]!);
      expect(pageForm(consent.html, "Authorize").hidden.get("user_id")).toBe(g.admins[0]);
      const unknown = await openAuthorize(twin.url, { ...query, login_as: "999" });
      expect(unknown.status).toBe(400);
      await new EmulatorControl(twin.url).setOAuthUser(g.ownerId);
      const byDefault = pageForm((await openAuthorize(twin.url, query)).html, "Authorize");
      expect(byDefault.hidden.get("user_id")).toBe(g.ownerId);
      expect(() => twin.setOAuthUser("123")).toThrow(/not a user/);
    } finally {
      await twin.close();
    }
  });

  it("prompt=none skips the page once the user's grant covers the scopes, never for bot", async () => {
    const twin = await startEmulator({ redirectUris: [REDIRECT] });
    try {
      const g = twin.seedGuild({ seed: 25, members: 20, staff: 2 });
      twin.setOAuthUser(g.ownerId);
      const query = {
        client_id: twin.applicationId,
        response_type: "code",
        redirect_uri: REDIRECT,
        scope: "identify email",
        prompt: "none",
      };
      expect((await openAuthorize(twin.url, query)).status).toBe(200);
      await authorizeThroughPage(twin.url, query);
      const skipped = await openAuthorize(twin.url, { ...query, state: "again" });
      expect(skipped.status).toBe(302);
      expect(redirectParams(skipped.location).get("code")).toBeTruthy();
      expect(redirectParams(skipped.location).get("state")).toBe("again");
      const bot = await openAuthorize(twin.url, { ...query, scope: "identify bot" });
      expect(bot.status).toBe(200);
    } finally {
      await twin.close();
    }
  });

  it("is served at /api/oauth2/authorize too (better-auth's Discord provider uses it)", async () => {
    const res = await fetch(
      `${emulator.apiUrl}/oauth2/authorize?${new URLSearchParams({ client_id: emulator.applicationId, response_type: "code", redirect_uri: REDIRECT, scope: "identify" })}`,
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('aria-label="Authorize"');
  });
});

describe("the token endpoint", () => {
  it("exchanges a code once (Basic or body credentials), refreshes, and answers Discord's error bodies", async () => {
    const code = await codeFor("identify guilds");
    const bad = await oauthPost("token", {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      ...client(),
      client_secret: "nope",
    });
    expect(bad).toEqual({ status: 401, body: { error: "invalid_client" } });
    const wrongRedirect = await oauthPost("token", { grant_type: "authorization_code", code, redirect_uri: OTHER_REDIRECT, ...client() });
    expect(wrongRedirect).toEqual({
      status: 400,
      body: { error: "invalid_grant", error_description: 'Invalid "redirect_uri" in request.' },
    });
    const ok = await oauthPost("token", { grant_type: "authorization_code", code, redirect_uri: REDIRECT, ...client() });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: "Bearer", expires_in: 604800, scope: "identify guilds" });
    expect(ok.body.access_token).toMatch(/^[A-Za-z0-9_-]{30,}$/);
    const again = await oauthPost("token", { grant_type: "authorization_code", code, redirect_uri: REDIRECT }, { authorization: basic() });
    expect(again).toEqual({ status: 400, body: { error: "invalid_grant", error_description: 'Invalid "code" in request.' } });
    // Replaying the code revoked what it had granted (RFC 6749 4.1.2).
    expect((await asUser("/users/@me", ok.body.access_token as string)).status).toBe(401);

    const fresh = await tokensFor("identify");
    const refreshed = await oauthPost(
      "token",
      { grant_type: "refresh_token", refresh_token: fresh.refresh_token },
      { authorization: basic() },
    );
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(fresh.access_token);
    expect((await asUser("/users/@me", refreshed.body.access_token as string)).status).toBe(200);
    const reused = await oauthPost(
      "token",
      { grant_type: "refresh_token", refresh_token: fresh.refresh_token },
      { authorization: basic() },
    );
    expect(reused.body).toEqual({ error: "invalid_grant", error_description: 'Invalid "refresh_token" in request.' });

    expect((await oauthPost("token", { grant_type: "password" }, { authorization: basic() })).body.error).toBe("unsupported_grant_type");
    expect((await oauthPost("token", { grant_type: "authorization_code" }, { authorization: basic() })).body).toEqual({
      error: "invalid_request",
      error_description: 'Missing "code" in request.',
    });
    const json = await fetch(`${emulator.apiUrl}/v10/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: basic() },
      body: JSON.stringify({ grant_type: "authorization_code", code: "x" }),
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: string }).error).toBe("invalid_request");
  });

  it("codes expire after 10 minutes", async () => {
    const code = await codeFor("identify");
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + emulator.oauth2().codeTtlMs + 1);
    const late = await oauthPost("token", { grant_type: "authorization_code", code, redirect_uri: REDIRECT }, { authorization: basic() });
    expect(late).toEqual({ status: 400, body: { error: "invalid_grant", error_description: 'Invalid "code" in request.' } });
  });

  it("the code lifetime is an option", async () => {
    const twin = await startEmulator({ redirectUris: [REDIRECT], oauth2CodeTtlMs: 1 });
    try {
      const g = twin.seedGuild({ seed: 26, members: 10, staff: 1 });
      twin.setOAuthUser(g.ownerId);
      expect(twin.oauth2().codeTtlMs).toBe(1);
      const answer = await authorizeThroughPage(twin.url, {
        client_id: twin.applicationId,
        response_type: "code",
        redirect_uri: REDIRECT,
        scope: "identify",
      });
      const code = redirectParams(answer.location).get("code") ?? "";
      const issuedBy = Date.now();
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(issuedBy + 2);
      const res = await fetch(`${twin.apiUrl}/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code,
          redirect_uri: REDIRECT,
          client_id: twin.applicationId,
          client_secret: twin.clientSecret,
        }),
      });
      expect(await res.json()).toMatchObject({ error: "invalid_grant" });
    } finally {
      vi.useRealTimers();
      await twin.close();
    }
  });

  it("checks PKCE (S256) when the authorize request had a code_challenge", async () => {
    const verifier = "a-verifier-of-enough-length-0123456789-abcdefghij";
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const code = await codeFor("identify", { code_challenge: challenge, code_challenge_method: "S256" });
    const wrong = await oauthPost(
      "token",
      { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: "other" },
      { authorization: basic() },
    );
    expect(wrong.body).toEqual({ error: "invalid_grant", error_description: 'Invalid "code_verifier" in request.' });
    const code2 = await codeFor("identify", { code_challenge: challenge, code_challenge_method: "S256" });
    const right = await oauthPost(
      "token",
      { grant_type: "authorization_code", code: code2, redirect_uri: REDIRECT, code_verifier: verifier },
      { authorization: basic() },
    );
    expect(right.status).toBe(200);
  });

  it("a webhook.incoming consent creates a webhook in the chosen channel; the token response carries it", async () => {
    const channel = emulator.guild(home.guildId);
    const general = (await (
      await fetch(`${emulator.apiUrl}/v10/guilds/${channel.guildId}/channels`, { headers: { authorization: `Bot ${emulator.token}` } })
    ).json()) as Array<{
      id: string;
      name: string;
    }>;
    const target = general.find((c) => c.name === "announcements")!;
    const query = { client_id: emulator.applicationId, response_type: "code", redirect_uri: REDIRECT, scope: "webhook.incoming" };
    const page = pageForm((await openAuthorize(emulator.url, query)).html, "Authorize");
    expect(page.options("channel_id").map((o) => o.value)).toContain(target.id);
    const answer = await authorizeThroughPage(emulator.url, query, { channelId: target.id });
    const code = redirectParams(answer.location).get("code") ?? "";
    const token = await oauthPost("token", { grant_type: "authorization_code", code, redirect_uri: REDIRECT }, { authorization: basic() });
    const webhook = token.body.webhook as APIWebhook;
    expect(webhook).toMatchObject({ type: 1, channel_id: target.id, guild_id: home.guildId, application_id: emulator.applicationId });
    expect(webhook.url).toBe(`${emulator.apiUrl}/webhooks/${webhook.id}/${webhook.token}`);
    const validate = componentValidator("GuildIncomingWebhookResponse");
    if (!validate(webhook)) throw new Error(JSON.stringify(validate.errors));
    expect(emulator.webhook(webhook.id).webhook.user?.id).toBe(admin);
  });
});

describe("user-token routes", () => {
  it("GET /users/@me, /users/@me/guilds and /users/@me/guilds/{id}/member follow the scopes and match the spec", async () => {
    const all = await tokensFor("identify email guilds guilds.members.read");
    const me = await asUser<APIUser & { email: string }>("/users/@me", all.access_token);
    expect(me.status).toBe(200);
    expectSpec("/users/@me", "get", me.body);
    expect(me.body).toMatchObject({ id: admin, verified: true });
    expect(me.body.email).toMatch(/@example\.com$/);
    const guilds = await asUser<Array<{ id: string; owner: boolean; permissions: string }>>(
      "/users/@me/guilds?with_counts=true",
      all.access_token,
    );
    expectSpec("/users/@me/guilds", "get", guilds.body);
    expect(guilds.body.map((g) => g.id).sort()).toEqual([home.guildId, fresh.guildId].sort());
    expect(BigInt(guilds.body[0]!.permissions) & P.ManageGuild).toBe(P.ManageGuild);
    const page = await asUser<unknown[]>(`/users/@me/guilds?limit=1&after=${[home.guildId, fresh.guildId].sort()[0]}`, all.access_token);
    expect(page.body).toHaveLength(1);
    const member = await asUser<{ roles: string[] }>(`/users/@me/guilds/${home.guildId}/member`, all.access_token);
    expect(member.status).toBe(200);
    expectSpec("/users/@me/guilds/{guild_id}/member", "get", member.body);
    expect(member.body.roles).toContain(home.adminRoleId);
    const notMine = await asUser(`/users/@me/guilds/123456789012345678/member`, all.access_token);
    expect(notMine).toEqual({ status: 404, body: { message: "Unknown Guild", code: 10004 } });
    const info = await asUser<{ scopes: string[]; user: APIUser }>("/oauth2/@me", all.access_token);
    expectSpec("/oauth2/@me", "get", info.body);
    expect(info.body.user.id).toBe(admin);

    const identifyOnly = await tokensFor("identify");
    const noEmail = await asUser<Record<string, unknown>>("/users/@me", identifyOnly.access_token);
    expect(noEmail.body.email).toBeUndefined();
    expect((await asUser("/users/@me/guilds", identifyOnly.access_token)).status).toBe(401);
    expect((await asUser(`/users/@me/guilds/${home.guildId}/member`, identifyOnly.access_token)).status).toBe(401);
    expect(await asUser("/users/@me", "not-a-token")).toEqual({ status: 401, body: { message: "401: Unauthorized", code: 0 } });
    // The bot token still gets the bot.
    const bot = await fetch(`${emulator.apiUrl}/v10/users/@me`, { headers: { authorization: `Bot ${emulator.token}` } });
    expect(((await bot.json()) as APIUser).id).toBe(emulator.applicationId);
  });

  it("revoke ends every token of the authorization: /users/@me answers 401, the refresh token is dead", async () => {
    const tokens = await tokensFor("identify");
    const second = await oauthPost(
      "token",
      { grant_type: "refresh_token", refresh_token: tokens.refresh_token },
      { authorization: basic() },
    );
    expect((await asUser("/users/@me", tokens.access_token)).status).toBe(200);
    const revoked = await oauthPost(
      "token/revoke",
      { token: tokens.access_token, token_type_hint: "access_token" },
      { authorization: basic() },
    );
    expect(revoked).toEqual({ status: 200, body: {} });
    expect((await asUser("/users/@me", tokens.access_token)).status).toBe(401);
    expect((await asUser("/users/@me", second.body.access_token as string)).status).toBe(401);
    const refresh = await oauthPost(
      "token",
      { grant_type: "refresh_token", refresh_token: second.body.refresh_token as string },
      { authorization: basic() },
    );
    expect(refresh.body.error).toBe("invalid_grant");
    expect((await oauthPost("token/revoke", { token: "x" })).status).toBe(401);
  });

  it("access tokens expire after expires_in", async () => {
    const tokens = await tokensFor("identify");
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + tokens.expires_in * 1000 + 1);
    expect((await asUser("/users/@me", tokens.access_token)).status).toBe(401);
  });

  it("works unversioned, as better-auth calls it (/api/oauth2/token, /api/users/@me)", async () => {
    const code = await codeFor("identify email");
    const res = await fetch(`${emulator.apiUrl}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, ...client() }).toString(),
    });
    const token = (await res.json()) as { access_token: string };
    const me = await fetch(`${emulator.apiUrl}/users/@me`, { headers: { authorization: `Bearer ${token.access_token}` } });
    expect(((await me.json()) as APIUser).id).toBe(admin);
  });
});

describe("the control API for OAuth2", () => {
  it("reports the settings and replaces redirect URIs", async () => {
    const control = new EmulatorControl(emulator.url);
    const info = await control.oauth2();
    expect(info).toMatchObject({
      clientId: emulator.applicationId,
      clientSecret: emulator.clientSecret,
      redirectUris: [REDIRECT, OTHER_REDIRECT],
    });
    expect(info.authorizeUrl).toBe(`${emulator.url}/oauth2/authorize`);
    await control.setRedirectUris([REDIRECT, OTHER_REDIRECT, "https://guildhall.example/api/public/integrations/discord/callback"]);
    expect((await control.oauth2()).redirectUris).toHaveLength(3);
    await expect(control.setRedirectUris(["not a url"])).rejects.toThrow(/redirectUris\[0\]/);
    const app = await (
      await fetch(`${emulator.apiUrl}/v10/applications/@me`, { headers: { authorization: `Bot ${emulator.token}` } })
    ).json();
    expect((app as { redirect_uris: string[] }).redirect_uris).toHaveLength(3);
    await control.setRedirectUris([REDIRECT, OTHER_REDIRECT]);
  });

  it("a form post without a known user is refused", async () => {
    const fields = new URLSearchParams({
      client_id: emulator.applicationId,
      response_type: "code",
      redirect_uri: REDIRECT,
      scope: "identify",
      user_id: "1",
      action: "authorize",
    });
    const answer = await submitAuthorize(emulator.url, fields);
    expect(answer.status).toBe(400);
  });
});
