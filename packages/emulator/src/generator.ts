/**
 * The deterministic member generator. A seeded guild stores no members: member `index` is
 * computed from (seed, index) whenever it is needed, and user ids ascend with the index so
 * ordering and `after` paging are arithmetic. Each guild has its own {@link MemberGenerator}, which
 * draws from one random.ts {@link Rng} reseeded per member: no generator state is shared between
 * guilds or kept at module level.
 */

import type { PresenceRecord } from "./activities";
import { OFFLINE, randomOnlinePresence } from "./activities";
import type { JsonWriter } from "./jsonwriter";
import { asciiBytes, JsonWriter as Writer } from "./jsonwriter";
import { hash3, hashIndex, Rng, seedHash } from "./random";
import { DISCORD_EPOCH_MS, snowflakeAt, snowflakeTime } from "./snowflake";
import { DAY_MS, discordTimestamp, THREE_DIGITS, writeTimestamp } from "./timestamps";
import type { MemberRecord } from "./types";
import { ADJECTIVES, FIRST_NAMES, GUILD_ADJECTIVES, GUILD_NOUNS, LAST_NAMES, NOUNS, ROLE_NAMES } from "./words";

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
  /** The managed "Server Booster" role (tags.premium_subscriber): every member with premium_since holds it. */
  readonly boosterRoleId: string;
  /** A managed integration role (tags.integration_id), held by about 3% of generated members. */
  readonly integrationRoleId: string;
  /** A managed linked role (tags.guild_connections), held by about 8% of generated members. */
  readonly linkedRoleId: string;
  /** Generated indices holding the Admin role: the first `admins` members that are not bots, ascending. */
  readonly adminIndices: ReadonlyArray<number>;
  /** seedHash(seed), cached: every per-member hash starts from it. */
  readonly seedHash: number;
  /** Creation time of generated user 0, ms since the Unix epoch; user `i` is USER_SPACING_MS * i later. */
  readonly userEpochMs: number;
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
/** guildObjectId slots of the managed roles every seeded guild has, and of the integration behind one of them. */
export const MANAGED_ROLE_SLOTS = { booster: 21, integration: 22, linked: 23, integrationObject: 24 } as const;
/** Share of generated members (per 1000) holding the integration role, and the linked role (hash stream 4). */
const INTEGRATION_PER_MILLE = 30;
const LINKED_PER_MILLE = 80;

