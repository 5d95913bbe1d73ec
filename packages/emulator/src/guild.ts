/**
 * The state of one seeded guild: a deterministic generated population plus overrides
 * (added, removed and patched members, explicit presences). Nothing is materialised per
 * member; iteration merges the arithmetic id sequence with the sorted overrides.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { APIChannel, APIRole, ChannelFlags, RoleFlags } from "discord-api-types/v10";
import { ChannelType, PermissionFlagsBits } from "discord-api-types/v10";
import type { PresenceRecord } from "./activities";
import { OFFLINE } from "./activities";
import { EmulatorError } from "./errors";
import type { GuildSpec } from "./generator";
import {
  firstIndexAfter,
  guildObjectId,
  indexOfUserId,
  MANAGED_ROLE_SLOTS,
  MemberGenerator,
  SEEDED_ROLE_NAMES,
  userIdAt,
  userIdStringAt,
} from "./generator";
import type { JsonWriter } from "./jsonwriter";
import { memberJson } from "./payloads";
import { isSnowflake } from "./snowflake";
import { discordTimestamp } from "./timestamps";
import type { MemberPatch, MemberRecord, SeededStaff } from "./types";

const NO_CHANNEL_FLAGS = 0 as ChannelFlags;
const ROLE_COLORS = [0x95a5a6, 0x3498db, 0xe67e22, 0x9b59b6, 0x1abc9c, 0xe91e63, 0x34495e, 0xf1c40f];
const P = PermissionFlagsBits;

/** Every permission bit Discord defines: what the owner and ADMINISTRATOR holders have. */
export const ALL_PERMISSIONS = Object.values(P).reduce((a, b) => a | b, 0n);
/** @everyone (and the ordinary seeded roles): chat, voice, threads, events, application commands. */
const EVERYONE_PERMISSIONS = 2_248_473_465_835_073n;
/** Staff: moderators (kick, ban, timeouts, messages, nicknames, voice), not MANAGE_GUILD or ADMINISTRATOR. */
const STAFF_PERMISSIONS =
  EVERYONE_PERMISSIONS |
  P.KickMembers |
  P.BanMembers |
  P.ViewAuditLog |
  P.PrioritySpeaker |
  P.ManageMessages |
  P.MuteMembers |
  P.DeafenMembers |
  P.MoveMembers |
  P.ManageNicknames |
  P.ManageThreads |
  P.ModerateMembers;
