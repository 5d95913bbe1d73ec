/**
 * Invite routes as the bot: Create Channel Invite (`max_age: 0` never expires), Get Channel Invites,
 * Get Guild Invites, Get Invite and Delete Invite, with Discord's permission checks
 * (CREATE_INSTANT_INVITE, MANAGE_CHANNELS, MANAGE_GUILD) and the audit log.
 * https://discord.com/developers/docs/resources/channel#create-channel-invite
 */
import { ChannelType, PermissionFlagsBits, RESTJSONErrorCodes } from "discord-api-types/v10";
import type { AuditLog } from "../audit";
import { AuditAction, auditReason } from "../audit";
import { DiscordHttpError, FormErrors } from "../discorderrors";
import type { GuildChannel, GuildState } from "../guild";
import type { InviteSettings, Invites, StoredInvite } from "../invites";
import { botHas, missingPermissions, requireBotPermission } from "../permissions";
import { isPlainObject } from "../validate";
import type { Reply, Route } from "./route";
import { boolParam } from "./route";

/** What the invite routes need from the emulator. */
export interface InviteRoutesContext {
  /** A guild the bot is in, or undefined. */
  guild(id: string): GuildState | undefined;
  /** The guilds the bot is in. */
  guilds(): Iterable<GuildState>;
  readonly invites: Invites;
  readonly audit: AuditLog;
}

const P = PermissionFlagsBits;
const unknownChannel = () => new DiscordHttpError(404, RESTJSONErrorCodes.UnknownChannel, "Unknown Channel");
const unknownInvite = () => new DiscordHttpError(404, RESTJSONErrorCodes.UnknownInvite, "Unknown Invite");

/** Checks a Create Channel Invite body (an empty body takes the defaults); throws 400 / 50035 naming the field. */
function inviteSettings(raw: unknown): InviteSettings {
  const errors = new FormErrors();
  const b = raw === undefined || raw === null ? {} : raw;
  if (!isPlainObject(b)) {
    errors.add([], "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
    errors.throwIfAny();
  }
  const o = b as Record<string, unknown>;
  const int = (key: string, fallback: number, max: number): number => {
    const value = o[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value))
      errors.add([key], "NUMBER_TYPE_COERCE", `Value "${String(value)}" is not int.`);
    else if (value < 0) errors.add([key], "NUMBER_TYPE_MIN", "int value should be greater than or equal to 0.");
    else if (value > max) errors.add([key], "NUMBER_TYPE_MAX", `int value should be less than or equal to ${max}.`);
    else return value;
    return fallback;
  };
  const bool = (key: string): boolean => {
    const value = o[key];
    if (value === undefined || value === null) return false;
    if (typeof value !== "boolean") errors.add([key], "BASE_TYPE_BOOLEAN", "Must be either true or false.");
    return value === true;
  };
  const settings: InviteSettings = {
    maxAge: int("max_age", 86_400, 604_800),
    maxUses: int("max_uses", 0, 100),
    temporary: bool("temporary"),
    unique: bool("unique"),
  };
  if (o.target_type !== undefined && o.target_type !== null)
    errors.add(["target_type"], "UNSUPPORTED", "The emulator does not make stream or activity invites.");
  errors.throwIfAny();
  return settings;
}

