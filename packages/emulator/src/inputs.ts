/**
 * Checks of what callers hand the emulator (options, control API bodies, programmatic arguments):
 * each turns raw input into settings the modules use, or throws EmulatorError 400 naming the field.
 * validate.ts holds the field-level checks these are built from.
 */
import type { GatewayActivity, GatewayPresenceClientStatus, PresenceUpdateReceiveStatus } from "discord-api-types/v10";
import { ActivityType } from "discord-api-types/v10";
import type { PresenceRecord } from "./activities";
import { customStatusActivity, OFFLINE } from "./activities";
import { DEFAULT_APPLICATION_ID, DEFAULT_TOKEN } from "./application";
import { EmulatorError } from "./errors";
import { PRIVILEGED_INTENTS } from "./gateway";
import { guildIdForSeed, guildNameForSeed } from "./generator";
import type { GuildState } from "./guild";
import { checkHttpUrl, DEFAULT_CODE_TTL_MS, DEFAULT_TOKEN_TTL_MS } from "./oauth2";
import { hash3, Rng } from "./random";
import { startOfUtcDay } from "./timestamps";
import type {
  ChurnOptions,
  EmulatorOptions,
  InvokeOptions,
  MemberChanges,
  MemberInput,
  MemberPatch,
  MemberRecord,
  MemberUpdateShape,
  PresenceInput,
  SeedOptions,
} from "./types";
import * as v from "./validate";

/** {@link EmulatorOptions} checked, with defaults filled in (times in ms). */
export interface EmulatorSettings {
  token: string;
  applicationId: string;
  allowedPrivilegedIntents: number;
  heartbeatIntervalMs: number;
  sessionTtlMs: number;
  memberRequestWindowMs: number;
  interactionResponseWindowMs: number;
  interactionTokenTtlMs: number;
  clientSecret: string | undefined;
  redirectUris: string[];
  oauth2CodeTtlMs: number;
  oauth2TokenTtlMs: number;
  log: (line: string) => void;
}

/** Checks EmulatorOptions (the port aside: see startEmulator). Throws 400 naming the option. */
export function emulatorSettings(options: EmulatorOptions): EmulatorSettings {
  const opts = v.object(options, "options");
  return {
    token: opts.token === undefined ? DEFAULT_TOKEN : v.str(opts.token, "token", 1, 200),
    applicationId: opts.applicationId === undefined ? DEFAULT_APPLICATION_ID : v.snowflake(opts.applicationId, "applicationId"),
    allowedPrivilegedIntents:
      v.int(opts.allowedPrivilegedIntents, "allowedPrivilegedIntents", 0, 2 ** 31 - 1, PRIVILEGED_INTENTS) & PRIVILEGED_INTENTS,
    heartbeatIntervalMs: v.int(opts.heartbeatIntervalMs, "heartbeatIntervalMs", 10, 600_000, 41_250),
    sessionTtlMs: v.int(opts.sessionTtlMs, "sessionTtlMs", 0, 86_400_000, 60_000),
    memberRequestWindowMs: v.int(opts.memberRequestWindowMs, "memberRequestWindowMs", 0, 3_600_000, 30_000),
    interactionResponseWindowMs: v.int(opts.interactionResponseWindowMs, "interactionResponseWindowMs", 1, 3_600_000, 3_000),
    interactionTokenTtlMs: v.int(opts.interactionTokenTtlMs, "interactionTokenTtlMs", 1, 86_400_000, 900_000),
    clientSecret: opts.clientSecret === undefined ? undefined : v.str(opts.clientSecret, "clientSecret", 8, 200),
    redirectUris: opts.redirectUris === undefined ? [] : redirectUris(opts.redirectUris),
    oauth2CodeTtlMs: v.int(opts.oauth2CodeTtlMs, "oauth2CodeTtlMs", 1, 86_400_000, DEFAULT_CODE_TTL_MS),
    oauth2TokenTtlMs: v.int(opts.oauth2TokenTtlMs, "oauth2TokenTtlMs", 1, 365 * 86_400_000, DEFAULT_TOKEN_TTL_MS),
    log: options.log ?? (() => {}),
  };
}

