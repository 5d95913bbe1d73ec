/**
 * Member shapes: what a member snapshot carries (from the bot's gateway chunks, REST pages or
 * the legacy endpoint), and how it compares with a stored row. Times are ISO-8601 strings;
 * ids are snowflake strings.
 */
import { Schema } from "effect";
import { Snowflake } from "./model";
import { MEMBER_TUPLE_FIELDS } from "./pack";

const Iso = Schema.String.check(
  Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, {
    message: "must be an ISO-8601 timestamp",
  }),
);

/** One guild member as Discord describes it (https://discord.com/developers/docs/resources/guild#guild-member-object). */
export const MemberSnapshot = Schema.Struct({
  userId: Snowflake,
  username: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(64)),
  globalName: Schema.NullOr(Schema.String.check(Schema.isMaxLength(64))),
  nick: Schema.NullOr(Schema.String.check(Schema.isMaxLength(64))),
  avatar: Schema.NullOr(Schema.String.check(Schema.isMaxLength(64))),
  roleIds: Schema.Array(Snowflake).check(Schema.isMaxLength(250)),
  joinedAt: Schema.NullOr(Iso),
  isBot: Schema.Boolean,
  pending: Schema.Boolean,
  premiumSince: Schema.NullOr(Iso),
  communicationDisabledUntil: Schema.NullOr(Iso),
});
export type MemberSnapshot = typeof MemberSnapshot.Type;

/** The fields a sync compares (every MemberSnapshot field but the key); a member whose fields all match is "unchanged". */
export const MEMBER_FIELDS = MEMBER_TUPLE_FIELDS.filter(
  (field): field is Exclude<(typeof MEMBER_TUPLE_FIELDS)[number], "userId"> => field !== "userId",
) satisfies ReadonlyArray<keyof MemberSnapshot>;

/** Normalizes a snapshot for comparison: role ids sorted, times in one ISO form. */
export const normalizeMember = (member: MemberSnapshot): MemberSnapshot => ({
  ...member,
  roleIds: [...member.roleIds].sort(),
  joinedAt: member.joinedAt && new Date(member.joinedAt).toISOString(),
  premiumSince: member.premiumSince && new Date(member.premiumSince).toISOString(),
  communicationDisabledUntil: member.communicationDisabledUntil && new Date(member.communicationDisabledUntil).toISOString(),
});

/** A guild role as Discord describes it (https://discord.com/developers/docs/topics/permissions#role-object). */
export const RoleSnapshot = Schema.Struct({
  id: Snowflake,
  name: Schema.String.check(Schema.isMaxLength(100)),
  color: Schema.Int,
  position: Schema.Int,
  managed: Schema.Boolean,
  permissions: Schema.String.check(Schema.isPattern(/^[0-9]{1,40}$/, { message: "must be a permission bitfield in decimal" })),
});
export type RoleSnapshot = typeof RoleSnapshot.Type;
