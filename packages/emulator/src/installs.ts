/**
 * The bot joining and leaving guilds: added through the authorize page (or the control API) it
 * becomes a member with its managed role carrying the granted permissions, and its sessions get
 * GUILD_CREATE; removed (or leaving by itself) its sessions get GUILD_DELETE without `unavailable`,
 * and the guild drops out of the bot's view (READY, REST, interactions) while staying in the emulator.
 * https://discord.com/developers/docs/topics/oauth2#bot-authorization-flow
 * https://discord.com/developers/docs/events/gateway-events#guild-delete
 */
import { GatewayDispatchEvents, GatewayIntentBits } from "discord-api-types/v10";
import { EmulatorError } from "./errors";
import type { BotIdentity, GuildState } from "./guild";
import { discordTimestamp } from "./timestamps";

/** What installs need from the emulator. */
export interface InstallsContext {
  readonly bot: BotIdentity;
  /** Sends GUILD_CREATE for a guild the bot just joined to its GUILDS sessions. */
  announceGuild(guild: GuildState): void;
  /** Dispatches to the sessions of the guild's shard, bot member or not (GUILD_DELETE goes out as the bot leaves). */
  dispatchAlways(guild: GuildState, t: GatewayDispatchEvents, d: unknown, requiredIntent: number): void;
  log(line: string): void;
}

/** The bot's membership of guilds. */
export class Installs {
  constructor(private readonly ctx: InstallsContext) {}

  /** True when the bot is a member of `guild`. */
  isInstalled(guild: GuildState): boolean {
    return guild.hasMember(this.ctx.bot.userId);
  }

  /**
   * Puts the bot in `guild` with `permissions` (a bitfield) on its managed role. A new member gets
   * GUILD_CREATE to the bot's GUILDS sessions; when the bot is already there, only its role's
   * permissions change (GUILD_ROLE_UPDATE). Returns whether the bot joined now.
   */
  join(guild: GuildState, permissions: bigint): boolean {
    const role = guild.role(guild.botRoleId);
    const changed = role !== undefined && role.permissions !== String(permissions);
    if (role) role.permissions = String(permissions);
    if (this.isInstalled(guild)) {
      if (changed && role) {
        this.ctx.dispatchAlways(guild, GatewayDispatchEvents.GuildRoleUpdate, { guild_id: guild.id, role }, GatewayIntentBits.Guilds);
      }
      this.ctx.log(`bot re-authorized in guild ${guild.id} with permissions ${permissions}`);
      return false;
    }
    guild.botJoinedAt = discordTimestamp(Date.now());
    guild.addMember({
      userId: this.ctx.bot.userId,
      username: this.ctx.bot.username,
      globalName: null,
      avatar: null,
      bot: true,
      nick: null,
      roles: [guild.botRoleId],
      joinedAt: guild.botJoinedAt,
      premiumSince: null,
      pending: false,
    });
    this.ctx.log(`bot added to guild ${guild.id} with permissions ${permissions}`);
    this.ctx.announceGuild(guild);
    return true;
  }

  /**
   * Takes the bot out of `guild` (kicked, or leaving by itself): GUILD_DELETE `{id}` without
   * `unavailable` to the bot's GUILDS sessions, then the membership goes. Throws EmulatorError 409
   * when the bot is not in the guild.
   */
  leave(guild: GuildState): void {
    if (!this.isInstalled(guild)) throw new EmulatorError(409, `the bot is not in guild ${guild.id}`);
    this.ctx.dispatchAlways(guild, GatewayDispatchEvents.GuildDelete, { id: guild.id }, GatewayIntentBits.Guilds);
    guild.removeMember(this.ctx.bot.userId);
    this.ctx.log(`bot removed from guild ${guild.id}`);
  }
}
