/**
 * Guild invites the bot creates: a code, `https://discord.gg/<code>`, an age (`max_age` seconds, 0 =
 * never expires), a use limit (`max_uses`, 0 = unlimited) and `temporary` membership. Without `unique`,
 * creating an invite with the settings of a live one the bot made in the same channel answers that one,
 * as Discord does. INVITE_CREATE / INVITE_DELETE go to GUILD_INVITES sessions.
 * https://discord.com/developers/docs/resources/invite
 */
import { randomBytes } from "node:crypto";
import type { APIUser } from "discord-api-types/v10";
import { GatewayDispatchEvents, GatewayIntentBits } from "discord-api-types/v10";
import type { GuildChannel, GuildState } from "./guild";
import type { GuildDispatch } from "./guilds";
import { guildObject } from "./payloads";
import { discordTimestamp } from "./timestamps";

/** Invite settings as Create Channel Invite takes them, checked. Seconds and counts. */
export interface InviteSettings {
  /** Seconds until it expires; 0 = never. Discord's default 86400 (24 h), at most 604800 (7 days). */
  maxAge: number;
  /** Uses allowed; 0 = unlimited (the default), at most 100. */
  maxUses: number;
  temporary: boolean;
  /** Always a new code, never an existing one with the same settings. */
  unique: boolean;
}

/** An invite as the emulator stores it. Times in ms since the Unix epoch. */
export interface StoredInvite {
  code: string;
  guildId: string;
  channelId: string;
  inviterId: string;
  maxAge: number;
  maxUses: number;
  temporary: boolean;
  uses: number;
  createdAt: number;
  deleted: boolean;
}

/** An invite as the control API reports it: its settings, the URL, and whether it still works. */
export interface InviteRecord {
  code: string;
  /** https://discord.gg/<code> */
  url: string;
  guildId: string;
  channelId: string;
  inviterId: string;
  /** Seconds; 0 = never expires. */
  maxAge: number;
  /** 0 = unlimited. */
  maxUses: number;
  temporary: boolean;
  uses: number;
  /** ms since the Unix epoch. */
  createdAt: number;
  /** ms since the Unix epoch, or null for an invite that never expires. */
  expiresAt: number | null;
  /** Deleted, expired or used up. */
  expired: boolean;
  deleted: boolean;
}

const CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random invite code of 10 letters and digits. */
function newCode(): string {
  const bytes = randomBytes(10);
  let code = "";
  for (const b of bytes) code += CODE_ALPHABET[b % CODE_ALPHABET.length];
  return code;
}

/** What invites need from the emulator. */
export interface InvitesContext {
  readonly dispatch: GuildDispatch;
  /** The bot user without private fields (the inviter). */
  botUser(): APIUser;
  log(line: string): void;
}

/** Every invite of every guild, by code. One per emulator. */
export class Invites {
  private readonly byCode = new Map<string, StoredInvite>();

  constructor(private readonly ctx: InvitesContext) {}

  /** The invite with this code (deleted and expired ones included), or undefined. */
  get(code: string): StoredInvite | undefined {
    return this.byCode.get(code);
  }

  /** When the invite stops working, in ms since the Unix epoch, or null. */
  expiresAt(invite: StoredInvite): number | null {
    return invite.maxAge === 0 ? null : invite.createdAt + invite.maxAge * 1000;
  }

  /** True while the invite works: not deleted, not expired, not used up. */
  live(invite: StoredInvite, now = Date.now()): boolean {
    const expiresAt = this.expiresAt(invite);
    return !invite.deleted && (expiresAt === null || expiresAt > now) && (invite.maxUses === 0 || invite.uses < invite.maxUses);
  }

