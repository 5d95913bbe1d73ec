/**
 * The one place a domain failure becomes an answer: a tRPC code for procedures, an HTTP status
 * for the REST contracts (the legacy member sync endpoint, and every HTTP endpoint to come).
 *
 * `ERRORS` has one entry per `_tag` of {@link DomainError}, checked by the compiler: a new
 * error class added to the union without an entry fails the typecheck, and `run` (trpc.ts)
 * accepts only effects whose failures are in the union, so an error nobody mapped cannot reach
 * a caller as a silent 500. Messages are what callers see: they never carry SQL, parameters or
 * secrets (those stay in the server log, at most).
 */
import type { DatabaseError } from "@guildhall/db";
import type { JobNotDiscardable, JobNotRetryable, JobPayloadInvalid, UnknownJob } from "@guildhall/jobs";
import type {
  ApiTokenNotFound,
  ChannelNotInGuild,
  ChannelPermissionMissing,
  ChunkMismatch,
  DiscordCallFailed,
  DiscordIdTaken,
  DiscordUnavailable,
  GroupNameTaken,
  GroupNotFound,
  GuildLinkedElsewhere,
  GuildNotFound,
  GuildNotLinked,
  InstallerNotGuildAdmin,
  InstallStateInvalid,
  IntegrationNotFound,
  IntegrationsNotConfigured,
  InvalidApiToken,
  InvalidInviteLink,
  InvalidWebhookUrl,
  MappingExists,
  MappingNotFound,
  NotAdmin,
  NotInOrganization,
  NotStaff,
  ReconciliationRunNotFound,
  RoleMenuDiscordFailed,
  RoleMenuNotFound,
  RoleNotSelfAssignable,
  SyncAlreadyRunning,
  SyncNotAwaitingConfirmation,
  SyncNotRunning,
  SyncRunNotFound,
  TokenScopeTooNarrow,
  UserNotFound,
  WebhookAlreadyAdded,
  WebhookNotFound,
} from "@guildhall/sync";
import type { TRPCError } from "@trpc/server";
import { Schema } from "effect";
import type { InvalidPackedChunk } from "./pack";
import type {
  ForeignOrigin,
  InteractionsNotConfigured,
  InvalidApiKey,
  InvalidInput,
  InvalidSignature,
  MethodNotAllowed,
  PayloadTooLarge,
  UnknownEndpoint,
  UnsupportedMediaType,
} from "./request";

/** The procedure needs a signed-in user, and the request carried no valid session. */
export class SignInRequired extends Schema.TaggedError<SignInRequired>()("SignInRequired", {}) {}

/** The procedure is the bot's, and the request carried no valid bot key. */
export class BotKeyRequired extends Schema.TaggedError<BotKeyRequired>()("BotKeyRequired", {}) {}

/** Every typed failure a procedure or a REST handler may meet. Add new domain errors here and to {@link ERRORS}. */
export type DomainError =
  | SignInRequired
  | BotKeyRequired
  | NotStaff
  | NotAdmin
  | GuildNotFound
  | SyncAlreadyRunning
  | SyncNotRunning
  | SyncRunNotFound
  | SyncNotAwaitingConfirmation
  | ChunkMismatch
  | InvalidPackedChunk
  | DiscordIdTaken
  | UserNotFound
  | UnknownJob
  | JobNotRetryable
  | JobNotDiscardable
  | GuildNotLinked
  | IntegrationsNotConfigured
  | InstallStateInvalid
  | InstallerNotGuildAdmin
  | GuildLinkedElsewhere
  | IntegrationNotFound
  | DiscordCallFailed
  | InvalidInput
  | PayloadTooLarge
  | InvalidApiKey
  | MethodNotAllowed
  | ForeignOrigin
  | UnsupportedMediaType
  | UnknownEndpoint
  | NotInOrganization
  | InvalidApiToken
  | TokenScopeTooNarrow
  | ApiTokenNotFound
  | GroupNotFound
  | GroupNameTaken
  | MappingNotFound
  | MappingExists
  | ReconciliationRunNotFound
  | DiscordUnavailable
  | RoleMenuNotFound
  | RoleNotSelfAssignable
  | ChannelNotInGuild
  | ChannelPermissionMissing
  | InvalidInviteLink
  | RoleMenuDiscordFailed
  | InvalidWebhookUrl
  | WebhookNotFound
  | WebhookAlreadyAdded
  | JobPayloadInvalid
  | InvalidSignature
  | InteractionsNotConfigured
  | DatabaseError;

/** How one error class is answered. `internal` errors are logged (without their message's values) and answered generically. */
export interface ErrorAnswer<E> {
  /** The tRPC code (https://trpc.io/docs/server/error-handling#error-codes). */
  readonly code: TRPCError["code"];
  /** The HTTP status a REST endpoint answers with. */
  readonly status: number;
  /** What the caller reads. */
  readonly message: (error: E) => string;
  /** True for failures of the server itself (5xx): they go to the log, and the caller gets a generic message. */
  readonly internal?: true;
}

