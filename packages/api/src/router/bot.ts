import {
  Bot,
  type BotCommand,
  BotHeartbeat,
  Directory,
  MemberSnapshot,
  MemberSync,
  Presences,
  PresenceUpdate,
  pgText,
  RoleSnapshot,
  Snowflake,
} from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { tracked } from "@trpc/server";
import { Effect, Schema } from "effect";
import { follow } from "../follow";
import { InvalidPackedChunk, MAX_MEMBER_CHUNK, unpackMembers } from "../pack";
import { Cursor, cursorOf } from "../schema";
import { botProcedure, run, staffProcedure } from "../trpc";

/** At most this many presence updates per push (the bot coalesces bursts into batches). */
export const MAX_PRESENCE_BATCH = 1_000;

/** Commands older than this are not replayed to a bot that reconnects (ms). */
const COMMAND_REPLAY_MS = 5 * 60_000;

const PushInput = Schema.Struct({
  updates: Schema.Array(PresenceUpdate).check(Schema.isMinLength(1), Schema.isMaxLength(MAX_PRESENCE_BATCH)),
});

/** Discord's GUILD_MEMBERS_CHUNK carries at most 1,000 members. */
export { MAX_MEMBER_CHUNK };

/** A packed chunk (base64 of raw DEFLATE) is at most this long; 1,000 members pack to ~60 KB. */
export const MAX_PACKED_CHARS = 4 * 1024 * 1024;

/** A run id, as `syncBegin` returns it (a UUID). */
const RunId = Schema.String.check(Schema.isUUID());

/** The most chunks one run may have (a guild of 1,000,000,000 members at 1,000 a chunk). */
const MAX_CHUNKS = 1_000_000;

const MemberEvent = Schema.Union([
  Schema.Struct({ type: Schema.Literal("upsert"), guildId: Snowflake, member: MemberSnapshot }),
  Schema.Struct({ type: Schema.Literal("remove"), guildId: Snowflake, userId: Snowflake }),
]);

const CommandsInput = Schema.Struct({ lastEventId: Schema.optional(Schema.NullOr(Cursor)) });