/** Admin: MANAGE_GUILD (1 << 5) and MANAGE_WEBHOOKS (1 << 29, for `webhook.incoming` installs) on top of @everyone's. */
const ADMIN_PERMISSIONS = EVERYONE_PERMISSIONS | P.ManageGuild | P.ManageWebhooks;
/** Yield to the event loop after this much synchronous scanning, in ms. */
const SCAN_SLICE_MS = 8;

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
  /** This guild's member generator (its own PRNG stream; see generator.ts). */
  readonly generator: MemberGenerator;
  readonly roles: APIRole[];
  readonly channels: GuildChannel[];
  readonly botRoleId: string;
  readonly botUserId: string;
  /** When the bot joined (GUILD_CREATE joined_at); set again when it is added back (installs.ts). */
  botJoinedAt: string;
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
    this.generator = new MemberGenerator(spec);
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
      id,
      name,
      position,
      color,
      colors: { primary_color: color, secondary_color: null, tertiary_color: null },
      permissions,
      hoist: false,
      managed: false,
      mentionable: false,
      icon: null,
      unicode_emoji: null,
      flags: 0 as RoleFlags,
    });
    const roles: APIRole[] = [role(this.id, "@everyone", 0, 0, String(EVERYONE_PERMISSIONS))];
    SEEDED_ROLE_NAMES.forEach((name, k) => {
      const id = k === SEEDED_ROLE_NAMES.length - 1 ? this.spec.staffRoleId : (this.spec.memberRoleIds[k] as string);
      const r = role(
        id,
        name,
        k + 1,
        ROLE_COLORS[k % ROLE_COLORS.length] ?? 0,
        String(name === "Staff" ? STAFF_PERMISSIONS : EVERYONE_PERMISSIONS),
      );
      if (name === "Staff") {
        r.hoist = true;
        r.mentionable = true;
      }
      roles.push(r);
    });
    // Managed roles (https://discord.com/developers/docs/topics/permissions#role-object-role-tags-structure): no
    // bot may grant or remove them; a PATCH of a member's roles must carry them unchanged.
    let position = SEEDED_ROLE_NAMES.length + 1;
    const booster = role(this.spec.boosterRoleId, "Server Booster", position++, 0xf47fff, "0");
    booster.managed = true;
    booster.tags = { premium_subscriber: null };
    const integration = role(this.spec.integrationRoleId, "Twitch Subscriber", position++, 0x9146ff, "0");
    integration.managed = true;
    integration.tags = { integration_id: guildObjectId(this.id, MANAGED_ROLE_SLOTS.integrationObject) };
    const linked = role(this.spec.linkedRoleId, "Verified", position++, 0x2ecc71, "0");
    linked.managed = true;
    linked.tags = { guild_connections: null };
    roles.push(booster, integration, linked);
    const admin = role(this.spec.adminRoleId, "Admin", position++, 0xe74c3c, String(ADMIN_PERMISSIONS));
    admin.hoist = true;
    roles.push(admin);
    const botRole = role(this.botRoleId, bot.username, position, 0, String(P.Administrator));
    botRole.managed = true;
    botRole.tags = { bot_id: bot.userId };
    roles.push(botRole);
    return roles;
  }

  private buildChannels(): GuildChannel[] {
    const base = SEEDED_ROLE_NAMES.length + 1;
    const categoryId = guildObjectId(this.id, base + 1);
    const text = (k: number, name: string, position: number, topic: string | null): GuildChannel => ({
      id: guildObjectId(this.id, base + k),
      type: ChannelType.GuildText,
      guild_id: this.id,
      name,
      position,
      permission_overwrites: [],
      parent_id: categoryId,
      topic,
      nsfw: false,
      rate_limit_per_user: 0,
      last_message_id: null,
      flags: NO_CHANNEL_FLAGS,
    });
    return [
      {
        id: categoryId,
        type: ChannelType.GuildCategory,
        guild_id: this.id,
        name: "Text Channels",
        position: 0,
        permission_overwrites: [],
        parent_id: null,
        flags: NO_CHANNEL_FLAGS,
        nsfw: false,
      },
      text(2, "general", 0, "Say hello"),
      text(3, "announcements", 1, "News from the staff"),
      text(4, "staff-room", 2, null),
      {
        id: guildObjectId(this.id, base + 5),
        type: ChannelType.GuildVoice,
        guild_id: this.id,
        name: "Lounge",
        position: 3,
        permission_overwrites: [],
        parent_id: categoryId,
        nsfw: false,
        rate_limit_per_user: 0,
        last_message_id: null,
        bitrate: 64000,
        user_limit: 0,
        rtc_region: null,
        flags: NO_CHANNEL_FLAGS,
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
    if (!isSnowflake(userId)) return -1;
    return indexOfUserId(this.spec, BigInt(userId));
  }

  private fromIndex(index: number, userId?: string): MemberRecord | undefined {
    const record = this.generator.member(index);
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
    return index < 0 ? undefined : this.generator.member(index);
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

  /**
   * Writes up to `limit` members with id > `after`, ascending, as guild member object JSON separated
   * by commas (each exactly JSON.stringify(memberObject(record))): the List Guild Members and
   * GUILD_MEMBERS_CHUNK path. Seeks arithmetically (index from the snowflake, binary search in the
   * added members), so a call costs O(limit + log added) whatever the guild size.
   * Returns the user ids written, in order.
   */
  writeMembers(w: JsonWriter, after: bigint, limit: number): string[] {
    const userIds: string[] = [];
    const spec = this.spec;
    const generator = this.generator;
    let index = firstIndexAfter(spec, after);
    let pos = this.firstAddedAfter(after);
    const checkRemoved = this.removed.size > 0;
    const checkPatches = this.patches.size > 0;
    while (userIds.length < limit) {
      const added = this.added[pos];
      // Generated indices below `bound` have ids below the next added member's id.
      const bound = added ? Math.min(spec.generatedCount, firstIndexAfter(spec, BigInt(added.userId))) : spec.generatedCount;
      while (index < bound && userIds.length < limit) {
        const id = userIdStringAt(spec, index);
        if (!(checkRemoved && this.removed.has(id))) {
          if (userIds.length > 0) w.ascii(",");
          generator.writeMemberJson(w, index, id, checkPatches ? this.patches.get(id) : undefined);
          userIds.push(id);
        }
        index += 1;
      }
      if (userIds.length >= limit || !added) break;
      if (userIds.length > 0) w.ascii(",");
      w.text(memberJson(added));
      userIds.push(added.userId);
      pos += 1;
    }
    return userIds;
  }

  /** Members not offline, in no particular order (GUILD_CREATE of a large guild). */
  *onlineMembers(): Generator<MemberRecord> {
    for (let i = 0; i < this.spec.generatedCount; i++) {
      const id = userIdAt(this.spec, i).toString();
      if (this.removed.has(id)) continue;
      const explicit = this.presences.get(id);
      if (explicit ? explicit.status === "offline" : !this.generator.initiallyOnline(i)) continue;
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
   * A scan in id order (Discord indexes this; the emulator does not), so {@link searchAsync} is the
   * one to use where the guild may be big.
   */
  search(query: string, limit: number): MemberRecord[] {
    const out: MemberRecord[] = [];
    const scan = this.searchScan(query, limit, out);
    while (!scan.next().done);
    return out;
  }

  /**
   * {@link search} that yields to the event loop every few ms, so a prefix search over a
   * 1,000,000-member guild does not stall the gateway and REST for the whole scan.
   */
  async searchAsync(query: string, limit: number): Promise<MemberRecord[]> {
    const out: MemberRecord[] = [];
    const scan = this.searchScan(query, limit, out);
    let sliceStart = performance.now();
    for (let step = scan.next(); !step.done; step = scan.next()) {
      if (performance.now() - sliceStart > SCAN_SLICE_MS) {
        await yieldToLoop();
        sliceStart = performance.now();
      }
    }
    return out;
  }

  /** Pushes matches into `out`; yields every 512 members scanned so callers can pace themselves. */
  private *searchScan(query: string, limit: number, out: MemberRecord[]): Generator<void> {
    const q = query.toLowerCase();
    if (limit <= 0) return;
    const matches = (r: MemberRecord) => r.username.toLowerCase().startsWith(q) || (r.nick?.toLowerCase().startsWith(q) ?? false);
    const spec = this.spec;
    let index = 0;
    let scanned = 0;
    for (let pos = 0; ; pos++) {
      const added = this.added[pos];
      // Generated indices below `bound` have ids below the next added member's id.
      const bound = added ? Math.min(spec.generatedCount, firstIndexAfter(spec, BigInt(added.userId))) : spec.generatedCount;
      for (; index < bound; index++) {
        if (++scanned % 512 === 0) yield;
        const names = this.generator.namesMatch(index, q);
        const patched = this.patches.size > 0 ? this.patches.get(userIdStringAt(spec, index)) : undefined;
        // Cheap test first; a patched nick or a removal needs the full record.
        if (!names.username && !names.nick && patched?.nick === undefined) continue;
        const record = this.fromIndex(index);
        if (record && matches(record)) {
          out.push(record);
          if (out.length >= limit) return;
        }
      }
      if (!added) return;
      if (matches(added)) {
        out.push({ ...added, roles: [...added.roles] });
        if (out.length >= limit) return;
      }
    }
  }

  /**
   * A member's guild-level permissions as a decimal bitfield string: the OR of @everyone's and their
   * roles' permissions; every permission for the owner or a holder of ADMINISTRATOR; undefined for a
   * non-member. https://discord.com/developers/docs/topics/permissions#permission-overwrites (base permissions)
   */
  permissions(userId: string): string | undefined {
    const member = this.member(userId);
    if (!member) return undefined;
    if (userId === this.ownerId) return String(ALL_PERMISSIONS);
    let bits = BigInt(this.role(this.id)?.permissions ?? "0");
    for (const roleId of member.roles) bits |= BigInt(this.role(roleId)?.permissions ?? "0");
    return String((bits & P.Administrator) !== 0n ? ALL_PERMISSIONS : bits);
  }

  /** User ids of the generated members seeded with the Admin role (see SeedOptions.admins). */
  admins(): string[] {
    return this.spec.adminIndices.map((i) => userIdStringAt(this.spec, i));
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
    return index < 0 || this.removed.has(userId) ? OFFLINE : this.generator.initialPresence(index);
  }

  /** True when the member is online, idle or dnd. */
  isOnline(userId: string): boolean {
    const explicit = this.presences.get(userId);
    if (explicit) return explicit.status !== "offline";
    const index = this.generatedIndex(userId);
    return index >= 0 && !this.removed.has(userId) && this.generator.initiallyOnline(index);
  }

  /**
   * Members not offline. The generated members' initial states are counted once (one presence draw
   * each, ~50 ns; {@link warmOnlineCount} does it in slices right after seeding), then removed members
   * and explicit presences are applied, and the count is kept up to date from then on.
   */
  get onlineCount(): number {
    if (this.online === null) {
      this.countInitiallyOnline(this.spec.generatedCount);
      let count = this.initialScan.count;
      for (const id of this.removed) {
        // Removal deletes any explicit presence, so a removed member counted only if initially online.
        const index = this.generatedIndex(id);
        if (index >= 0 && this.generator.initiallyOnline(index)) count--;
      }
      for (const [id, presence] of this.presences) {
        const explicitOnline = presence.status !== "offline";
        if (this.addedById.has(id)) {
          if (explicitOnline) count++;
          continue;
        }
        const index = this.generatedIndex(id);
        if (index < 0 || this.removed.has(id)) continue;
        count += (explicitOnline ? 1 : 0) - (this.generator.initiallyOnline(index) ? 1 : 0);
      }
      this.online = count;
    }
    return this.online;
  }

  /** Generated members [0, next) scanned so far and how many of them start online. */
  private readonly initialScan = { next: 0, count: 0 };

  private countInitiallyOnline(until: number): void {
    const scan = this.initialScan;
    for (let i = scan.next; i < until; i++) if (this.generator.initiallyOnline(i)) scan.count++;
    scan.next = Math.max(scan.next, until);
  }

  /**
   * Counts the generated members' initial presences in slices of 65,536 (a few ms each) so that the
   * first {@link onlineCount} of a 1,000,000-member guild does not stall the event loop for ~50 ms.
   */
  async warmOnlineCount(): Promise<void> {
    while (this.online === null && this.initialScan.next < this.spec.generatedCount) {
      this.countInitiallyOnline(Math.min(this.spec.generatedCount, this.initialScan.next + 65_536));
      await yieldToLoop();
    }
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

  /**
   * Takes a deleted role off every member: generated members (their seeded role lists), patched members
   * and added ones. Returns nothing; the caller removes the role itself from {@link roles}.
   */
  dropRoleFromMembers(roleId: string): void {
    this.generator.dropRole(roleId);
    for (const patch of this.patches.values()) if (patch.roles?.includes(roleId)) patch.roles = patch.roles.filter((r) => r !== roleId);
    for (const record of this.added) if (record.roles.includes(roleId)) record.roles = record.roles.filter((r) => r !== roleId);
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

  /**
   * `count` distinct current member ids not in `exclude`, drawn with `random` (deterministic for the
   * same draws and state). Small guilds shuffle the member list; big ones sample indices.
   * The caller guarantees there are enough members.
   */
  sampleMemberIds(random: () => number, count: number, exclude: ReadonlySet<string>): string[] {
    if (count <= 0) return [];
    const population = this.spec.generatedCount + this.added.length;
    if (population <= 50_000 || count * 4 > population) {
      const ids: string[] = [];
      for (const record of this.membersAfter(0n)) if (!exclude.has(record.userId)) ids.push(record.userId);
      for (let i = 0; i < count; i++) {
        const j = i + Math.floor(random() * (ids.length - i));
        [ids[i], ids[j]] = [ids[j] as string, ids[i] as string];
      }
      return ids.slice(0, count);
    }
    const picked = new Set<string>();
    while (picked.size < count) {
      const k = Math.floor(random() * population);
      const id =
        k < this.spec.generatedCount ? userIdStringAt(this.spec, k) : (this.added[k - this.spec.generatedCount] as MemberRecord).userId;
      if (!exclude.has(id) && !picked.has(id) && this.hasMember(id)) picked.add(id);
    }
    return [...picked];
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
