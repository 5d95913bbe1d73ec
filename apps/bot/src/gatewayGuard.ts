/**
 * The gateway guard: a dispatch of an event the bot handles (PRESENCE_UPDATE, GUILD_MEMBER_ADD /
 * _UPDATE / _REMOVE, GUILD_MEMBERS_CHUNK) whose data does not have the types Discord documents is
 * dropped, with a warning naming the field, before anything reads it.
 *
 * Why: discord.js builds its caches from these payloads and throws on some wrong types (a
 * `null` data, a negative `flags`, assets that are not an object); such a throw escapes as an
 * unhandled rejection from @discordjs/ws's message handler, which ends the process. Discord
 * does not send these, but a faulty peer or proxy can, and one payload must not stop the bot.
 *
 * How: discord.js emits `raw` before its own handler runs, with the same packet object; a packet
 * refused here gets a `t` nobody handles (`GUILDHALL_DROPPED_<event>`), so neither the bot's
 * handlers nor discord.js's see it. The checks are on types only, and only of the fields present
 * (absent fields are the handlers' business: a GUILD_MEMBER_UPDATE that leaves `nick` out keeps
 * it), except the ids without which an event means nothing: `guild_id` and `user.id`.
 * https://discord.com/developers/docs/events/gateway-events#presence-update,
 * #guild-member-add, #guild-member-update, #guild-member-remove, #guild-members-chunk.
 *
 * The members of a GUILD_MEMBERS_CHUNK are checked after the bot's own handler ran
 * ({@link guardChunkMembers}): the member sync runner takes its chunks' members first (and
 * names a malformed one in the run's reason); only what is left reaches discord.js. Checks are
 * written out by hand, not as Effect Schemas, because a 1,000,000-member sync passes every
 * member through here: these cost ~0.06 µs a member, a Schema decode ~2 µs.
 */
import { isSnowflake } from "@guildhall/discord/snowflake";
import type { BotLogger } from "./log";

/** What a failed check returns: the dotted path of the field and what is wrong with it. */
type Problem = string | null;
type Check = (value: unknown, path: string) => Problem;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

const snowflake: Check = (value, path) => (isSnowflake(value) ? null : `${path}: must be a snowflake`);
const string: Check = (value, path) => (typeof value === "string" ? null : `${path}: must be a string`);
const boolean: Check = (value, path) => (typeof value === "boolean" ? null : `${path}: must be a boolean`);
const uint: Check = (value, path) =>
  typeof value === "number" && Number.isInteger(value) && value >= 0 ? null : `${path}: must be a non-negative integer`;
const object: Check = (value, path) => (isObject(value) ? null : `${path}: must be an object`);
const nullable =
  (check: Check): Check =>
  (value, path) =>
    value === null ? null : check(value, path);
const arrayOf =
  (check: Check): Check =>
  (value, path) => {
    if (!Array.isArray(value)) return `${path}: must be an array`;
    for (let i = 0; i < value.length; i++) {
      const problem = check(value[i], `${path}.${i}`);
      if (problem) return problem;
    }
    return null;
  };

/** An object whose `required` fields are present and pass, and whose `optional` fields pass when present. */
const shape =
  (required: Readonly<Record<string, Check>>, optional: Readonly<Record<string, Check>> = {}): Check =>
  (value, path) => {
    if (!isObject(value)) return `${path}: must be an object`;
    for (const key in required) {
      const problem = required[key]!(value[key], `${path}.${key}`);
      if (problem) return problem;
    }
    for (const key in optional) {
      if (value[key] === undefined) continue;
      const problem = optional[key]!(value[key], `${path}.${key}`);
      if (problem) return problem;
    }
    return null;
  };

/** https://discord.com/developers/docs/resources/user#user-object (partial: only `id` is sure). */
const user = shape(
  { id: snowflake },
  {
    username: string,
    global_name: nullable(string),
    discriminator: string,
    avatar: nullable(string),
    banner: nullable(string),
    accent_color: nullable(uint),
    bot: boolean,
    system: boolean,
    public_flags: uint,
    avatar_decoration_data: nullable(object),
    collectibles: nullable(object),
    primary_guild: nullable(object),
  },
);

