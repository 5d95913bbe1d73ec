/**
 * The deterministic member generator. A seeded guild stores no members: member `index` is
 * computed from (seed, index) whenever it is needed, and user ids ascend with the index so
 * ordering and `after` paging are arithmetic.
 */
import type { GatewayActivity, GatewayPresenceClientStatus, PresenceUpdateReceiveStatus } from "discord-api-types/v10";
import { ActivityType, PresenceUpdateStatus } from "discord-api-types/v10";
import { hash3, mix32, Rng, seedHash } from "./random";
import { DISCORD_EPOCH_MS, snowflakeAt, snowflakeTime } from "./snowflake";
import type { MemberRecord } from "./types";
import {
  ADJECTIVES, CUSTOM_STATUSES, FIRST_NAMES, GAMES, GUILD_ADJECTIVES, GUILD_NOUNS, LAST_NAMES, NOUNS, ROLE_NAMES,
} from "./words";

const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;
/** Gap between two generated users' creation times: 1,000,000 members span about 2.9 years. */
const USER_SPACING_MS = 90_000;

/** Everything the generator needs to know about a seeded guild. */
export interface GuildSpec {
  readonly seed: number;
  readonly guildId: string;
  /** Number of generated members (member_count minus the bot). */
  readonly generatedCount: number;
  /** Generated members 0..staffCount-1 are staff. */
  readonly staffCount: number;
  readonly onlineRatio: number;
  /** Anchor time, ms since the Unix epoch. */
  readonly now: number;
  /** Snowflakes of the 7 ordinary seeded roles, in ROLE_NAMES order. */
  readonly memberRoleIds: ReadonlyArray<string>;
  readonly staffRoleId: string;
  /** The "Admin" role (MANAGE_GUILD). */
  readonly adminRoleId: string;
  /** Generated indices holding the Admin role: the first `admins` members that are not bots, ascending. */
  readonly adminIndices: ReadonlyArray<number>;
  /** seedHash(seed), cached: every per-member hash starts from it. */
  readonly seedHash: number;
  /** Creation time of generated user 0, ms since the Unix epoch; user `i` is USER_SPACING_MS * i later. */
  readonly userEpochMs: number;
}

/** A presence in Discord's shape (without user / guild_id). */
export interface PresenceRecord {
  status: PresenceUpdateReceiveStatus;
  activities: GatewayActivity[];
  client_status: GatewayPresenceClientStatus;
}

/** The presence of someone offline. */
export const OFFLINE: PresenceRecord = Object.freeze({
  status: PresenceUpdateStatus.Offline,
  activities: [],
  client_status: {},
}) as PresenceRecord;

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
const HEX_BYTES = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
/** "YYYY-MM-DDT" by day number since the Unix epoch (bounded; cleared when large). */
const dayPrefixes = new Map<number, string>();
/** Years 1970..9999 have the plain ISO form; others fall back to Date. */
const FAST_TIMESTAMP_LIMIT_MS = 253_402_300_800_000;

/**
 * Discord's timestamp format: ISO 8601 with microseconds and an explicit +00:00 offset, e.g.
 * "2024-05-01T12:00:00.000000+00:00". Same result as `new Date(ms).toISOString()` with "Z" replaced,
 * computed from a per-day cache: it runs for every generated member.
 */
export function discordTimestamp(unixMs: number): string {
  if (!(unixMs >= 0 && unixMs < FAST_TIMESTAMP_LIMIT_MS)) return new Date(unixMs).toISOString().replace("Z", "000+00:00");
  const ms = Math.trunc(unixMs);
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size >= 50_000) dayPrefixes.clear();
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  return `${prefix}${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[sec]}.${THREE_DIGITS[rest - sec * 1000]}000+00:00`;
}

/** Midnight UTC of the day containing `unixMs`. */
export function startOfUtcDay(unixMs: number): number {
  return Math.floor(unixMs / DAY_MS) * DAY_MS;
}

/** The default guild snowflake for a seed. */
export function guildIdForSeed(seed: number): string {
  const h = seedHash(seed);
  return snowflakeAt(Date.UTC(2016, 0, 1) + (h % 2_000_000) * 60_000, h & 0xfff).toString();
}

