/**
 * Membership changes: members joining, changing and leaving, each stored in the guild and
 * dispatched as GUILD_MEMBER_ADD / _UPDATE / _REMOVE to GUILD_MEMBERS sessions. The control API
 * uses it today; REST member routes (PATCH member, role PUT/DELETE) change members through it too.
 * https://discord.com/developers/docs/events/gateway-events#guild-member-add
 */
import { GatewayDispatchEvents, GatewayIntentBits } from "discord-api-types/v10";
import { EmulatorError } from "./errors";
import type { GuildState } from "./guild";
import type { GuildDispatch } from "./guilds";
import type { MemberFields } from "./inputs";
import { memberObject, userObject } from "./payloads";
import { hash3, Rng } from "./random";
import { newSnowflake, snowflakeAt } from "./snowflake";
import { discordTimestamp } from "./timestamps";
import type { MemberChangesResult, MemberPatch, MemberRecord, MemberUpdateShape } from "./types";
import { ADJECTIVES, NOUNS } from "./words";

/** Changes the members of guilds and tells the gateway. */
export class Membership {
  constructor(
    private readonly dispatch: GuildDispatch,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Adds a member from checked fields, generating what is missing, and dispatches GUILD_MEMBER_ADD.
   * A user who was a member before (generated, or added and removed) rejoins as the same user: same
   * name and avatar, a fresh member (no nick or roles, joined_at now). Throws 409 if already a member.
   */
  add(guild: GuildState, fields: MemberFields, announce = true): MemberRecord {
    const userId = fields.userId ?? newSnowflake();
    const rng = new Rng(hash3(Number(BigInt(userId) % 2n ** 52n), 0, 5));
    const known = fields.userId === undefined ? undefined : guild.userRecord(userId);
    const record: MemberRecord = {
      userId,
      username: fields.username ?? known?.username ?? `${rng.pick(ADJECTIVES)}${rng.pick(NOUNS)}${userId.slice(-4)}`,
      globalName: fields.globalName !== undefined ? fields.globalName : (known?.globalName ?? null),
      avatar: fields.avatar !== undefined ? fields.avatar : known ? known.avatar : rng.hex(32),
      bot: fields.bot ?? known?.bot ?? false,
      nick: fields.nick ?? null,
      roles: fields.roles ?? [],
      joinedAt: fields.joinedAt ?? discordTimestamp(Date.now()),
      premiumSince: null,
      pending: fields.pending ?? false,
    };
    guild.addMember(record);
    if (announce) {
      this.dispatch(
        guild,
        GatewayDispatchEvents.GuildMemberAdd,
        { ...memberObject(record), guild_id: guild.id },
        GatewayIntentBits.GuildMembers,
      );
    }
    return { ...record, roles: [...record.roles] };
  }

  /** Applies a checked nick/roles patch and dispatches GUILD_MEMBER_UPDATE. Throws 404 for a non-member. */
  update(guild: GuildState, userId: string, patch: MemberPatch, announce = true): MemberRecord {
    const record = guild.updateMember(userId, patch);
    if (announce) {
      this.dispatch(
        guild,
        GatewayDispatchEvents.GuildMemberUpdate,
        { ...memberObject(record), guild_id: guild.id },
        GatewayIntentBits.GuildMembers,
      );
    }
    return record;
  }

  /**
   * Dispatches GUILD_MEMBER_UPDATE with the member's object shaped by `shape` (keys omitted,
   * keys replaced), changing nothing stored. Returns the payload. Throws 404 for a non-member.
   */
  sendUpdate(guild: GuildState, userId: string, shape: Required<MemberUpdateShape>): Record<string, unknown> {
    const record = guild.member(userId);
    if (!record) throw new EmulatorError(404, `Unknown Member ${userId}`);
    const payload: Record<string, unknown> = { ...memberObject(record), ...shape.set, guild_id: guild.id };
    for (const key of shape.omit) delete payload[key];
    this.dispatch(guild, GatewayDispatchEvents.GuildMemberUpdate, payload, GatewayIntentBits.GuildMembers);
    return payload;
  }

  /** Removes a member and dispatches GUILD_MEMBER_REMOVE. Throws 400 for the bot, 404 for a non-member. */
  remove(guild: GuildState, userId: string, announce = true): void {
    if (userId === guild.botUserId) throw new EmulatorError(400, "userId is the bot; the bot cannot leave a seeded guild");
    const record = guild.removeMember(userId);
    if (announce) {
      this.dispatch(
        guild,
        GatewayDispatchEvents.GuildMemberRemove,
        { guild_id: guild.id, user: userObject(record) },
        GatewayIntentBits.GuildMembers,
      );
    }
  }

  /**
   * Deterministic membership churn (see Emulator.applyMemberChanges): `leave` members leave, `join`
   * new users join, `update` members change nick or roles, picked and named from `seed` and the
   * guild's state; never the bot, the owner or the seeded admins. `silent`: no gateway events. Throws 400 when `leave + update`
   * exceeds the members that may change.
   */
  applyChanges(
    guild: GuildState,
    changes: Required<{ leave: number; join: number; update: number; seed: number; silent: boolean }>,
  ): MemberChangesResult {
    const { leave, join, update, seed } = changes;
    const announce = !changes.silent;
    // The bot, the owner and the seeded admins stay: they are the fixtures of permission tests.
    const keep = new Set([guild.botUserId, guild.ownerId, ...guild.admins()]);
    const eligible = guild.memberCount - [...keep].filter((id) => guild.hasMember(id)).length;
    if (leave + update > eligible) {
      throw new EmulatorError(
        400,
        `leave + update must be at most ${eligible} (members other than the bot, the owner and the admins), got ${leave + update}`,
      );
    }
    const rng = new Rng(hash3(seed, guild.spec.seed, 31));
    const picked = guild.sampleMemberIds(() => rng.next(), leave + update, keep);
    const left = picked.slice(0, leave);
    const updated = picked.slice(leave);
    for (const userId of left) this.remove(guild, userId, announce);

    const joined: string[] = [];
    for (let k = 0; k < join; k++) {
      const h = hash3(seed, k, 37);
      // Created 2020..2025, low bits from the hash; bump until the id is new to the guild.
      let id = snowflakeAt(Date.UTC(2020, 0, 1) + (h % 157_680_000) * 1000 + 1, hash3(seed, k, 41));
      while (guild.userRecord(id.toString()) !== undefined || guild.hasMember(id.toString())) id += 1n;
      joined.push(this.add(guild, { userId: id.toString() }, announce).userId);
    }

    const ordinary = guild.spec.memberRoleIds;
    updated.forEach((userId, k) => {
      const current = guild.member(userId) as MemberRecord;
      if (k % 2 === 0) {
        let nick: string | null = `${capitalize(rng.pick(ADJECTIVES))} ${capitalize(rng.pick(NOUNS))}`;
        if (current.nick !== null && rng.next() < 0.3) nick = null;
        if (nick === current.nick) nick = `${nick ?? "Renamed"} II`;
        this.update(guild, userId, { nick }, announce);
      } else {
        const role = ordinary[rng.int(ordinary.length)] as string;
        const roles = current.roles.includes(role) ? current.roles.filter((r) => r !== role) : [...current.roles, role];
        this.update(guild, userId, { roles }, announce);
      }
    });
    this.log(
      `member changes in ${guild.id}: ${left.length} left, ${joined.length} joined, ${updated.length} updated (seed ${seed}${announce ? "" : ", silent"})`,
    );
    return { left, joined, updated };
  }
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