/** https://discord.com/developers/docs/resources/guild#guild-member-object */
const memberFields = {
  nick: nullable(string),
  avatar: nullable(string),
  banner: nullable(string),
  roles: arrayOf(string),
  joined_at: nullable(string),
  premium_since: nullable(string),
  deaf: boolean,
  mute: boolean,
  flags: uint,
  pending: boolean,
  permissions: (value: unknown, path: string) =>
    typeof value === "string" && /^[0-9]{1,40}$/.test(value) ? null : `${path}: must be a permission bitfield in decimal`,
  communication_disabled_until: nullable(string),
  avatar_decoration_data: nullable(object),
  collectibles: nullable(object),
} as const;

/** A member of a GUILD_MEMBERS_CHUNK: the member object with its `user`. */
const member = shape({ user }, memberFields);

/** https://discord.com/developers/docs/events/gateway-events#activity-object */
const activity = shape(
  {},
  {
    name: string,
    type: uint,
    url: nullable(string),
    created_at: (value, path) => (typeof value === "number" && Number.isFinite(value) ? null : `${path}: must be a number`),
    timestamps: nullable(object),
    application_id: snowflake,
    details: nullable(string),
    state: nullable(string),
    emoji: nullable(object),
    party: nullable(object),
    assets: nullable(object),
    secrets: nullable(object),
    instance: boolean,
    flags: uint,
    buttons: arrayOf((value, path) => (typeof value === "string" || isObject(value) ? null : `${path}: must be a string or an object`)),
  },
);

const status: Check = (value, path) => (typeof value === "string" ? null : `${path}: must be a status string`);
const clientStatus = shape({}, { desktop: status, mobile: status, web: status });
const presenceFields = { status, activities: arrayOf(activity), client_status: clientStatus } as const;

/** The checks of each guarded event's data (`d`), members of chunks aside (see {@link guardChunkMembers}). */
const EVENTS: Readonly<Record<string, Check>> = {
  PRESENCE_UPDATE: shape({ user, guild_id: snowflake }, presenceFields),
  GUILD_MEMBER_ADD: shape({ guild_id: snowflake, user }, memberFields),
  GUILD_MEMBER_UPDATE: shape({ guild_id: snowflake, user }, memberFields),
  GUILD_MEMBER_REMOVE: shape({ guild_id: snowflake, user }),
  GUILD_MEMBERS_CHUNK: shape(
    { guild_id: snowflake, members: arrayOf(object), chunk_index: uint, chunk_count: uint },
    {
      nonce: string,
      not_found: arrayOf((value, path) => (typeof value === "string" || typeof value === "number" ? null : `${path}: must be an id`)),
      presences: arrayOf(shape({ user }, { ...presenceFields, guild_id: snowflake })),
    },
  ),
};

/** What is wrong with a dispatch's data, or null when it is fine (or not an event the guard knows). */
export const malformedDispatch = (t: string | undefined, d: unknown): string | null => {
  const check = t === undefined ? undefined : EVENTS[t];
  return check ? check(d, "d") : null;
};

/** What is wrong with the members of a GUILD_MEMBERS_CHUNK's data, or null. */
export const malformedChunkMembers = (d: unknown): string | null =>
  isObject(d) && Array.isArray(d.members) ? arrayOf(member)(d.members, "d.members") : null;

interface Packet {
  t?: string;
  d?: unknown;
}

const drop = (packet: Packet, problem: string, log: BotLogger) => {
  log.warn(`dropped a malformed ${packet.t} from the gateway: ${problem.slice(0, 300)}`);
  packet.t = `GUILDHALL_DROPPED_${packet.t}`;
};

/**
 * The `raw` listener that runs before the bot's own (add it with `prependListener`): drops a
 * guarded event whose data is malformed (see the module comment). Never throws.
 */
export const guardDispatch =
  (log: BotLogger) =>
  (packet: Packet): void => {
    try {
      const problem = malformedDispatch(packet?.t, packet?.d);
      if (problem) drop(packet, problem, log);
    } catch (error) {
      log.warn(`the gateway guard failed on a ${packet?.t}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

/**
 * The `raw` listener that runs after the bot's own (add it with `on` after it): drops a
 * GUILD_MEMBERS_CHUNK whose remaining members are malformed, before discord.js builds
 * GuildMembers from them (a member sync's chunks are empty by then). Never throws.
 */
export const guardChunkMembers =
  (log: BotLogger) =>
  (packet: Packet): void => {
    if (packet?.t !== "GUILD_MEMBERS_CHUNK") return;
    try {
      const problem = malformedChunkMembers(packet.d);
      if (problem) drop(packet, problem, log);
    } catch (error) {
      log.warn(`the gateway guard failed on a ${packet.t}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
