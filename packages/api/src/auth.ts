import { type Db, schema } from "@guildhall/db";
import { Snowflake } from "@guildhall/sync";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { genericOAuth } from "better-auth/plugins";
import { Schema } from "effect";

/** Options for {@link createAuth}. */
export interface AuthOptions {
  /** Signs session cookies; at least 32 characters. Never logged. */
  readonly secret: string;
  /** The public origin of the server, e.g. `http://localhost:3000`. */
  readonly baseURL: string;
  /** Extra origins allowed to call the auth endpoints (the Vite dev server, say). */
  readonly trustedOrigins?: ReadonlyArray<string>;
  /** Sign-in attempts allowed per client address; default {@link SIGN_IN_LIMIT}. */
  readonly signInLimit?: { readonly windowS: number; readonly max: number };
  /** Sign in with Discord; absent: email + password only (the Discord button answers 404). */
  readonly discord?: DiscordSignIn | undefined;
  /**
   * Session cookies carry `Secure` (and the `__Secure-` prefix); default: when `baseURL` is https.
   * Browsers never send such a cookie over plain http, so this stays off for http origins.
   */
  readonly secureCookies?: boolean | undefined;
  /**
   * Where better-auth's own log lines go (the server: its Effect Logger). Only the message is
   * passed on, never the objects better-auth adds to it (requests, errors, profiles). Default:
   * better-auth's console logger.
   */
  readonly log?: ((level: "debug" | "info" | "warn" | "error", message: string) => void) | undefined;
}

/**
 * The Discord application Guildhall signs users in with (the OAuth2 code grant, `identify` only),
 * and where Discord is: discord.com in production ({@link DISCORD_OAUTH_URLS}), the emulator in
 * tests and in the `npm start` demo.
 * https://discord.com/developers/docs/topics/oauth2#authorization-code-grant
 */
export interface DiscordSignIn {
  /** The application's id (DISCORD_CLIENT_ID), a snowflake. */
  readonly clientId: string;
  /** The application's client secret (DISCORD_CLIENT_SECRET). A secret: never logged, never sent to browsers. */
  readonly clientSecret: string;
  /** The authorize page, e.g. `https://discord.com/oauth2/authorize`. */
  readonly authorizeUrl: string;
  /** The versioned REST base, e.g. `https://discord.com/api/v10`: `/oauth2/token` and `/users/@me` live under it. */
  readonly apiUrl: string;
}

/** Where Discord's OAuth2 lives in production. */
export const DISCORD_OAUTH_URLS = {
  authorizeUrl: "https://discord.com/oauth2/authorize",
  apiUrl: "https://discord.com/api/v10",
} as const;

/** better-auth's provider id for Discord: `POST /api/auth/sign-in/social {provider: "discord"}`, callback `/api/auth/callback/discord`. */
export const DISCORD_PROVIDER_ID = "discord";

/**
 * The email a user created by Discord sign-in gets: Guildhall asks Discord for `identify` only
 * (never `email`), and better-auth needs an address. `.invalid` is reserved (RFC 2606): nothing
 * is ever sent there, and no person can own one.
 */
export const discordOnlyEmail = (discordId: string): string => `discord-${discordId}@users.guildhall.invalid`;

/** What Guildhall reads of `GET /users/@me` (identify scope). https://discord.com/developers/docs/resources/user#get-current-user */
const DiscordUser = Schema.Struct({
  id: Snowflake,
  username: Schema.String,
  global_name: Schema.optional(Schema.NullOr(Schema.String)),
});
const decodeDiscordUser = Schema.decodeUnknownOption(DiscordUser);

/** The profile handed to better-auth: the Discord user's id, their display name, and the address they are known by here. */
type DiscordProfile = {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly emailVerified: boolean;
};

/** The part of better-auth's adapter used to find the user linked to a Discord id, and to drop stale Discord accounts. */
interface UserLookup {
  findOne<T>(query: { model: string; where: Array<{ field: string; value: string }> }): Promise<T | null>;
  deleteMany(query: { model: string; where: Array<{ field: string; value: string; operator?: "ne" }> }): Promise<number>;
}

/**
 * The header that carries the client's address to better-auth's rate limiter. The server sets
 * it on every auth request from the socket's address (or, behind a configured trusted proxy,
 * from `X-Forwarded-For`), replacing whatever the client sent: better-auth reads the address
 * from this header only, so a client cannot choose the key it is limited under.
 */