function userEpoch(seed: number): number {
  return Date.UTC(2015, 5, 1) + (seedHash(seed) % 180) * DAY_MS;
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

/** 4 hex digits for every 16-bit value: an avatar hash is 8 lookups. */
const HEX4 = Array.from({ length: 65_536 }, (_, i) => i.toString(16).padStart(4, "0"));

/**
 * The draws of one generated member, as numbers only (word indices, kinds, avatar words, times):
 * {@link MemberGenerator.member} renders them as a record, {@link MemberGenerator.writeMemberJson} as JSON bytes.
 * `roleKey` encodes the roles: bits 0..6 the ordinary roles, bit 7 Staff, bit 8 Admin, bit 9 Server Booster,
 * bit 10 the integration role, bit 11 the linked role.
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

/** A zeroed {@link Draws}, the scratch one generator fills per member. */
function emptyDraws(): Draws {
  return {
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

/** Overrides applied to a generated member (a member PATCH). */
export interface GeneratedOverride {
  nick?: string | null;
  roles?: ReadonlyArray<string>;
}

/** The fixed user fields after `avatar`, in payloads.ts userObject order. */
export const USER_TAIL =
  '"discriminator":"0","public_flags":0,"flags":0,"banner":null,"accent_color":null,"avatar_decoration_data":null,"collectibles":null,"primary_guild":null';

// Member JSON is written from a dozen pre-encoded pieces per member: every username stem, global
// name and nick the word lists allow is encoded once, with the JSON around it (about 10k short
// byte arrays, a few MB), and copied with a JS loop.
const F = FIRST_NAMES.length;
const L = LAST_NAMES.length;
const A = ADJECTIVES.length;
const N = NOUNS.length;
const grid = (rows: number, cols: number, f: (r: number, c: number) => string): Uint8Array[] =>
  Array.from({ length: rows * cols }, (_, k) => asciiBytes(f(Math.floor(k / cols), k % cols)));
/** '","username":"' + the username without its index, by username pattern, and for bots by noun. */
const USERNAME_STEMS = {
  adjNoun: grid(A, N, (a, n) => `","username":"${ADJECTIVES[a]}${NOUNS[n]}`),
  firstDotLast: grid(F, L, (f, l) => `","username":"${FIRST_NAMES[f]}.${LAST_NAMES[l]}`),
  firstUnderscore: FIRST_NAMES.map((f) => asciiBytes(`","username":"${f}_`)),
  nounUnderscoreAdj: grid(N, A, (n, a) => `","username":"${NOUNS[n]}_${ADJECTIVES[a]}`),
  firstLast: grid(F, L, (f, l) => `","username":"${FIRST_NAMES[f]}${LAST_NAMES[l]}`),
  bot: NOUNS.map((n) => asciiBytes(`","username":"${n}bot`)),
};
/** '","global_name":' + the JSON global name + ',"avatar":', by display kind. */
const GLOBAL_NAMES = {
  firstLast: grid(F, L, (f, l) => `","global_name":"${FIRST_CAP[f]} ${LAST_CAP[l]}","avatar":`),
  first: FIRST_CAP.map((f) => asciiBytes(`","global_name":"${f}","avatar":`)),
  adjNoun: grid(A, N, (a, n) => `","global_name":"${ADJ_CAP[a]} ${NOUN_CAP[n]}","avatar":`),
  none: asciiBytes('","global_name":null,"avatar":'),
  bot: NOUN_CAP.map((n) => asciiBytes(`","global_name":"${n} Bot","avatar":`)),
};
/** The user fields after the avatar, the closing brace and '"nick":' + the JSON nick, by nick kind (bots have none). */
const NICK_TAILS = {
  none: asciiBytes(`,${USER_TAIL}},"nick":null`),
  noneBot: asciiBytes(`,${USER_TAIL},"bot":true},"nick":null`),
  first: FIRST_CAP.map((f) => asciiBytes(`,${USER_TAIL}},"nick":"${f}"`)),
  firstInitial: grid(F, L, (f, l) => `,${USER_TAIL}},"nick":"${FIRST_CAP[f]} ${LAST_INITIAL[l]}."`),
  theAdjNoun: grid(A, N, (a, n) => `,${USER_TAIL}},"nick":"The ${ADJ_CAP[a]} ${NOUN_CAP[n]}"`),
  staff: FIRST_CAP.map((f) => asciiBytes(`,${USER_TAIL}},"nick":"${f} [Staff]"`)),
};
const USER_OPEN = asciiBytes('{"user":{"id":"');
const NULL = asciiBytes("null");
const NICK_OVERRIDE_PREFIX = asciiBytes(`,${USER_TAIL}},"nick":`);
const NICK_OVERRIDE_PREFIX_BOT = asciiBytes(`,${USER_TAIL},"bot":true},"nick":`);
const PREMIUM_NULL = asciiBytes(',"premium_since":null');
const PREMIUM = asciiBytes(',"premium_since":');
const MEMBER_TAIL = asciiBytes(',"deaf":false,"mute":false,"flags":0,"pending":false,"communication_disabled_until":null}');
const MEMBER_TAIL_PENDING = asciiBytes(',"deaf":false,"mute":false,"flags":0,"pending":true,"communication_disabled_until":null}');
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

/**
 * Generates the members of one seeded guild from its {@link GuildSpec}. Member `index` is a pure
 * function of (seed, index): its draws come from the generator's one {@link Rng}, reseeded from
 * hash(seed, index) for every member, so no Rng is allocated per member (a big guild generates a
 * million) and results never depend on what was generated before. Not re-entrant: each call
 * finishes before the next starts (everything here is synchronous).
 */
export class MemberGenerator {
  private readonly rng = new Rng(0);
  /** Scratch for {@link draw}: valid until the next draw. */
  private readonly draws: Draws = emptyDraws();
  /** Role id lists, their JSON, and the JSON piece around them, by roleKey (at most 4096 each, built on demand). */
  private readonly roleIds: Array<ReadonlyArray<string> | undefined> = [];
  private readonly roleJson: Array<string | undefined> = [];
  private readonly rolePieces: Array<Uint8Array | undefined> = [];

  /** Seeded roles deleted since seeding (roles.ts): left out of every generated member's roles. */
  private readonly dropped = new Set<string>();

  constructor(readonly spec: GuildSpec) {}

  /** Leaves role `roleId` out of generated members' roles from now on (the role was deleted). */
  dropRole(roleId: string): void {
    if (this.dropped.has(roleId)) return;
    this.dropped.add(roleId);
    this.roleIds.length = 0;
    this.roleJson.length = 0;
    this.rolePieces.length = 0;
  }

  /** True when generated member `index` is a bot (1% of non-staff members), from the first draw of its stream. */
  isBot(index: number): boolean {
    if (index < this.spec.staffCount) return false;
    return this.rng.reseed(hashIndex(this.spec.seedHash, index, 1)).next() < 0.01;
  }

  /**
   * Draws generated member `index` into the scratch draws (valid until the next call).
   * The draw order is the generator's contract: changing it changes every seeded guild.
   * With `namesOnly`, stops once username, global name and nick are decided.
   */
  private draw(index: number, namesOnly = false): Draws {
    const spec = this.spec;
    const rng = this.rng.reseed(hashIndex(spec.seedHash, index, 1));
    const out = this.draws;
    const isStaff = index < spec.staffCount;
    const bot = !isStaff && rng.next() < 0.01;
    out.index = index;
    out.bot = bot;
    out.first = rng.int(FIRST_NAMES.length);
    out.last = rng.int(LAST_NAMES.length);
    out.adjective = rng.int(ADJECTIVES.length);
    out.noun = rng.int(NOUNS.length);
    if (bot) {
      out.pattern = 0;
      out.display = 0;
    } else {
      out.pattern = rng.int(5);
      const display = rng.next();
      out.display = display < 0.45 ? 0 : display < 0.7 ? 1 : display < 0.8 ? 2 : 3;
    }
    const nickRoll = rng.next();
    out.nick = -1;
    if (isStaff && nickRoll < 0.4) out.nick = 3;
    else if (!bot && nickRoll < 0.12) out.nick = rng.int(3);
    if (namesOnly) return out;

    out.hasAvatar = rng.next() < 0.85;
    if (out.hasAvatar) {
      out.a0 = rng.nextU32();
      out.a1 = rng.nextU32();
      out.a2 = rng.nextU32();
      out.a3 = rng.nextU32();
    }
    const roleCount = 1 + rng.int(3);
    let mask = 0;
    let chosen = 0;
    while (chosen < roleCount) {
      const bit = 1 << rng.int(ROLE_SLOTS);
      if ((mask & bit) === 0) {
        mask |= bit;
        chosen += 1;
      }
    }
    if (isStaff) mask |= 1 << ROLE_SLOTS;
    const lastAdmin = spec.adminIndices[spec.adminIndices.length - 1];
    if (lastAdmin !== undefined && index <= lastAdmin && spec.adminIndices.includes(index)) mask |= 1 << (ROLE_SLOTS + 1);
    const joinedMs = spec.now - Math.floor(rng.next() * 3 * YEAR_MS);
    out.joinedMs = joinedMs;
    out.premiumMs = rng.next() < 0.03 ? joinedMs + Math.floor(rng.next() * (spec.now - joinedMs)) : -1;
    out.pending = !bot && rng.next() < 0.02;
    // Managed roles come from the premium draw and a separate hash stream, so the draws above stay as they were.
    if (out.premiumMs >= 0) mask |= 1 << (ROLE_SLOTS + 2);
    if (!bot) {
      const h = hashIndex(spec.seedHash, index, 4);
      if (h % 1000 < INTEGRATION_PER_MILLE) mask |= 1 << (ROLE_SLOTS + 3);
      if ((h >>> 10) % 1000 < LINKED_PER_MILLE) mask |= 1 << (ROLE_SLOTS + 4);
    }
    out.roleKey = mask;
    return out;
  }

  /** The role ids of `roleKey`, and their JSON array. */
  private rolesFor(key: number): { ids: ReadonlyArray<string>; json: string } {
    let ids = this.roleIds[key];
    if (ids === undefined) {
      const spec = this.spec;
      const list: string[] = [];
      for (let k = 0; k < ROLE_SLOTS; k++) if (key & (1 << k)) list.push(spec.memberRoleIds[k] as string);
      if (key & (1 << ROLE_SLOTS)) list.push(spec.staffRoleId);
      if (key & (1 << (ROLE_SLOTS + 1))) list.push(spec.adminRoleId);
      if (key & (1 << (ROLE_SLOTS + 2))) list.push(spec.boosterRoleId);
      if (key & (1 << (ROLE_SLOTS + 3))) list.push(spec.integrationRoleId);
      if (key & (1 << (ROLE_SLOTS + 4))) list.push(spec.linkedRoleId);
      ids = Object.freeze(this.dropped.size === 0 ? list : list.filter((id) => !this.dropped.has(id)));
      this.roleIds[key] = ids;
      this.roleJson[key] = JSON.stringify(ids);
    }
    return { ids, json: this.roleJson[key] as string };
  }

  /** ',"avatar":null,"banner":null,"roles":' + roles JSON + ',"joined_at":' by roleKey. */
  private rolesPiece(key: number): Uint8Array {
    let piece = this.rolePieces[key];
    if (piece === undefined) {
      piece = asciiBytes(`,"avatar":null,"banner":null,"roles":${this.rolesFor(key).json},"joined_at":`);
      this.rolePieces[key] = piece;
    }
    return piece;
  }

  /**
   * Generated member `index` (0-based) of the guild, before any override.
   * Usernames end in the index, so they are unique within a seed.
   */
  member(index: number): MemberRecord {
    const d = this.draw(index);
    return {
      userId: userIdStringAt(this.spec, index),
      username: usernameOf(d),
      globalName: globalNameOf(d),
      avatar: avatarOf(d),
      bot: d.bot,
      nick: nickOf(d),
      roles: [...this.rolesFor(d.roleKey).ids],
      joinedAt: discordTimestamp(d.joinedMs),
      premiumSince: d.premiumMs < 0 ? null : discordTimestamp(d.premiumMs),
      pending: d.pending,
    };
  }

  /**
   * Writes the guild member object JSON (https://discord.com/developers/docs/resources/guild#guild-member-object)
   * of generated member `index`, with optional nick/roles overrides: exactly
   * `JSON.stringify(memberObject(record))`, as bytes from about a dozen pre-encoded pieces plus digits
   * (no string is built per member). Generated strings are plain ASCII from the word lists; only
   * overrides go through JSON.stringify.
   */
  writeMemberJson(w: JsonWriter, index: number, userId: string, override?: GeneratedOverride): void {
    const d = this.draw(index);
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
    else w.raw(this.rolesPiece(d.roleKey));
    writeTimestamp(w, d.joinedMs);
    if (d.premiumMs < 0) w.raw(PREMIUM_NULL);
    else {
      w.raw(PREMIUM);
      writeTimestamp(w, d.premiumMs);
    }
    w.raw(d.pending ? MEMBER_TAIL_PENDING : MEMBER_TAIL);
  }

  /** {@link writeMemberJson} as one string (tests, single members). */
  memberJson(index: number, userId: string, override?: GeneratedOverride): string {
    const w = new Writer(1024);
    this.writeMemberJson(w, index, userId, override);
    return w.toString();
  }

  /**
   * True when generated member `index`'s username or nick (before overrides) starts with `lowerPrefix`
   * (already lower-cased). Cheaper than generating the member: used by prefix search over big guilds.
   */
  namesMatch(index: number, lowerPrefix: string): { username: boolean; nick: boolean } {
    const d = this.draw(index, true);
    const nick = nickOf(d);
    return { username: usernameOf(d).startsWith(lowerPrefix), nick: nick?.toLowerCase().startsWith(lowerPrefix) ?? false };
  }

  /** True when generated member `index` starts online/idle/dnd (cheaper than {@link initialPresence}). */
  initiallyOnline(index: number): boolean {
    return this.rng.reseed(hashIndex(this.spec.seedHash, index, 2)).next() < this.spec.onlineRatio;
  }

  /** The presence generated member `index` starts with. */
  initialPresence(index: number): PresenceRecord {
    const rng = this.rng.reseed(hashIndex(this.spec.seedHash, index, 2));
    if (rng.next() >= this.spec.onlineRatio) return OFFLINE;
    return randomOnlinePresence(rng, this.spec.now);
  }
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
    boosterRoleId: guildObjectId(input.guildId, MANAGED_ROLE_SLOTS.booster),
    integrationRoleId: guildObjectId(input.guildId, MANAGED_ROLE_SLOTS.integration),
    linkedRoleId: guildObjectId(input.guildId, MANAGED_ROLE_SLOTS.linked),
    adminIndices: [],
    seedHash: seedHash(input.seed),
    userEpochMs: userEpoch(input.seed),
  };
  const wanted = input.admins ?? Math.min(2, generatedCount);
  const admins: number[] = [];
  const generator = new MemberGenerator(spec);
  for (let i = 0; i < generatedCount && admins.length < wanted; i++) if (!generator.isBot(i)) admins.push(i);
  return { ...spec, adminIndices: Object.freeze(admins) };
}

/** Role names in position order (position 1 upwards), the Staff role last; "Admin" and the bot's role sit above. */
export const SEEDED_ROLE_NAMES: ReadonlyArray<string> = [...ROLE_NAMES, "Staff"];