type Answers = { readonly [Tag in DomainError["_tag"]]: ErrorAnswer<Extract<DomainError, { readonly _tag: Tag }>> };

/** The answer to each error class, by `_tag`. Exhaustive by type. */
export const ERRORS: Answers = {
  SignInRequired: { code: "UNAUTHORIZED", status: 401, message: () => "Sign in first." },
  BotKeyRequired: { code: "UNAUTHORIZED", status: 401, message: () => "A valid bot key is required." },
  NotStaff: { code: "FORBIDDEN", status: 403, message: () => "You are not staff of any organization." },
  NotAdmin: { code: "FORBIDDEN", status: 403, message: () => "This needs the admin role." },
  GuildNotFound: { code: "NOT_FOUND", status: 404, message: () => "No such guild is linked to your organization." },
  SyncAlreadyRunning: {
    code: "CONFLICT",
    status: 409,
    message: () => "A member sync of this guild is already running; try again when it ends.",
  },
  SyncNotRunning: {
    code: "CONFLICT",
    status: 409,
    message: () => "That member sync is not running (it finished, or never started).",
  },
  SyncRunNotFound: { code: "NOT_FOUND", status: 404, message: () => "No such member sync of this guild." },
  SyncNotAwaitingConfirmation: {
    code: "CONFLICT",
    status: 409,
    message: (e) =>
      `That member sync is not waiting for a confirmation (it is ${e.status}): an admin already decided it, or a later sync superseded it.`,
  },
  ChunkMismatch: { code: "BAD_REQUEST", status: 400, message: (e) => `Chunk does not fit the run: ${e.message}` },
  InvalidPackedChunk: { code: "BAD_REQUEST", status: 400, message: (e) => `Invalid chunk: ${e.message}` },
  DiscordIdTaken: { code: "CONFLICT", status: 409, message: () => "Another user is already linked to that Discord id." },
  UserNotFound: { code: "NOT_FOUND", status: 404, message: () => "No such user." },
  UnknownJob: { code: "NOT_FOUND", status: 404, message: () => "No such job: it was discarded, or deleted after its retention." },
  JobNotRetryable: {
    code: "CONFLICT",
    status: 409,
    message: (e) => `Only a failed, cancelled or dead-lettered job can be retried; this one is ${e.state}.`,
  },
  JobNotDiscardable: {
    code: "CONFLICT",
    status: 409,
    message: () => "This job is running: it ends, or expires and goes back to its queue, on its own.",
  },
  GuildNotLinked: { code: "FORBIDDEN", status: 403, message: (e) => `Guild ${e.guildId} is not linked to Guildhall.` },
  IntegrationsNotConfigured: {
    code: "PRECONDITION_FAILED",
    status: 503,
    message: () =>
      "This server has no Discord OAuth2 client: set DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET to install the bot from Guildhall.",
  },
  InstallStateInvalid: {
    code: "BAD_REQUEST",
    status: 400,
    message: (e) =>
      ({
        unknown: "This install link is not one Guildhall issued. Start again from the Integrations page.",
        expired: "This install link expired (they last 10 minutes). Start again from the Integrations page.",
        used: "This install link was already used. Start again from the Integrations page.",
        "other-session": "This install link was issued to another sign-in. Start again from the Integrations page, signed in as yourself.",
      })[e.reason],
  },
  InstallerNotGuildAdmin: {
    code: "FORBIDDEN",
    status: 403,
    message: () => "The Discord account that authorized the install is not an admin (Manage Server) of that server. Nothing was stored.",
  },
  GuildLinkedElsewhere: {
    code: "CONFLICT",
    status: 409,
    message: () => "That Discord server already belongs to another organization on this Guildhall. Nothing was stored.",
  },
  IntegrationNotFound: { code: "NOT_FOUND", status: 404, message: () => "No such integration in your organization." },
  DiscordCallFailed: {
    code: "BAD_GATEWAY",
    status: 502,
    message: (e) => (e.permanent ? `Discord refused the request: ${e.message}` : `Discord did not answer; try again: ${e.message}`),
  },
  InvalidInput: { code: "BAD_REQUEST", status: 400, message: (e) => `Invalid input: ${e.message}` },
  PayloadTooLarge: { code: "PAYLOAD_TOO_LARGE", status: 413, message: (e) => `Payload too large: ${e.message}` },
  InvalidApiKey: { code: "UNAUTHORIZED", status: 401, message: (e) => `Invalid or missing ${e.header}.` },
  MethodNotAllowed: { code: "METHOD_NOT_SUPPORTED", status: 405, message: (e) => `Use ${e.allowed}.` },
  ForeignOrigin: {
    code: "FORBIDDEN",
    status: 403,
    message: (e) =>
      `Cross-origin request refused: ${e.origin} is not this server's origin. Requests authenticated by the session cookie must come from Guildhall's own pages (GUILDHALL_PUBLIC_URL).`,
  },
  UnsupportedMediaType: {
    code: "UNSUPPORTED_MEDIA_TYPE",
    status: 415,
    message: (e) => `Unsupported Content-Type ${e.contentType}: send ${e.allowed}.`,
  },
  UnknownEndpoint: { code: "NOT_FOUND", status: 404, message: (e) => `No such endpoint: ${e.method} ${e.path}.` },
  NotInOrganization: {
    code: "FORBIDDEN",
    status: 403,
    message: () => "You are not staff of the organization this request selected (x-guildhall-organization).",
  },
  InvalidApiToken: { code: "UNAUTHORIZED", status: 401, message: () => "The API token is unknown or revoked." },
  TokenScopeTooNarrow: { code: "FORBIDDEN", status: 403, message: (e) => `This API token cannot do that: it needs ${e.needs}.` },
  ApiTokenNotFound: { code: "NOT_FOUND", status: 404, message: () => "No such API token in your organization." },
  GroupNotFound: { code: "NOT_FOUND", status: 404, message: () => "No such group in your organization." },
  GroupNameTaken: { code: "CONFLICT", status: 409, message: (e) => `A group named "${e.name}" already exists.` },
  MappingNotFound: { code: "NOT_FOUND", status: 404, message: () => "No such role mapping in your organization." },
  MappingExists: { code: "CONFLICT", status: 409, message: () => "That group is already mapped to that role." },
  ReconciliationRunNotFound: { code: "NOT_FOUND", status: 404, message: () => "No such reconciliation run." },
  // A 4xx: the server is fine; the plan needs Discord (the guild's roles, the bot's member) and could not read it.
  DiscordUnavailable: {
    code: "PRECONDITION_FAILED",
    status: 412,
    message: (e) => `Discord could not be asked for the guild's roles and the bot's member: ${e.message}`,
  },
  RoleMenuNotFound: { code: "NOT_FOUND", status: 404, message: () => "No such role menu in your organization." },
  RoleNotSelfAssignable: {
    code: "BAD_REQUEST",
    status: 400,
    message: (e) => `Role ${e.roleId} cannot be offered in a role menu: ${e.message}.`,
  },
  ChannelNotInGuild: { code: "NOT_FOUND", status: 404, message: () => "No such text channel in this guild." },
  ChannelPermissionMissing: {
    code: "PRECONDITION_FAILED",
    status: 412,
    message: (e) => `The bot lacks ${e.permission} in that channel; give it the permission or pick another channel.`,
  },
  InvalidInviteLink: {
    code: "BAD_REQUEST",
    status: 400,
    message: () => "Invalid input: paste an invite link such as https://discord.gg/abc123 (or its code).",
  },
  // A 4xx like DiscordUnavailable: the server is fine, Discord refused or did not answer.
  RoleMenuDiscordFailed: {
    code: "PRECONDITION_FAILED",
    status: 412,
    message: (e) => (e.transient ? `Discord did not answer; try again: ${e.message}` : `Discord refused the request: ${e.message}`),
  },
  InvalidWebhookUrl: { code: "BAD_REQUEST", status: 400, message: (e) => `Invalid input: ${e.message}` },
  WebhookNotFound: { code: "NOT_FOUND", status: 404, message: () => "No such webhook in your organization." },
  WebhookAlreadyAdded: { code: "CONFLICT", status: 409, message: () => "This Discord webhook is already added." },
  JobPayloadInvalid: { code: "INTERNAL_SERVER_ERROR", status: 500, message: () => "Internal error.", internal: true },
  InvalidSignature: { code: "UNAUTHORIZED", status: 401, message: (e) => `Invalid request signature: ${e.reason}.` },
  InteractionsNotConfigured: {
    code: "NOT_FOUND",
    status: 404,
    message: () => "The interactions endpoint is off: the server has no DISCORD_PUBLIC_KEY.",
  },
  DatabaseError: { code: "INTERNAL_SERVER_ERROR", status: 500, message: () => "Internal error.", internal: true },
};

/** The answer for `error`: its code, status and caller-facing message, and whether it is the server's own failure. */
export const answerFor = <E extends DomainError>(
  error: E,
): { code: TRPCError["code"]; status: number; message: string; internal: boolean } => {
  const answer = ERRORS[error._tag] as ErrorAnswer<E>;
  return { code: answer.code, status: answer.status, message: answer.message(error), internal: answer.internal === true };
};
