/**
 * @guildhall/api: the tRPC API, the only door to Guildhall's data.
 *
 * Servers use `appRouter`, `createContext`, `createAuth` and `makeRuntime`; clients import
 * `type AppRouter` (and, in Node, `createClient`).
 */

/** The shapes the bot sends, for clients that must not load the server side (type-only). */
export type {
  ApiTokenInfo,
  MemberSnapshot,
  MemberUpdate,
  PresenceUpdate,
  RoleSnapshot,
  StaffMembership,
  SyncRun,
  TokenScope,
} from "@guildhall/sync";
export {
  type Auth,
  type AuthOptions,
  CLIENT_ADDRESS_HEADER,
  createAuth,
  DISCORD_OAUTH_URLS,
  DISCORD_PROVIDER_ID,
  type DiscordSignIn,
  discordOnlyEmail,
  ensurePasswordUser,
  SIGN_IN_LIMIT,
} from "./auth";
export { type ClientOptions, createClient, type GuildhallClient, signIn } from "./client";
export { answerFor, type DomainError, ERRORS } from "./errors";
export { type Followed, follow } from "./follow";
export { queueInteractionSync, serverInteractionServices } from "./interactions/server";
export { InvalidPackedChunk } from "./pack";
export {
  ForeignOrigin,
  InteractionsNotConfigured,
  InvalidApiKey,
  InvalidInput,
  InvalidSignature,
  MethodNotAllowed,
  PayloadTooLarge,
  UnknownEndpoint,
  UnsupportedMediaType,
  validateInput,
} from "./request";
export { type AppRouter, appRouter } from "./root";
export { MAX_MEMBER_CHUNK, MAX_PACKED_CHARS, MAX_PRESENCE_BATCH } from "./router/bot";
export { CSV_EXPORT_LIMIT, toCsv } from "./router/members";
export type { RosterEvent } from "./router/roster";
export { type LoggingOptions, loggingLayer, logTo, makeRuntime, type RuntimeConfig } from "./runtime";
export { share, sharingJsonEncoder } from "./shared";
export {
  type ApiRuntime,
  type ApiServices,
  BOT_KEY_HEADER,
  botKeyMatches,
  type Context,
  type ContextDeps,
  createCallerFactory,
  createContext,
  type InputIssue,
  ORGANIZATION_HEADER,
  PERMISSIONS,
  type Permission,
  type ProcedureMeta,
  type SessionUser,
} from "./trpc";
