/** Output shapes of the API procedures the SPA reads, inferred from `AppRouter` (type-only). */
import type { RosterEvent } from "@guildhall/api";
import type { inferOutput } from "@trpc/tanstack-react-query";
import type { trpc } from "./trpc";

/** `roster.list`: `{guild: {id, name}, entries, cursor}`. */
export type RosterSnapshot = inferOutput<typeof trpc.roster.list>;
/** One staff member on the roster, linked to Discord or not. */
export type RosterEntry = RosterSnapshot["entries"][number];
/** A linked staff member's presence (null when never seen or not linked). */
export type RosterPresence = NonNullable<RosterEntry["presence"]>;
/** A Discord presence status. */
export type PresenceStatus = RosterPresence["status"];
/** One activity of a presence (https://discord.com/developers/docs/events/gateway-events#activity-object). */
export type Activity = RosterPresence["activities"][number];
/** `roster.history`: one bucket, `{at (ISO-8601), online, idle, dnd}`. */
export type HistoryPoint = inferOutput<typeof trpc.roster.history>[number];
/** `bot.status`. */
export type BotStatus = inferOutput<typeof trpc.bot.status>;
/** `session.me`. */
export type Me = inferOutput<typeof trpc.session.me>;
/** What `roster.live` sends: a presence change or a reset. */
export type { RosterEvent };
/** The presence change carried by a `{type: "presence"}` roster event. */
export type PresenceChange = Extract<RosterEvent, { type: "presences" }>["changes"][number];
