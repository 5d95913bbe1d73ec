/**
 * tRPC init, the request context and the procedure builders.
 *
 * Frameworks reach Effect only through the one `ManagedRuntime` in the context; a failure's
 * `_tag` becomes a `TRPCError` code in exactly one place (`run`).
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { Database, DatabaseError } from "@guildhall/db";
import type { DiscordRest } from "@guildhall/discord";
import type { Jobs } from "@guildhall/jobs";
import {
  ApiTokens,
  type Bot,
  type Comparison,
  Directory,
  type DomainEvents,
  type Groups,
  type GuildInvites,
  type Integrations,
  type MemberSync,
  NotInOrganization,
  type Presences,
  type Reconciler,
  type RoleMenus,
  type Roster,
  type StaffMembership,
  type TokenIdentity,
  TokenScopeTooNarrow,
  type Webhooks,
} from "@guildhall/sync";
import { initTRPC, TRPCError } from "@trpc/server";
import { Cause, Effect, Exit, type ManagedRuntime, Option } from "effect";
import type { Auth } from "./auth";
import { answerFor, BotKeyRequired, type DomainError, SignInRequired } from "./errors";

/** The services procedures run against. */
export type ApiServices =
  | Database
  | Jobs
  | Presences
  | Directory
  | Roster
  | Bot
  | MemberSync
  | Comparison
  | Groups
  | Reconciler
  | RoleMenus
  | GuildInvites
  | DiscordRest
  | ApiTokens
  | DomainEvents
  | Webhooks
  | Integrations;

/** The per-process runtime the server builds once. */
export type ApiRuntime = ManagedRuntime.ManagedRuntime<ApiServices, DatabaseError>;

/** What the server hands `createContext` per request (HTTP) or per connection (WebSocket). */
export interface ContextDeps {
  readonly runtime: ApiRuntime;
  readonly auth: Auth;
  /** The bot's API key. Compared in constant time; never logged or returned. */
  readonly botKey: string;
  /**
   * Error answers carry the server's stack trace (`data.stack`): only when a developer asks
   * for it (GUILDHALL_DEBUG_ERRORS=1), never by default. Default false.
   */
  readonly debugErrors?: boolean | undefined;
}

/** The signed-in user, as procedures see it. */
export interface SessionUser {
  readonly id: string;
  readonly name: string;
  readonly email: string;
}

export interface Context {
  readonly runtime: ApiRuntime;
  readonly user: SessionUser | null;
  /** The better-auth session's id (what an install's `state` is bound to), or null without a session. Never returned to callers. */
  readonly sessionId: string | null;
  /** True when the request presented the bot key (header `x-guildhall-bot-key` or ws connectionParams `botKey`). */
  readonly isBot: boolean;
  /** Error answers include `data.stack` (see `ContextDeps.debugErrors`). */
  readonly debugErrors: boolean;
  /**
   * The organization the caller selected (header `x-guildhall-organization`, or the WebSocket
   * connectionParam `organization`), as sent; null when absent (the caller's oldest
   * organization). Checked against the caller's memberships by every organization procedure.
   */
  readonly organizationId: string | null;
  /**
   * The API token presented (`Authorization: Bearer <token>`, or the connectionParam `token`),
   * checked against the database at every call so that a revoked token is refused at once.
   * Never logged, never returned.
   */
  readonly bearer: string | null;
}

import { BOT_KEY_HEADER, ORGANIZATION_HEADER } from "./headers";

export { BOT_KEY_HEADER, ORGANIZATION_HEADER };

/**
 * What a procedure needs, declared by the builder it is made with (`meta.permission`):
 * `public` (nothing), `signedIn` (a session), `bot` (the bot key), and, within the selected
 * organization, `read` (staff, or any API token; a `read` token only for queries and
 * subscriptions), `write` (an admin, or a `read_write` token) and `manage` (an admin; never a
 * token: tokens, integrations, settings). The router walk test fails on a procedure without one.
 */
