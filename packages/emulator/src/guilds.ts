/**
 * The seeded guilds of one emulator: the registry every module looks guilds up in, seeding, and
 * the summary the programmatic and control APIs answer with.
 */
import type { GatewayDispatchEvents } from "discord-api-types/v10";
import { EmulatorError } from "./errors";
import { guildSpec } from "./generator";
import type { BotIdentity } from "./guild";
import { GuildState } from "./guild";
import type { SeedSettings } from "./inputs";
import type { SeededGuild } from "./types";

/**
 * Dispatches gateway event `t` with data `d` to every session holding the guild's shard whose
 * intents include `requiredIntent` (0: no intent needed). The gateway's `dispatchToGuild`; modules
 * that change a guild take it instead of the gateway.
 */
export type GuildDispatch = (guild: GuildState, t: GatewayDispatchEvents, d: unknown, requiredIntent: number) => void;

/** The guilds of one emulator, by snowflake. */
export class Guilds {
  private readonly byId = new Map<string, GuildState>();

  /** The guild with this id, or undefined. */
  get(guildId: string): GuildState | undefined {
    return this.byId.get(guildId);
  }

  /** The guild with this id; throws EmulatorError 404 "Unknown Guild" otherwise (any input type). */
  require(guildId: string): GuildState {
    const guild = typeof guildId === "string" ? this.byId.get(guildId) : undefined;
    if (!guild) throw new EmulatorError(404, `Unknown Guild ${String(guildId)}`);
    return guild;
  }

  /** Every guild, in seeding order. */
  values(): IterableIterator<GuildState> {
    return this.byId.values();
  }

  /** The guild with this id if the bot is a member of it (what the bot's gateway, REST and interactions see), or undefined. */
  joined(guildId: string): GuildState | undefined {
    const guild = this.byId.get(guildId);
    return guild?.hasMember(guild.botUserId) ? guild : undefined;
  }

  /** How many guilds the bot is a member of. */
  joinedCount(): number {
    let n = 0;
    for (const _ of this.joinedValues()) n++;
    return n;
  }

  /** The guilds the bot is a member of, in seeding order. */
  *joinedValues(): IterableIterator<GuildState> {
    for (const guild of this.byId.values()) if (guild.hasMember(guild.botUserId)) yield guild;
  }

  /** How many guilds there are. */
  get size(): number {
    return this.byId.size;
  }

  /**
   * Creates the guild `settings` describe, with `bot` as a member, and starts warming its online
   * count. Throws EmulatorError 409 when the guild id is taken.
   */
  seed(settings: SeedSettings, bot: BotIdentity): GuildState {
    if (this.byId.has(settings.guildId)) throw new EmulatorError(409, `guildId ${settings.guildId} is already seeded`);
    const spec = guildSpec({
      seed: settings.seed,
      guildId: settings.guildId,
      members: settings.members,
      staff: settings.staff,
      admins: settings.admins,
      onlineRatio: settings.onlineRatio,
      now: settings.now,
    });
    const guild = new GuildState(spec, settings.name, bot);
    if (!settings.withBot) guild.removeMember(bot.userId); // a guild the bot can be added to (installs.ts)
    this.byId.set(guild.id, guild);
    void guild.warmOnlineCount();
    return guild;
  }
}

/** What {@link Emulator.seedGuild} returns for a guild, as it is now. */
export function seededGuild(guild: GuildState): SeededGuild {
  return {
    guildId: guild.id,
    name: guild.name,
    memberCount: guild.memberCount,
    roles: guild.roles.filter((r) => r.id !== guild.id).map((r) => ({ id: r.id, name: r.name })),
    staffRoleId: guild.spec.staffRoleId,
    staff: guild.staff(),
    adminRoleId: guild.spec.adminRoleId,
    admins: guild.admins().filter((id) => guild.hasMember(id)),
    botRoleId: guild.botRoleId,
    boosterRoleId: guild.spec.boosterRoleId,
    integrationRoleId: guild.spec.integrationRoleId,
    linkedRoleId: guild.spec.linkedRoleId,
    ownerId: guild.ownerId,
    seed: guild.spec.seed,
    now: guild.spec.now,
  };
}