/** Invite routes: `/channels/{channel.id}/invites`, `/guilds/{guild.id}/invites`, `/invites/{code}`. */
export function inviteRoutes(ctx: InviteRoutesContext): Route[] {
  /** The channel and its guild among the bot's guilds; 404 / 10003 otherwise. */
  const channelOf = (channelId: string | undefined): { guild: GuildState; channel: GuildChannel } => {
    for (const guild of ctx.guilds()) {
      const channel = guild.channels.find((c) => c.id === channelId);
      if (channel) return { guild, channel };
    }
    throw unknownChannel();
  };
  /** A live invite of a guild the bot is in, and that guild; 404 / 10006 otherwise. */
  const inviteOf = (code: string | undefined): { guild: GuildState; invite: StoredInvite } => {
    const invite = code === undefined ? undefined : ctx.invites.get(code);
    const guild = invite ? ctx.guild(invite.guildId) : undefined;
    if (!invite || !guild || !ctx.invites.live(invite)) throw unknownInvite();
    return { guild, invite };
  };

  return [
    {
      // https://discord.com/developers/docs/resources/channel#create-channel-invite
      method: "POST",
      pattern: "/channels/:channel_id/invites",
      auth: true,
      handle: ({ params, body, headers }): Reply => {
        const { guild, channel } = channelOf(params.channel_id);
        if (channel.type === ChannelType.GuildCategory)
          throw new DiscordHttpError(
            400,
            RESTJSONErrorCodes.CannotExecuteActionOnThisChannelType,
            "Cannot execute action on this channel type",
          );
        const settings = inviteSettings(body);
        requireBotPermission(guild, P.CreateInstantInvite);
        const { invite, created } = ctx.invites.create(guild, channel, guild.botUserId, settings);
        if (created) {
          ctx.audit.record({
            guildId: guild.id,
            actionType: AuditAction.InviteCreate,
            userId: guild.botUserId,
            targetId: invite.code,
            changes: [
              { key: "code", new_value: invite.code },
              { key: "channel_id", new_value: invite.channelId },
              { key: "max_age", new_value: invite.maxAge },
              { key: "max_uses", new_value: invite.maxUses },
              { key: "temporary", new_value: invite.temporary },
            ],
            reason: auditReason(headers),
          });
        }
        return { status: 200, body: ctx.invites.object(guild, invite, true) };
      },
    },
    {
      // https://discord.com/developers/docs/resources/channel#get-channel-invites
      method: "GET",
      pattern: "/channels/:channel_id/invites",
      auth: true,
      handle: ({ params }): Reply => {
        const { guild, channel } = channelOf(params.channel_id);
        requireBotPermission(guild, P.ManageChannels);
        return { status: 200, body: ctx.invites.list(guild.id, channel.id).map((i) => ctx.invites.object(guild, i, true)) };
      },
    },
    {
      // https://discord.com/developers/docs/resources/guild#get-guild-invites
      method: "GET",
      pattern: "/guilds/:guild_id/invites",
      auth: true,
      handle: ({ params }): Reply => {
        const guild = ctx.guild(params.guild_id ?? "");
        if (!guild) throw new DiscordHttpError(404, RESTJSONErrorCodes.UnknownGuild, "Unknown Guild");
        requireBotPermission(guild, P.ManageGuild);
        return { status: 200, body: ctx.invites.list(guild.id).map((i) => ctx.invites.object(guild, i, true)) };
      },
    },
    {
      // https://discord.com/developers/docs/resources/invite#get-invite
      method: "GET",
      pattern: "/invites/:code",
      auth: true,
      handle: ({ params, query }): Reply => {
        const { guild, invite } = inviteOf(params.code);
        return { status: 200, body: ctx.invites.object(guild, invite, false, boolParam(query, "with_counts")) };
      },
    },
    {
      // https://discord.com/developers/docs/resources/invite#delete-invite
      method: "DELETE",
      pattern: "/invites/:code",
      auth: true,
      handle: ({ params, headers }): Reply => {
        const { guild, invite } = inviteOf(params.code);
        if (!botHas(guild, P.ManageChannels) && !botHas(guild, P.ManageGuild)) throw missingPermissions();
        ctx.invites.delete(guild, invite);
        ctx.audit.record({
          guildId: guild.id,
          actionType: AuditAction.InviteDelete,
          userId: guild.botUserId,
          targetId: invite.code,
          changes: [{ key: "code", old_value: invite.code }],
          reason: auditReason(headers),
        });
        return { status: 200, body: ctx.invites.object(guild, invite, false) };
      },
    },
  ];
}