/** The default guild name for a seed, e.g. "Cozy Tavern". */
export function guildNameForSeed(seed: number): string {
  const rng = new Rng(hash3(seed, 0, 99));
  return `${rng.pick(GUILD_ADJECTIVES)} ${rng.pick(GUILD_NOUNS)}`;
}

/** Snowflake `k` of the objects (roles, channels) created with the guild. */
export function guildObjectId(guildId: string, k: number): string {
  const created = snowflakeTime(BigInt(guildId));
  return snowflakeAt(created + (k + 1) * 60_000, 0x20000 | k).toString();
}

/** guildObjectId slot of the Admin role (0..6 ordinary roles, 7 Staff, 8 the bot's role, 10..14 channels). */
const ADMIN_ROLE_SLOT = 20;

function userEpoch(seed: number): number {
  return Date.UTC(2015, 5, 1) + (seedHash(seed) % 180) * DAY_MS;
}

/** hash3 with the seed already hashed (see random.ts). */
function hashIndex(seedHashValue: number, index: number, salt: number): number {
  return mix32(mix32(seedHashValue ^ index) ^ Math.imul(salt, 0x85ebca6b));
}

/**
 * The decimal string of the snowflake snowflakeAt(unixMs, low), computed with doubles only
 * (exact: every intermediate stays below 2^53). Falls back to BigInt outside 2015..2154.
 */
export function snowflakeString(unixMs: number, low: number): string {
  const hi = Math.floor(unixMs) - DISCORD_EPOCH_MS;
  if (hi < 0 || hi >= 2 ** 42) return snowflakeAt(unixMs, low).toString();
  const q = Math.floor(hi / 1e6);
  const b = (hi - q * 1e6) * 4_194_304 + (low & 0x3f_ffff);
  const b1 = Math.floor(b / 1e6);
  const b0 = b - b1 * 1e6;
  const head = q * 4_194_304 + b1;
  if (head === 0) return String(b0);
  const k = Math.floor(b0 / 1000);
  return `${head}${THREE_DIGITS[k]}${THREE_DIGITS[b0 - k * 1000]}`;
}

/** The user id of generated member `index`, strictly increasing with `index`. */
export function userIdAt(spec: GuildSpec, index: number): bigint {
  return snowflakeAt(spec.userEpochMs + index * USER_SPACING_MS, hashIndex(spec.seedHash, index, 3));
}

/** {@link userIdAt} as a decimal string, without BigInt. */
export function userIdStringAt(spec: GuildSpec, index: number): string {
  return snowflakeString(spec.userEpochMs + index * USER_SPACING_MS, hashIndex(spec.seedHash, index, 3));
}

/** The index of a generated member's user id, or -1 if `id` is not one. */
export function indexOfUserId(spec: GuildSpec, id: bigint): number {
  const offset = snowflakeTime(id) - spec.userEpochMs;
  if (offset < 0 || offset % USER_SPACING_MS !== 0) return -1;
  const index = offset / USER_SPACING_MS;
  if (index >= spec.generatedCount || userIdAt(spec, index) !== id) return -1;
  return index;
}