  /**
   * Creates an invite to `channel` made by `inviterId`, or (without `unique`) answers the live one with the
   * same settings made by the same user in that channel. Dispatches INVITE_CREATE for a new one.
   * Returns the invite and whether it is new.
   */
  create(
    guild: GuildState,
    channel: GuildChannel,
    inviterId: string,
    settings: InviteSettings,
  ): { invite: StoredInvite; created: boolean } {
    if (!settings.unique) {
      for (const existing of this.byCode.values()) {
        if (
          existing.channelId === channel.id &&
          existing.inviterId === inviterId &&
          existing.maxAge === settings.maxAge &&
          existing.maxUses === settings.maxUses &&
          existing.temporary === settings.temporary &&
          this.live(existing)
        )
          return { invite: existing, created: false };
      }
    }
    let code = newCode();
    while (this.byCode.has(code)) code = newCode();
    const invite: StoredInvite = {
      code,
      guildId: guild.id,
      channelId: channel.id,
      inviterId,
      maxAge: settings.maxAge,
      maxUses: settings.maxUses,
      temporary: settings.temporary,
      uses: 0,
      createdAt: Date.now(),
      deleted: false,
    };
    this.byCode.set(code, invite);
    const expiresAt = this.expiresAt(invite);
    this.ctx.dispatch(
      guild,
      GatewayDispatchEvents.InviteCreate,
      {
        channel_id: channel.id,
        code,
        created_at: discordTimestamp(invite.createdAt),
        guild_id: guild.id,
        inviter: this.ctx.botUser(),
        max_age: invite.maxAge,
        max_uses: invite.maxUses,
        temporary: invite.temporary,
        uses: 0,
        expires_at: expiresAt === null ? null : discordTimestamp(expiresAt),
        type: 0,
      },
      GatewayIntentBits.GuildInvites,
    );
    this.ctx.log(
      `invite ${code} created for channel ${channel.id} of ${guild.id} (max_age ${invite.maxAge} s, max_uses ${invite.maxUses})`,
    );
    return { invite, created: true };
  }

  /** Deletes an invite and dispatches INVITE_DELETE. */
  delete(guild: GuildState, invite: StoredInvite): void {
    invite.deleted = true;
    this.ctx.dispatch(
      guild,
      GatewayDispatchEvents.InviteDelete,
      { channel_id: invite.channelId, guild_id: invite.guildId, code: invite.code },
      GatewayIntentBits.GuildInvites,
    );
  }

  /** The live invites of a guild (or of one channel), oldest first. */
  list(guildId: string, channelId?: string): StoredInvite[] {
    return [...this.byCode.values()].filter(
      (i) => i.guildId === guildId && (channelId === undefined || i.channelId === channelId) && this.live(i),
    );
  }

  /** Every invite of a guild, deleted and expired ones included, as the control API reports them. */
  records(guildId: string): InviteRecord[] {
    return [...this.byCode.values()].filter((i) => i.guildId === guildId).map((i) => this.record(i));
  }

  /** One invite as the control API reports it. */
  record(i: StoredInvite): InviteRecord {
    return {
      code: i.code,
      url: `https://discord.gg/${i.code}`,
      guildId: i.guildId,
      channelId: i.channelId,
      inviterId: i.inviterId,
      maxAge: i.maxAge,
      maxUses: i.maxUses,
      temporary: i.temporary,
      uses: i.uses,
      createdAt: i.createdAt,
      expiresAt: this.expiresAt(i),
      expired: !this.live(i),
      deleted: i.deleted,
    };
  }

  /**
   * The invite object (https://discord.com/developers/docs/resources/invite#invite-object), with the
   * invite metadata (uses, max_uses, max_age, temporary, created_at) when `metadata`.
   */
  object(guild: GuildState, invite: StoredInvite, metadata: boolean, withCounts = false): Record<string, unknown> {
    const g = guildObject(guild, false);
    const channel = guild.channels.find((c) => c.id === invite.channelId);
    const expiresAt = this.expiresAt(invite);
    const out: Record<string, unknown> = {
      type: 0,
      code: invite.code,
      inviter: this.ctx.botUser(),
      expires_at: expiresAt === null ? null : discordTimestamp(expiresAt),
      flags: 0,
      guild: {
        id: g.id,
        name: g.name,
        splash: g.splash,
        banner: g.banner,
        description: g.description,
        icon: g.icon,
        features: g.features,
        verification_level: g.verification_level,
        vanity_url_code: g.vanity_url_code,
        nsfw_level: g.nsfw_level,
        nsfw: g.nsfw,
        premium_subscription_count: g.premium_subscription_count,
      },
      guild_id: guild.id,
      channel: { id: invite.channelId, type: channel?.type ?? 0, name: channel?.name ?? "" },
    };
    if (withCounts) {
      out.approximate_member_count = guild.memberCount;
      out.approximate_presence_count = guild.onlineCount;
    }
    if (metadata) {
      out.uses = invite.uses;
      out.max_uses = invite.maxUses;
      out.max_age = invite.maxAge;
      out.temporary = invite.temporary;
      out.created_at = discordTimestamp(invite.createdAt);
    }
    return out;
  }
}
