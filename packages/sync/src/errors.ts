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
