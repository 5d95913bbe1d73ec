import { InteractionToken } from "@guildhall/discord/schema";
import { DeadLetter } from "@guildhall/jobs";
import {
  Bot,
  BotHeartbeat,
  Directory,
  Integrations,
  MemberSnapshot,
  MemberSync,
  MemberUpdate,
  Presences,
  PresenceUpdate,
  pgText,
  Reconciler,
  RoleSnapshot,
  Snowflake,
} from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { tracked } from "@trpc/server";
import { Effect, Schema } from "effect";
import { queueInteractionSync } from "../interactions/server";
import { InvalidPackedChunk, MAX_MEMBER_CHUNK, unpackMembers } from "../pack";
import { botProcedure, run, staffProcedure } from "../trpc";

/** At most this many presence updates per push (the bot coalesces bursts into batches). */
export const MAX_PRESENCE_BATCH = 1_000;

/**
 * How often a `bot.commands` follower looks for commands when nothing woke it (ms): for retries
 * whose backoff ended and deliveries that expired unacknowledged. A new command wakes it at once.
 */
const COMMAND_POLL_MS = 5_000;
/** Commands of each kind taken at once for the bot. */
const COMMAND_BATCH = 10;

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

/** A GUILD_MEMBER_ADD / UPDATE (`upsert`) or REMOVE (`remove`) event as the bot forwards it (also re-applied from a dead letter). */
export const MemberEvent = Schema.Union([
  // A GUILD_MEMBER_ADD carries every field; a GUILD_MEMBER_UPDATE only some (absent: unchanged).
  Schema.Struct({ type: Schema.Literal("upsert"), guildId: Snowflake, member: MemberUpdate }),
  Schema.Struct({ type: Schema.Literal("remove"), guildId: Snowflake, userId: Snowflake }),
]);
export type MemberEvent = typeof MemberEvent.Type;

/**
 * Applies member events in order through MemberSync (`upsertLive` / `removeLive`); returns each
 * one's outcome. The one path for `bot.memberEvents` and for a member event re-applied from a
 * dead letter (../deadLetters.ts). Fails with MemberSync's errors.
 */
export const applyMemberEvents = (events: ReadonlyArray<MemberEvent>) =>
  Effect.gen(function* () {
    const sync = yield* MemberSync;
    const reconciler = yield* Reconciler;
    // Role reconciliation sees each upserted member before and after (a live re-plan of the ones that changed).
    // Its failures never refuse the events: a missed re-plan is caught by the guild's next verify.
    const upserts = new Map<string, string[]>();
    for (const event of events)
      if (event.type === "upsert") upserts.set(event.guildId, [...(upserts.get(event.guildId) ?? []), event.member.userId]);
    const quietly = (what: string, effect: Effect.Effect<unknown, { readonly _tag: string }>) =>
      Effect.asVoid(effect).pipe(Effect.catch((error) => Effect.logWarning(`roles: could not ${what}`, error)));
    for (const [guildId, userIds] of upserts) yield* quietly("observe members", reconciler.observeMembers(guildId, userIds));
    const outcomes = yield* Effect.forEach(events, (event) =>
      event.type === "upsert" ? sync.upsertLive(event.guildId, event.member) : sync.removeLive(event.guildId, event.userId),
    );
    const changed = new Map<string, string[]>();
    events.forEach((event, i) => {
      if (event.type === "upsert" && outcomes[i] !== "unchanged")
        changed.set(event.guildId, [...(changed.get(event.guildId) ?? []), event.member.userId]);
    });
    for (const [guildId, userIds] of changed) yield* quietly("queue live re-plans", reconciler.queueLive(guildId, userIds));
    return outcomes;
  });

// The tracked id a reconnecting client sends back; commands are pg-boss jobs, so there is nothing to replay from it.
const CommandsInput = Schema.Struct({ lastEventId: Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(128)))) });

const CommandDoneInput = Schema.Struct({
  id: Schema.String.check(Schema.isUUID()),
  attempt: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000 })),
  outcome: Schema.Literals(["completed", "failed"]),
  error: Schema.optional(Schema.String.check(Schema.isMaxLength(2_000))),
});

/** At most this many dead letters per report. */
export const MAX_DEAD_LETTER_BATCH = 100;

/** `bot.requestMemberSync`'s input: see {@link MemberSyncRequest} of @guildhall/api/interactions. */
const RequestMemberSyncInput = Schema.Struct({
  guildId: Snowflake,
  requestedBy: Schema.String.check(Schema.isPattern(/^discord:[1-9][0-9]{0,19}$/, { message: "must be discord:<user id>" })),
  source: Schema.Literals(["gateway", "rest"]),
  followUp: Schema.Struct({ applicationId: Snowflake, token: InteractionToken }),
});

