import type { PresenceUpdate } from "@guildhall/api";
import { isSnowflake } from "@guildhall/discord/snowflake";
import type { GatewayPresenceUpdate } from "discord-api-types/v10";

const STATUSES = new Set(["online", "idle", "dnd", "offline"]);

/**
 * A string cut to at most `max` UTF-16 code units without splitting a surrogate pair (a cut pair
 * would leave a lone surrogate, which the server can only replace with U+FFFD); null for
 * anything that is not a string. NUL and lone surrogates Discord sent are left to the server,
 * which cleans them in one place (@guildhall/sync's PgText).
 */
export const clip = (value: unknown, max = 256): string | null => {
  if (typeof value !== "string") return null;
  if (value.length <= max) return value;
  const last = value.charCodeAt(max - 1);
  const next = value.charCodeAt(max);
  const splitsPair = last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
  return value.slice(0, splitsPair ? max - 1 : max);
};

/** Discord's activity type for a custom status (https://discord.com/developers/docs/events/gateway-events#activity-object-activity-types). */
export const CUSTOM_STATUS_ACTIVITY = 4;

/**
 * Turns a gateway presence (PRESENCE_UPDATE's `d`, or an entry of GUILD_CREATE's or
 * GUILD_MEMBERS_CHUNK's `presences`) into the server's PresenceUpdate, observed at
 * `observedAt` (epoch ms). `guildId` fills in for chunk presences, which omit it.
 * Returns null for a payload without a valid user id or guild id; unknown statuses read as
 * offline (Discord reports invisible users as offline too). Text (activity name, state,
 * details; the custom status is the type-4 activity's state) is cut to 256 characters with
 * {@link clip}; the server cleans what Postgres cannot store.
 * Follows https://discord.com/developers/docs/events/gateway-events#presence-update.
 */
export const toPresenceUpdate = (
  raw: Partial<GatewayPresenceUpdate> | undefined,
  observedAt: number,
  guildId?: string,
): PresenceUpdate | null => {
  const userId = raw?.user?.id;
  const guild = raw?.guild_id ?? guildId;
  if (!isSnowflake(userId) || !isSnowflake(guild)) return null;
  const status = typeof raw?.status === "string" && STATUSES.has(raw.status) ? (raw.status as PresenceUpdate["status"]) : "offline";
  const activities = (Array.isArray(raw?.activities) ? raw.activities : [])
    .slice(0, 16)
    .flatMap((a) =>
      a && typeof a.type === "number" && a.type >= 0 && a.type <= 6
        ? [{ name: clip(a.name) ?? "", type: a.type, state: clip(a.state), details: clip(a.details) }]
        : [],
    );
  const clientStatus: Record<string, PresenceUpdate["status"]> = {};
  for (const platform of ["desktop", "mobile", "web"] as const) {
    const value = raw?.client_status?.[platform];
    if (typeof value === "string" && STATUSES.has(value)) clientStatus[platform] = value as PresenceUpdate["status"];
  }
  return {
    guildId: guild,
    userId,
    status,
    customStatus: activities.find((a) => a.type === CUSTOM_STATUS_ACTIVITY)?.state ?? null,
    activities,
    clientStatus,
    observedAt,
  };
};

/** The presence of a member Discord reported no presence for: offline. */
export const offlinePresence = (guildId: string, userId: string, observedAt: number): PresenceUpdate => ({
  guildId,
  userId,
  status: "offline",
  customStatus: null,
  activities: [],
  clientStatus: {},
  observedAt,
});
