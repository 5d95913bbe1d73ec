/**
 * The deterministic member generator. A seeded guild stores no members: member `index` is
 * computed from (seed, index) whenever it is needed, and user ids ascend with the index so
 * ordering and `after` paging are arithmetic.
 */
import type { GatewayActivity, GatewayPresenceClientStatus, PresenceUpdateReceiveStatus } from "discord-api-types/v10";
import { ActivityType, PresenceUpdateStatus } from "discord-api-types/v10";
import { hash3, Rng, seedHash } from "./random";
import { snowflakeAt, snowflakeTime } from "./snowflake";
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

/** Discord's timestamp format: ISO 8601 with microseconds and an explicit +00:00 offset. */
export function discordTimestamp(unixMs: number): string {
  return new Date(unixMs).toISOString().replace("Z", "000+00:00");
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

function userEpoch(seed: number): number {
  return Date.UTC(2015, 5, 1) + (seedHash(seed) % 180) * DAY_MS;
}

/** The user id of generated member `index`, strictly increasing with `index`. */
export function userIdAt(spec: GuildSpec, index: number): bigint {
  return snowflakeAt(userEpoch(spec.seed) + index * USER_SPACING_MS, hash3(spec.seed, index, 3));
}

/** The index of a generated member's user id, or -1 if `id` is not one. */
export function indexOfUserId(spec: GuildSpec, id: bigint): number {
  const offset = snowflakeTime(id) - userEpoch(spec.seed);
  if (offset < 0 || offset % USER_SPACING_MS !== 0) return -1;
  const index = offset / USER_SPACING_MS;
  if (index >= spec.generatedCount || userIdAt(spec, index) !== id) return -1;
  return index;
}

/** The first generated index whose user id is greater than `after` (generatedCount if none). */
export function firstIndexAfter(spec: GuildSpec, after: bigint): number {
  const offset = snowflakeTime(after) - userEpoch(spec.seed);
  if (offset < 0) return 0;
  const index = Math.floor(offset / USER_SPACING_MS);
  if (index >= spec.generatedCount) return spec.generatedCount;
  return userIdAt(spec, index) <= after ? index + 1 : index;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/**
 * Generated member `index` (0-based) of a seeded guild, before any override.
 * Usernames end in the index, so they are unique within a seed.
 */
export function generateMember(spec: GuildSpec, index: number): MemberRecord {
  const rng = new Rng(hash3(spec.seed, index, 1));
  const isStaff = index < spec.staffCount;
  const bot = !isStaff && rng.next() < 0.01;
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const adjective = rng.pick(ADJECTIVES);
  const noun = rng.pick(NOUNS);

  let username: string;
  let globalName: string | null;
  if (bot) {
    username = `${noun}bot${index}`;
    globalName = `${capitalize(noun)} Bot`;
  } else {
    const pattern = rng.int(5);
    username =
      pattern === 0 ? `${adjective}${noun}${index}`
      : pattern === 1 ? `${first}.${last}${index}`
      : pattern === 2 ? `${first}_${index}`
      : pattern === 3 ? `${noun}_${adjective}${index}`
      : `${first}${last}${index}`;
    const display = rng.next();
    globalName =
      display < 0.45 ? `${capitalize(first)} ${capitalize(last)}`
      : display < 0.7 ? capitalize(first)
      : display < 0.8 ? `${capitalize(adjective)} ${capitalize(noun)}`
      : null;
  }

  const nickRoll = rng.next();
  let nick: string | null = null;
  if (isStaff && nickRoll < 0.4) nick = `${capitalize(first)} [Staff]`;
  else if (!bot && nickRoll < 0.12) {
    const style = rng.int(3);
    nick =
      style === 0 ? capitalize(first)
      : style === 1 ? `${capitalize(first)} ${capitalize(last).charAt(0)}.`
      : `The ${capitalize(adjective)} ${capitalize(noun)}`;
  }

  const avatar = rng.next() < 0.85 ? rng.hex(32) : null;

  const roleCount = 1 + rng.int(3);
  const chosen = new Set<number>();
  while (chosen.size < roleCount) chosen.add(rng.int(spec.memberRoleIds.length));
  const roles = [...chosen].sort((a, b) => a - b).map((k) => spec.memberRoleIds[k] as string);
  if (isStaff) roles.push(spec.staffRoleId);

  const joinedMs = spec.now - Math.floor(rng.next() * 3 * YEAR_MS);
  const premiumSince = rng.next() < 0.03 ? discordTimestamp(joinedMs + Math.floor(rng.next() * (spec.now - joinedMs))) : null;
  const pending = !bot && rng.next() < 0.02;

  return {
    userId: userIdAt(spec, index).toString(),
    username,
    globalName,
    avatar,
    bot,
    nick,
    roles,
    joinedAt: discordTimestamp(joinedMs),
    premiumSince,
    pending,
  };
}

/** True when generated member `index` starts online/idle/dnd (cheaper than {@link initialPresence}). */
export function initiallyOnline(spec: GuildSpec, index: number): boolean {
  return new Rng(hash3(spec.seed, index, 2)).next() < spec.onlineRatio;
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
  onlineRatio: number;
  now: number;
}

/** Builds the generator spec of a seeded guild; the emulator and the tests share it. */
export function guildSpec(input: GuildSpecInput): GuildSpec {
  return {
    seed: input.seed,
    guildId: input.guildId,
    generatedCount: input.members - 1,
    staffCount: input.staff,
    onlineRatio: input.onlineRatio,
    now: input.now,
    memberRoleIds: ROLE_NAMES.map((_, k) => guildObjectId(input.guildId, k)),
    staffRoleId: guildObjectId(input.guildId, ROLE_NAMES.length),
  };
}

/** Role names in position order (position 1 upwards), the Staff role last. */
export const SEEDED_ROLE_NAMES: ReadonlyArray<string> = [...ROLE_NAMES, "Staff"];
