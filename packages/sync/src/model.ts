/**
 * Shapes shared by the sync services and their callers (the API validates its inputs with
 * these same schemas). Discord ids are snowflake strings; times are epoch milliseconds on
 * the way in and ISO-8601 strings on the way out.
 */
import { Snowflake } from "@guildhall/discord/schema";
import { Schema } from "effect";

/** A Discord snowflake (https://discord.com/developers/docs/reference#snowflakes), defined once in @guildhall/discord. */
export { Snowflake };

/** Discord's presence status (https://discord.com/developers/docs/events/gateway-events#update-presence-status-types). */
export const PresenceStatus = Schema.Literals(["online", "idle", "dnd", "offline"]);
export type PresenceStatus = typeof PresenceStatus.Type;

const ShortText = (max: number) => Schema.String.check(Schema.isMaxLength(max));

/** One activity (https://discord.com/developers/docs/events/gateway-events#activity-object); type 4 is a custom status. */
export const Activity = Schema.Struct({
  name: ShortText(256),
  type: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 6 })),
  state: Schema.optional(Schema.NullOr(ShortText(256))),
  details: Schema.optional(Schema.NullOr(ShortText(256))),
});
export type Activity = typeof Activity.Type;

/** Status per platform (https://discord.com/developers/docs/events/gateway-events#client-status-object). */
export const ClientStatus = Schema.Struct({
  desktop: Schema.optional(PresenceStatus),
  mobile: Schema.optional(PresenceStatus),
  web: Schema.optional(PresenceStatus),
});
export type ClientStatus = typeof ClientStatus.Type;

/** A presence as the bot saw it in a PRESENCE_UPDATE (or a member chunk), at `observedAt` (epoch ms). */
export const PresenceUpdate = Schema.Struct({
  guildId: Snowflake,
  userId: Snowflake,
  status: PresenceStatus,
  customStatus: Schema.NullOr(ShortText(256)),
  activities: Schema.Array(Activity).check(Schema.isMaxLength(16)),
  clientStatus: ClientStatus,
  observedAt: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)),
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