export const PERMISSIONS = ["public", "signedIn", "bot", "read", "write", "manage"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Every procedure's meta: what it needs. */
export interface ProcedureMeta {
  readonly permission: Permission;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Constant-time comparison of a presented key with the configured one (hashing first evens out lengths). */
export const botKeyMatches = (presented: string | null | undefined, expected: string): boolean =>
  typeof presented === "string" && presented.length > 0 && timingSafeEqual(digest(presented), digest(expected));

/**
 * Builds the tRPC context from request headers (and, on WebSocket connections, the
 * `connectionParams` the client sent). Reads the better-auth session cookie; a bad or
 * expired session simply means `user: null`.
 */
export const createContext = async (
  deps: ContextDeps,
  request: { headers: Headers; connectionParams?: Record<string, string | undefined> | null | undefined },
): Promise<Context> => {
  const params = request.connectionParams ?? {};
  const param = (name: string): string | null => {
    const value: unknown = params[name];
    return typeof value === "string" && value.length > 0 ? value : null;
  };
  const presentedKey = request.headers.get(BOT_KEY_HEADER) ?? param("botKey");
  const isBot = botKeyMatches(presentedKey, deps.botKey);
  const authorization = request.headers.get("authorization");
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? param("token");
  const organizationId = request.headers.get(ORGANIZATION_HEADER) || param("organization");
  let user: SessionUser | null = null;
  let sessionId: string | null = null;
  // A token caller is the token, whatever cookie comes along.
  if (!isBot && bearer === null) {
    const session = await deps.auth.api.getSession({ headers: request.headers }).catch(() => null);
    if (session) {
      user = { id: session.user.id, name: session.user.name, email: session.user.email };
      sessionId = session.session.id;
    }
  }
  return { runtime: deps.runtime, user, sessionId, isBot, debugErrors: deps.debugErrors === true, organizationId, bearer };
};

/** One issue of a rejected input: the dotted path of the field, and what is wrong with it. */
export interface InputIssue {
  readonly path: string;
  readonly message: string;
}

const issuesOf = (cause: unknown): ReadonlyArray<InputIssue> | null => {
  if (!cause || typeof cause !== "object" || !("issues" in cause) || !Array.isArray(cause.issues)) return null;
  return (cause.issues as Array<{ message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }>).map((issue) => ({
    path: (issue.path ?? []).map((segment) => String(typeof segment === "object" && segment !== null ? segment.key : segment)).join("."),
    message: issue.message,
  }));
};

const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    // tRPC adds `data.stack` when isDev (by default whenever NODE_ENV is not "production", so under
    // `npm start`); the formatter below adds it only when the context asks (debugErrors).
    isDev: false,
    errorFormatter({ shape, error, ctx }) {
      const data = ctx?.debugErrors === true && typeof error.stack === "string" ? { ...shape.data, stack: error.stack } : shape.data;
      const issues = error.code === "BAD_REQUEST" ? issuesOf(error.cause) : null;
      if (!issues || issues.length === 0) return { ...shape, data: { ...data, issues: null } };
      // The message names the field(s), so a caller sees what to fix without digging.
      const message = `Invalid input: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`;
      return { ...shape, message, data: { ...data, issues } };
    },
  });

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** The `TRPCError` for a domain failure, from the one table in errors.ts. */
const toTRPCError = (error: DomainError): TRPCError => {
  const answer = answerFor(error);
  return new TRPCError({ code: answer.code, message: answer.message });
};

/**
 * Logs what a caller will not see: failures of the server itself (an `internal` error such as
 * DatabaseError, whose fields hold no SQL parameters) and defects, at Error level through the
 * runtime's logger. Expected failures (NotStaff, GuildNotFound, ...) are answers, not news.
 */
const logInternal = <E extends DomainError>(cause: Cause.Cause<E>): Effect.Effect<void> => {
  const failure = Cause.findErrorOption(cause);
  if (Option.isSome(failure)) {
    const error = failure.value;
    return answerFor(error).internal
      ? Effect.logError(`${error._tag}: ${error.message}`).pipe(Effect.annotateLogs({ ...error }))
      : Effect.void;
  }
  return Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError("defect", cause);
};

/**
 * Runs `effect` on the context's runtime. A typed failure becomes a `TRPCError` through the
 * one exhaustive table in errors.ts (its code and caller-facing message); the effect may fail
 * only with errors that table maps, so a new, unmapped error class fails the typecheck.
 * Failures of the server itself (DatabaseError, defects) are logged and answered
 * INTERNAL_SERVER_ERROR with a generic message.
 */
export const run = async <A, E extends DomainError>(
  ctx: Pick<Context, "runtime">,
  effect: Effect.Effect<A, E, ApiServices>,
): Promise<A> => {
  const exit = await ctx.runtime.runPromiseExit(effect.pipe(Effect.tapCause(logInternal)));
  if (Exit.isSuccess(exit)) return exit.value;
  const failure = Cause.findErrorOption(exit.cause);
  if (Option.isSome(failure)) throw toTRPCError(failure.value);
  throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "Internal error." });
};

