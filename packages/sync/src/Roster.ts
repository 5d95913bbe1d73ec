import { Database, type DatabaseError, schema } from "@guildhall/db";
import { and, eq, inArray } from "drizzle-orm";
import { Context, Effect, Layer } from "effect";
import { Directory, type StaffEntry } from "./Directory";
import type { GuildNotFound } from "./errors";
import type { Activity, ClientStatus, PresenceStatus } from "./model";
import { Presences } from "./Presences";

/** A staff member's current presence. Times are ISO-8601; `lastSeenAt` is null if never seen. */
export interface RosterPresence {
  readonly status: PresenceStatus;
  readonly customStatus: string | null;
  readonly activities: ReadonlyArray<Activity>;
  readonly clientStatus: ClientStatus;
  readonly updatedAt: string;
  readonly lastSeenAt: string | null;
}

/** One roster line: a staff member, linked or not, and their presence when known. */
export interface RosterEntry extends StaffEntry {
  /** True when the user has a Discord id. Unlinked staff show as "Not linked". */
  readonly linked: boolean;
  /** Null for unlinked staff, and for linked staff the bot has never seen (offline). */
  readonly presence: RosterPresence | null;
}

/** The roster of one guild, with the presence cursor it is consistent with. */
export interface RosterSnapshot {
  readonly guild: { readonly id: string; readonly name: string };
  readonly entries: ReadonlyArray<RosterEntry>;
  /** Presence sample id up to which `entries` are current: resume `roster.live` from here. */
  readonly cursor: number;
}

/**
 * The staff roster: an organization's staff joined with their Discord presence in its guild.
 */
export class Roster extends Context.Service<
  Roster,
  {
    /**
     * The roster of `organizationId` in `guildId` (or its first guild). Fails with
     * `GuildNotFound` when the organization has no such guild.
     */
    readonly list: (organizationId: string, guildId?: string | undefined) => Effect.Effect<RosterSnapshot, GuildNotFound | DatabaseError>;
  }
>()("@guildhall/sync/Roster") {
  static readonly layer = Layer.effect(
    Roster,
    Effect.gen(function* () {
      const { use } = yield* Database;
      const directory = yield* Directory;
      const presences = yield* Presences;

      const list = Effect.fn("Roster.list")(function* (organizationId: string, guildId?: string) {
        const guild = yield* directory.guildFor(organizationId, guildId);
        // The cursor is read before the rows: a change racing this read is replayed, never lost.
        const cursor = yield* presences.latestId(guild.id);
        const staff = yield* directory.staffOf(organizationId);
        const discordIds = staff.flatMap((s) => (s.discordId ? [s.discordId] : []));
        const rows =
          discordIds.length === 0
            ? []
            : yield* use("roster.presences", (db) =>
                db
                  .select()
                  .from(schema.presences)
                  .where(and(eq(schema.presences.guildId, guild.id), inArray(schema.presences.userId, discordIds))),
              );
        const byUser = new Map(rows.map((r) => [r.userId, r]));
        const entries = staff.map((s): RosterEntry => {
          const row = s.discordId ? byUser.get(s.discordId) : undefined;
          return {
            ...s,
            linked: s.discordId !== null,
            presence: row
              ? {
                  status: row.status,
                  customStatus: row.customStatus,
                  activities: row.activities,
                  clientStatus: row.clientStatus,
                  updatedAt: row.updatedAt.toISOString(),
                  lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
                }
              : null,
          };
        });
        return { guild: { id: guild.id, name: guild.name }, entries, cursor };
      });

      return Roster.of({ list });
    }),
  );
}
