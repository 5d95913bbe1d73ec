/**
 * tRPC init, the request context and the procedure builders.
 *
 * Frameworks reach Effect only through the one `ManagedRuntime` in the context; a failure's
 * `_tag` becomes a `TRPCError` code in exactly one place (`run`).
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { Database, DatabaseError } from "@guildhall/db";
import type { Jobs } from "@guildhall/jobs";
import {
  type Bot,
  type Comparison,
  Directory,
  type Integrations,
  type MemberSync,
  type Presences,
  type Roster,
  type StaffMembership,
} from "@guildhall/sync";
import { initTRPC, TRPCError } from "@trpc/server";
import { Cause, Effect, Exit, type ManagedRuntime, Option } from "effect";
import type { Auth } from "./auth";
import { answerFor, BotKeyRequired, type DomainError, SignInRequired } from "./errors";

/** The services procedures run against. */
export type ApiServices = Database | Jobs | Presences | Directory | Roster | Bot | MemberSync | Comparison | Integrations;

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
}

import { BOT_KEY_HEADER } from "./headers";

export { BOT_KEY_HEADER };

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
  const presentedKey = request.headers.get(BOT_KEY_HEADER) ?? request.connectionParams?.botKey ?? null;
  const isBot = botKeyMatches(presentedKey, deps.botKey);
  let user: SessionUser | null = null;
  let sessionId: string | null = null;
  if (!isBot) {
    const session = await deps.auth.api.getSession({ headers: request.headers }).catch(() => null);
    if (session) {
      user = { id: session.user.id, name: session.user.name, email: session.user.email };
      sessionId = session.session.id;
    }
  }
  return { runtime: deps.runtime, user, sessionId, isBot, debugErrors: deps.debugErrors === true };
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

const t = initTRPC.context<Context>().create({
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
export const publicProcedure = t.procedure;

/** Needs a signed-in user (UNAUTHORIZED otherwise). */
export const protectedProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.user) throw toTRPCError(new SignInRequired());
  return next({ ctx: { ...ctx, user: ctx.user } });
});

/** Needs a signed-in staff member (UNAUTHORIZED without a session, FORBIDDEN for non-staff); adds `ctx.staff`. */
export const staffProcedure = protectedProcedure.use(async ({ ctx, next }) => {
  const staff: StaffMembership = await run(
    ctx,
    Directory.use((directory) => directory.membership(ctx.user.id)),
  );
  return next({ ctx: { ...ctx, staff } });
});

/**
 * Needs a signed-in staff member with the `admin` role (`Directory.requireAdmin`): UNAUTHORIZED
 * without a session, FORBIDDEN for non-staff and for staff without the role; adds `ctx.staff`.
 */
export const adminProcedure = protectedProcedure.use(async ({ ctx, next }) => {
  const staff: StaffMembership = await run(
    ctx,
    Directory.use((directory) => directory.requireAdmin(ctx.user.id)),
  );
  return next({ ctx: { ...ctx, staff } });
});

/** Needs the bot key (UNAUTHORIZED otherwise). */
export const botProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.isBot) throw toTRPCError(new BotKeyRequired());
  return next();
});
