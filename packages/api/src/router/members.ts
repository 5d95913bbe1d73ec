import {
  Bot,
  Comparison,
  ComparisonQuery,
  type ComparisonRow,
  Directory,
  MemberSync,
  pgText,
  Snowflake,
  type SyncRun,
  UserId,
  UserNotFound,
} from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { tracked } from "@trpc/server";
import { Effect, Schema } from "effect";
import { ProgressCursor, progressAfter, progressId } from "../progress";
import { adminProcedure, run, staffProcedure, writeProcedure } from "../trpc";

const GuildInput = Schema.Struct({ guildId: Schema.optional(Snowflake) });
const ProgressInput = Schema.Struct({
  guildId: Schema.optional(Snowflake),
  /** Set by tRPC's client on reconnect: the id of the last event received. */
  lastEventId: Schema.optional(Schema.NullOr(ProgressCursor)),
});

/** Most users `searchUsers` answers, and how many when the caller does not say. */
export const SEARCH_USERS_MAX_LIMIT = 25;
const SEARCH_USERS_DEFAULT_LIMIT = 10;
const SearchUsersInput = Schema.Struct({
  // Cleaned like every search (a NUL dropped, a lone surrogate replaced), then 1 to 100 characters.
  query: pgText(100, 1),
  limit: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: SEARCH_USERS_MAX_LIMIT }))),
});

/** A held sync to confirm or discard: its run id (a UUID, as `history` and `progress` give it). */
const DecisionInput = Schema.Struct({ guildId: Schema.optional(Snowflake), runId: Schema.String.check(Schema.isUUID()) });

/** How many of the newest runs a reconnecting `members.progress` client is brought up to date on (what `history` lists). */
const PROGRESS_BACKFILL_RUNS = 50;
const ComparisonInput = Schema.Struct({ ...ComparisonQuery.fields, guildId: Schema.optional(Snowflake) });

/** Most rows a CSV export holds. */
export const CSV_EXPORT_LIMIT = 100_000;

const csvCell = (value: unknown): string => {
  const text = value === null || value === undefined ? "" : Array.isArray(value) ? value.join(" ") : String(value);
  // Quote always; double inner quotes; neutralize spreadsheet formulas (CSV injection).
  return `"${(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text).replace(/"/g, '""')}"`;
};

/** Renders comparison rows as CSV (RFC 4180, header first, CRLF line ends). */
export const toCsv = (rows: ReadonlyArray<ComparisonRow>): string =>
  [
    ["discord_id", "username", "global_name", "nick", "roles", "joined_at", "is_bot", "date_left", "user_id", "user_name", "user_email"],
    ...rows.map((r) => [
      r.discordId,
      r.member?.username,
      r.member?.globalName,
      r.member?.nick,
      r.member?.roleIds,
      r.member?.joinedAt,
      r.member?.isBot,
      r.member?.dateLeft,
      r.user?.id,
      r.user?.name,
      r.user?.email,
    ]),
  ]
    .map((cells) => cells.map(csvCell).join(","))
    .join("\r\n");