export const botRouter = {
  /**
   * Bot only. Stores a batch of 1 to 1,000 presence updates (in the order given; `observedAt`
   * in epoch ms) and announces them to every server instance. Returns `{applied, ignored,
   * lastId}`: `ignored` counts updates for guilds not linked to any organization.
   * Errors: UNAUTHORIZED (bad bot key), BAD_REQUEST (names the failing field).
   */
  pushPresences: botProcedure.input(Schema.toStandardSchemaV1(PushInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Presences.use((p) => p.applyBatch(input.updates)),
    ),
  ),

  /**
   * Bot only. A shard's health report (status, ping in ms, guilds, last event time in epoch
   * ms); guilds the bot is in are linked to the default organization when not yet linked.
   * Returns `{ok: true}`. Errors: UNAUTHORIZED, BAD_REQUEST.
   */
  heartbeat: botProcedure.input(Schema.toStandardSchemaV1(BotHeartbeat)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const bot = yield* Bot;
        const directory = yield* Directory;
        const organization = yield* directory.defaultOrganization();
        if (organization) for (const guild of input.guilds) yield* directory.ensureGuild(organization.id, guild);
        yield* bot.report(input);
        return { ok: true as const };
      }),
    ),
  ),

  /**
   * Bot only. Starts a full member sync run of `guildId` (`trigger`: command, button,
   * schedule or api; `source`: gateway chunks or REST pages) and stores the guild's `roles`
   * (https://discord.com/developers/docs/topics/permissions#role-object). Returns the run.
   * When storing the roles fails, the run is ended (`failed`) before the error is answered,
   * so no run the bot never heard of stays open.
   * Errors: CONFLICT when a sync of the guild is already running, FORBIDDEN for a guild not
   * linked to Guildhall, UNAUTHORIZED, BAD_REQUEST (names the field).
   */
  syncBegin: botProcedure
    .input(
      Schema.toStandardSchemaV1(
        Schema.Struct({
          guildId: Snowflake,
          trigger: Schema.Literals(["command", "button", "schedule", "api"]),
          source: Schema.Literals(["gateway", "rest"]),
          requestedBy: Schema.NullOr(pgText(64)),
          nonce: Schema.optional(pgText(32)),
          roles: Schema.Array(RoleSnapshot).check(Schema.isMaxLength(250)),
        }),
      ),
    )
    .mutation(({ ctx, input }) =>
      run(
        ctx,
        MemberSync.use((sync) =>
          sync.begin(
            { guildId: input.guildId, trigger: input.trigger, source: input.source, requestedBy: input.requestedBy, nonce: input.nonce },
            input.roles,
          ),
        ),
      ),
    ),

  /**
   * Bot only. Applies chunk `chunkIndex` of `chunkCount` of a running sync (Discord's
   * GUILD_MEMBERS_CHUNK numbering; `chunkCount` null while unknown, as with REST paging). The
   * members come either as `members` (MemberSnapshot objects, at most 1,000) or as `packed`
   * (base64 of raw DEFLATE of their tuples, see @guildhall/api/pack), never both; both forms
   * are cleaned and checked by the MemberSnapshot schema, and role ids equal to the guild's
   * (@everyone) are dropped. Returns `{run, applied, created, updated, rejoined, unchanged}`;
   * `applied` is false for a chunk index already applied (nothing changes). A refused chunk
   * leaves the run as it was (running). Errors: CONFLICT (run not running), BAD_REQUEST
   * (names the field; chunk outside the run, both or neither of members/packed, a packed
   * chunk that does not unpack to valid members).
   */
  syncChunk: botProcedure
    .input(
      Schema.toStandardSchemaV1(
        Schema.Struct({
          runId: RunId,
          chunkIndex: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_CHUNKS - 1 })),
          /** Null while unknown (REST paging): `syncComplete` then gives it. */
          chunkCount: Schema.NullOr(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: MAX_CHUNKS }))),
          members: Schema.optional(Schema.Array(MemberSnapshot).check(Schema.isMaxLength(MAX_MEMBER_CHUNK))),
          packed: Schema.optional(Schema.String.check(Schema.isMaxLength(MAX_PACKED_CHARS))),
        }),
      ),
    )
    .mutation(({ ctx, input }) =>
      run(
        ctx,
        Effect.gen(function* () {
          if ((input.members === undefined) === (input.packed === undefined)) {
            return yield* new InvalidPackedChunk({
              message: "give the chunk's members as either `members` or `packed`, not both or neither",
            });
          }
          const members = input.members ?? (yield* unpackMembers(input.packed!));
          return yield* MemberSync.use((s) =>
            s.applyChunk({ runId: input.runId, chunkIndex: input.chunkIndex, chunkCount: input.chunkCount, members }),
          );
        }),
      ),
    ),

  /**
   * Bot only. Ends a run: completed (members absent from the snapshot marked left) when every
   * chunk arrived, else incomplete with the reason; `chunkCount` gives the count a REST-paged
   * run did not know. Returns the final run. Errors: CONFLICT (not running), BAD_REQUEST.
   */
  syncComplete: botProcedure
    .input(
      Schema.toStandardSchemaV1(
        Schema.Struct({
          runId: RunId,
          chunkCount: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: MAX_CHUNKS }))),
        }),
      ),
    )
    .mutation(({ ctx, input }) =>
      run(
        ctx,
        MemberSync.use((s) => s.complete(input.runId, input.chunkCount)),
      ),
    ),

  /**
   * Bot only. Ends a run as incomplete with `reason` (at most 500 characters: rate limited,
   * connection dropped...); nobody is marked left. Returns the final run.
   * Errors: CONFLICT (not running), BAD_REQUEST.
   */
  syncAbort: botProcedure
    .input(Schema.toStandardSchemaV1(Schema.Struct({ runId: RunId, reason: pgText(500) })))
    .mutation(({ ctx, input }) =>
      run(
        ctx,
        MemberSync.use((s) => s.abort(input.runId, input.reason)),
      ),
    ),

  /**
   * Bot only. GUILD_MEMBER_ADD / UPDATE (`upsert`) and REMOVE (`remove`) events
   * (https://discord.com/developers/docs/events/gateway-events#guild-member-add), 1 to 1,000,
   * applied in the order given; members are cleaned and checked by the MemberSnapshot schema,
   * and @everyone is dropped from their roles. Returns each one's outcome (created, updated,
   * rejoined, left, unchanged). Errors: UNAUTHORIZED, BAD_REQUEST (names the field).
   */
  memberEvents: botProcedure
    .input(
      Schema.toStandardSchemaV1(
        Schema.Struct({ events: Schema.Array(MemberEvent).check(Schema.isMinLength(1), Schema.isMaxLength(1_000)) }),
      ),
    )
    .mutation(({ ctx, input }) =>
      run(
        ctx,
        Effect.gen(function* () {
          const sync = yield* MemberSync;
          return yield* Effect.forEach(input.events, (event) =>
            event.type === "upsert" ? sync.upsertLive(event.guildId, event.member) : sync.removeLive(event.guildId, event.userId),
          );
        }),
      ),
    ),

  /** Bot only. A guild's member sync settings: `{syncIntervalMinutes, syncAdminRoleId}` (the role also allowed to run /sync_members). */
  guildSettings: botProcedure.input(Schema.toStandardSchemaV1(Schema.Struct({ guildId: Snowflake }))).query(({ ctx, input }) =>
    run(
      ctx,
      Directory.use((d) => d.settingsOf(input.guildId)),
    ),
  ),

  /**
   * Bot only. The Discord ids (snowflakes) whose presence the guild's roster shows: the
   * bot re-requests their presences after (re)connecting. Errors: UNAUTHORIZED, BAD_REQUEST.
   */
  trackedUsers: botProcedure.input(Schema.toStandardSchemaV1(Schema.Struct({ guildId: Snowflake }))).query(({ ctx, input }) =>
    run(
      ctx,
      Directory.use((d) => d.staffDiscordIdsOfGuild(input.guildId)),
    ),
  ),

  /**
   * Bot only. The commands the server queues for the bot, as `tracked(id, command)`; on
   * reconnect the client's `lastEventId` replays what it missed (up to 5 minutes old).
   */
  commands: botProcedure.input(Schema.toStandardSchemaV1(CommandsInput)).subscription(async function* ({ ctx, input, signal }) {
    const bot = await run(ctx, Bot.use(Effect.succeed));
    const stream = follow<BotCommand>({
      subscribe: (push) => bot.subscribe(push),
      backfill: (afterId, limit) => run(ctx, bot.commandsSince(afterId, limit, COMMAND_REPLAY_MS)),
      latestId: () => run(ctx, bot.latestCommandId()),
      after: cursorOf(input.lastEventId) ?? 0,
      select: (commands) => commands,
      signal,
    });
    for await (const event of stream) {
      if (event.type === "items") for (const command of event.items) yield tracked(String(command.id), command);
    }
  }),

  /**
   * Staff. The bot's health, in the old API's terms plus more: `is_running` (a shard reported
   * READY within 45 s), `guild_id` (the first guild it is in, or null), `ping_ms`,
   * `last_event_at` (ISO-8601 or null) and every shard's state.
   * Errors: UNAUTHORIZED, FORBIDDEN.
   */
  status: staffProcedure.query(({ ctx }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const shards = yield* (yield* Bot).shards();
        const live = shards.filter((s) => s.fresh && s.connected);
        const lastEvents = shards.flatMap((s) => (s.lastEventAt ? [s.lastEventAt] : [])).sort();
        return {
          is_running: live.length > 0,
          guild_id: live[0]?.guildIds[0] ?? shards[0]?.guildIds[0] ?? null,
          ping_ms: live[0]?.pingMs ?? null,
          last_event_at: lastEvents[lastEvents.length - 1] ?? null,
          shards,
        };
      }),
    ),
  ),
} satisfies TRPCRouterRecord;
