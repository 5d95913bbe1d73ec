/**
 * The state of one seeded guild: a deterministic generated population plus overrides
 * (added, removed and patched members, explicit presences). Nothing is materialised per
 * member; iteration merges the arithmetic id sequence with the sorted overrides.
 */
import type { APIChannel, APIRole, ChannelFlags, RoleFlags } from "discord-api-types/v10";
import { ChannelType } from "discord-api-types/v10";
import { EmulatorError } from "./errors";
import {
  discordTimestamp, firstIndexAfter, generateMember, guildObjectId, indexOfUserId, initialPresence,
  initiallyOnline, OFFLINE, SEEDED_ROLE_NAMES, userIdAt,
} from "./generator";
import type { GuildSpec, PresenceRecord } from "./generator";
import type { MemberPatch, MemberRecord, SeededStaff } from "./types";

const NO_CHANNEL_FLAGS = 0 as ChannelFlags;
const ROLE_COLORS = [0x95a5a6, 0x3498db, 0xe67e22, 0x9b59b6, 0x1abc9c, 0xe91e63, 0x34495e, 0xf1c40f];

/** A guild channel as sent in GUILD_CREATE and GET /guilds/{id}/channels. */
export type GuildChannel = APIChannel & { guild_id?: string };

/** The bot as a member of every guild. */
export interface BotIdentity {
  userId: string;
  username: string;
}

/** One guild's data; see the module comment. All ids are snowflake strings. */
export class GuildState {
  readonly id: string;
  readonly name: string;
  readonly spec: GuildSpec;
  readonly roles: APIRole[];
  readonly channels: GuildChannel[];
  readonly botRoleId: string;
  readonly botUserId: string;
  /** When the bot joined (GUILD_CREATE joined_at). */
  readonly botJoinedAt: string;
  /** Owner: the first generated member, or the bot when there is none. */
  readonly ownerId: string;

  private readonly removed = new Set<string>();
  private readonly patches = new Map<string, MemberPatch>();
  /** Members not produced by the generator (the bot, added ones), sorted by id. */
  private readonly added: MemberRecord[] = [];
  private readonly addedById = new Map<string, MemberRecord>();
  private readonly presences = new Map<string, PresenceRecord>();
  private online: number | null = null;

  constructor(spec: GuildSpec, name: string, bot: BotIdentity) {
    this.id = spec.guildId;
    this.name = name;
    this.spec = spec;
    this.botUserId = bot.userId;
    this.botRoleId = guildObjectId(spec.guildId, SEEDED_ROLE_NAMES.length);
    this.roles = this.buildRoles(bot);
    this.channels = this.buildChannels();
    this.botJoinedAt = discordTimestamp(spec.now - 86_400_000);
    this.ownerId = spec.generatedCount > 0 ? userIdAt(spec, 0).toString() : bot.userId;
    this.insertAdded({
      userId: bot.userId,
      username: bot.username,
      globalName: null,
      avatar: null,
      bot: true,
      nick: null,
      roles: [this.botRoleId],
      joinedAt: this.botJoinedAt,
      premiumSince: null,
      pending: false,
    });
  }

  private buildRoles(bot: BotIdentity): APIRole[] {
    const role = (id: string, name: string, position: number, color: number, permissions: string): APIRole => ({
      id, name, position, color,
      colors: { primary_color: color, secondary_color: null, tertiary_color: null },
      permissions, hoist: false, managed: false, mentionable: false, icon: null, unicode_emoji: null, flags: 0 as RoleFlags,
    });
    const roles: APIRole[] = [role(this.id, "@everyone", 0, 0, "2248473465835073")];
    SEEDED_ROLE_NAMES.forEach((name, k) => {
      const id = k === SEEDED_ROLE_NAMES.length - 1 ? this.spec.staffRoleId : (this.spec.memberRoleIds[k] as string);
      const r = role(id, name, k + 1, ROLE_COLORS[k % ROLE_COLORS.length] ?? 0, name === "Staff" ? "1099511627775" : "2248473465835073");
      if (name === "Staff") {
        r.hoist = true;
        r.mentionable = true;
      }
      roles.push(r);
    });
    const botRole = role(this.botRoleId, bot.username, SEEDED_ROLE_NAMES.length + 1, 0, "8");
    botRole.managed = true;
    botRole.tags = { bot_id: bot.userId };
    roles.push(botRole);
    return roles;
  }

  private buildChannels(): GuildChannel[] {
    const base = SEEDED_ROLE_NAMES.length + 1;
    const categoryId = guildObjectId(this.id, base + 1);
    const text = (k: number, name: string, position: number, topic: string | null): GuildChannel => ({
      id: guildObjectId(this.id, base + k), type: ChannelType.GuildText, guild_id: this.id, name, position,
      permission_overwrites: [], parent_id: categoryId, topic, nsfw: false, rate_limit_per_user: 0, last_message_id: null, flags: NO_CHANNEL_FLAGS,
    });
    return [
      { id: categoryId, type: ChannelType.GuildCategory, guild_id: this.id, name: "Text Channels", position: 0, permission_overwrites: [], parent_id: null, flags: NO_CHANNEL_FLAGS, nsfw: false },
      text(2, "general", 0, "Say hello"),
      text(3, "announcements", 1, "News from the staff"),
      text(4, "staff-room", 2, null),
      {
        id: guildObjectId(this.id, base + 5), type: ChannelType.GuildVoice, guild_id: this.id, name: "Lounge", position: 3,
        permission_overwrites: [], parent_id: categoryId, nsfw: false, rate_limit_per_user: 0, last_message_id: null,
        bitrate: 64000, user_limit: 0, rtc_region: null, flags: NO_CHANNEL_FLAGS,
      },
    ];
  }

