/**
 * Packing member chunks, for the bot: this module imports only node:zlib, so the bot loads it
 * without the rest of @guildhall/sync (`import { packMembers } from "@guildhall/sync/pack"`).
 *
 * Format: raw DEFLATE (RFC 1951) of the UTF-8 JSON array of member tuples, each the fields of
 * a MemberSnapshot in MEMBER_TUPLE_FIELDS order (booleans as true/false), sent as base64 in
 * `bot.syncChunk`'s `packed` field; the server unpacks and validates it (packed.ts). Tuples
 * instead of objects make the JSON ~45% smaller before compression, so packing, sending,
 * holding and unpacking all cost less.
 */

import { promisify } from "node:util";
import { deflateRaw } from "node:zlib";

const deflate = promisify(deflateRaw);

/** The order of a member tuple's fields (the MemberSnapshot fields). */
export const MEMBER_TUPLE_FIELDS = [
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

/** A member as packMembers takes it: the MemberSnapshot fields. */
export type PackableMember = { readonly [K in (typeof MEMBER_TUPLE_FIELDS)[number]]: unknown };

/**
 * Packs `members` into raw DEFLATE of their tuples' JSON. Compression runs on libuv's thread
 * pool, off the event loop (level 1: 1,000 members in a few ms, ~70 bytes a member).
 * Send the result as `buffer.toString("base64")`.
 */
export const packMembers = async (members: ReadonlyArray<PackableMember>): Promise<Buffer> =>
  deflate(
    Buffer.from(
      JSON.stringify(
        members.map((m) => [
          m.userId,
          m.username,
          m.globalName,
          m.nick,
          m.avatar,
          m.roleIds,
          m.joinedAt,
          m.isBot,
          m.pending,
          m.premiumSince,
          m.communicationDisabledUntil,
        ]),
      ),
    ),
    { level: 1 },
  );
