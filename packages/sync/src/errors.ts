import { Schema } from "effect";

/** The signed-in user is not staff of any organization (or not of the one asked for). */
export class NotStaff extends Schema.TaggedError<NotStaff>()("NotStaff", {
  userId: Schema.String,
}) {}

/** The action needs the `admin` staff role. */
export class NotAdmin extends Schema.TaggedError<NotAdmin>()("NotAdmin", {
  userId: Schema.String,
}) {}

/** No guild is linked to the organization, or the guild asked for is not one of its guilds. */
export class GuildNotFound extends Schema.TaggedError<GuildNotFound>()("GuildNotFound", {
  guildId: Schema.NullOr(Schema.String),
}) {}

/** Another app user is already linked to that Discord id (`discordId`, a snowflake); a Discord account links to one user. */
export class DiscordIdTaken extends Schema.TaggedError<DiscordIdTaken>()("DiscordIdTaken", {
  discordId: Schema.String,
}) {}

/** No app user has the id `userId`. */
export class UserNotFound extends Schema.TaggedError<UserNotFound>()("UserNotFound", {
  userId: Schema.String,
}) {}

/** The user is not staff of the organization the request selected (`x-guildhall-organization`), or the token is not of it. */
export class NotInOrganization extends Schema.TaggedError<NotInOrganization>()("NotInOrganization", {
  organizationId: Schema.String,
}) {}

/** The API token presented is unknown or revoked (never carries the token). */
export class InvalidApiToken extends Schema.TaggedError<InvalidApiToken>()("InvalidApiToken", {}) {}

/** The API token's scope does not allow the procedure (`needs`: what it would take). */
export class TokenScopeTooNarrow extends Schema.TaggedError<TokenScopeTooNarrow>()("TokenScopeTooNarrow", {
  needs: Schema.String,
}) {}

/** No API token `tokenId` in the organization. */
export class ApiTokenNotFound extends Schema.TaggedError<ApiTokenNotFound>()("ApiTokenNotFound", {
  tokenId: Schema.String,
}) {}

/** The server has no Discord OAuth2 client (DISCORD_CLIENT_ID / DISCORD_CLIENT_SECRET): the bot cannot be installed from Guildhall. */
export class IntegrationsNotConfigured extends Schema.TaggedError<IntegrationsNotConfigured>()("IntegrationsNotConfigured", {}) {}

/**
 * The `state` of an install callback is no good: `unknown` (never issued, or forged), `expired`
 * (older than 10 minutes), `used` (replayed), or `other-session` (issued to another session).
 */
export class InstallStateInvalid extends Schema.TaggedError<InstallStateInvalid>()("InstallStateInvalid", {
  reason: Schema.Literals(["unknown", "expired", "used", "other-session"]),
}) {}

/** The Discord user who authorized the install is not a member of guild `guildId` with Manage Guild. */
export class InstallerNotGuildAdmin extends Schema.TaggedError<InstallerNotGuildAdmin>()("InstallerNotGuildAdmin", {
  guildId: Schema.String,
}) {}

/** Guild `guildId` already belongs to another organization. */
export class GuildLinkedElsewhere extends Schema.TaggedError<GuildLinkedElsewhere>()("GuildLinkedElsewhere", {
  guildId: Schema.String,
}) {}

/** No integration `integrationId` in the caller's organization. */
export class IntegrationNotFound extends Schema.TaggedError<IntegrationNotFound>()("IntegrationNotFound", {
  integrationId: Schema.String,
}) {}

/** A Discord call of an install or integration failed: `message` as the port describes it (no token), `permanent` when retrying cannot help. */
export class DiscordCallFailed extends Schema.TaggedError<DiscordCallFailed>()("DiscordCallFailed", {
  message: Schema.String,
  permanent: Schema.Boolean,
}) {}
