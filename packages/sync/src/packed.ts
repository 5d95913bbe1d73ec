/**
 * Unpacking member chunks on the server. A packed chunk (see pack.ts) is how the bot carries a
 * GUILD_MEMBERS_CHUNK in a fraction of the bytes, and holds the chunks it has not pushed yet
 * without keeping their objects alive. Unpacking validates every member with the same schema
 * as the plain form.
 */
import { inflateRawSync } from "node:zlib";
import { Effect, Schema } from "effect";
import { MemberSnapshot } from "./members";
import { MEMBER_TUPLE_FIELDS } from "./pack";

/** An unpacked chunk may inflate to at most this many bytes (a chunk of 1,000 members is ~300 KB). */
export const MAX_UNPACKED_BYTES = 8 * 1024 * 1024;

/** The most members one chunk may carry (Discord's GUILD_MEMBERS_CHUNK carries at most 1,000). */
export const MAX_MEMBER_CHUNK = 1_000;

/** A packed chunk that is not base64, not DEFLATE, too large, not JSON, or holds an invalid member. */
export class InvalidPackedChunk extends Schema.TaggedError<InvalidPackedChunk>()("InvalidPackedChunk", {
  message: Schema.String,
}) {}

const Members = Schema.Array(MemberSnapshot).check(Schema.isMaxLength(MAX_MEMBER_CHUNK));
const decodeMembers = Schema.decodeUnknownEffect(Members);

/**
 * Unpacks and validates a packed chunk (see pack.ts for the format). Fails with
 * InvalidPackedChunk naming what is wrong (for a member: its index and field, as the plain
 * form's errors do).
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
    const objects: Array<Record<string, unknown>> = [];
    for (let i = 0; i < value.length; i++) {
      const tuple: unknown = value[i];
      if (!Array.isArray(tuple) || tuple.length !== MEMBER_TUPLE_FIELDS.length) {
        return yield* new InvalidPackedChunk({ message: `packed: member ${i} is not a ${MEMBER_TUPLE_FIELDS.length}-field tuple` });
      }
      const member: Record<string, unknown> = {};
      for (let f = 0; f < MEMBER_TUPLE_FIELDS.length; f++) member[MEMBER_TUPLE_FIELDS[f]!] = tuple[f];
      objects.push(member);
    }
    return yield* decodeMembers(objects, { errors: "first" }).pipe(
      Effect.mapError((error) => new InvalidPackedChunk({ message: `packed: ${error.message}` })),
    );
  });
