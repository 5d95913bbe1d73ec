/**
 * The packed member chunk: how the bot carries a GUILD_MEMBERS_CHUNK to `bot.syncChunk` in a
 * fraction of the bytes, and holds the chunks it has not pushed yet without keeping their
 * objects alive. Both ends live here, beside the format: the bot packs
 * (`import { packMembers } from "@guildhall/api/pack"`), the server unpacks and validates.
 * This module imports only node:zlib, effect and the pure schema modules
 * (@guildhall/sync/members, /storable, @guildhall/discord/snowflake), so the bot loads it
 * without the server side.
 *
 * Format: raw DEFLATE (RFC 1951) of the UTF-8 JSON array of member tuples, each the fields of
 * a MemberSnapshot in {@link MEMBER_TUPLE_FIELDS} order (the schema's own field order;
 * booleans as true/false), sent as base64 in `bot.syncChunk`'s `packed` field. Tuples instead
 * of objects make the JSON ~45% smaller before compression, so packing, sending, holding and
 * unpacking all cost less.
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { isSnowflake } from "@guildhall/discord/snowflake";
import { MEMBER_SNAPSHOT_FIELDS, MemberSnapshot } from "@guildhall/sync/members";
import { cleanPgText, isIsoInstant } from "@guildhall/sync/storable";
import { Effect, Schema } from "effect";
import { validateInput } from "./request";

/** The order of a member tuple's fields: the MemberSnapshot schema's fields, in its order. */
export const MEMBER_TUPLE_FIELDS = MEMBER_SNAPSHOT_FIELDS;

/** A member as packMembers takes it: the MemberSnapshot fields. */
export type PackableMember = { readonly [K in keyof MemberSnapshot]: unknown };

/** The most members one chunk may carry (Discord's GUILD_MEMBERS_CHUNK carries at most 1,000). */
export const MAX_MEMBER_CHUNK = 1_000;

/** An unpacked chunk may inflate to at most this many bytes (a chunk of 1,000 members is ~300 KB). */
export const MAX_UNPACKED_BYTES = 8 * 1024 * 1024;

/**
 * Packs `members` into raw DEFLATE (level 1) of their tuples' JSON: 1,000 members in a few ms,
 * ~70 bytes a member. Send the result as `buffer.toString("base64")`.
 *
 * Compression runs on the calling thread, on purpose. On the thread pool, every chunk that
 * arrived while the pool was busy held its zlib state (~256 KB) and its JSON until a thread
 * was free: during a 1M-member sync the bot's off-heap memory peaked at ~95 MB and its RSS
 * above 250 MB. Packed here, one chunk at a time, the bot reads the next gateway frame only
 * after packing the last (TCP holds the rest), and its RSS stays ~225 MB (`npm run bench -- sync`).
 * The result is a promise so that callers do not depend on where the work runs.
 */
export const packMembers = async (members: ReadonlyArray<PackableMember>): Promise<Buffer> => {
  const width = MEMBER_TUPLE_FIELDS.length;
  const tuples = members.map((member) => {
    const tuple = new Array<unknown>(width);
    for (let f = 0; f < width; f++) tuple[f] = member[MEMBER_TUPLE_FIELDS[f]!];
    return tuple;
  });
  return deflateRawSync(Buffer.from(JSON.stringify(tuples)), { level: 1 });
};

/** A packed chunk that is not base64, not DEFLATE, too large, not JSON, or holds an invalid member. */
export class InvalidPackedChunk extends Schema.TaggedError<InvalidPackedChunk>()("InvalidPackedChunk", {
  message: Schema.String,
}) {}

const Members = Schema.Array(MemberSnapshot).check(Schema.isMaxLength(MAX_MEMBER_CHUNK));

/** Text the MemberSnapshot schema keeps exactly as given: a string of `min` to `max` code units that needs no cleaning. */
const isKeptText = (value: unknown, min: number, max: number): value is string =>
  typeof value === "string" && value.length >= min && value.length <= max && cleanPgText(value) === value;
const isKeptTextOrNull = (value: unknown, max: number) => value === null || isKeptText(value, 0, max);
const isInstantOrNull = (value: unknown) => value === null || (typeof value === "string" && isIsoInstant(value));
const isRoleIds = (value: unknown): value is ReadonlyArray<string> => {
  if (!Array.isArray(value) || value.length > 250) return false;
  for (const id of value) if (!isSnowflake(id)) return false;
  return true;
};

/**
 * The common case, without the schema machinery: the member of `tuple` when every field is
 * one that MemberSnapshot accepts and returns unchanged (clean text within its lengths,
 * snowflakes, real instants, booleans), else null. Null means only "not sure": the caller
 * then decodes through MemberSnapshot, which stays the one definition and names what is
 * wrong. It must never accept what the schema would refuse or change; a property test
 * (test/pack.test.ts) holds it to that. Decoding through the schema costs ~10 us a member,
 * ~10 s of server CPU on a million-member sync; this check, ~1 us.
 */
