/**
 * The deterministic member generator. A seeded guild stores no members: member `index` is
 * computed from (seed, index) whenever it is needed, and user ids ascend with the index so
 * ordering and `after` paging are arithmetic.
 */
import type { GatewayActivity, GatewayPresenceClientStatus, PresenceUpdateReceiveStatus } from "discord-api-types/v10";
import { ActivityType, PresenceUpdateStatus } from "discord-api-types/v10";
import { JsonWriter } from "./jsonwriter";
import { hash3, mix32, Rng, seedHash } from "./random";
import { DISCORD_EPOCH_MS, snowflakeAt, snowflakeTime } from "./snowflake";
import type { MemberRecord } from "./types";
import { ADJECTIVES, CUSTOM_STATUSES, FIRST_NAMES, GAMES, GUILD_ADJECTIVES, GUILD_NOUNS, LAST_NAMES, NOUNS, ROLE_NAMES } from "./words";

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
/** 4 hex digits for every 16-bit value: an avatar hash is 8 lookups. */
const HEX4 = Array.from({ length: 65_536 }, (_, i) => i.toString(16).padStart(4, "0"));

/** True when generated member `index` is a bot (1% of non-staff members), from the first draw of its stream. */
export function isGeneratedBot(spec: GuildSpec, index: number): boolean {
  if (index < spec.staffCount) return false;
  rngState = hashIndex(spec.seedHash, index, 1) >>> 0;
  return nextFloat() < 0.01;
}

/**
 * The draws of one generated member, as numbers only (word indices, kinds, avatar words, times):
 * {@link generateMember} renders them as a record, {@link writeGeneratedMemberJson} as JSON bytes.
 * `roleKey` encodes the roles: bits 0..6 the ordinary roles, bit 7 Staff, bit 8 Admin.
 */
interface Draws {
  index: number;
  bot: boolean;
  first: number;
  last: number;
  adjective: number;
  noun: number;
  /** Username pattern 0..4 (unused for bots). */
  pattern: number;
  /** Global name kind: 0 "First Last", 1 "First", 2 "Adjective Noun", 3 null (bots: "Noun Bot"). */
  display: number;
  /** Nick kind: -1 none, 0 "First", 1 "First L.", 2 "The Adjective Noun", 3 "First [Staff]". */
  nick: number;
  /** Avatar as 4 unsigned 32-bit words, or hasAvatar false. */
  hasAvatar: boolean;
  a0: number;
  a1: number;
  a2: number;
  a3: number;
  roleKey: number;
  joinedMs: number;
  /** premium_since in ms, or -1. */
  premiumMs: number;
  pending: boolean;
}

const draws: Draws = {
  index: -1,
  bot: false,
  first: 0,
  last: 0,
  adjective: 0,
  noun: 0,
  pattern: 0,
  display: 0,
  nick: -1,
  hasAvatar: false,
  a0: 0,
  a1: 0,
  a2: 0,
  a3: 0,
  roleKey: 0,
  joinedMs: 0,
  premiumMs: -1,
  pending: false,
};

/**
 * Draws generated member `index` into the shared `draws` object (valid until the next call).
 * The draw order is the generator's contract: changing it changes every seeded guild.
 * With `namesOnly`, stops once username, global name and nick are decided.
 */
function drawMember(spec: GuildSpec, index: number, namesOnly = false): Draws {
  rngState = hashIndex(spec.seedHash, index, 1) >>> 0;
  const out = draws;
  const isStaff = index < spec.staffCount;
  const bot = !isStaff && nextFloat() < 0.01;
  out.index = index;
  out.bot = bot;
  out.first = nextInt(FIRST_NAMES.length);
  out.last = nextInt(LAST_NAMES.length);
  out.adjective = nextInt(ADJECTIVES.length);
  out.noun = nextInt(NOUNS.length);
  if (bot) {
    out.pattern = 0;
    out.display = 0;
  } else {
    out.pattern = nextInt(5);
    const display = nextFloat();
    out.display = display < 0.45 ? 0 : display < 0.7 ? 1 : display < 0.8 ? 2 : 3;
  }
  const nickRoll = nextFloat();
  out.nick = -1;
  if (isStaff && nickRoll < 0.4) out.nick = 3;
  else if (!bot && nickRoll < 0.12) out.nick = nextInt(3);
  if (namesOnly) return out;

  out.hasAvatar = nextFloat() < 0.85;
  if (out.hasAvatar) {
    out.a0 = nextU32();
    out.a1 = nextU32();
    out.a2 = nextU32();
    out.a3 = nextU32();
  }
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
  out.joinedMs = joinedMs;
  out.premiumMs = nextFloat() < 0.03 ? joinedMs + Math.floor(nextFloat() * (spec.now - joinedMs)) : -1;
  out.pending = !bot && nextFloat() < 0.02;
  return out;
}

