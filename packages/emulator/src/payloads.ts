/**
 * Converts emulator records into Discord's JSON shapes (discord-api-types v10), checked
 * against discord/discord-api-spec by the tests.
 */
import type {
  APIApplication,
  APIGuild,
  APIGuildMember,
  APIUser,
  GatewayGuildMembersChunkPresence,
  GatewayPresenceUpdate,
  GuildMemberFlags,
  UserFlags,
} from "discord-api-types/v10";
import {
  ApplicationFlags,
  GatewayIntentBits,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  Locale,
} from "discord-api-types/v10";
import type { PresenceRecord } from "./activities";
import { USER_TAIL } from "./generator";
import type { GuildState } from "./guild";
import type { MemberRecord } from "./types";

/** Fields Discord sends on every user object that discord-api-types marks optional. */
type FullUser = APIUser & { primary_guild: null; public_flags: UserFlags; flags: UserFlags };

/** A user object (https://discord.com/developers/docs/resources/user#user-object). */
export function userObject(record: MemberRecord): FullUser {
  const user: FullUser = {
    id: record.userId,
    username: record.username,
    global_name: record.globalName,
    avatar: record.avatar,
    discriminator: "0",
    public_flags: 0 as UserFlags,
    flags: 0 as UserFlags,
    banner: null,
    accent_color: null,
    avatar_decoration_data: null,
    collectibles: null,
    primary_guild: null,
  };
  if (record.bot) user.bot = true;
  return user;
}

/** A guild member object (https://discord.com/developers/docs/resources/guild#guild-member-object). */
export function memberObject(record: MemberRecord): APIGuildMember {
  return {
    user: userObject(record),
    nick: record.nick,
    avatar: null,
    banner: null,
    roles: record.roles,
    joined_at: record.joinedAt,
    premium_since: record.premiumSince,
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    pending: record.pending,
    communication_disabled_until: null,
  };
}

/**
 * JSON.stringify(memberObject(record)), built as one string: the member lists of a big guild are
 * serialised a million times. Strings go through JSON.stringify only when they need escaping.
 */
export function memberJson(record: MemberRecord): string {
  return (
    `{"user":{"id":"${record.userId}","username":${str(record.username)},"global_name":${strOrNull(record.globalName)},` +
    `"avatar":${strOrNull(record.avatar)},${USER_TAIL}${record.bot ? ',"bot":true}' : "}"},` +
    `"nick":${strOrNull(record.nick)},"avatar":null,"banner":null,"roles":${JSON.stringify(record.roles)},"joined_at":${str(record.joinedAt)},` +
    `"premium_since":${strOrNull(record.premiumSince)},"deaf":false,"mute":false,"flags":0,` +
    `"pending":${record.pending},"communication_disabled_until":null}`
  );
}

const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
function str(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}
function strOrNull(value: string | null): string {
  return value === null ? "null" : str(value);
}

/** A presence without guild_id, as in GUILD_MEMBERS_CHUNK; `user` is the full user when given, else `{id}`. */
export function chunkPresenceObject(userId: string, presence: PresenceRecord, user?: MemberRecord): GatewayGuildMembersChunkPresence {
  return {
    user: user ? userObject(user) : { id: userId },
    status: presence.status,
    activities: presence.activities,
    client_status: presence.client_status,
  };
}

/** A PRESENCE_UPDATE payload (https://discord.com/developers/docs/events/gateway-events#presence-update). */
export function presenceObject(guildId: string, userId: string, presence: PresenceRecord, user?: MemberRecord): GatewayPresenceUpdate {
  return { ...chunkPresenceObject(userId, presence, user), guild_id: guildId };
}

/** The bot user as /users/@me and READY show it (with the private fields). */
export function botUserObject(userId: string, username: string): APIUser & { primary_guild: null; locale: Locale } {
  return {
    id: userId,
    username,
    global_name: null,
    avatar: null,
    discriminator: "0",
    public_flags: 0 as UserFlags,
    flags: 0 as UserFlags,
    bot: true,
    verified: true,
    mfa_enabled: false,
    email: null,
    locale: Locale.EnglishUS,
    premium_type: 0,
    banner: null,
    accent_color: null,
    avatar_decoration_data: null,
    collectibles: null,
    primary_guild: null,
  };
}