export const membersRouter = {
  /**
   * Discord members against app accounts in the caller's guild: `{guild: {id, name}, roles:
   * [{id, name, color}] (highest first), counts: {guild_only, linked, left, no_guild_record},
   * total, page, pageSize, rows}` for `category`, filtered by `search`
   * (username, names, nick, Discord id, user email; at most 100 characters, a NUL or a lone
   * surrogate cleaned as stored names were), `roleId`, `isBot`, `joinedAfter` (inclusive) /
   * `joinedBefore` (exclusive: calendar dates `YYYY-MM-DD`, UTC days), paged (`page` from 1,
   * `pageSize` 1-100, default 50).
   * Errors: UNAUTHORIZED, FORBIDDEN, NOT_FOUND (guild), BAD_REQUEST (names the field).
   */
  comparison: staffProcedure.input(Schema.toStandardSchemaV1(ComparisonInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* (yield* Directory).guildFor(ctx.staff.organizationId, input.guildId);
        const comparison = yield* Comparison;
        const roles = yield* comparison.roles(guild.id);
        const page = yield* comparison.page(guild.id, input);
        return { guild: { id: guild.id, name: guild.name }, roles, ...page };
      }),
    ),
  ),

  /**
   * Every row (up to 100,000) of a comparison category with the same filters, as CSV:
   * `{filename, csv}`. Errors as `comparison`.
   */
  exportCsv: staffProcedure.input(Schema.toStandardSchemaV1(ComparisonInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* (yield* Directory).guildFor(ctx.staff.organizationId, input.guildId);
        const rows = yield* (yield* Comparison).all(guild.id, input, CSV_EXPORT_LIMIT);
        return { filename: `guildhall-${guild.id}-${input.category}.csv`, csv: toCsv(rows), rows: rows.length };
      }),
    ),
  ),

  /** The guild's member syncs, newest first (at most 50): trigger, counts, duration (ms), outcome and reason. */
  history: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* (yield* Directory).guildFor(ctx.staff.organizationId, input.guildId);
        return yield* (yield* MemberSync).history(guild.id, 50);
      }),
    ),
  ),

  /**
   * Asks the bot for a full member sync of the guild (the SPA's "Sync now" button). Returns the
   * queued command's id; progress arrives on `members.progress`. Errors as `comparison`.
   */
  requestSync: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* (yield* Directory).guildFor(ctx.staff.organizationId, input.guildId);
        const command = yield* (yield* Bot).enqueue({
          kind: "members.sync",
          guildId: guild.id,
          payload: { trigger: "button" },
          requestedBy: ctx.user.id,
        });
        return { commandId: command.id };
      }),
    ),
  ),

  /**
   * The guild's member sync runs as they progress (chunks received of chunk_count, rows
   * applied, counts, outcome), as `tracked(id, run)` with ids from `progressId` (../progress.ts:
   * start time, ended or not, chunks received; the same on every server instance, greater for
   * every later state). A new subscriber first gets the newest run (if any); a client that
   * reconnects with `lastEventId` first gets every run that moved since (of the last 50, oldest
   * first, each in its newest state), then live changes; a state older than one already sent
   * is never sent. Errors as `comparison`, and BAD_REQUEST for a malformed `lastEventId`.
   */
  progress: staffProcedure.input(Schema.toStandardSchemaV1(ProgressInput)).subscription(async function* ({ ctx, input, signal }) {
    const guild = await run(
      ctx,
      Directory.use((d) => d.guildFor(ctx.staff.organizationId, input.guildId)),
    );
    const sync = await run(ctx, MemberSync.use(Effect.succeed));
    // Subscribe first, then backfill: nothing committed in between is lost.
    const queue: SyncRun[] = [];
    let wake: (() => void) | null = null;
    const unsubscribe = sync.subscribe((runs) => {
      for (const r of runs) if (r.guildId === guild.id) queue.push(r);
      wake?.();
    });
    try {
      let last = input.lastEventId ?? null;
      for (const r of progressAfter(await run(ctx, sync.history(guild.id, PROGRESS_BACKFILL_RUNS)), last)) {
        last = progressId(r);
        yield tracked(last, r);
      }
      const aborted = new Promise<void>((resolve) => {
        if (signal?.aborted) resolve();
        signal?.addEventListener("abort", () => resolve(), { once: true });
      });
      while (!signal?.aborted) {
        if (queue.length === 0) {
          await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
          wake = null;
          continue;
        }
        // Only the newest state of each run matters to a progress bar; announcements from several
        // instances may arrive out of order, and a state the client has (or passed) is skipped.
        for (const r of progressAfter(queue.splice(0), last ?? "")) {
          last = progressId(r);
          yield tracked(last, r);
        }
      }
    } finally {
      unsubscribe();
    }
  }),

  /**
   * Admin. App users whose name or email contains `query` (1 to 100 characters after a NUL or
   * a lone surrogate is cleaned, as for every search; trimmed, case-insensitive), for picking the user to link to a guild member: `[{id, name, email,
   * discordId}]` (discordId: a snowflake, or null when not linked), best match first, at most
   * `limit` (1 to 25, default 10). Errors: UNAUTHORIZED, FORBIDDEN (not an admin),
   * BAD_REQUEST (names the field).
   */
  searchUsers: adminProcedure.input(Schema.toStandardSchemaV1(SearchUsersInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Directory.use((d) => d.searchUsers(input.query, input.limit ?? SEARCH_USERS_DEFAULT_LIMIT, ctx.staff.organizationId)),
    ),
  ),

  /**
   * The guild's member sync settings: `{syncIntervalMinutes (null: no schedule), syncAdminRoleId,
   * leaveGuardPercent, leaveGuardFloor}`: a complete sync that would mark more than
   * `leaveGuardFloor` members and more than `leaveGuardPercent`% of the present members left
   * waits for an admin's confirmation (`confirmSync` / `discardSync`). Errors as `comparison`.
   */
  settings: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const directory = yield* Directory;
        const guild = yield* directory.guildFor(ctx.staff.organizationId, input.guildId);
        const settings = yield* directory.settingsOf(guild.id);
        const guard = yield* (yield* MemberSync).leaveGuard(guild.id);
        return { ...settings, leaveGuardPercent: guard.percent, leaveGuardFloor: guard.floor };
      }),
    ),
  ),

  /**
   * Admin. Sets the schedule (`syncIntervalMinutes` 15 to 10,080, or null for none), the role
   * (besides Manage Guild) allowed to run /sync_members, and, when given, the mass-leave guard
   * (`leaveGuardPercent`, 0 to 100 percent of present members; 100 never asks; left out:
   * unchanged). Returns the settings as `settings` does. Errors: FORBIDDEN, BAD_REQUEST.
   */
  updateSettings: adminProcedure
    .input(
      Schema.toStandardSchemaV1(
        Schema.Struct({
          guildId: Schema.optional(Snowflake),
          syncIntervalMinutes: Schema.NullOr(Schema.Int.check(Schema.isBetween({ minimum: 15, maximum: 10_080 }))),
          syncAdminRoleId: Schema.NullOr(Snowflake),
          leaveGuardPercent: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 100 }))),
        }),
      ),
    )
    .mutation(({ ctx, input }) =>
      run(
        ctx,
        Effect.gen(function* () {
          const directory = yield* Directory;
          const sync = yield* MemberSync;
          const guild = yield* directory.guildFor(ctx.staff.organizationId, input.guildId);
          yield* directory.updateSettings(guild.id, {
            syncIntervalMinutes: input.syncIntervalMinutes,
            syncAdminRoleId: input.syncAdminRoleId,
          });
          const guard =
            input.leaveGuardPercent === undefined
              ? yield* sync.leaveGuard(guild.id)
              : yield* sync.setLeaveGuard(guild.id, input.leaveGuardPercent);
          return {
            guildId: guild.id,
            syncIntervalMinutes: input.syncIntervalMinutes,
            syncAdminRoleId: input.syncAdminRoleId,
            leaveGuardPercent: guard.percent,
            leaveGuardFloor: guard.floor,
          };
        }),
      ),
    ),

  /**
   * Admin. Confirms the held sync `runId` (a run `awaiting_confirmation`: its complete snapshot
   * would mark more members left than the guild's mass-leave guard allows): exactly the members
   * of its verdict are marked left, with history rows, except those a live member event touched
   * since the sync began. Returns the run, now `completed`. Errors: NOT_FOUND (no such run of
   * the guild), CONFLICT (not awaiting confirmation: decided, or superseded by a later sync),
   * FORBIDDEN, BAD_REQUEST.
   */
  confirmSync: adminProcedure.input(Schema.toStandardSchemaV1(DecisionInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* (yield* Directory).guildFor(ctx.staff.organizationId, input.guildId);
        return yield* (yield* MemberSync).confirmLeaves(guild.id, input.runId, ctx.user.id);
      }),
    ),
  ),

  /**
   * Admin. Discards the held sync `runId`: nobody is marked left, and the run becomes
   * `discarded`. Returns the run. Errors as `confirmSync`.
   */
  discardSync: adminProcedure.input(Schema.toStandardSchemaV1(DecisionInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* (yield* Directory).guildFor(ctx.staff.organizationId, input.guildId);
        return yield* (yield* MemberSync).discardLeaves(guild.id, input.runId, ctx.user.id);
      }),
    ),
  ),

  /**
   * Write (an admin, or a `read_write` API token). Links an app user (`userId`: 1 to 128
   * printable ASCII characters) to a Discord id (snowflake), or unlinks with `discordId: null`.
   * Only a user the organization may see: its own staff, or a user who is staff nowhere.
   * Errors: CONFLICT when another user already has that Discord id, NOT_FOUND for an unknown
   * user or another organization's staff, FORBIDDEN for non-admins, BAD_REQUEST (names the
   * field: a `userId` with a NUL, a space or a control character is refused).
   */
  setDiscordId: writeProcedure
    .input(Schema.toStandardSchemaV1(Schema.Struct({ userId: UserId, discordId: Schema.NullOr(Snowflake) })))
    .mutation(({ ctx, input }) =>
      run(
        ctx,
        Effect.gen(function* () {
          const directory = yield* Directory;
          if (!(yield* directory.userVisibleTo(ctx.staff.organizationId, input.userId)))
            return yield* new UserNotFound({ userId: input.userId });
          yield* directory.setDiscordId(input.userId, input.discordId);
          return { userId: input.userId, discordId: input.discordId };
        }),
      ),
    ),
} satisfies TRPCRouterRecord;