function usernameOf(d: Draws): string {
  const i = d.index;
  if (d.bot) return `${NOUNS[d.noun]}bot${i}`;
  switch (d.pattern) {
    case 0:
      return `${ADJECTIVES[d.adjective]}${NOUNS[d.noun]}${i}`;
    case 1:
      return `${FIRST_NAMES[d.first]}.${LAST_NAMES[d.last]}${i}`;
    case 2:
      return `${FIRST_NAMES[d.first]}_${i}`;
    case 3:
      return `${NOUNS[d.noun]}_${ADJECTIVES[d.adjective]}${i}`;
    default:
      return `${FIRST_NAMES[d.first]}${LAST_NAMES[d.last]}${i}`;
  }
}

function globalNameOf(d: Draws): string | null {
  if (d.bot) return `${NOUN_CAP[d.noun]} Bot`;
  switch (d.display) {
    case 0:
      return `${FIRST_CAP[d.first]} ${LAST_CAP[d.last]}`;
    case 1:
      return FIRST_CAP[d.first] as string;
    case 2:
      return `${ADJ_CAP[d.adjective]} ${NOUN_CAP[d.noun]}`;
    default:
      return null;
  }
}

function nickOf(d: Draws): string | null {
  switch (d.nick) {
    case 0:
      return FIRST_CAP[d.first] as string;
    case 1:
      return `${FIRST_CAP[d.first]} ${LAST_INITIAL[d.last]}.`;
    case 2:
      return `The ${ADJ_CAP[d.adjective]} ${NOUN_CAP[d.noun]}`;
    case 3:
      return `${FIRST_CAP[d.first]} [Staff]`;
    default:
      return null;
  }
}

function avatarOf(d: Draws): string | null {
  if (!d.hasAvatar) return null;
  return `${HEX4[d.a0 >>> 16]}${HEX4[d.a0 & 0xffff]}${HEX4[d.a1 >>> 16]}${HEX4[d.a1 & 0xffff]}${HEX4[d.a2 >>> 16]}${HEX4[d.a2 & 0xffff]}${HEX4[d.a3 >>> 16]}${HEX4[d.a3 & 0xffff]}`;
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
  const d = drawMember(spec, index);
  return {
    userId: userIdStringAt(spec, index),
    username: usernameOf(d),
    globalName: globalNameOf(d),
    avatar: avatarOf(d),
    bot: d.bot,
    nick: nickOf(d),
    roles: [...rolesFor(spec, d.roleKey).ids],
    joinedAt: discordTimestamp(d.joinedMs),
    premiumSince: d.premiumMs < 0 ? null : discordTimestamp(d.premiumMs),
    pending: d.pending,
  };
}

/** Overrides applied to a generated member (a member PATCH). */
export interface GeneratedOverride {
  nick?: string | null;
  roles?: ReadonlyArray<string>;
}

/** The fixed user fields after `avatar`, in payloads.ts userObject order. */
export const USER_TAIL =
  '"discriminator":"0","public_flags":0,"flags":0,"banner":null,"accent_color":null,"avatar_decoration_data":null,"collectibles":null,"primary_guild":null';