/** Application flags advertising which privileged intents are enabled (the *_LIMITED bits of an unverified app). */
export function applicationFlags(allowedPrivilegedIntents: number): number {
  let flags = 0;
  if (allowedPrivilegedIntents & GatewayIntentBits.GuildPresences) flags |= ApplicationFlags.GatewayPresenceLimited;
  if (allowedPrivilegedIntents & GatewayIntentBits.GuildMembers) flags |= ApplicationFlags.GatewayGuildMembersLimited;
  if (allowedPrivilegedIntents & GatewayIntentBits.MessageContent) flags |= ApplicationFlags.GatewayMessageContentLimited;
  return flags;
}

/** Inputs for {@link applicationObject}. */
export interface ApplicationInfo {
  id: string;
  name: string;
  flags: number;
  verifyKey: string;
  bot: APIUser;
  owner: APIUser;
  guildCount: number;
}

/** GET /applications/@me (https://discord.com/developers/docs/resources/application#get-current-application). */
export function applicationObject(info: ApplicationInfo): APIApplication & Record<string, unknown> {
  return {
    id: info.id,
    name: info.name,
    icon: null,
    description: "",
    summary: "",
    type: null,
    bot_public: true,
    bot_require_code_grant: false,
    bot: info.bot,
    owner: info.owner,
    verify_key: info.verifyKey,
    flags: info.flags,
    flags_new: String(info.flags),
    team: null,
    redirect_uris: [],
    interactions_endpoint_url: null,
    role_connections_verification_url: null,
    approximate_guild_count: info.guildCount,
    approximate_user_install_count: 0,
    approximate_user_authorization_count: 0,
    explicit_content_filter: 0,
    eligible_oauth2_scopes: [],
    hook: true,
    is_monetized: false,
    rpc_origins: [],
  };
}

/** The guild object (https://discord.com/developers/docs/resources/guild#guild-object) without gateway-only fields. */
export function guildObject(guild: GuildState, withCounts: boolean): APIGuild & Record<string, unknown> {
  const general = guild.channels.find((c) => c.name === "general");
  const boosts = Math.floor(guild.spec.generatedCount * 0.03);
  const body: APIGuild & Record<string, unknown> = {
    id: guild.id,
    name: guild.name,
    icon: null,
    description: null,
    home_header: null,
    splash: null,
    discovery_splash: null,
    features: [],
    banner: null,
    owner_id: guild.ownerId,
    application_id: null,
    region: "deprecated",
    afk_channel_id: null,
    afk_timeout: 300,
    system_channel_id: general?.id ?? null,
    system_channel_flags: GuildSystemChannelFlags.SuppressJoinNotificationReplies,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: GuildVerificationLevel.Low,
    roles: guild.roles,
    default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
    mfa_level: GuildMFALevel.None,
    explicit_content_filter: GuildExplicitContentFilter.AllMembers,
    max_presences: null,
    max_members: 25_000_000,
    max_stage_video_channel_users: 50,
    max_video_channel_users: 25,
    vanity_url_code: null,
    premium_tier:
      boosts >= 14
        ? GuildPremiumTier.Tier3
        : boosts >= 7
          ? GuildPremiumTier.Tier2
          : boosts >= 2
            ? GuildPremiumTier.Tier1
            : GuildPremiumTier.None,
    premium_subscription_count: boosts,
    preferred_locale: Locale.EnglishUS,
    rules_channel_id: null,
    safety_alerts_channel_id: null,
    public_updates_channel_id: null,
    premium_progress_bar_enabled: false,
    nsfw: false,
    nsfw_level: GuildNSFWLevel.Default,
    emojis: [],
    stickers: [],
    incidents_data: null,
    hub_type: null,
  };
  if (withCounts) {
    body.approximate_member_count = guild.memberCount;
    body.approximate_presence_count = guild.onlineCount;
  }
  return body;
}
