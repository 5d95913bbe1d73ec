import { type Db, schema } from "@guildhall/db";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";

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
 * Email + password only; sign-up is closed: staff accounts are created by admins (or, on a
 * fresh install, the demo admin by the server). Endpoints live under `/api/auth`
 * (`POST /api/auth/sign-in/email`, `POST /api/auth/sign-out`, `GET /api/auth/get-session`).
 *
 * Rate limited in every mode (better-auth limits only in production by default), in memory,
 * per client address as {@link CLIENT_ADDRESS_HEADER} gives it: sign-in by `signInLimit`
 * (default {@link SIGN_IN_LIMIT}), every other auth path at 100 requests per 10 s. The memory
 * store is per process: N server instances behind a balancer allow N times the attempts.
 * better-auth answers a limited request 429 with `X-Retry-After`; the server adds `Retry-After`.
 */
export const createAuth = (db: Db, options: AuthOptions) =>
  betterAuth({
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
    rateLimit: {
      enabled: true,
      storage: "memory",
      window: 10,
      max: 100,
      customRules: {
        "/sign-in/*": { window: (options.signInLimit ?? SIGN_IN_LIMIT).windowS, max: (options.signInLimit ?? SIGN_IN_LIMIT).max },
      },
    },
    advanced: { ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] } },
    telemetry: { enabled: false },
  });

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