const keptMember = (tuple: ReadonlyArray<unknown>): MemberSnapshot | null => {
  const [userId, username, globalName, nick, avatar, roleIds, joinedAt, isBot, pending, premiumSince, communicationDisabledUntil] = tuple;
  if (
    !isSnowflake(userId) ||
    !isKeptText(username, 1, 64) ||
    !isKeptTextOrNull(globalName, 64) ||
    !isKeptTextOrNull(nick, 64) ||
    !isKeptTextOrNull(avatar, 64) ||
    !isRoleIds(roleIds) ||
    !isInstantOrNull(joinedAt) ||
    typeof isBot !== "boolean" ||
    typeof pending !== "boolean" ||
    !isInstantOrNull(premiumSince) ||
    !isInstantOrNull(communicationDisabledUntil)
  ) {
    return null;
  }
  return {
    userId,
    username,
    globalName: globalName as string | null,
    nick: nick as string | null,
    avatar: avatar as string | null,
    roleIds,
    joinedAt: joinedAt as string | null,
    isBot,
    pending,
    premiumSince: premiumSince as string | null,
    communicationDisabledUntil: communicationDisabledUntil as string | null,
  };
};

/** The field order {@link keptMember} destructures; checked against the schema's at load. */
const KEPT_ORDER = [
  "userId",
  "username",
  "globalName",
  "nick",
  "avatar",
  "roleIds",
  "joinedAt",
  "isBot",
  "pending",
  "premiumSince",
  "communicationDisabledUntil",
] as const;
if (KEPT_ORDER.join() !== MEMBER_TUPLE_FIELDS.join()) {
  throw new Error(`pack.ts: keptMember reads ${KEPT_ORDER.join()}, but MemberSnapshot's fields are ${MEMBER_TUPLE_FIELDS.join()}`);
}

/**
 * The members of `tuples` (checked to be arrays of the tuple's width) when every one is
 * {@link keptMember}, else null.
 */
export const keptMembers = (tuples: ReadonlyArray<ReadonlyArray<unknown>>): Array<MemberSnapshot> | null => {
  const members = new Array<MemberSnapshot>(tuples.length);
  for (let i = 0; i < tuples.length; i++) {
    const member = keptMember(tuples[i]!);
    if (member === null) return null;
    members[i] = member;
  }
  return members;
};

/**
 * Unpacks and validates a packed chunk (see the module comment for the format) into at most
 * MAX_MEMBER_CHUNK members, cleaned and checked by the MemberSnapshot schema. Fails with
 * InvalidPackedChunk naming what is wrong (for a member: its index and field).
 */
export const unpackMembers = (packed: string): Effect.Effect<ReadonlyArray<MemberSnapshot>, InvalidPackedChunk> =>
  Effect.gen(function* () {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(packed)) {
      return yield* new InvalidPackedChunk({ message: "packed: not base64" });
    }
    const json = yield* Effect.try({
      try: () => inflateRawSync(Buffer.from(packed, "base64"), { maxOutputLength: MAX_UNPACKED_BYTES }).toString("utf8"),
      catch: (error) =>
        new InvalidPackedChunk({
          message: `packed: not raw DEFLATE, or larger than ${MAX_UNPACKED_BYTES} bytes unpacked (${error instanceof Error ? error.message : String(error)})`,
        }),
    });
    const value = yield* Effect.try({
      try: (): unknown => JSON.parse(json),
      catch: (error) => new InvalidPackedChunk({ message: `packed: not JSON (${error instanceof Error ? error.message : String(error)})` }),
    });
    if (!Array.isArray(value)) return yield* new InvalidPackedChunk({ message: "packed: not an array of member tuples" });
    const width = MEMBER_TUPLE_FIELDS.length;
    for (let i = 0; i < value.length; i++) {
      const tuple: unknown = value[i];
      if (!Array.isArray(tuple) || tuple.length !== width) {
        return yield* new InvalidPackedChunk({ message: `packed: member ${i} is not a ${width}-field tuple` });
      }
    }
    const tuples = value as ReadonlyArray<ReadonlyArray<unknown>>;
    if (tuples.length <= MAX_MEMBER_CHUNK) {
      const kept = keptMembers(tuples);
      if (kept !== null) return kept;
    }
    const objects = tuples.map((tuple) => {
      const member: Record<string, unknown> = {};
      for (let f = 0; f < width; f++) member[MEMBER_TUPLE_FIELDS[f]!] = tuple[f];
      return member;
    });
    return yield* validateInput(Members, objects, "members").pipe(
      Effect.mapError((error) => new InvalidPackedChunk({ message: `packed: ${error.message}` })),
    );
  });