/** No session needed. */
export const publicProcedure = t.procedure.meta({ permission: "public" });

/** Needs a signed-in user (UNAUTHORIZED otherwise; an API token is not a user). */
export const protectedProcedure = t.procedure.meta({ permission: "signedIn" }).use(({ ctx, next }) => {
  if (!ctx.user) throw toTRPCError(new SignInRequired());
  return next({ ctx: { ...ctx, user: ctx.user } });
});

/** An organization id as the header may carry one: printable ASCII, at most 128 characters (anything else names no organization). */
const ORGANIZATION_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The caller's standing in the selected organization, for a procedure needing `permission`
 * (`read`, `write` or `manage`; see {@link Permission}). Sessions: staff for `read`, the admin
 * role otherwise. API tokens: their own organization only; `read` tokens for queries and
 * subscriptions of `read` procedures, `read_write` tokens for any `read` or `write` procedure,
 * no token for `manage`. Fails: UNAUTHORIZED (no session, unknown or revoked token), FORBIDDEN
 * (not staff, not of the selected organization, not admin, token scope too narrow).
 */
const organizationAccess = (permission: "read" | "write" | "manage") =>
  t.middleware(async ({ ctx, type, next }) => {
    const selected = ctx.organizationId;
    if (selected !== null && !ORGANIZATION_ID.test(selected)) throw toTRPCError(new NotInOrganization({ organizationId: "(invalid)" }));
    if (ctx.bearer !== null) {
      const bearer = ctx.bearer;
      const identity: TokenIdentity = await run(
        ctx,
        ApiTokens.use((tokens) => tokens.authenticate(bearer)),
      );
      if (selected !== null && selected !== identity.organizationId) throw toTRPCError(new NotInOrganization({ organizationId: selected }));
      if (permission === "manage") throw toTRPCError(new TokenScopeTooNarrow({ needs: "a signed-in admin" }));
      if ((permission === "write" || type === "mutation") && identity.scope !== "read_write")
        throw toTRPCError(new TokenScopeTooNarrow({ needs: "the read_write scope" }));
      const staff: StaffMembership = {
        staffId: `token:${identity.tokenId}`,
        organizationId: identity.organizationId,
        organizationName: identity.organizationName,
        role: "staff",
      };
      // A token acts for the admin who created it (what `requestedBy` and audit fields record).
      const user: SessionUser = { id: identity.createdBy, name: `API token ${identity.name}`, email: "" };
      return next({ ctx: { ...ctx, user, staff, token: identity as TokenIdentity | null } });
    }
    const user = ctx.user;
    if (!user) throw toTRPCError(new SignInRequired());
    const staff: StaffMembership = await run(
      ctx,
      Directory.use((directory) =>
        permission === "read" ? directory.membership(user.id, selected) : directory.requireAdmin(user.id, selected),
      ),
    );
    return next({ ctx: { ...ctx, user, staff, token: null as TokenIdentity | null } });
  });

/**
 * Permission `read`: staff of the selected organization (UNAUTHORIZED without a session,
 * FORBIDDEN for non-staff or another organization's staff), or an API token of it (mutations
 * need `read_write`); adds `ctx.staff` (`organizationId`: the selected organization) and `ctx.token`.
 */
export const staffProcedure = t.procedure.meta({ permission: "read" }).use(organizationAccess("read"));

/**
 * Permission `write`: an admin of the selected organization, or a `read_write` API token of it:
 * what another app may change (e.g. links, a group's members). Adds `ctx.staff` and `ctx.token`.
 */
export const writeProcedure = t.procedure.meta({ permission: "write" }).use(organizationAccess("write"));

/**
 * Permission `manage`: a signed-in admin of the selected organization (UNAUTHORIZED without a
 * session, FORBIDDEN for non-staff, other organizations' staff, staff without the role, and
 * every API token); adds `ctx.staff`.
 */
export const adminProcedure = t.procedure.meta({ permission: "manage" }).use(organizationAccess("manage"));

/** Needs the bot key (UNAUTHORIZED otherwise). */
export const botProcedure = t.procedure.meta({ permission: "bot" }).use(({ ctx, next }) => {
  if (!ctx.isBot) throw toTRPCError(new BotKeyRequired());
  return next();
});
