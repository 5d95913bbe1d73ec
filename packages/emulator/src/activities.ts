/**
 * Presence shapes: Discord's presence (status, activities, client status) as the emulator stores
 * it, and the activities and presences it makes up. Pure data; presences.ts stores and dispatches.
 * https://discord.com/developers/docs/events/gateway-events#presence-update
 */
import type { GatewayActivity, GatewayPresenceClientStatus, PresenceUpdateReceiveStatus } from "discord-api-types/v10";
import { ActivityType, PresenceUpdateStatus } from "discord-api-types/v10";
import type { Rng } from "./random";
import { CUSTOM_STATUSES, GAMES } from "./words";

/** A presence in Discord's shape (without user / guild_id). */
export interface PresenceRecord {
  status: PresenceUpdateReceiveStatus;
  activities: GatewayActivity[];
  client_status: GatewayPresenceClientStatus;
}

/** The presence of someone offline. */
export const OFFLINE: PresenceRecord = Object.freeze({
  status: PresenceUpdateStatus.Offline,
  activities: [],
  client_status: {},
}) as PresenceRecord;

/** Builds a custom status activity (type 4) as Discord sends it; `createdAt` in ms since the Unix epoch. */
export function customStatusActivity(state: string, createdAt: number): GatewayActivity {
  return { id: "custom", name: "Custom Status", type: ActivityType.Custom, state, created_at: createdAt };
}

/** Builds a "Playing <game>" activity (type 0); `startedAt` in ms since the Unix epoch. */
export function playingActivity(name: string, startedAt: number, id: string): GatewayActivity {
  return { id, name, type: ActivityType.Playing, created_at: startedAt, timestamps: { start: startedAt } };
}

/**
 * Draws a random non-offline presence from `rng` (seeding and churn); activity times fall in the
 * hours before `now` (ms since the Unix epoch). The draw order is part of the generator's contract.
 */
export function randomOnlinePresence(rng: Rng, now: number): PresenceRecord {
  const s = rng.next();
  const status: PresenceUpdateReceiveStatus =
    s < 0.6 ? PresenceUpdateStatus.Online : s < 0.85 ? PresenceUpdateStatus.Idle : PresenceUpdateStatus.DoNotDisturb;
  const platform = rng.next();
  const client_status: GatewayPresenceClientStatus =
    platform < 0.55
      ? { desktop: status }
      : platform < 0.8
        ? { mobile: status }
        : platform < 0.9
          ? { web: status }
          : { desktop: status, mobile: status };
  const activities: GatewayActivity[] = [];
  if (rng.next() < 0.2) activities.push(customStatusActivity(rng.pick(CUSTOM_STATUSES), now - rng.int(6 * 3_600_000)));
  if (rng.next() < 0.35) {
    const startedAt = now - rng.int(4 * 3_600_000);
    activities.push(playingActivity(rng.pick(GAMES), startedAt, rng.hex(16)));
  }
  return { status, activities, client_status };
}