/** A Discord timestamp (see {@link discordTimestamp}) between quotes, for JSON. */
function quotedTimestamp(unixMs: number): string {
  if (!(unixMs >= 0 && unixMs < FAST_TIMESTAMP_LIMIT_MS)) return `"${discordTimestamp(unixMs)}"`;
  const ms = Math.trunc(unixMs);
  const day = Math.floor(ms / DAY_MS);
  let prefix = quotedDayPrefixes.get(day);
  if (prefix === undefined) {
    if (quotedDayPrefixes.size >= 50_000) quotedDayPrefixes.clear();
    prefix = `"${new Date(day * DAY_MS).toISOString().slice(0, 11)}`;
    quotedDayPrefixes.set(day, prefix);
  }
  const rest = ms - day * DAY_MS;
  const minute = Math.floor(rest / 60_000);
  const milli = rest - minute * 60_000;
  const sec = Math.floor(milli / 1000);
  return `${prefix}${TIME_OF_DAY_HM[minute]}${SECONDS_DOT[sec]}${THREE_DIGITS[milli - sec * 1000]}000+00:00"`;
}

/** Writes {@link quotedTimestamp} from pre-encoded pieces. */
function writeTimestamp(w: JsonWriter, unixMs: number): void {
  if (!(unixMs >= 0 && unixMs < FAST_TIMESTAMP_LIMIT_MS)) {
    w.ascii(quotedTimestamp(unixMs));
    return;
  }
  const ms = Math.trunc(unixMs);
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixBytes.get(day);
  if (prefix === undefined) {
    if (dayPrefixBytes.size >= 50_000) dayPrefixBytes.clear();
    prefix = bytes(quotedTimestamp(day * DAY_MS).slice(0, 12));
    dayPrefixBytes.set(day, prefix);
  }
  const rest = ms - day * DAY_MS;
  const minute = Math.floor(rest / 60_000);
  const milli = rest - minute * 60_000;
  const sec = Math.floor(milli / 1000);
  w.raw(prefix);
  w.raw(TIME_OF_DAY_HM_B[minute] as Uint8Array);
  w.raw(SECONDS_DOT_B[sec] as Uint8Array);
  w.padded(milli - sec * 1000, 3);
  w.raw(MICROS_OFFSET_QUOTE);
}

/** ASCII text as bytes, for the pre-encoded pieces below. */
function bytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "latin1"));
}

/** '"YYYY-MM-DDT' as bytes by day number since the Unix epoch (bounded; cleared when large). */
const dayPrefixBytes = new Map<number, Uint8Array>();
/** '"YYYY-MM-DDT' by day number since the Unix epoch (bounded; cleared when large). */
const quotedDayPrefixes = new Map<number, string>();
/** "HH:MM:" for every minute of the day, and "SS." for every second. */
const TIME_OF_DAY_HM = Array.from({ length: 1440 }, (_, k) => `${TWO_DIGITS[Math.floor(k / 60)]}:${TWO_DIGITS[k % 60]}:`);
const SECONDS_DOT = Array.from({ length: 60 }, (_, k) => `${TWO_DIGITS[k]}.`);
const TIME_OF_DAY_HM_B = TIME_OF_DAY_HM.map(bytes);
const SECONDS_DOT_B = SECONDS_DOT.map(bytes);
const MICROS_OFFSET_QUOTE = bytes('000+00:00"');

// Member JSON is written from a dozen pre-encoded pieces per member: every username stem, global
// name and nick the word lists allow is encoded once, with the JSON around it (about 10k short
// byte arrays, a few MB), and copied with a JS loop.
const F = FIRST_NAMES.length;
const L = LAST_NAMES.length;
const A = ADJECTIVES.length;
const N = NOUNS.length;
const grid = (rows: number, cols: number, f: (r: number, c: number) => string): Uint8Array[] =>
  Array.from({ length: rows * cols }, (_, k) => bytes(f(Math.floor(k / cols), k % cols)));
