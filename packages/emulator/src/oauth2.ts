/**
 * OAuth2 for the emulator's one application: client credentials, registered redirect URIs, the
 * signed-in user of the authorize page, users' grants, authorization codes (single use, bound to
 * their redirect_uri, short-lived), access and refresh tokens, and revocation. The authorize page is
 * authorize.ts; the token routes are rest/oauth2.ts.
 * https://discord.com/developers/docs/topics/oauth2
 */
import { createHash, randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { EmulatorError } from "./errors";

/** Every scope Discord documents (https://discord.com/developers/docs/topics/oauth2#shared-resources-oauth2-scopes). */
export const OAUTH2_SCOPES: ReadonlySet<string> = new Set([
  "activities.read",
  "activities.write",
  "applications.builds.read",
  "applications.builds.upload",
  "applications.commands",
  "applications.commands.update",
  "applications.commands.permissions.update",
  "applications.entitlements",
  "applications.store.update",
  "bot",
  "connections",
  "dm_channels.read",
  "email",
  "gdm.join",
  "guilds",
  "guilds.join",
  "guilds.members.read",
  "identify",
  "messages.read",
  "openid",
  "relationships.read",
  "role_connections.write",
  "rpc",
  "rpc.activities.write",
  "rpc.notifications.read",
  "rpc.voice.read",
  "rpc.voice.write",
  "voice",
  "webhook.incoming",
]);

/** Scopes of the bot authorization flow, which needs neither response_type nor redirect_uri. */
export const BOT_FLOW_SCOPES: ReadonlySet<string> = new Set(["bot", "applications.commands"]);
/** "Passthrough" scopes: the page is always shown for them, even with prompt=none. */
const PASSTHROUGH_SCOPES: ReadonlySet<string> = new Set(["bot", "webhook.incoming"]);

/** Default lifetime of an authorization code, in ms (Discord's codes last about 10 minutes). */
export const DEFAULT_CODE_TTL_MS = 600_000;
/** Default lifetime of an access token, in ms: `expires_in` 604800 s. */
export const DEFAULT_TOKEN_TTL_MS = 604_800_000;

/**
 * A failure of the token routes, answered as RFC 6749's `{error, error_description?}` with `status`
 * (https://datatracker.ietf.org/doc/html/rfc6749#section-5.2): 401 invalid_client, 400 for the rest.
 */
export class OAuthError extends Error {
  override readonly name = "OAuthError";

  constructor(
    readonly status: 400 | 401,
    readonly error: "invalid_request" | "invalid_client" | "invalid_grant" | "unsupported_grant_type" | "invalid_scope",
    readonly description?: string,
  ) {
    super(description ?? error);
  }

  /** The JSON body Discord answers with. */
  body(): { error: string; error_description?: string } {
    return this.description === undefined ? { error: this.error } : { error: this.error, error_description: this.description };
  }
}

/** A PKCE challenge sent to the authorize page (RFC 7636). */
export interface CodeChallenge {
  method: "S256" | "plain";
  value: string;
}

/** What one consent produced besides the grant: the guild the bot was added to, the webhook created. */
export interface ConsentResult {
  guildId: string | null;
  webhookId: string | null;
}

/** A user's authorization of the application: revoking any of its tokens ends it (and every token of it). */
interface Grant {
  userId: string;
  /** Every scope the user consented to while the grant lived. */
  scopes: Set<string>;
  revoked: boolean;
}

interface Code {
  grant: Grant;
  scopes: string[];
  result: ConsentResult;
  /** The redirect_uri the code was sent to. */
  redirectUri: string;
  /** Whether the authorize request named it (then the exchange must name it too, RFC 6749 4.1.3). */
  redirectUriGiven: boolean;
  challenge: CodeChallenge | null;
  expiresAt: number;
  used: boolean;
}

interface Token {
  kind: "access" | "refresh";
  grant: Grant;
  scopes: string[];
  /** Access tokens only: ms since the Unix epoch. */
  expiresAt: number;
  /** Refresh tokens only: exchanged already (each refresh rotates the pair). */
  used: boolean;
}

/** What a valid bearer token stands for. */
export interface BearerGrant {
  userId: string;
  scopes: ReadonlyArray<string>;
  /** When the access token expires, ms since the Unix epoch. */
  expiresAt: number;
}

/** Settings of {@link OAuth2}. Times in ms. */
export interface OAuth2Settings {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  codeTtlMs: number;
  tokenTtlMs: number;
}

/** What the token response adds for a `bot` or `webhook.incoming` consent. */
export interface TokenExtras {
  /** The guild object for `guild` (https://discord.com/developers/docs/topics/oauth2#advanced-bot-authorization). */
  guildObject(guildId: string): unknown;
  /** The webhook object for `webhook` (https://discord.com/developers/docs/topics/oauth2#webhooks). */
  webhookObject(webhookId: string): unknown;
}

/** A random token of `bytes` bytes, base64url (Discord's look like `6qrZcUqja7812RVdnEKjpzOL4CvHBFG`). */
const randomToken = (bytes: number) => randomBytes(bytes).toString("base64url");

/** The application's OAuth2 state. One per emulator. */
export class OAuth2 {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly codeTtlMs: number;
  readonly tokenTtlMs: number;
  private uris: string[];
  private signedIn: string | null = null;
  private readonly grants = new Map<string, Grant>();
  private readonly codes = new Map<string, Code>();
  private readonly tokens = new Map<string, Token>();

  constructor(
    settings: OAuth2Settings,
    private readonly extras: TokenExtras,
    private readonly log: (line: string) => void,
  ) {
    this.clientId = settings.clientId;
    this.clientSecret = settings.clientSecret;
    this.codeTtlMs = settings.codeTtlMs;
    this.tokenTtlMs = settings.tokenTtlMs;
    this.uris = [...settings.redirectUris];
  }

  /** The registered redirect URIs, in order (the first is the default of requests beyond the bot flow). */
  get redirectUris(): string[] {
    return [...this.uris];
  }

  /** Replaces the registered redirect URIs (already checked: inputs.redirectUris). */
  setRedirectUris(uris: ReadonlyArray<string>): void {
    this.uris = [...uris];
  }

  /** The user the authorize page signs in by default (see setSignedInUser), or null. */
  get signedInUserId(): string | null {
    return this.signedIn;
  }

  /** Sets the default signed-in user of the authorize page (null: nobody, the page asks). The caller checked the id. */
  setSignedInUser(userId: string | null): void {
    this.signedIn = userId;
  }

  /**
   * Whether `userId`'s live grant already covers `scopes`, none of them passthrough: then `prompt=none`
   * skips the page (https://discord.com/developers/docs/topics/oauth2#authorization-code-grant).
   */
  covered(userId: string, scopes: ReadonlyArray<string>): boolean {
    const grant = this.grants.get(userId);
    return grant !== undefined && !grant.revoked && scopes.every((s) => grant.scopes.has(s) && !PASSTHROUGH_SCOPES.has(s));
  }

  private liveGrant(userId: string, scopes: ReadonlyArray<string>): Grant {
    let grant = this.grants.get(userId);
    if (!grant || grant.revoked) {
      grant = { userId, scopes: new Set(), revoked: false };
      this.grants.set(userId, grant);
    }
    for (const scope of scopes) grant.scopes.add(scope);
    return grant;
  }

  /**
   * Records a consent and issues its authorization code, valid once for {@link codeTtlMs} and bound to
   * `redirectUri`. Returns the code.
   */
  issueCode(
    userId: string,
    scopes: ReadonlyArray<string>,
    redirectUri: string,
    redirectUriGiven: boolean,
    result: ConsentResult,
    challenge: CodeChallenge | null,
  ): string {
    const grant = this.liveGrant(userId, scopes);
    const code = randomToken(22);
    this.codes.set(code, {
      grant,
      scopes: [...scopes],
      result,
      redirectUri,
      redirectUriGiven,
      challenge,
      expiresAt: Date.now() + this.codeTtlMs,
      used: false,
    });
    return code;
  }

  /**
   * Client authentication: HTTP Basic (`client_id:client_secret`, each form-encoded, RFC 6749 2.3.1)
   * or `client_id` and `client_secret` in the body. Throws OAuthError 401 invalid_client.
   */
  private authenticate(form: Record<string, string>, headers: IncomingHttpHeaders): void {
    const basic = /^Basic\s+(\S+)$/i.exec(headers.authorization ?? "");
    let id: string | undefined;
    let secret: string | undefined;
    if (basic) {
      const decoded = Buffer.from(basic[1] ?? "", "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      try {
        id = colon < 0 ? undefined : decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " "));
        secret = colon < 0 ? undefined : decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " "));
      } catch {
        id = undefined;
      }
    } else {
      id = form.client_id;
      secret = form.client_secret;
    }
    if (id !== this.clientId || secret !== this.clientSecret) throw new OAuthError(401, "invalid_client");
  }

  /**
   * POST /oauth2/token: the `authorization_code` and `refresh_token` grants for form fields `form`.
   * Returns Discord's access token response (`guild` for a bot consent, `webhook` for webhook.incoming).
   * Throws OAuthError: 400 invalid_request (a missing field, a body that is not form-urlencoded),
   * 401 invalid_client, 400 invalid_grant (unknown, expired, used or revoked code or refresh token, a
   * redirect_uri or code_verifier that does not match), 400 unsupported_grant_type, 400 invalid_scope.
   * https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-access-token-exchange-example
   */
  token(form: Record<string, string>, headers: IncomingHttpHeaders): Record<string, unknown> {
    requireForm(headers);
    this.authenticate(form, headers);
    const grantType = form.grant_type;
    if (grantType === undefined) throw new OAuthError(400, "invalid_request", 'Missing "grant_type" in request.');
    if (grantType === "authorization_code") return this.exchangeCode(form);
    if (grantType === "refresh_token") return this.refresh(form);
    throw new OAuthError(400, "unsupported_grant_type", `Unsupported grant_type "${grantType}".`);
  }

  private exchangeCode(form: Record<string, string>): Record<string, unknown> {
    const value = form.code;
    if (value === undefined || value === "") throw new OAuthError(400, "invalid_request", 'Missing "code" in request.');
    const code = this.codes.get(value);
    const invalid = () => new OAuthError(400, "invalid_grant", 'Invalid "code" in request.');
    if (!code) throw invalid();
    if (code.used) {
      // RFC 6749 4.1.2: a code used twice revokes what it granted.
      this.revokeGrant(code.grant);
      throw invalid();
    }
    if (Date.now() >= code.expiresAt || code.grant.revoked) throw invalid();
    const redirectUri = form.redirect_uri;
    if (redirectUri === undefined && code.redirectUriGiven)
      throw new OAuthError(400, "invalid_request", 'Missing "redirect_uri" in request.');
    if (redirectUri !== undefined && redirectUri !== code.redirectUri)
      throw new OAuthError(400, "invalid_grant", 'Invalid "redirect_uri" in request.');
    if (code.challenge) {
      const verifier = form.code_verifier;
      if (verifier === undefined) throw new OAuthError(400, "invalid_request", 'Missing "code_verifier" in request.');
      const expected = code.challenge.method === "S256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
      if (expected !== code.challenge.value) throw new OAuthError(400, "invalid_grant", 'Invalid "code_verifier" in request.');
    }
    code.used = true;
    const out = this.issueTokens(code.grant, code.scopes);
    if (code.result.guildId !== null) out.guild = this.extras.guildObject(code.result.guildId);
    if (code.result.webhookId !== null) out.webhook = this.extras.webhookObject(code.result.webhookId);
    this.log(`oauth2: code exchanged for user ${code.grant.userId} (${code.scopes.join(" ")})`);
    return out;
  }

  private refresh(form: Record<string, string>): Record<string, unknown> {
    const value = form.refresh_token;
    if (value === undefined || value === "") throw new OAuthError(400, "invalid_request", 'Missing "refresh_token" in request.');
    const token = this.tokens.get(value);
    if (token?.kind !== "refresh" || token.used || token.grant.revoked)
      throw new OAuthError(400, "invalid_grant", 'Invalid "refresh_token" in request.');
    let scopes = token.scopes;
    if (form.scope !== undefined && form.scope.trim() !== "") {
      const asked = form.scope.trim().split(/\s+/);
      const extra = asked.filter((s) => !token.scopes.includes(s));
      if (extra.length) throw new OAuthError(400, "invalid_scope", `The requested scope is invalid: ${extra.join(" ")}.`);
      scopes = asked;
    }
    token.used = true;
    this.log(`oauth2: tokens refreshed for user ${token.grant.userId}`);
    return this.issueTokens(token.grant, scopes);
  }

  private issueTokens(grant: Grant, scopes: string[]): Record<string, unknown> {
    const access = randomToken(24);
    const refresh = randomToken(24);
    this.tokens.set(access, { kind: "access", grant, scopes, expiresAt: Date.now() + this.tokenTtlMs, used: false });
    this.tokens.set(refresh, { kind: "refresh", grant, scopes, expiresAt: Number.POSITIVE_INFINITY, used: false });
    return {
      token_type: "Bearer",
      access_token: access,
      expires_in: Math.ceil(this.tokenTtlMs / 1000),
      refresh_token: refresh,
      scope: scopes.join(" "),
    };
  }

  /**
   * POST /oauth2/token/revoke: revokes every token of the authorization `token` belongs to (access or
   * refresh, whatever `token_type_hint` says). An unknown token is not an error (RFC 7009 2.2).
   * Throws OAuthError 400 invalid_request (no `token`, not form-urlencoded), 401 invalid_client.
   * https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-token-revocation-example
   */
  revoke(form: Record<string, string>, headers: IncomingHttpHeaders): void {
    requireForm(headers);
    this.authenticate(form, headers);
    const value = form.token;
    if (value === undefined || value === "") throw new OAuthError(400, "invalid_request", 'Missing "token" in request.');
    const token = this.tokens.get(value);
    if (token) {
      this.revokeGrant(token.grant);
      this.log(`oauth2: authorization of user ${token.grant.userId} revoked`);
    }
  }

  private revokeGrant(grant: Grant): void {
    grant.revoked = true;
  }

  /** The grant behind an access token, or undefined for an unknown, expired or revoked one (the routes answer 401). */
  bearer(accessToken: string | undefined): BearerGrant | undefined {
    const token = accessToken === undefined ? undefined : this.tokens.get(accessToken);
    if (token?.kind !== "access" || token.grant.revoked || Date.now() >= token.expiresAt) return undefined;
    return { userId: token.grant.userId, scopes: token.scopes, expiresAt: token.expiresAt };
  }
}

/** Throws 400 invalid_request unless the body is form-urlencoded (Discord refuses JSON on the token routes). */
function requireForm(headers: IncomingHttpHeaders): void {
  const type = (headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded")
    throw new OAuthError(400, "invalid_request", "The request body must be application/x-www-form-urlencoded.");
}

/** An absolute http(s) URL without a fragment, as Discord accepts for redirect URIs. Throws 400 naming `field`. */
export function checkHttpUrl(value: unknown, field: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.hash !== "" || (value as string).length > 2000)
    throw new EmulatorError(400, `${field} must be an absolute http(s) URL without a fragment`);
  return value as string;
}
