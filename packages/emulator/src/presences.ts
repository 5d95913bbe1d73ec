/**
 * Presence updates: stores a member's presence in its guild and dispatches PRESENCE_UPDATE, the one
 * path for control-API presences and churn.
 * https://discord.com/developers/docs/events/gateway-events#presence-update
 */
import { GatewayDispatchEvents, GatewayIntentBits } from "discord-api-types/v10";
import type { PresenceRecord } from "./activities";
import type { GuildState } from "./guild";
import type { GuildDispatch } from "./guilds";
import { presenceObject } from "./payloads";

/** Stores presences and tells the gateway. */
export class Presences {
  constructor(private readonly dispatch: GuildDispatch) {}

  /**
   * Stores `presence` for a member and dispatches PRESENCE_UPDATE to GUILD_PRESENCES sessions, with
   * the whole user when they were offline (clients drop presences of users they do not know; Discord
   * sends the user when one comes online). Throws EmulatorError 404 for a non-member.
   */
  apply(guild: GuildState, userId: string, presence: PresenceRecord): void {
    const previous = guild.setPresence(userId, presence);
    const user = previous.status === "offline" ? guild.member(userId) : undefined;
    this.dispatch(
      guild,
      GatewayDispatchEvents.PresenceUpdate,
      presenceObject(guild.id, userId, presence, user),
      GatewayIntentBits.GuildPresences,
    );
  }
}