/** '","username":"' + the username without its index, by username pattern, and for bots by noun. */
const USERNAME_STEMS = {
  adjNoun: grid(A, N, (a, n) => `","username":"${ADJECTIVES[a]}${NOUNS[n]}`),
  firstDotLast: grid(F, L, (f, l) => `","username":"${FIRST_NAMES[f]}.${LAST_NAMES[l]}`),
  firstUnderscore: FIRST_NAMES.map((f) => bytes(`","username":"${f}_`)),
  nounUnderscoreAdj: grid(N, A, (n, a) => `","username":"${NOUNS[n]}_${ADJECTIVES[a]}`),
  firstLast: grid(F, L, (f, l) => `","username":"${FIRST_NAMES[f]}${LAST_NAMES[l]}`),
  bot: NOUNS.map((n) => bytes(`","username":"${n}bot`)),
};
/** '","global_name":' + the JSON global name + ',"avatar":', by display kind. */
const GLOBAL_NAMES = {
  firstLast: grid(F, L, (f, l) => `","global_name":"${FIRST_CAP[f]} ${LAST_CAP[l]}","avatar":`),
  first: FIRST_CAP.map((f) => bytes(`","global_name":"${f}","avatar":`)),
  adjNoun: grid(A, N, (a, n) => `","global_name":"${ADJ_CAP[a]} ${NOUN_CAP[n]}","avatar":`),
  none: bytes('","global_name":null,"avatar":'),
  bot: NOUN_CAP.map((n) => bytes(`","global_name":"${n} Bot","avatar":`)),
};
/** The user fields after the avatar, the closing brace and '"nick":' + the JSON nick, by nick kind (bots have none). */
const NICK_TAILS = {
  none: bytes(`,${USER_TAIL}},"nick":null`),
  noneBot: bytes(`,${USER_TAIL},"bot":true},"nick":null`),
  first: FIRST_CAP.map((f) => bytes(`,${USER_TAIL}},"nick":"${f}"`)),
  firstInitial: grid(F, L, (f, l) => `,${USER_TAIL}},"nick":"${FIRST_CAP[f]} ${LAST_INITIAL[l]}."`),
  theAdjNoun: grid(A, N, (a, n) => `,${USER_TAIL}},"nick":"The ${ADJ_CAP[a]} ${NOUN_CAP[n]}"`),
  staff: FIRST_CAP.map((f) => bytes(`,${USER_TAIL}},"nick":"${f} [Staff]"`)),
};
const USER_OPEN = bytes('{"user":{"id":"');
const NULL = bytes("null");
const NICK_OVERRIDE_PREFIX = bytes(`,${USER_TAIL}},"nick":`);
const NICK_OVERRIDE_PREFIX_BOT = bytes(`,${USER_TAIL},"bot":true},"nick":`);
const PREMIUM_NULL = bytes(',"premium_since":null');
const PREMIUM = bytes(',"premium_since":');
const MEMBER_TAIL = bytes(',"deaf":false,"mute":false,"flags":0,"pending":false,"communication_disabled_until":null}');
const MEMBER_TAIL_PENDING = bytes(',"deaf":false,"mute":false,"flags":0,"pending":true,"communication_disabled_until":null}');
const QUOTE = 34;

function usernameStem(d: Draws): Uint8Array {
  if (d.bot) return USERNAME_STEMS.bot[d.noun] as Uint8Array;
  switch (d.pattern) {
    case 0:
      return USERNAME_STEMS.adjNoun[d.adjective * N + d.noun] as Uint8Array;
    case 1:
      return USERNAME_STEMS.firstDotLast[d.first * L + d.last] as Uint8Array;
    case 2:
      return USERNAME_STEMS.firstUnderscore[d.first] as Uint8Array;
    case 3:
      return USERNAME_STEMS.nounUnderscoreAdj[d.noun * A + d.adjective] as Uint8Array;
    default:
      return USERNAME_STEMS.firstLast[d.first * L + d.last] as Uint8Array;
  }
}

function globalNamePiece(d: Draws): Uint8Array {
  if (d.bot) return GLOBAL_NAMES.bot[d.noun] as Uint8Array;
  switch (d.display) {
    case 0:
      return GLOBAL_NAMES.firstLast[d.first * L + d.last] as Uint8Array;
    case 1:
      return GLOBAL_NAMES.first[d.first] as Uint8Array;
    case 2:
      return GLOBAL_NAMES.adjNoun[d.adjective * N + d.noun] as Uint8Array;
    default:
      return GLOBAL_NAMES.none;
  }
}