export const CLIENT_ADDRESS_HEADER = "x-guildhall-client-address";

/**
 * Sign-in attempts (`POST /api/auth/sign-in/*`, right or wrong) allowed per client address:
 * `max` in a rolling window of `windowS` seconds. Beyond, 429 with Retry-After (seconds).
 */
export const SIGN_IN_LIMIT = { windowS: 60, max: 10 } as const;

/**
 * Staff sign-in, with sessions stored in the database (better-auth over Drizzle).
 * Email + password: sign-up is closed, those accounts are created by admins (or, on a fresh
 * install, the demo admin by the server). With `discord`, also Sign in with Discord (better-auth's
 * generic OAuth provider with the id `discord`, since its built-in Discord provider cannot be
 * pointed anywhere but discord.com): `identify` scope, PKCE, state in a signed cookie. The
 * Discord user is matched to the app user whose `discordId` is theirs (an account made by an
 * admin, or by the demo seeding, is linked on its first Discord sign-in); nobody has it: a user
 * is created, named after their Discord name, with {@link discordOnlyEmail}. Either way the
 * user's `discordId` is set, which is all the member comparison needs to show them linked.
 * Endpoints live under `/api/auth` (`POST /api/auth/sign-in/email`, `POST /api/auth/sign-in/social`
 * with `{provider: "discord", callbackURL}`, `GET /api/auth/callback/discord`,
 * `POST /api/auth/sign-out`, `GET /api/auth/get-session`).
 *
 * Every sign-in rotates the session: a new session (new id, new cookie) is created, and the one
 * the browser presented before, if any, is deleted. Cookies are `Secure` when `secureCookies`
 * (default: an https `baseURL`).
 *
 * Rate limited in every mode (better-auth limits only in production by default), in memory,
 * per client address as {@link CLIENT_ADDRESS_HEADER} gives it: sign-in by `signInLimit`
 * (default {@link SIGN_IN_LIMIT}; `/sign-in/*` and the OAuth callback `/callback/*` each),
 * every other auth path at 100 requests per 10 s. The memory
 * store is per process: N server instances behind a balancer allow N times the attempts.
 * better-auth answers a limited request 429 with `X-Retry-After`; the server adds `Retry-After`.
 */
