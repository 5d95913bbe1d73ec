/**
 * The gateway payloads the bot handles, as Effect Schemas written from Discord's documentation
 * (discord-api-types has them as TypeScript types only, which leave nothing to derive from at run
 * time). The fuzz derives valid payloads from these and mixes hostile values in at any field.
 *
 * - PRESENCE_UPDATE: https://discord.com/developers/docs/events/gateway-events#presence-update
 * - GUILD_MEMBER_ADD / _UPDATE / _REMOVE: https://discord.com/developers/docs/events/gateway-events#guild-member-add
 * - GUILD_MEMBERS_CHUNK: https://discord.com/developers/docs/events/gateway-events#guild-members-chunk
 * - Guild member object: https://discord.com/developers/docs/resources/guild#guild-member-object
 */
import { Snowflake } from "@guildhall/discord/schema";
import { Schema } from "effect";

/** An ISO-8601 timestamp as Discord writes them. */
const Timestamp = Schema.String.check(
  Schema.makeFilter((value: string) => /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)), {
    message: "must be an ISO-8601 timestamp",
  }),
);

const Status = Schema.Literals(["online", "idle", "dnd", "offline", "invisible"]);

/** The user object (partial in PRESENCE_UPDATE: only `id` is guaranteed). */
const User = Schema.Struct({
  id: Snowflake,
  username: Schema.optional(Schema.String.check(Schema.isMinLength(2), Schema.isMaxLength(32))),
  global_name: Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(32)))),
  avatar: Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(34)))),
  bot: Schema.optional(Schema.Boolean),
});

const Activity = Schema.Struct({
  name: Schema.String.check(Schema.isMaxLength(128)),
  type: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 6 })),
  url: Schema.optional(Schema.NullOr(Schema.String)),
  created_at: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  state: Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(128)))),
  details: Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(128)))),
});

const ClientStatus = Schema.Struct({
  desktop: Schema.optional(Status),
  mobile: Schema.optional(Status),
  web: Schema.optional(Status),
});

/** PRESENCE_UPDATE's `d` (also the presences of GUILD_MEMBERS_CHUNK, which omit `guild_id`). */
export const PresenceUpdate = Schema.Struct({
  user: User,
  guild_id: Snowflake,
  status: Status,
  activities: Schema.Array(Activity).check(Schema.isMaxLength(4)),
  client_status: ClientStatus,
});

/** A guild member object. */
const Member = Schema.Struct({
  user: User,
  nick: Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(32)))),
  avatar: Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(34)))),
  roles: Schema.Array(Snowflake).check(Schema.isMaxLength(5)),
  joined_at: Schema.NullOr(Timestamp),
  premium_since: Schema.optional(Schema.NullOr(Timestamp)),
  deaf: Schema.Boolean,
  mute: Schema.Boolean,
  flags: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  pending: Schema.optional(Schema.Boolean),
  communication_disabled_until: Schema.optional(Schema.NullOr(Timestamp)),
});

/** GUILD_MEMBER_ADD's `d`: a member plus `guild_id`. */
export const GuildMemberAdd = Schema.Struct({ ...Member.fields, guild_id: Snowflake });

/** GUILD_MEMBER_UPDATE's `d`: `guild_id`, `roles`, `user` and `joined_at` always; the rest optional. */
export const GuildMemberUpdate = Schema.Struct({
  guild_id: Snowflake,
  roles: Member.fields.roles,
  user: User,
  nick: Member.fields.nick,
  avatar: Member.fields.avatar,
  joined_at: Member.fields.joined_at,
  premium_since: Member.fields.premium_since,
  deaf: Schema.optional(Schema.Boolean),
  mute: Schema.optional(Schema.Boolean),
  pending: Member.fields.pending,
  communication_disabled_until: Member.fields.communication_disabled_until,
  flags: Schema.optional(Member.fields.flags),
});

/** GUILD_MEMBER_REMOVE's `d`. */
export const GuildMemberRemove = Schema.Struct({ guild_id: Snowflake, user: User });

/** GUILD_MEMBERS_CHUNK's `d` (presences without `guild_id`). */
export const GuildMembersChunk = Schema.Struct({
  guild_id: Snowflake,
  members: Schema.Array(Member).check(Schema.isMaxLength(4)),
  chunk_index: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  chunk_count: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  not_found: Schema.optional(Schema.Array(Snowflake).check(Schema.isMaxLength(3))),
  presences: Schema.optional(
    Schema.Array(Schema.Struct({ ...PresenceUpdate.fields, guild_id: Schema.optional(Snowflake) })).check(Schema.isMaxLength(4)),
  ),
  nonce: Schema.optional(Schema.String.check(Schema.isMaxLength(32))),
});