/** The first generated index whose user id is greater than `after` (generatedCount if none). */
export function firstIndexAfter(spec: GuildSpec, after: bigint): number {
  const offset = snowflakeTime(after) - spec.userEpochMs;
  if (offset < 0) return 0;
  const index = Math.floor(offset / USER_SPACING_MS);
  if (index >= spec.generatedCount) return spec.generatedCount;
  return userIdAt(spec, index) <= after ? index + 1 : index;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

const FIRST_CAP = FIRST_NAMES.map(capitalize);
const LAST_CAP = LAST_NAMES.map(capitalize);
const LAST_INITIAL = LAST_NAMES.map((w) => w.charAt(0).toUpperCase());
const ADJ_CAP = ADJECTIVES.map(capitalize);
const NOUN_CAP = NOUNS.map(capitalize);
const ROLE_SLOTS = ROLE_NAMES.length;

// mulberry32 (same stream as random.ts Rng) on a module-level state: member generation is
// synchronous and runs a million times for a big guild, so no Rng object is allocated per member.
let rngState = 0;
function nextU32(): number {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
function nextFloat(): number {
  return nextU32() / 0x1_0000_0000;
}
function nextInt(n: number): number {
  return Math.floor(nextFloat() * n);
}
function hex8(): string {
  const v = nextU32();
  return `${HEX_BYTES[v >>> 24]}${HEX_BYTES[(v >>> 16) & 0xff]}${HEX_BYTES[(v >>> 8) & 0xff]}${HEX_BYTES[v & 0xff]}`;
}

/** True when generated member `index` is a bot (1% of non-staff members), from the first draw of its stream. */
export function isGeneratedBot(spec: GuildSpec, index: number): boolean {
  if (index < spec.staffCount) return false;
  rngState = hashIndex(spec.seedHash, index, 1) >>> 0;
  return nextFloat() < 0.01;
}

/**
 * The fields of one generated member, written into a reused object (see {@link generateInto}).
 * `roleKey` encodes the roles: bits 0..6 the ordinary roles, bit 7 Staff, bit 8 Admin.
 */
interface GeneratedFields {
  index: number;
  username: string;
  globalName: string | null;
  avatar: string | null;
  bot: boolean;
  nick: string | null;
  roleKey: number;
  joinedAt: string;
  premiumSince: string | null;
  pending: boolean;
}

const scratch: GeneratedFields = {
  index: -1, username: "", globalName: null, avatar: null, bot: false, nick: null, roleKey: 0, joinedAt: "", premiumSince: null, pending: false,
};

/**
 * Draws generated member `index` into the shared scratch object (valid until the next call).
 * The draw order is the generator's contract: changing it changes every seeded guild.
 */
function generateInto(spec: GuildSpec, index: number, namesOnly = false): GeneratedFields {
  rngState = hashIndex(spec.seedHash, index, 1) >>> 0;
  const isStaff = index < spec.staffCount;
  const bot = !isStaff && nextFloat() < 0.01;
  const first = nextInt(FIRST_NAMES.length);
  const last = nextInt(LAST_NAMES.length);
  const adjective = nextInt(ADJECTIVES.length);
  const noun = nextInt(NOUNS.length);
  const out = scratch;
  out.index = index;
  out.bot = bot;
  if (bot) {
    out.username = `${NOUNS[noun]}bot${index}`;
    out.globalName = `${NOUN_CAP[noun]} Bot`;
  } else {
    const pattern = nextInt(5);
    out.username =
      pattern === 0 ? `${ADJECTIVES[adjective]}${NOUNS[noun]}${index}`
      : pattern === 1 ? `${FIRST_NAMES[first]}.${LAST_NAMES[last]}${index}`
      : pattern === 2 ? `${FIRST_NAMES[first]}_${index}`
      : pattern === 3 ? `${NOUNS[noun]}_${ADJECTIVES[adjective]}${index}`
      : `${FIRST_NAMES[first]}${LAST_NAMES[last]}${index}`;
    const display = nextFloat();
    out.globalName =
      display < 0.45 ? `${FIRST_CAP[first]} ${LAST_CAP[last]}`
      : display < 0.7 ? (FIRST_CAP[first] as string)
      : display < 0.8 ? `${ADJ_CAP[adjective]} ${NOUN_CAP[noun]}`
      : null;
  }

  const nickRoll = nextFloat();
  out.nick = null;
  if (isStaff && nickRoll < 0.4) out.nick = `${FIRST_CAP[first]} [Staff]`;
  else if (!bot && nickRoll < 0.12) {
    const style = nextInt(3);
    out.nick =
      style === 0 ? (FIRST_CAP[first] as string)
      : style === 1 ? `${FIRST_CAP[first]} ${LAST_INITIAL[last]}.`
      : `The ${ADJ_CAP[adjective]} ${NOUN_CAP[noun]}`;
  }
  if (namesOnly) return out;

  out.avatar = nextFloat() < 0.85 ? `${hex8()}${hex8()}${hex8()}${hex8()}` : null;

  const roleCount = 1 + nextInt(3);
  let mask = 0;
  let chosen = 0;
  while (chosen < roleCount) {
    const bit = 1 << nextInt(ROLE_SLOTS);
    if ((mask & bit) === 0) {
      mask |= bit;
      chosen += 1;
    }
  }
  if (isStaff) mask |= 1 << ROLE_SLOTS;
  const lastAdmin = spec.adminIndices[spec.adminIndices.length - 1];
  if (lastAdmin !== undefined && index <= lastAdmin && spec.adminIndices.includes(index)) mask |= 1 << (ROLE_SLOTS + 1);
  out.roleKey = mask;

  const joinedMs = spec.now - Math.floor(nextFloat() * 3 * YEAR_MS);
  out.premiumSince = nextFloat() < 0.03 ? discordTimestamp(joinedMs + Math.floor(nextFloat() * (spec.now - joinedMs))) : null;
  out.pending = !bot && nextFloat() < 0.02;
  out.joinedAt = discordTimestamp(joinedMs);
  return out;
}

/** Role id lists and their JSON by roleKey, per spec (at most 512 of each, built on demand). */
const roleTables = new WeakMap<GuildSpec, { ids: Array<ReadonlyArray<string> | undefined>; json: Array<string | undefined> }>();

function rolesFor(spec: GuildSpec, key: number): { ids: ReadonlyArray<string>; json: string } {
  let table = roleTables.get(spec);
  if (!table) {
    table = { ids: [], json: [] };
    roleTables.set(spec, table);
  }
  let ids = table.ids[key];
  if (ids === undefined) {
    const list: string[] = [];
    for (let k = 0; k < ROLE_SLOTS; k++) if (key & (1 << k)) list.push(spec.memberRoleIds[k] as string);
    if (key & (1 << ROLE_SLOTS)) list.push(spec.staffRoleId);
    if (key & (1 << (ROLE_SLOTS + 1))) list.push(spec.adminRoleId);
    ids = Object.freeze(list);
    table.ids[key] = ids;
    table.json[key] = JSON.stringify(list);
  }
  return { ids, json: table.json[key] as string };
}

/**
 * Generated member `index` (0-based) of a seeded guild, before any override.
 * Usernames end in the index, so they are unique within a seed.
 */
export function generateMember(spec: GuildSpec, index: number): MemberRecord {
  const f = generateInto(spec, index);
  return {
    userId: userIdStringAt(spec, index),
    username: f.username,
    globalName: f.globalName,
    avatar: f.avatar,
    bot: f.bot,
    nick: f.nick,
    roles: [...rolesFor(spec, f.roleKey).ids],
    joinedAt: f.joinedAt,
    premiumSince: f.premiumSince,
    pending: f.pending,
  };
}

/** Overrides applied to a generated member (a member PATCH). */
export interface GeneratedOverride {
  nick?: string | null;
  roles?: ReadonlyArray<string>;
}

/**
 * The guild member object JSON (https://discord.com/developers/docs/resources/guild#guild-member-object)
 * of generated member `index` with optional nick/roles overrides: exactly
 * `JSON.stringify(memberObject(record))`, built as one string. Generated strings are plain ASCII
 * from the word lists, so only overrides go through JSON.stringify.
 */
export function generatedMemberJson(spec: GuildSpec, index: number, userId: string, override?: GeneratedOverride): string {
  const f = generateInto(spec, index);
  let nick = f.nick === null ? "null" : `"${f.nick}"`;
  let roles = rolesFor(spec, f.roleKey).json;
  if (override) {
    if (override.nick !== undefined) nick = JSON.stringify(override.nick);
    if (override.roles !== undefined) roles = JSON.stringify(override.roles);
  }
  return (
    `{"user":{"id":"${userId}","username":"${f.username}","global_name":${f.globalName === null ? "null" : `"${f.globalName}"`},` +
    `"avatar":${f.avatar === null ? "null" : `"${f.avatar}"`},${USER_TAIL}${f.bot ? ',"bot":true}' : "}"},` +
    `"nick":${nick},"avatar":null,"banner":null,"roles":${roles},"joined_at":"${f.joinedAt}",` +
    `"premium_since":${f.premiumSince === null ? "null" : `"${f.premiumSince}"`},"deaf":false,"mute":false,"flags":0,` +
    `"pending":${f.pending},"communication_disabled_until":null}`
  );
}

/** The fixed user fields after `avatar`, in payloads.ts userObject order. */
export const USER_TAIL =
  '"discriminator":"0","public_flags":0,"flags":0,"banner":null,"accent_color":null,"avatar_decoration_data":null,"collectibles":null,"primary_guild":null';

/**
 * True when generated member `index`'s username or nick (before overrides) starts with `lowerPrefix`
 * (already lower-cased). Cheaper than generating the member: used by prefix search over big guilds.
 */
export function generatedNamesMatch(spec: GuildSpec, index: number, lowerPrefix: string): { username: boolean; nick: boolean } {
  const f = generateInto(spec, index, true);
  return { username: f.username.startsWith(lowerPrefix), nick: f.nick !== null && f.nick.toLowerCase().startsWith(lowerPrefix) };
}

/** True when generated member `index` starts online/idle/dnd (cheaper than {@link initialPresence}). */
export function initiallyOnline(spec: GuildSpec, index: number): boolean {
  rngState = hashIndex(spec.seedHash, index, 2) >>> 0;
  return nextFloat() < spec.onlineRatio;
}

/** Builds a custom status activity (type 4) as Discord sends it. */
export function customStatusActivity(state: string, createdAt: number): GatewayActivity {
  return { id: "custom", name: "Custom Status", type: ActivityType.Custom, state, created_at: createdAt };
}

/** Builds a "Playing <game>" activity (type 0). */
export function playingActivity(name: string, startedAt: number, id: string): GatewayActivity {
  return { id, name, type: ActivityType.Playing, created_at: startedAt, timestamps: { start: startedAt } };
}

/** Draws a random non-offline presence from `rng` (used by seeding and churn). */
export function randomOnlinePresence(rng: Rng, now: number): PresenceRecord {
  const s = rng.next();
  const status: PresenceUpdateReceiveStatus = s < 0.6 ? PresenceUpdateStatus.Online : s < 0.85 ? PresenceUpdateStatus.Idle : PresenceUpdateStatus.DoNotDisturb;
  const platform = rng.next();
  const client_status: GatewayPresenceClientStatus =
    platform < 0.55 ? { desktop: status }
    : platform < 0.8 ? { mobile: status }
    : platform < 0.9 ? { web: status }
    : { desktop: status, mobile: status };
  const activities: GatewayActivity[] = [];
  if (rng.next() < 0.2) activities.push(customStatusActivity(rng.pick(CUSTOM_STATUSES), now - rng.int(6 * 3_600_000)));
  if (rng.next() < 0.35) {
    const startedAt = now - rng.int(4 * 3_600_000);
    activities.push(playingActivity(rng.pick(GAMES), startedAt, rng.hex(16)));
  }
  return { status, activities, client_status };
}

/** The presence generated member `index` starts with. */
export function initialPresence(spec: GuildSpec, index: number): PresenceRecord {
  const rng = new Rng(hash3(spec.seed, index, 2));
  if (rng.next() >= spec.onlineRatio) return OFFLINE;
  return randomOnlinePresence(rng, spec.now);
}

/** The normalised inputs {@link guildSpec} needs (see SeedOptions). */
export interface GuildSpecInput {
  seed: number;
  guildId: string;
  /** member_count including the bot. */
  members: number;
  staff: number;
  /** How many of the first non-bot generated members get the Admin role; default min(2, members - 1). */
  admins?: number;
  onlineRatio: number;
  now: number;
}

/** Builds the generator spec of a seeded guild; the emulator and the tests share it. */
export function guildSpec(input: GuildSpecInput): GuildSpec {
  const generatedCount = input.members - 1;
  const spec: GuildSpec = {
    seed: input.seed,
    guildId: input.guildId,
    generatedCount,
    staffCount: input.staff,
    onlineRatio: input.onlineRatio,
    now: input.now,
    memberRoleIds: ROLE_NAMES.map((_, k) => guildObjectId(input.guildId, k)),
    staffRoleId: guildObjectId(input.guildId, ROLE_NAMES.length),
    adminRoleId: guildObjectId(input.guildId, ADMIN_ROLE_SLOT),
    adminIndices: [],
    seedHash: seedHash(input.seed),
    userEpochMs: userEpoch(input.seed),
  };
  const wanted = input.admins ?? Math.min(2, generatedCount);
  const admins: number[] = [];
  for (let i = 0; i < generatedCount && admins.length < wanted; i++) if (!isGeneratedBot(spec, i)) admins.push(i);
  return { ...spec, adminIndices: Object.freeze(admins) };
}

/** Role names in position order (position 1 upwards), the Staff role last; "Admin" and the bot's role sit above. */
export const SEEDED_ROLE_NAMES: ReadonlyArray<string> = [...ROLE_NAMES, "Staff"];