export const botRouter = {
  /**
   * Bot only. Stores a batch of 1 to 1,000 presence updates (in the order given; `observedAt`
   * in epoch ms, 2015-01-01 to 9999-12-31) and announces them to every server instance
   * (https://discord.com/developers/docs/events/gateway-events#presence-update). Custom status
   * and activity text is the member's own: a NUL or a lone surrogate in it is cleaned, never
   * refused. Returns `{applied, ignored, lastId}`: `ignored` counts updates for guilds not
   * linked to any organization.
   *
   * A batch is all or nothing (one statement): an invalid update (a bad id, status or
   * `observedAt`) refuses the batch with BAD_REQUEST naming `updates.<index>.<field>`, and the
   * bot's forwarder isolates it by bisection (apps/bot/src/forwarder.ts): the other updates
   * land, that one is dead-lettered (`bot.reportDeadLetter`).
   * Errors: UNAUTHORIZED (bad bot key), BAD_REQUEST (names the failing field).
   */
  pushPresences: botProcedure.input(Schema.toStandardSchemaV1(PushInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Presences.use((p) => p.applyBatch(input.updates)),
    ),
  ),

  /**
   * Bot only. A shard's health report (BotHeartbeat of @guildhall/sync: status, ping in ms,
   * guilds, last event and start times in epoch ms); guilds the bot is in are recorded as seen
   * (linked ones get their name and icon refreshed; an unlinked one is listed to admins as "not
   * installed" by `guilds.list`, and is never linked here), and a linked guild seen for the first time with no
   * completed member sync gets one queued (first sight, once). The whole report is checked
   * first: a guild id that is no snowflake (`0`, at or above 2^64), a shard id not below
   * `shardCount`, a ping beyond int32 or a time out of range refuses it, and nothing of it is
   * linked or stored. Guild names are cleaned (NUL, lone surrogates). Returns `{ok: true}`.
   * Errors: UNAUTHORIZED, BAD_REQUEST (names the field).
   */
  heartbeat: botProcedure.input(Schema.toStandardSchemaV1(BotHeartbeat)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const bot = yield* Bot;
        const directory = yield* Directory;
        yield* directory.noteSeenGuilds(input.guilds);
        yield* bot.report(input);
        yield* bot.firstSight(input.guilds.map((g) => g.id));
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
   * applied in the order given. An upsert's member is a MemberUpdate: its user id and the fields
   * the event carried, each cleaned and checked as in MemberSnapshot; a field left out keeps its
   * stored value, a field given as null is cleared (GUILD_MEMBER_UPDATE documents several
   * fields as optional: https://discord.com/developers/docs/events/gateway-events#guild-member-update).
   * @everyone is dropped from the roles. Returns each one's outcome (created, updated,
   * rejoined, left, unchanged). Errors: UNAUTHORIZED, BAD_REQUEST (names the field).
   */
  memberEvents: botProcedure
    .input(
      Schema.toStandardSchemaV1(
        Schema.Struct({ events: Schema.Array(MemberEvent).check(Schema.isMinLength(1), Schema.isMaxLength(1_000)) }),
      ),
    )
    .mutation(({ ctx, input }) => run(ctx, applyMemberEvents(input.events))),

  /**
   * Bot only. Items the bot gave up (1 to 100 dead letters: each an update the server refused,
   * isolated from its batch so the rest landed; see apps/bot/src/deadLetter.ts). Each is stored
   * as a job of `bot.dead-letters` (@guildhall/jobs): recorded as failed with the server's error,
   * shown on the Jobs page and counted by `bot.status` on every server instance; an admin's
   * retry there re-applies it. A letter reported twice (the same kind, key and `at`) is stored
   * once. Returns `{recorded}` (the letters taken, duplicates included). Errors: UNAUTHORIZED,
   * BAD_REQUEST (names the field; NUL or lone surrogates are refused, the bot escapes them).
   */
  reportDeadLetter: botProcedure
    .input(
      Schema.toStandardSchemaV1(
        Schema.Struct({ letters: Schema.Array(DeadLetter).check(Schema.isMinLength(1), Schema.isMaxLength(MAX_DEAD_LETTER_BATCH)) }),
      ),
    )
    .mutation(({ ctx, input }) =>
      run(ctx, Bot.use((bot) => bot.recordDeadLetters(input.letters)).pipe(Effect.as({ recorded: input.letters.length }))),
    ),

  /**
   * Bot only. The bot was removed from guild `guildId` (GUILD_DELETE without `unavailable`):
   * its integrations are marked `removed` (shown to admins on the Integrations page); nothing is
   * deleted. Answers `{marked}`: how many integrations changed. Errors: UNAUTHORIZED, BAD_REQUEST.
   * https://discord.com/developers/docs/events/gateway-events#guild-delete
   */
  guildRemoved: botProcedure
    .input(Schema.toStandardSchemaV1(Schema.Struct({ guildId: Snowflake })))
    .mutation(({ ctx, input }) =>
      run(
        ctx,
        Integrations.use((i) => i.markRemoved(input.guildId, "The bot was removed from the guild on Discord.")).pipe(
          Effect.map((marked) => ({ marked })),
        ),
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
   * Bot only. The commands the server queues for the bot (pg-boss jobs), as
   * `tracked("<id>:<attempt>", command)`, each handed out once: to one subscriber, even with
   * several server instances. The bot acknowledges each with `bot.commandDone`; one it never
   * acknowledges (it crashed) is handed out again after its queue's expiry, as the next attempt.
   * A reconnecting client's `lastEventId` is accepted and ignored: whatever was not handed out
   * yet still waits in its queue.
   */
  commands: botProcedure.input(Schema.toStandardSchemaV1(CommandsInput)).subscription(async function* ({ ctx, signal }) {
    const bot = await run(ctx, Bot.use(Effect.succeed));
    let woken = false;
    let wake: (() => void) | null = null;
    const unsubscribe = bot.subscribe(() => {
      woken = true;
      wake?.();
    });
    try {
      while (!signal?.aborted) {
        woken = false;
        const commands = await run(ctx, bot.nextCommands(COMMAND_BATCH));
        for (const command of commands) yield tracked(`${command.id}:${command.attempt}`, command);
        if (commands.length > 0 || woken) continue;
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
          };
          const timer = setTimeout(done, COMMAND_POLL_MS);
          signal?.addEventListener("abort", done, { once: true });
          wake = done;
        });
        wake = null;
      }
    } finally {
      unsubscribe();
    }
  }),

  /**
   * Bot only. Acknowledges attempt `attempt` of command `id` (both as `bot.commands` delivered
   * them): `completed`, or `failed` with `error` (retried with backoff, then dead-lettered, and
   * shown on the Jobs page). Returns `{settled}`: false when that delivery was no longer open
   * (acknowledged before, expired and handed out again, or discarded), which changes nothing.
   * Errors: UNAUTHORIZED, BAD_REQUEST (names the field).
   */
  commandDone: botProcedure.input(Schema.toStandardSchemaV1(CommandDoneInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Bot.use((bot) => bot.acknowledge(input)),
    ),
  ),

  /**
   * Bot only. Queues the member sync a `/sync_members` interaction asked for, once the bot's
   * handler (@guildhall/api/interactions, the same one the HTTP endpoint runs) has checked the
   * member's permission: a `members.sync` command (trigger `command`) carrying `source` and the
   * interaction to edit with progress (`followUp`; its token is a secret, never logged). A sync
   * already waiting for the guild is that one. Returns `{commandId}`, or `{notLinked: true}`
   * (nothing queued) for a guild not linked to Guildhall. Errors: UNAUTHORIZED, BAD_REQUEST (names the field).
   */
  requestMemberSync: botProcedure
    .input(Schema.toStandardSchemaV1(RequestMemberSyncInput))
    .mutation(({ ctx, input }) => run(ctx, queueInteractionSync(input))),

  /**
   * Staff. The bot's health: `isRunning` (a shard reported READY within 45 s), `guildId` (a
   * snowflake: the first guild it is in, or null), `pingMs` (gateway heartbeat round trip, ms,
   * or null), `lastEventAt` (ISO-8601 time of the newest gateway event, or null), every shard's
   * state (`shards`; a shard silent for 10 minutes is no longer listed), `fatal`: the gateway
   * close a recently reporting shard will not recover from (`{code, reason}`, the reason saying
   * what to do) or null, and `deadLetters`: the items the bot gave up that wait on the Jobs page
   * (queue `bot.dead-letters`): `total`, and the newest 20 (`{id, summary, error, at}`, newest
   * first), read from the jobs, so every server instance answers the same.
   * Errors: UNAUTHORIZED, FORBIDDEN.
   */
  status: staffProcedure.query(({ ctx }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const bot = yield* Bot;
        // The bot's shards serve every organization: show the caller only its own guilds' ids.
        const own = new Set((yield* (yield* Directory).guildsOf(ctx.staff.organizationId)).map((g) => g.id));
        const shards = (yield* bot.shards()).map((s) => ({ ...s, guildIds: s.guildIds.filter((id) => own.has(id)) }));
        const live = shards.filter((s) => s.fresh && s.connected);
        const lastEvents = shards.flatMap((s) => (s.lastEventAt ? [s.lastEventAt] : [])).sort();
        return {
          isRunning: live.length > 0,
          guildId: live[0]?.guildIds[0] ?? shards[0]?.guildIds[0] ?? null,
          pingMs: live[0]?.pingMs ?? null,
          lastEventAt: lastEvents[lastEvents.length - 1] ?? null,
          fatal: shards.find((s) => s.fresh && s.fatal !== null)?.fatal ?? null,
          shards,
          deadLetters: yield* bot.deadLetters(yield* (yield* Directory).jobScope(ctx.staff.organizationId)),
        };
      }),
    ),
  ),
} satisfies TRPCRouterRecord;
