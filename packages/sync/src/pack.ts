/**
 * Packing member chunks, for the bot: this module imports only node:zlib, so the bot loads it
 * without the rest of @guildhall/sync (`import { packMembers } from "@guildhall/sync/pack"`).
 *
 * Format: raw DEFLATE (RFC 1951) of the UTF-8 JSON array of MemberSnapshot objects, sent as
 * base64 in `bot.syncChunk`'s `packed` field; the server unpacks and validates it (packed.ts).
 */
import { deflateRaw } from "node:zlib";
import { promisify } from "node:util";

const deflate = promisify(deflateRaw);

/**
 * Packs `members` (MemberSnapshot objects) into raw DEFLATE of their JSON. Runs on libuv's
 * thread pool, off the event loop; level 1 makes 1,000 members (~300 KB of JSON) several
 * times smaller in a few ms. Send the result as `buffer.toString("base64")`.
 */
export const packMembers = async (members: ReadonlyArray<unknown>): Promise<Buffer> =>
  deflate(Buffer.from(JSON.stringify(members)), { level: 1 });
