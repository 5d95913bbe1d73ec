/**
 * REST routes of OAuth2: the token endpoint (authorization_code and refresh_token grants), token
 * revocation, and Get Current Authorization Information for a bearer token. Bodies are
 * `application/x-www-form-urlencoded`; client credentials come by HTTP Basic or in the body. Errors are
 * RFC 6749's `{error, error_description}` (400, or 401 invalid_client).
 * https://discord.com/developers/docs/topics/oauth2
 */
import type { OAuth2 } from "../oauth2";
import { OAuthError } from "../oauth2";
import { discordTimestamp } from "../timestamps";
import type { Users } from "../users";
import type { Reply, Route } from "./route";
import { bearerToken, unauthorized } from "./route";

/** What the OAuth2 routes need. */
export interface OAuth2RoutesContext {
  readonly oauth: OAuth2;
  readonly users: Users;
  /** The application object (GET /applications/@me). */
  application(): unknown;
}

/** An OAuthError as its reply; anything else is rethrown. */
function oauthReply(err: unknown): Reply {
  if (err instanceof OAuthError) return { status: err.status, body: err.body(), headers: { "cache-control": "no-store" } };
  throw err;
}

/** The route table: POST /oauth2/token, POST /oauth2/token/revoke, GET /oauth2/@me. */
export function oauth2Routes(ctx: OAuth2RoutesContext): Route[] {
  return [
    {
      // https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-access-token-response
      method: "POST",
      pattern: "/oauth2/token",
      auth: false,
      form: true,
      handle: ({ body, headers }) => {
        try {
          return { status: 200, body: ctx.oauth.token(body as Record<string, string>, headers), headers: { "cache-control": "no-store" } };
        } catch (err) {
          return oauthReply(err);
        }
      },
    },
    {
      // https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-token-revocation-example
      method: "POST",
      pattern: "/oauth2/token/revoke",
      auth: false,
      form: true,
      handle: ({ body, headers }) => {
        try {
          ctx.oauth.revoke(body as Record<string, string>, headers);
          return { status: 200, body: {} };
        } catch (err) {
          return oauthReply(err);
        }
      },
    },
    {
      // https://discord.com/developers/docs/topics/oauth2#get-current-authorization-information
      method: "GET",
      pattern: "/oauth2/@me",
      auth: false,
      handle: ({ headers }) => {
        const grant = ctx.oauth.bearer(bearerToken(headers));
        if (!grant) return unauthorized();
        const body: Record<string, unknown> = {
          application: ctx.application(),
          scopes: grant.scopes,
          expires: discordTimestamp(grant.expiresAt),
        };
        if (grant.scopes.includes("identify")) {
          const user = ctx.users.find(grant.userId);
          if (user) {
            const { email: _e, verified: _v, mfa_enabled: _m, locale: _l, premium_type: _p, ...publicUser } = user;
            body.user = publicUser;
          }
        }
        return { status: 200, body };
      },
    },
  ];
}
