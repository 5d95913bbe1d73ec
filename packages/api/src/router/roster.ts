import { Bot, Directory, Presences, type PresenceChange, Roster, Snowflake } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { tracked } from "@trpc/server";
import { Effect, Schema } from "effect";
import { follow } from "../follow";
import { Cursor, cursorOf } from "../schema";
import { run, staffProcedure } from "../trpc";

const GuildInput = Schema.Struct({ guildId: Schema.optional(Snowflake) });

const LiveInput = Schema.Struct({
  guildId: Schema.optional(Snowflake),
  /** The `cursor` of the roster.list answer the client is showing. */
  cursor: Schema.optional(Cursor),
  /** Set by tRPC's client on reconnect: the id of the last event received. */
  lastEventId: Schema.optional(Schema.NullOr(Cursor)),
});

const HistoryInput = Schema.Struct({
  guildId: Schema.optional(Snowflake),
  /** Window length, minutes (5 to 1,440; default 60). */
  minutes: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 5, maximum: 1_440 }))),
  /** Bucket length, minutes (1 to 60; default 1). */
  bucketMinutes: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 60 }))),
});

/** How often a live roster re-reads which Discord ids are staff (ms). */
const STAFF_REFRESH_MS = 15_000;

/**
 * A roster event: staff presences that changed (committed together, oldest first), or
 * `reset`: the client must refetch `roster.list`.
 */
export type RosterEvent =
  | { readonly type: "presences"; readonly changes: ReadonlyArray<PresenceChange> }
  | { readonly type: "reset" };

export const rosterRouter = {
  /**
   * The staff roster of the caller's organization in `guildId` (default: its first guild):
   * each staff member with name, role, Discord id (null: "Not linked") and current presence
   * (status, custom status, activities, client_status per platform, updatedAt and lastSeenAt
   * as ISO-8601), plus `cursor`, the presence sample id to start `roster.live` from.
   * Errors: UNAUTHORIZED (no session), FORBIDDEN (not staff), NOT_FOUND (no such guild),
   * BAD_REQUEST (guildId not a snowflake).
   */
  list: staffProcedure
    .input(Schema.toStandardSchemaV1(GuildInput))
    .query(({ ctx, input }) => run(ctx, Roster.use((roster) => roster.list(ctx.staff.organizationId, input.guildId)))),

  /**
   * Live presence changes of the roster's staff, as `tracked(id, event)`: `{type: "presences",
   * changes}` per committed batch (the id is its last change's), or `{type: "reset"}` when the
   * client fell more than 5,000 changes behind and should refetch `roster.list`. Starts after `cursor` (or now); on reconnect the
   * client's `lastEventId` resumes it with nothing lost or repeated. Errors as `roster.list`.
   */
  live: staffProcedure.input(Schema.toStandardSchemaV1(LiveInput)).subscription(async function* ({ ctx, input, signal }) {
    const { guild, staffIds } = await run(
      ctx,
      Effect.gen(function* () {
        const directory = yield* Directory;
        const guild = yield* directory.guildFor(ctx.staff.organizationId, input.guildId);
        return { guild, staffIds: yield* directory.staffDiscordIdsOfGuild(guild.id) };
      }),
    );
    let staff = new Set(staffIds);
    const refresh = setInterval(() => {
      run(ctx, Directory.use((d) => d.staffDiscordIdsOfGuild(guild.id)))
        .then((ids) => (staff = new Set(ids)))
        .catch(() => {});
    }, STAFF_REFRESH_MS);
    const presences = await run(ctx, Presences.use(Effect.succeed));
    try {
      const stream = follow<PresenceChange>({
        subscribe: (push) => presences.subscribe(push),
        backfill: (afterId, limit) => run(ctx, presences.changesSince(guild.id, afterId, limit)),
        latestId: () => run(ctx, presences.latestId(guild.id)),
        after: cursorOf(input.lastEventId ?? input.cursor),
        accept: (change) => change.guildId === guild.id && staff.has(change.userId),
        signal,
      });
      for await (const event of stream) {
        if (event.type === "reset") yield tracked(String(event.cursor), { type: "reset" } as RosterEvent);
        else yield tracked(String(event.items.at(-1)!.id), { type: "presences", changes: event.items } as RosterEvent);
      }
    } finally {
      clearInterval(refresh);
    }
  }),

  /**
   * Online / idle / dnd staff counts per bucket over the last `minutes` (default 60, buckets
   * of `bucketMinutes`, default 1), from presence samples: `[{at (ISO-8601 bucket end), online,
   * idle, dnd}]`. Errors as `roster.list`.
   */
  history: staffProcedure.input(Schema.toStandardSchemaV1(HistoryInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const directory = yield* Directory;
        const presences = yield* Presences;
        const guild = yield* directory.guildFor(ctx.staff.organizationId, input.guildId);
        const ids = yield* directory.staffDiscordIdsOfGuild(guild.id);
        return yield* presences.history(guild.id, ids, (input.minutes ?? 60) * 60_000, (input.bucketMinutes ?? 1) * 60_000);
      }),
    ),
  ),

  /**
   * Asks the bot to re-request the presences of every linked staff member of the guild
   * (REQUEST_GUILD_MEMBERS with `user_ids` and `presences: true`). Returns the queued
   * command's id and how many users it covers. Errors as `roster.list`.
   */
  resync: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const directory = yield* Directory;
        const bot = yield* Bot;
        const guild = yield* directory.guildFor(ctx.staff.organizationId, input.guildId);
        const userIds = yield* directory.staffDiscordIdsOfGuild(guild.id);
        const command = yield* bot.enqueue({ kind: "presence.resync", guildId: guild.id, payload: { userIds }, requestedBy: ctx.user.id });
        return { commandId: command.id, userCount: userIds.length };
      }),
    ),
  ),
} satisfies TRPCRouterRecord;
