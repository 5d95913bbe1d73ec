/** Output shapes of the API procedures the SPA reads, inferred from `AppRouter` (type-only). */
import type { RosterEvent } from "@guildhall/api";
import type { inferInput, inferOutput } from "@trpc/tanstack-react-query";
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

/** `members.comparison` input: `{category, search?, roleId?, isBot?, joinedAfter?, joinedBefore?, page?, pageSize?, guildId?}`. */
export type ComparisonInput = inferInput<typeof trpc.members.comparison>;
/** One of the four comparison categories: `guild_only`, `linked`, `left`, `no_guild_record`. */
export type ComparisonCategory = ComparisonInput["category"];
/** `members.comparison`: `{guild, roles, counts, total, page, pageSize, rows}`. */
export type ComparisonPage = inferOutput<typeof trpc.members.comparison>;
/** One comparison row: the guild member (null for `no_guild_record`) and the app user (null for `guild_only`). */
export type ComparisonRow = ComparisonPage["rows"][number];
/** The guild-member half of a comparison row. */
export type ComparisonMember = NonNullable<ComparisonRow["member"]>;
/** A guild role `{id, name, color}`; `color` is Discord's RGB integer (0 = no colour). */
export type GuildRole = ComparisonPage["roles"][number];
/** `members.searchUsers`: one app user found by name or email (`discordId` null when not linked). */
export type UserMatch = inferOutput<typeof trpc.members.searchUsers>[number];
/** One member sync run (what `members.history` lists and `members.progress` sends). */
export type SyncRun = inferOutput<typeof trpc.members.history>[number];
/** A sync run's status: `running`, `completed`, `incomplete`, `failed`, `awaiting_confirmation` (held by the mass-leave guard) or `discarded`. */
export type SyncStatus = SyncRun["status"];
/** What started a sync run: `command`, `button`, `schedule`, `rest` or `api`. */
export type SyncTrigger = SyncRun["trigger"];
/** `members.settings`: `{syncIntervalMinutes, syncAdminRoleId, leaveGuardPercent, leaveGuardFloor}`. */
export type SyncSettings = inferOutput<typeof trpc.members.settings>;