  /** The role with this id, if any. */
  role(roleId: string): APIRole | undefined {
    return this.roles.find((r) => r.id === roleId);
  }

  /** Roles a member may be given: everything but @everyone and managed roles. */
  assignableRoleIds(): Set<string> {
    return new Set(this.roles.filter((r) => r.id !== this.id && !r.managed).map((r) => r.id));
  }

  /** member_count right now, the bot included. */
  get memberCount(): number {
    // A generated id removed and added again is in both `removed` and `added`: -1 + 1.
    return this.spec.generatedCount - this.removed.size + this.added.length;
  }

  private generatedIndex(userId: string): number {
    if (!/^[0-9]{1,20}$/.test(userId)) return -1;
    return indexOfUserId(this.spec, BigInt(userId));
  }

  private fromIndex(index: number, userId?: string): MemberRecord | undefined {
    const record = generateMember(this.spec, index);
    if (this.removed.has(userId ?? record.userId)) return undefined;
    const patch = this.patches.get(record.userId);
    if (patch) {
      if (patch.nick !== undefined) record.nick = patch.nick;
      if (patch.roles !== undefined) record.roles = [...patch.roles];
    }
    return record;
  }

  /** The member with this user id, or undefined. */
  member(userId: string): MemberRecord | undefined {
    const added = this.addedById.get(userId);
    if (added) return { ...added, roles: [...added.roles] };
    const index = this.generatedIndex(userId);
    return index < 0 ? undefined : this.fromIndex(index, userId);
  }

  /** The user this id names even if no longer a member (generated or ever added), or undefined. */
  userRecord(userId: string): MemberRecord | undefined {
    const added = this.addedById.get(userId) ?? this.departed.get(userId);
    if (added) return added;
    const index = this.generatedIndex(userId);
    return index < 0 ? undefined : generateMember(this.spec, index);
  }

  private readonly departed = new Map<string, MemberRecord>();

  /** Members in ascending user id order with id > `after`. Lazy: generate only what is consumed. */
  *membersAfter(after: bigint = 0n): Generator<MemberRecord> {
    let index = firstIndexAfter(this.spec, after);
    let nextGenerated = index < this.spec.generatedCount ? userIdAt(this.spec, index) : null;
    let pos = this.firstAddedAfter(after);
    while (true) {
      const addedRecord = this.added[pos];
      const addedId = addedRecord ? BigInt(addedRecord.userId) : null;
      if (nextGenerated === null && addedId === null) return;
      if (nextGenerated !== null && (addedId === null || nextGenerated < addedId)) {
        const id = nextGenerated.toString();
        const current = index;
        index += 1;
        nextGenerated = index < this.spec.generatedCount ? userIdAt(this.spec, index) : null;
        if (this.removed.has(id)) continue;
        const record = this.fromIndex(current, id);
        if (record) yield record;
      } else if (addedRecord) {
        pos += 1;
        yield { ...addedRecord, roles: [...addedRecord.roles] };
      }
    }
  }

