/**
 * @guildhall/discord: the Discord port, the one way Guildhall calls Discord's REST API. An
 * Effect service over @discordjs/rest (`DiscordRest`, with `DiscordRest.layer(config)`), a
 * Promise facade for code that is not Effect (`DiscordRestClient`), and the two failure kinds
 * (`DiscordPermanentError`, `DiscordTransientError`; `isPermanent`, `isTransient`).
 */

export { DiscordRestClient } from "./client";
export {
  type AuditLogOptions,
  DEFAULT_MAX_RATE_LIMIT_WAIT_MS,
  DEFAULT_TIMEOUT_MS,
  DiscordRest,
  type DiscordRestConfig,
  MEMBER_PAGE_LIMIT,
  type OAuthClient,
  type OAuthTokenResult,
} from "./DiscordRest";
export {
  type DiscordError,
  DiscordPermanentError,
  DiscordTransientError,
  describeDiscordError,
  isDiscordError,
  isPermanent,
  isTransient,
  PERMANENT_CODES,
} from "./errors";
export { AUDIT_LOG_REASON_MAX } from "./request";