/** Registered redirect URIs: absolute http(s) URLs without a fragment, at most 10. Throws 400 naming the entry. */
export function redirectUris(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 10) throw new EmulatorError(400, "redirectUris must be an array of at most 10 URLs");
  return value.map((uri, i) => checkHttpUrl(uri, `redirectUris[${i}]`));
}

/** {@link SeedOptions} checked, with defaults filled in. */
export interface SeedSettings {
  seed: number;
  /** member_count including the bot. */
  members: number;
  staff: number;
  admins: number;
  guildId: string;
  name: string;
  onlineRatio: number;
  /** Anchor time, ms since the Unix epoch. */
  now: number;
  /** Whether the bot is a member from the start. */
  withBot: boolean;
}

/** Checks SeedOptions; throws 400 naming the field. */
export function seedSettings(options: SeedOptions): SeedSettings {
  const o = v.object(options, "seed options");
  v.onlyKeys(o, ["seed", "members", "staff", "admins", "guildId", "name", "onlineRatio", "now", "withBot"], "seed options");
  const seed = v.int(o.seed, "seed", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const members = v.int(o.members, "members", 1, 10_000_000);
  return {
    seed,
    members,
    staff: v.int(o.staff, "staff", 0, members - 1, Math.min(10, members - 1)),
    admins: v.int(o.admins, "admins", 0, Math.min(100, members - 1), Math.min(2, members - 1)),
    guildId: o.guildId === undefined ? guildIdForSeed(seed) : v.snowflake(o.guildId, "guildId"),
    name: o.name === undefined ? guildNameForSeed(seed) : v.str(o.name, "name", 2, 100),
    onlineRatio: v.num(o.onlineRatio, "onlineRatio", 0, 1, 0.3),
    now: v.num(o.now, "now", Date.UTC(2018, 0, 1), 8.64e15, startOfUtcDay(Date.now())),
    withBot: o.withBot === undefined ? true : v.bool(o.withBot, "withBot"),
  };
}

/** {@link ChurnOptions} checked: updates per second, and the share aimed at staff (null: no weighting). */
export interface ChurnSettings {
  rate: number;
  staffShare: number | null;
}

/** Checks ChurnOptions; throws 400 naming the field. */
export function churnSettings(options: ChurnOptions): ChurnSettings {
  const o = v.object(options, "churn options");
  v.onlyKeys(o, ["updatesPerSecond", "staffOnly", "staffShare"], "churn options");
  const rate = v.num(o.updatesPerSecond, "updatesPerSecond", 0.001, 10_000);
  const staffOnly = o.staffOnly === undefined ? false : v.bool(o.staffOnly, "staffOnly");
  const staffShare = staffOnly ? 1 : o.staffShare === undefined ? null : v.num(o.staffShare, "staffShare", 0, 1);
  return { rate, staffShare };
}

const STATUSES = ["online", "idle", "dnd", "offline"] as const;

/**
 * Converts control input into Discord's presence shape; throws 400 naming the bad field.
 * https://discord.com/developers/docs/events/gateway-events#presence-update
 */
export function toPresenceRecord(input: PresenceInput): PresenceRecord {
  const o = v.object(input, "presence");
  v.onlyKeys(o, ["status", "customStatus", "activities", "clientStatus"], "presence");
  const status = v.oneOf(o.status, "status", STATUSES) as PresenceUpdateReceiveStatus;
  const now = Date.now();
  const activities: GatewayActivity[] = [];
  if (o.customStatus !== undefined && o.customStatus !== null) {
    activities.push(customStatusActivity(v.str(o.customStatus, "customStatus", 1, 128), now));
  }
  if (o.activities !== undefined) {
    if (!Array.isArray(o.activities) || o.activities.length > 10)
      throw new EmulatorError(400, "activities must be an array of at most 10 activities");
    o.activities.forEach((raw: unknown, i: number) => {
      const a = v.object(raw, `activities[${i}]`);
      v.onlyKeys(a, ["name", "type", "state"], `activities[${i}]`);
      const name = v.str(a.name, `activities[${i}].name`, 1, 128);
      const type = v.int(a.type, `activities[${i}].type`, 0, 5) as ActivityType;
      const state = a.state === undefined ? undefined : v.strOrNull(a.state, `activities[${i}].state`, 0, 128);
      if (type === ActivityType.Custom) {
        activities.push(customStatusActivity(state ?? name, now));
        return;
      }
      const activity: GatewayActivity = { id: new Rng(hash3(now, i, 13)).hex(16), name, type, created_at: now, timestamps: { start: now } };
      if (state !== undefined) activity.state = state;
      activities.push(activity);
    });
  }
  let clientStatus: GatewayPresenceClientStatus = status === "offline" ? {} : { desktop: status };
  if (o.clientStatus !== undefined) {
    const c = v.object(o.clientStatus, "clientStatus");
    v.onlyKeys(c, ["desktop", "mobile", "web"], "clientStatus");
    clientStatus = {};
    for (const platform of ["desktop", "mobile", "web"] as const) {
      if (c[platform] !== undefined)
        clientStatus[platform] = v.oneOf(c[platform], `clientStatus.${platform}`, ["online", "idle", "dnd"]) as PresenceUpdateReceiveStatus;
    }
  }
  if (status === "offline") return OFFLINE;
  return { status, activities, client_status: clientStatus };
}

/** The fields of a {@link MemberInput} that were given, checked (the rest is generated). */
export type MemberFields = Partial<Omit<MemberRecord, "premiumSince">>;

/** Checks MemberInput for `guild`; throws 400 naming the field. */
export function memberFields(guild: GuildState, member: MemberInput): MemberFields {
  const o = v.object(member, "member");
  v.onlyKeys(o, ["userId", "username", "globalName", "avatar", "bot", "nick", "roles", "joinedAt", "pending"], "member");
  const out: MemberFields = {};
  if (o.userId !== undefined) out.userId = v.snowflake(o.userId, "userId");
  if (o.username !== undefined) out.username = validUsername(o.username);
  if (o.globalName !== undefined) out.globalName = v.strOrNull(o.globalName, "globalName", 1, 32);
  if (o.avatar !== undefined) out.avatar = validAvatar(o.avatar);
  if (o.bot !== undefined) out.bot = v.bool(o.bot, "bot");
  if (o.nick !== undefined) out.nick = v.strOrNull(o.nick, "nick", 1, 32);
  if (o.roles !== undefined) out.roles = validRoles(guild, o.roles);
  if (o.joinedAt !== undefined) out.joinedAt = validTimestamp(o.joinedAt, "joinedAt");
  if (o.pending !== undefined) out.pending = v.bool(o.pending, "pending");
  return out;
}

/** Checks a MemberPatch for member `userId` of `guild` (roles it already holds may stay); throws 400 naming the field. */
export function memberPatch(guild: GuildState, userId: string, patch: MemberPatch): MemberPatch {
  const o = v.object(patch, "member patch");
  v.onlyKeys(o, ["nick", "roles"], "member patch");
  const clean: MemberPatch = {};
  if (o.nick !== undefined) clean.nick = v.strOrNull(o.nick, "nick", 1, 32);
  if (o.roles !== undefined) clean.roles = validRoles(guild, o.roles, guild.member(userId)?.roles);
  return clean;
}

/** Checks a MemberUpdateShape: `omit` an array of key names, `set` an object; neither may touch `guild_id`. Throws 400 naming the field. */
export function memberUpdateShape(shape: MemberUpdateShape): Required<MemberUpdateShape> {
  const o = v.object(shape ?? {}, "member update shape");
  v.onlyKeys(o, ["omit", "set"], "member update shape");
  const omit = o.omit === undefined ? [] : o.omit;
  if (!Array.isArray(omit) || omit.length > 50) throw new EmulatorError(400, "omit must be an array of at most 50 key names");
  const keys = omit.map((key, i) => v.str(key, `omit[${i}]`, 1, 64));
  const set = o.set === undefined ? {} : v.object(o.set, "set");
  if (keys.includes("guild_id") || "guild_id" in set) throw new EmulatorError(400, "guild_id cannot be omitted or set");
  return { omit: keys, set };
}

/** Checks MemberChanges, defaults 0; throws 400 naming the field. */
export function memberChanges(changes: MemberChanges): Required<MemberChanges> {
  const o = v.object(changes, "member changes");
  v.onlyKeys(o, ["leave", "join", "update", "seed", "silent"], "member changes");
  return {
    leave: v.int(o.leave, "leave", 0, 1_000_000, 0),
    join: v.int(o.join, "join", 0, 100_000, 0),
    update: v.int(o.update, "update", 0, 1_000_000, 0),
    seed: v.int(o.seed, "seed", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 0),
    silent: o.silent === undefined ? false : v.bool(o.silent, "silent"),
  };
}

/** Checks InvokeOptions (the hub checks the channel belongs to the guild); throws 400 naming the field. */
export function invokeOptions(invoke: InvokeOptions): InvokeOptions {
  const i = v.object(invoke, "invoke options");
  v.onlyKeys(i, ["channelId", "ignoreCommandPermissions", "omitMemberPermissions"], "invoke options");
  if (i.channelId !== undefined) v.snowflake(i.channelId, "channelId");
  if (i.ignoreCommandPermissions !== undefined) v.bool(i.ignoreCommandPermissions, "ignoreCommandPermissions");
  if (i.omitMemberPermissions !== undefined) v.bool(i.omitMemberPermissions, "omitMemberPermissions");
  return invoke;
}

/** Checks a gateway close code for dropConnections: undefined, 1000, or 3000..4999; throws 400. */
export function dropCode(code: unknown): number | undefined {
  if (code !== undefined && code !== 1000 && (typeof code !== "number" || !Number.isInteger(code) || code < 3000 || code > 4999)) {
    throw new EmulatorError(400, "code must be 1000 or an integer between 3000 and 4999");
  }
  return code as number | undefined;
}

/** Checks a raw dispatch's event name (e.g. `PRESENCE_UPDATE`): upper case letters, digits and `_`, at most 64; throws 400. */
export function dispatchType(type: unknown): string {
  if (typeof type !== "string" || !/^[A-Z][A-Z0-9_]{0,63}$/.test(type)) {
    throw new EmulatorError(400, "t must be a gateway event name: upper case letters, digits and _, at most 64");
  }
  return type;
}

function validUsername(value: unknown): string {
  const name = v.str(value, "username", 2, 32);
  if (!/^[a-z0-9_.]+$/.test(name)) throw new EmulatorError(400, "username may only hold a-z, 0-9, _ and .");
  return name;
}

function validAvatar(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== "string" || !/^(a_)?[0-9a-f]{32}$/.test(value))
    throw new EmulatorError(400, "avatar must be null or 32 hex characters");
  return value;
}

function validTimestamp(value: unknown, field: string): string {
  if (typeof value !== "string" || Number.isNaN(Date.parse(value))) throw new EmulatorError(400, `${field} must be an ISO 8601 timestamp`);
  return value;
}

/** Role ids that exist in the guild, not @everyone; managed roles only if the member already has them. Deduplicated, in order. */
function validRoles(guild: GuildState, value: unknown, current: string[] = []): string[] {
  if (!Array.isArray(value)) throw new EmulatorError(400, "roles must be an array of role snowflakes");
  const assignable = guild.assignableRoleIds();
  const out: string[] = [];
  for (const id of value) {
    if (typeof id !== "string" || !(assignable.has(id) || (current.includes(id) && guild.role(id)))) {
      throw new EmulatorError(400, `roles contains ${JSON.stringify(id)}, not an assignable role of guild ${guild.id}`);
    }
    if (!out.includes(id)) out.push(id);
  }
  return out;
}