  private firstAddedAfter(after: bigint): number {
    let lo = 0;
    let hi = this.added.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (BigInt((this.added[mid] as MemberRecord).userId) <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Members not offline, in no particular order (GUILD_CREATE of a large guild). */
  *onlineMembers(): Generator<MemberRecord> {
    for (let i = 0; i < this.spec.generatedCount; i++) {
      const id = userIdAt(this.spec, i).toString();
      if (this.removed.has(id)) continue;
      const explicit = this.presences.get(id);
      if (explicit ? explicit.status === "offline" : !initiallyOnline(this.spec, i)) continue;
      const record = this.fromIndex(i, id);
      if (record) yield record;
    }
    for (const record of this.added) {
      if ((this.presences.get(record.userId)?.status ?? "offline") !== "offline") yield { ...record, roles: [...record.roles] };
    }
  }

  /** Up to `limit` members with id > `after`, ascending (List Guild Members). */
  list(after: bigint, limit: number): MemberRecord[] {
    const out: MemberRecord[] = [];
    if (limit <= 0) return out;
    for (const record of this.membersAfter(after)) {
      out.push(record);
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * Members whose username or nick starts with `query` (case-insensitive), ascending, at most `limit`.
   * Scans in id order; fine for the sizes seeded today.
   */
  search(query: string, limit: number): MemberRecord[] {
    const q = query.toLowerCase();
    const out: MemberRecord[] = [];
    if (limit <= 0) return out;
    for (const record of this.membersAfter(0n)) {
      if (record.username.toLowerCase().startsWith(q) || (record.nick?.toLowerCase().startsWith(q) ?? false)) {
        out.push(record);
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  /** Generated staff members still in the guild, with their current nick. */
  staff(): SeededStaff[] {
    const out: SeededStaff[] = [];
    for (let i = 0; i < this.spec.staffCount; i++) {
      const m = this.fromIndex(i);
      if (m) out.push({ userId: m.userId, username: m.username, globalName: m.globalName, nick: m.nick });
    }
    return out;
  }

  /** The current presence of a member (offline when unknown). */
  presence(userId: string): PresenceRecord {
    const explicit = this.presences.get(userId);
    if (explicit) return explicit;
    const index = this.generatedIndex(userId);
    return index < 0 || this.removed.has(userId) ? OFFLINE : initialPresence(this.spec, index);
  }

  /** True when the member is online, idle or dnd. */
  isOnline(userId: string): boolean {
    const explicit = this.presences.get(userId);
    if (explicit) return explicit.status !== "offline";
    const index = this.generatedIndex(userId);
    return index >= 0 && !this.removed.has(userId) && initiallyOnline(this.spec, index);
  }

  /** Members not offline (computed once with one pass, then kept up to date). */
  get onlineCount(): number {
    if (this.online === null) {
      let count = 0;
      for (let i = 0; i < this.spec.generatedCount; i++) {
        const id = userIdAt(this.spec, i).toString();
        if (this.removed.has(id)) continue;
        const explicit = this.presences.get(id);
        if (explicit ? explicit.status !== "offline" : initiallyOnline(this.spec, i)) count++;
      }
      for (const record of this.added) if ((this.presences.get(record.userId)?.status ?? "offline") !== "offline") count++;
      this.online = count;
    }
    return this.online;
  }

  private adjustOnline(wasOnline: boolean, isOnline: boolean): void {
    if (this.online !== null && wasOnline !== isOnline) this.online += isOnline ? 1 : -1;
  }

  /** Replaces a member's presence; returns the previous one. Throws 404 for a non-member. */
  setPresence(userId: string, presence: PresenceRecord): PresenceRecord {
    if (!this.hasMember(userId)) throw new EmulatorError(404, `Unknown Member ${userId}`);
    const previous = this.presence(userId);
    this.presences.set(userId, presence);
    this.adjustOnline(previous.status !== "offline", presence.status !== "offline");
    return previous;
  }

  /** True when the user is a member now. */
  hasMember(userId: string): boolean {
    if (this.addedById.has(userId)) return true;
    const index = this.generatedIndex(userId);
    return index >= 0 && !this.removed.has(userId);
  }

  private insertAdded(record: MemberRecord): void {
    const pos = this.firstAddedAfter(BigInt(record.userId));
    this.added.splice(pos, 0, record);
    this.addedById.set(record.userId, record);
  }

  /** Adds a member record (already validated). Throws 409 if the user is a member. */
  addMember(record: MemberRecord): void {
    if (this.hasMember(record.userId)) throw new EmulatorError(409, `user ${record.userId} is already a member`);
    this.departed.delete(record.userId);
    this.insertAdded(record);
  }

  /** Applies nick/roles; returns the updated member. Throws 404 for a non-member. */
  updateMember(userId: string, patch: MemberPatch): MemberRecord {
    const added = this.addedById.get(userId);
    if (added) {
      if (patch.nick !== undefined) added.nick = patch.nick;
      if (patch.roles !== undefined) added.roles = [...patch.roles];
      return { ...added, roles: [...added.roles] };
    }
    if (!this.hasMember(userId)) throw new EmulatorError(404, `Unknown Member ${userId}`);
    const merged = { ...this.patches.get(userId), ...patch };
    this.patches.set(userId, merged);
    return this.member(userId) as MemberRecord;
  }

  /** Removes a member; returns the removed record. Throws 404 for a non-member. */
  removeMember(userId: string): MemberRecord {
    const record = this.member(userId);
    if (!record) throw new EmulatorError(404, `Unknown Member ${userId}`);
    this.adjustOnline(this.isOnline(userId), false);
    this.presences.delete(userId);
    const added = this.addedById.get(userId);
    if (added) {
      this.added.splice(this.added.indexOf(added), 1);
      this.addedById.delete(userId);
      this.departed.set(userId, added);
    } else {
      this.removed.add(userId);
      this.patches.delete(userId);
    }
    return record;
  }

  /** A uniformly random current member id: a generated index, or an added member with probability by count. */
  randomMemberId(random: () => number, staffOnly: boolean): string | undefined {
    const generated = staffOnly ? this.spec.staffCount : this.spec.generatedCount;
    const addedCount = staffOnly ? 0 : this.added.length;
    const total = generated + addedCount;
    if (total === 0) return undefined;
    for (let attempt = 0; attempt < 16; attempt++) {
      const k = Math.floor(random() * total);
      const id = k < generated ? userIdAt(this.spec, k).toString() : this.added[k - generated]?.userId;
      if (id !== undefined && id !== this.botUserId && this.hasMember(id)) return id;
    }
    return undefined;
  }
}
