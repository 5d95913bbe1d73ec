import { Bot, Directory, type PresenceChange, Presences, Roster, Snowflake } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { tracked } from "@trpc/server";
import { Effect, Schema } from "effect";
import { follow } from "../follow";
import { Cursor, cursorOf } from "../schema";
import { share } from "../shared";
import { type Context, run, staffProcedure } from "../trpc";

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
 * The Discord ids of each guild's linked staff, shared by every live roster of that guild
 * (so they filter a batch once, and share the resulting event; see `share`). Re-read in the
 * background once older than STAFF_REFRESH_MS.
 */
type StaffSets = Map<string, { ids: ReadonlySet<string>; loadedAt: number; refreshing: boolean }>;
const staffSetsByRuntime = new WeakMap<Context["runtime"], StaffSets>();
const staffSetsOf = (ctx: Pick<Context, "runtime">): StaffSets => {
  let sets = staffSetsByRuntime.get(ctx.runtime);
  if (!sets) {
    sets = new Map();
    staffSetsByRuntime.set(ctx.runtime, sets);
  }
  return sets;
};

const staffSetOf = async (ctx: Pick<Context, "runtime">, guildId: string): Promise<ReadonlySet<string>> => {
  const staffSets = staffSetsOf(ctx);
  const cached = staffSets.get(guildId);
  if (cached) return cached.ids;
  const ids = new Set(
    await run(
      ctx,
      Directory.use((d) => d.staffDiscordIdsOfGuild(guildId)),
    ),
  );
  staffSets.set(guildId, { ids, loadedAt: Date.now(), refreshing: false });
  return ids;
};

const currentStaffSet = (ctx: Pick<Context, "runtime">, guildId: string): ReadonlySet<string> => {
  const staffSets = staffSetsOf(ctx);
  const entry = staffSets.get(guildId)!;
  if (!entry.refreshing && Date.now() - entry.loadedAt > STAFF_REFRESH_MS) {
    entry.refreshing = true;
    run(
      ctx,
      Directory.use((d) => d.staffDiscordIdsOfGuild(guildId)),
    )
      .then((ids) => staffSets.set(guildId, { ids: new Set(ids), loadedAt: Date.now(), refreshing: false }))
      .catch(() => (entry.refreshing = false));
  }
  return entry.ids;
};

/** Per committed batch and staff set, the staff changes of the guild: computed once, shared. */
const selections = new WeakMap<ReadonlyArray<PresenceChange>, WeakMap<ReadonlySet<string>, ReadonlyArray<PresenceChange>>>();

const selectStaffChanges = (
  batch: ReadonlyArray<PresenceChange>,
  guildId: string,
  staff: ReadonlySet<string>,
): ReadonlyArray<PresenceChange> => {
  let byStaff = selections.get(batch);
  if (!byStaff) {
    byStaff = new WeakMap();
    selections.set(batch, byStaff);
  }
  let selected = byStaff.get(staff);
  if (!selected) {
    selected = batch.filter((c) => c.guildId === guildId && staff.has(c.userId));
    byStaff.set(staff, selected);
  }
  return selected;
};

const events = new WeakMap<ReadonlyArray<PresenceChange>, RosterEvent>();

/** The (shared) event carrying `changes`. */
const eventFor = (changes: ReadonlyArray<PresenceChange>): RosterEvent => {
  const cached = events.get(changes);
  if (cached) return cached;
  const event: RosterEvent = share({ type: "presences", changes });
  events.set(changes, event);
  return event;
};

/**
 * A roster event: staff presences that changed (committed together, oldest first), or
 * `reset`: the client must refetch `roster.list`.
 */
export type RosterEvent = { readonly type: "presences"; readonly changes: ReadonlyArray<PresenceChange> } | { readonly type: "reset" };

export const rosterRouter = {
  /**
   * The staff roster of the caller's organization in `guildId` (default: its first guild):
   * each staff member with name, role, Discord id (null: "Not linked") and current presence
   * (status, custom status, activities, client_status per platform, updatedAt and lastSeenAt
   * as ISO-8601), plus `cursor`, the presence sample id to start `roster.live` from.
   * Errors: UNAUTHORIZED (no session), FORBIDDEN (not staff), NOT_FOUND (no such guild),
   * BAD_REQUEST (guildId not a snowflake).
   */
  list: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Roster.use((roster) => roster.list(ctx.staff.organizationId, input.guildId)),
    ),
  ),

  /**
   * Live presence changes of the roster's staff, as `tracked(id, event)`: `{type: "presences",
   * changes}` per committed batch (the id is its last change's), or `{type: "reset"}` when the
   * client fell more than 5,000 changes behind and should refetch `roster.list`. Starts after `cursor` (or now); on reconnect the
   * client's `lastEventId` resumes it with nothing lost or repeated. Errors as `roster.list`.
   */
  live: staffProcedure.input(Schema.toStandardSchemaV1(LiveInput)).subscription(async function* ({ ctx, input, signal }) {
    const guild = await run(
      ctx,
      Directory.use((d) => d.guildFor(ctx.staff.organizationId, input.guildId)),
    );
    await staffSetOf(ctx, guild.id);
    const presences = await run(ctx, Presences.use(Effect.succeed));
    const stream = follow<PresenceChange>({
      subscribe: (push) => presences.subscribe(push),
      backfill: (afterId, limit) => run(ctx, presences.changesSince(guild.id, afterId, limit)),
      latestId: () => run(ctx, presences.latestId(guild.id)),
      after: cursorOf(input.lastEventId ?? input.cursor),
      select: (batch) => selectStaffChanges(batch, guild.id, currentStaffSet(ctx, guild.id)),
      signal,
    });
    for await (const event of stream) {
      if (event.type === "reset") yield tracked(String(event.cursor), { type: "reset" } as RosterEvent);
      else yield tracked(String(event.items.at(-1)!.id), eventFor(event.items));
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