function nickTail(d: Draws): Uint8Array {
  if (d.bot) return NICK_TAILS.noneBot;
  switch (d.nick) {
    case 0:
      return NICK_TAILS.first[d.first] as Uint8Array;
    case 1:
      return NICK_TAILS.firstInitial[d.first * L + d.last] as Uint8Array;
    case 2:
      return NICK_TAILS.theAdjNoun[d.adjective * N + d.noun] as Uint8Array;
    case 3:
      return NICK_TAILS.staff[d.first] as Uint8Array;
    default:
      return NICK_TAILS.none;
  }
}

/** ',"avatar":null,"banner":null,"roles":' + roles JSON + ',"joined_at":' by roleKey, per spec. */
const rolePieces = new WeakMap<GuildSpec, Array<Uint8Array | undefined>>();
function rolesPiece(spec: GuildSpec, key: number): Uint8Array {
  let table = rolePieces.get(spec);
  if (!table) {
    table = [];
    rolePieces.set(spec, table);
  }
  return (table[key] ??= bytes(`,"avatar":null,"banner":null,"roles":${rolesFor(spec, key).json},"joined_at":`));
}

/**
 * Writes the guild member object JSON (https://discord.com/developers/docs/resources/guild#guild-member-object)
 * of generated member `index`, with optional nick/roles overrides: exactly
 * `JSON.stringify(memberObject(record))`, as bytes from about a dozen pre-encoded pieces plus digits
 * (no string is built per member). Generated strings are plain ASCII from the word lists; only
 * overrides go through JSON.stringify.
 */
export function writeGeneratedMemberJson(
  w: JsonWriter,
  spec: GuildSpec,
  index: number,
  userId: string,
  override?: GeneratedOverride,
): void {
  const d = drawMember(spec, index);
  w.raw(USER_OPEN);
  w.chars(userId);
  w.raw(usernameStem(d));
  w.uint(index);
  w.raw(globalNamePiece(d));
  if (d.hasAvatar) {
    w.byte(QUOTE);
    w.hex32(d.a0);
    w.hex32(d.a1);
    w.hex32(d.a2);
    w.hex32(d.a3);
    w.byte(QUOTE);
  } else w.raw(NULL);
  if (override?.nick !== undefined) {
    w.raw(d.bot ? NICK_OVERRIDE_PREFIX_BOT : NICK_OVERRIDE_PREFIX);
    w.text(JSON.stringify(override.nick));
  } else w.raw(nickTail(d));
  if (override?.roles !== undefined) w.ascii(`,"avatar":null,"banner":null,"roles":${JSON.stringify(override.roles)},"joined_at":`);
  else w.raw(rolesPiece(spec, d.roleKey));
  writeTimestamp(w, d.joinedMs);
  if (d.premiumMs < 0) w.raw(PREMIUM_NULL);
  else {
    w.raw(PREMIUM);
    writeTimestamp(w, d.premiumMs);
  }
  w.raw(d.pending ? MEMBER_TAIL_PENDING : MEMBER_TAIL);
}

/** {@link writeGeneratedMemberJson} as one string (tests, single members). */
export function generatedMemberJson(spec: GuildSpec, index: number, userId: string, override?: GeneratedOverride): string {
  const w = new JsonWriter(1024);
  writeGeneratedMemberJson(w, spec, index, userId, override);
  return w.toString();
}

/**
 * True when generated member `index`'s username or nick (before overrides) starts with `lowerPrefix`
 * (already lower-cased). Cheaper than generating the member: used by prefix search over big guilds.
 */
export function generatedNamesMatch(spec: GuildSpec, index: number, lowerPrefix: string): { username: boolean; nick: boolean } {
  const d = drawMember(spec, index, true);
  const nick = nickOf(d);
  return { username: usernameOf(d).startsWith(lowerPrefix), nick: nick !== null && nick.toLowerCase().startsWith(lowerPrefix) };
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
  const status: PresenceUpdateReceiveStatus =
    s < 0.6 ? PresenceUpdateStatus.Online : s < 0.85 ? PresenceUpdateStatus.Idle : PresenceUpdateStatus.DoNotDisturb;
  const platform = rng.next();
  const client_status: GatewayPresenceClientStatus =
    platform < 0.55
      ? { desktop: status }
      : platform < 0.8
        ? { mobile: status }
        : platform < 0.9
          ? { web: status }
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
