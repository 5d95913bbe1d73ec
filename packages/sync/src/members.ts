/**
 * Member shapes: what a member snapshot carries (from the bot's gateway chunks, REST pages or
 * the legacy endpoint), and how it compares with a stored row. Times are ISO-8601 strings;
 * ids are snowflake strings.
 *
 * The schemas validate strictly and clean text for Postgres (./storable), so that every value
 * that later travels inside a Postgres array literal (MemberSyncStore) is one the database
 * takes. This module imports only `effect` and the pure schema modules, so the bot and the
 * packed wire format (@guildhall/api/pack) load it without the server side
 * (`@guildhall/sync/members`).
 */
import { Schema, Struct } from "effect";
import { Snowflake } from "./model";
import { Int32, IsoInstant, pgText } from "./storable";

/**
 * One guild member as Discord describes it (https://discord.com/developers/docs/resources/guild#guild-member-object).
 * The order of the fields here is the order of a packed member tuple (@guildhall/api/pack).
 * Text is cleaned for Postgres (NUL dropped, lone surrogates replaced); times must be real
 * ISO-8601 instants.
 */
export const MemberSnapshot = Schema.Struct({
  userId: Snowflake,
  username: pgText(64, 1),
  globalName: Schema.NullOr(pgText(64)),
  nick: Schema.NullOr(pgText(64)),
  avatar: Schema.NullOr(pgText(64)),
  roleIds: Schema.Array(Snowflake).check(Schema.isMaxLength(250)),
  joinedAt: Schema.NullOr(IsoInstant),
  isBot: Schema.Boolean,
  pending: Schema.Boolean,
  premiumSince: Schema.NullOr(IsoInstant),
  communicationDisabledUntil: Schema.NullOr(IsoInstant),
});
export type MemberSnapshot = typeof MemberSnapshot.Type;

/** Every MemberSnapshot field, in the schema's order (the packed tuple order). */
export const MEMBER_SNAPSHOT_FIELDS = Object.keys(MemberSnapshot.fields) as ReadonlyArray<keyof MemberSnapshot>;

/** The fields a sync compares (every MemberSnapshot field but the key); a member whose fields all match is "unchanged". */
export const MEMBER_FIELDS = MEMBER_SNAPSHOT_FIELDS.filter((field): field is Exclude<keyof MemberSnapshot, "userId"> => field !== "userId");

/**
 * A live member event's member: the user id, and only the fields the event carried. A field
 * that is absent means "unchanged" (never null); a field present as null means "cleared".
 * GUILD_MEMBER_UPDATE documents several fields as optional
 * (https://discord.com/developers/docs/events/gateway-events#guild-member-update: `nick`,
 * `premium_since`, `pending`, `communication_disabled_until`, ...), and faulty peers omit
 * others (`joined_at`, `avatar`); a GUILD_MEMBER_ADD carries them all (a full MemberSnapshot is
 * a MemberUpdate with every field present). Each field, when present, is checked and cleaned
 * exactly as in {@link MemberSnapshot}.
 */
export const MemberUpdate = MemberSnapshot.mapFields(Struct.mapOmit(["userId"], Schema.optionalKey));
export type MemberUpdate = typeof MemberUpdate.Type;

/** The value a field of a member Guildhall has never seen takes when the event that introduces them leaves it out. */
const DEFAULTS: { readonly [K in (typeof MEMBER_FIELDS)[number]]: (userId: string) => MemberSnapshot[K] } = {
  username: (userId) => userId,
  globalName: () => null,
  nick: () => null,
  avatar: () => null,
  roleIds: () => [],
  joinedAt: () => null,
  isBot: () => false,
  pending: () => false,
  premiumSince: () => null,
  communicationDisabledUntil: () => null,
};

/** The fields of `update` that are present (its user id excluded), in MEMBER_FIELDS order. */
export const presentFields = (update: MemberUpdate): ReadonlyArray<(typeof MEMBER_FIELDS)[number]> =>
  MEMBER_FIELDS.filter((field) => Object.hasOwn(update, field) && update[field] !== undefined);

/**
 * `update` applied to `stored`: the fields `update` carries replace the stored ones (a present
 * null clears), every other field keeps its stored value. With no stored member, absent fields
 * take their defaults (no nick, no roles, not a bot...; the username falls back to the user id).
 */
export const mergeMember = (stored: MemberSnapshot | null, update: MemberUpdate): MemberSnapshot => {
  const merged: Record<string, unknown> = { userId: update.userId };
  for (const field of MEMBER_FIELDS) {
    const value = update[field];
    merged[field] = value !== undefined ? value : stored ? stored[field] : DEFAULTS[field](update.userId);
  }
  return merged as MemberSnapshot;
};

/**
 * The member's role ids as Guildhall stores them: sorted, each once, without `guildId` (the
 * @everyone role shares the guild's id; Discord never lists it in a member's roles, see
 * https://discord.com/developers/docs/topics/permissions#role-object, so a caller that does is
 * corrected here). Returns `roleIds` itself when it is already so (the common case allocates nothing).
 */
export const storedRoleIds = (roleIds: ReadonlyArray<string>, guildId: string | null): ReadonlyArray<string> => {
  for (let i = 0; i < roleIds.length; i++) {
    if (roleIds[i] === guildId || (i > 0 && roleIds[i - 1]! >= roleIds[i]!)) {
      return [...new Set(roleIds)].filter((id) => id !== guildId).sort();
    }
  }
  return roleIds;
};

/** Normalizes a snapshot for comparison: role ids as stored (see {@link storedRoleIds}), times in one ISO form. */
export const normalizeMember = (member: MemberSnapshot, guildId: string | null = null): MemberSnapshot => ({
  ...member,
  roleIds: storedRoleIds(member.roleIds, guildId),
  joinedAt: member.joinedAt && new Date(member.joinedAt).toISOString(),
  premiumSince: member.premiumSince && new Date(member.premiumSince).toISOString(),
  communicationDisabledUntil: member.communicationDisabledUntil && new Date(member.communicationDisabledUntil).toISOString(),
});

/**
 * A guild role as Discord describes it (https://discord.com/developers/docs/topics/permissions#role-object):
 * `color` and `position` within Postgres' integer, the name cleaned for Postgres.
 */
export const RoleSnapshot = Schema.Struct({
  id: Snowflake,
  name: pgText(100),
  color: Int32,
  position: Int32,
  managed: Schema.Boolean,
  permissions: Schema.String.check(Schema.isPattern(/^[0-9]{1,40}$/, { message: "must be a permission bitfield in decimal" })),
});
export type RoleSnapshot = typeof RoleSnapshot.Type;