export const createAuth = (db: Db, options: AuthOptions) => {
  const signInLimit = options.signInLimit ?? SIGN_IN_LIMIT;
  const discord = options.discord;
  const auth = betterAuth({
    appName: "Guildhall",
    secret: options.secret,
    baseURL: options.baseURL,
    basePath: "/api/auth",
    trustedOrigins: [...(options.trustedOrigins ?? [])],
    database: drizzleAdapter(db, {
      provider: "pg",
      schema: {
        user: schema.users,
        session: schema.sessions,
        account: schema.accounts,
        verification: schema.verifications,
      },
    }),
    emailAndPassword: { enabled: true, disableSignUp: true, minPasswordLength: 8 },
    user: { additionalFields: { discordId: { type: "string", required: false, input: false } } },
    session: { expiresIn: 60 * 60 * 24 * 7, updateAge: 60 * 60 * 24 },
    // Linking is by Discord id (see getUserInfo below), never by an address Discord reports.
    // Discord's tokens are never used after sign-in; kept encrypted (better-auth, under the secret) all the same.
    account: {
      encryptOAuthTokens: true,
      accountLinking: { enabled: true, trustedProviders: [DISCORD_PROVIDER_ID], requireLocalEmailVerified: false },
    },
    databaseHooks: {
      account: {
        create: {
          // A Discord account row (new user or link): the user's discordId is that Discord user.
          after: async (account, context) => {
            if (account.providerId !== DISCORD_PROVIDER_ID || context === null) return;
            await context.context.internalAdapter.updateUser(account.userId, { discordId: account.accountId });
          },
        },
      },
      session: {
        create: {
          // Rotation: the session the browser held before this sign-in (if any) ends with it.
          after: async (session, context) => {
            if (context === null || !context.request) return;
            const previous = await context.getSignedCookie(context.context.authCookies.sessionToken.name, context.context.secret);
            if (typeof previous === "string" && previous !== "" && previous !== session.token) {
              await context.context.internalAdapter.deleteSession(previous);
            }
          },
        },
      },
    },
    plugins: discord
      ? [
          genericOAuth({
            config: [
              {
                providerId: DISCORD_PROVIDER_ID,
                name: "Discord",
                clientId: discord.clientId,
                clientSecret: discord.clientSecret,
                authorizationUrl: discord.authorizeUrl,
                tokenUrl: `${discord.apiUrl}/oauth2/token`,
                scopes: ["identify"],
                pkce: true,
                // The user's own Discord profile: GET /users/@me with their bearer token.
                getUserInfo: async (tokens): Promise<DiscordProfile | null> => {
                  if (!tokens.accessToken) return null;
                  const response = await fetch(`${discord.apiUrl}/users/@me`, {
                    headers: { authorization: `Bearer ${tokens.accessToken}` },
                  }).catch(() => null);
                  if (!response?.ok) return null;
                  const profile = decodeDiscordUser(await response.json().catch(() => null));
                  if (profile._tag === "None") return null;
                  const { id, username, global_name } = profile.value;
                  // The app user linked to this Discord id, if any: better-auth then links (or
                  // finds) the Discord account on that user by its address.
                  const { adapter }: { adapter: UserLookup } = await auth.$context;
                  const linked = await adapter.findOne<{ id: string; email: string }>({
                    model: "user",
                    where: [{ field: "discordId", value: id }],
                  });
                  // users.discordId decides: a Discord account left on another user (an admin
                  // linked this Discord id elsewhere, or unlinked it) signs in as nobody else.
                  await adapter.deleteMany({
                    model: "account",
                    where: [
                      { field: "providerId", value: DISCORD_PROVIDER_ID },
                      { field: "accountId", value: id },
                      ...(linked ? [{ field: "userId", operator: "ne" as const, value: linked.id }] : []),
                    ],
                  });
                  return { id, name: global_name || username, email: linked?.email ?? discordOnlyEmail(id), emailVerified: true };
                },
              },
            ],
          }),
        ]
      : [],
    rateLimit: {
      enabled: true,
      storage: "memory",
      window: 10,
      max: 100,
      customRules: {
        "/sign-in/*": { window: signInLimit.windowS, max: signInLimit.max },
        "/callback/*": { window: signInLimit.windowS, max: signInLimit.max },
      },
    },
    advanced: {
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
      useSecureCookies: options.secureCookies ?? options.baseURL.startsWith("https://"),
      // better-auth turns its Origin and callbackURL checks off under test runners (NODE_ENV=test):
      // on everywhere, so the tests exercise what production runs.
      disableOriginCheck: false,
      disableCSRFCheck: false,
    },
    ...(options.log
      ? {
          logger: {
            level: "info" as const,
            log: (level: "debug" | "info" | "warn" | "error", message: string) => options.log?.(level, message),
          },
        }
      : {}),
    telemetry: { enabled: false },
  });
  return auth;
};

/** The better-auth instance the server mounts and the API reads sessions from. */
export type Auth = ReturnType<typeof createAuth>;

/**
 * Creates a user who signs in with `email` + `password`, unless one with that email exists.
 * Returns the user's id either way and whether it was created; safe when several server
 * instances run it at once. Rejects on database errors.
 */
export const ensurePasswordUser = async (
  auth: Auth,
  user: { email: string; name: string; password: string; discordId?: string | null },
): Promise<{ id: string; created: boolean }> => {
  const ctx = await auth.$context;
  const existing = await ctx.internalAdapter.findUserByEmail(user.email);
  if (existing) return { id: existing.user.id, created: false };
  let created: { id: string };
  try {
    created = await ctx.internalAdapter.createUser(
      { email: user.email, name: user.name, emailVerified: true, discordId: user.discordId ?? null },
      { method: "admin" },
    );
  } catch (error) {
    // Another instance starting at the same moment may have created it first: that is fine.
    const raced = await ctx.internalAdapter.findUserByEmail(user.email);
    if (raced) return { id: raced.user.id, created: false };
    throw error;
  }
  await ctx.internalAdapter.linkAccount({
    userId: created.id,
    providerId: "credential",
    accountId: created.id,
    password: await ctx.password.hash(user.password),
  });
  return { id: created.id, created: true };
};
