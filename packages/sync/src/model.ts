/**
 * Shapes shared by the sync services and their callers (the API validates its inputs with
 * these same schemas). Discord ids are snowflake strings; times are epoch milliseconds on
 * the way in and ISO-8601 strings on the way out.
 */
import { Snowflake } from "@guildhall/discord/schema";
import { Schema } from "effect";
import { EpochMs, pgText } from "./storable";

/** A Discord snowflake (https://discord.com/developers/docs/reference#snowflakes), defined once in @guildhall/discord. */
export { Snowflake };

/** Discord's presence status (https://discord.com/developers/docs/events/gateway-events#update-presence-status-types). */
export const PresenceStatus = Schema.Literals(["online", "idle", "dnd", "offline"]);
export type PresenceStatus = typeof PresenceStatus.Type;

/**
 * One activity (https://discord.com/developers/docs/events/gateway-events#activity-object); type 4
 * is a custom status. Its text is the Discord user's own, so it is cleaned for Postgres
 * (./storable's PgText: NUL dropped, lone surrogates replaced), never refused for it; at most 256
 * characters each, after cleaning.
 */
export const Activity = Schema.Struct({
  name: pgText(256),
  type: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 6 })),
  state: Schema.optional(Schema.NullOr(pgText(256))),
  details: Schema.optional(Schema.NullOr(pgText(256))),
});
export type Activity = typeof Activity.Type;

/** Status per platform (https://discord.com/developers/docs/events/gateway-events#client-status-object). */
export const ClientStatus = Schema.Struct({
  desktop: Schema.optional(PresenceStatus),
  mobile: Schema.optional(PresenceStatus),
  web: Schema.optional(PresenceStatus),
});
export type ClientStatus = typeof ClientStatus.Type;

/**
 * A presence as the bot saw it in a PRESENCE_UPDATE (or a member chunk), at `observedAt` (epoch
 * ms, from 2015-01-01 to 9999-12-31: ./storable's EpochMs; anything else is refused, naming the
 * field). The custom status and the activities' text are cleaned, like nicknames: one member's
 * status must never stop a batch.
 */
export const PresenceUpdate = Schema.Struct({
  guildId: Snowflake,
  userId: Snowflake,
  status: PresenceStatus,
  customStatus: Schema.NullOr(pgText(256)),
  activities: Schema.Array(Activity).check(Schema.isMaxLength(16)),
  clientStatus: ClientStatus,
  observedAt: EpochMs,
});
export type PresenceUpdate = typeof PresenceUpdate.Type;

/** A presence change as subscribers receive it: `id` is the presence sample id, the resume cursor. */
export interface PresenceChange {
  readonly id: number;
  readonly guildId: string;
  readonly userId: string;
  readonly status: PresenceStatus;
  readonly customStatus: string | null;
  readonly activities: ReadonlyArray<Activity>;
  readonly clientStatus: ClientStatus;
  /** ISO-8601. */
  readonly observedAt: string;
}
