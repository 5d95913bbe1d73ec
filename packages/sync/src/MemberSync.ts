import { Database, type DatabaseError, type schema } from "@guildhall/db";
import { diffSnapshots } from "@guildhall/diff";
import { Cause, Clock, Context, Effect, Layer, Schema } from "effect";
import type { AppendInput } from "./DomainEvents";
import { DomainEvents } from "./DomainEvents";
import { listenFeed } from "./Feed";
import { type ChunkTotals, MemberSyncStore, type RunEnding, SYNC_CHANNEL, type SyncRun, snapshotOf } from "./MemberSyncStore";
import {
  type MemberSnapshot,
  type MemberUpdate,
  mergeMember,
  normalizeMember,
  presentFields,
  type RoleSnapshot,
  storedRoleIds,
} from "./members";

export { SYNC_CHANNEL, type SyncRun };

/** A run that has not heard from its bot for this long is ended as timed out (ms). */
export const SYNC_STALE_MS = 120_000;

/** Progress is written to the run row at most this often per run and server process (ms). */
export const PROGRESS_EVERY_MS = 250;

/** Another sync of this guild is running; `runId` is that one. */
export class SyncAlreadyRunning extends Schema.TaggedError<SyncAlreadyRunning>()("SyncAlreadyRunning", {
  guildId: Schema.String,
  runId: Schema.String,
}) {}

/** The run does not exist, or is no longer running (completed, incomplete, failed). */
export class SyncNotRunning extends Schema.TaggedError<SyncNotRunning>()("SyncNotRunning", {
  runId: Schema.String,
  status: Schema.NullOr(Schema.String),
}) {}

/** A chunk that contradicts the run: a different `chunk_count`, or an index outside 0..chunk_count-1. */
export class ChunkMismatch extends Schema.TaggedError<ChunkMismatch>()("ChunkMismatch", {
  runId: Schema.String,
  message: Schema.String,
}) {}

/** No run `runId` of the guild exists (an unknown id, or another guild's run). */
export class SyncRunNotFound extends Schema.TaggedError<SyncRunNotFound>()("SyncRunNotFound", {
  runId: Schema.String,
}) {}

/** The run is not waiting for an admin's confirmation: it was already confirmed or discarded, superseded by a later sync, or never held. */
export class SyncNotAwaitingConfirmation extends Schema.TaggedError<SyncNotAwaitingConfirmation>()("SyncNotAwaitingConfirmation", {
  runId: Schema.String,
  status: Schema.String,
}) {}

/**
 * The mass-leave guard's floor: a complete snapshot that would mark at most this many members
 * left applies on its own, whatever share of the guild that is, so a small guild is never
 * stuck waiting for a confirmation because three of its twenty members left.
 */
export const LEAVE_GUARD_FLOOR = 10;

/** What the mass-leave guard holds to: the guild's share (percent of present members) and the floor (members). */
export interface LeaveGuard {
  readonly percent: number;
  readonly floor: number;
}

/** The guild (snowflake) is not one Guildhall knows: no organization has linked it, so it cannot be synced. */
export class GuildNotLinked extends Schema.TaggedError<GuildNotLinked>()("GuildNotLinked", {
  guildId: Schema.String,
}) {}

/** What one chunk changed. */
export interface ChunkResult {
  readonly run: SyncRun;
  /** False when this chunk index had already been applied (a redelivery changes nothing). */
  readonly applied: boolean;
  readonly created: number;
  readonly updated: number;
  readonly rejoined: number;
  readonly unchanged: number;
}

/** What a live member event did: `created`, `updated`, `rejoined`, `left`, or `unchanged`. */
export type LiveOutcome = "created" | "updated" | "rejoined" | "left" | "unchanged";

/** What starts a run: the guild (snowflake), why, where its members come from, who asked (a user id or null), and the gateway nonce. */
export interface StartInput {
  readonly guildId: string;
  readonly trigger: schema.SyncTrigger;
  readonly source: "gateway" | "rest" | "legacy";
  readonly requestedBy: string | null;
  readonly nonce?: string | null | undefined;
}

/** A member's ids and names as domain events carry them: the display name is the nick, else the global name, else the username. */
const namesOf = (member: MemberSnapshot) => ({
  userId: member.userId,
  username: member.username,
  displayName: member.nick ?? member.globalName ?? member.username,
});

/** Why a stale run ended. */
const TIMED_OUT = `timed out: no chunk arrived for ${SYNC_STALE_MS / 60_000} minutes`;

/** "Now" from Effect's Clock (TestClock in tests), as a Date for the store. */
const currentTime = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms));

/** Why a run ended because the work around it failed: the failure's tag only (messages may hold values). */
const failedReason = (cause: Cause.Cause<unknown>): string => {
  if (Cause.hasInterruptsOnly(cause)) return "failed: the request that started it was interrupted";
  const tags = cause.reasons.flatMap((reason) =>
    Cause.isFailReason(reason) && typeof reason.error === "object" && reason.error !== null && "_tag" in reason.error
      ? [String(reason.error._tag)]
      : Cause.isDieReason(reason)
        ? ["an unexpected error"]
        : [],
  );
  return `failed: the request that started it failed (${[...new Set(tags)].join(", ") || "unknown"})`;
};

/**
 * The guild member mirror and its full syncs.
 *
 * A full sync is a run: `start` it, `applyChunk` each chunk of the snapshot as it arrives
 * (one statement per chunk: Postgres compares the chunk with the stored rows and writes only
 * new, changed and returning members), then `complete` it. Members are marked left only when
 * every chunk 0..chunk_count-1 of the run arrived with one chunk_count; otherwise the run ends
 * `incomplete` and nobody's date_left changes. Redelivered chunks change nothing. Live
 * GUILD_MEMBER_ADD/UPDATE/REMOVE go through `upsertLive` (which names the changed fields with
 * @guildhall/diff) and `removeLive`. Progress (the run row's counts, refreshed from the chunk
 * rows at most every PROGRESS_EVERY_MS per server process, and final at the end) is announced
 * on {@link SYNC_CHANNEL} to every server instance.
 *
 * No run is left open by a failure of its own: `withRun` ends the run it started when the
 * work that follows fails, `start` ends its run when announcing it fails, and runs whose bot
 * went silent for SYNC_STALE_MS are ended by `expireStale` (and before every `start`). Every
 * time it writes comes from Effect's Clock. The SQL lives in MemberSyncStore.
 */
export class MemberSync extends Context.Service<
  MemberSync,
  {
    /**
     * Starts a run for `guildId`. Ends the guild's stale runs (SYNC_STALE_MS without a chunk)
     * first, and discards a held snapshot (`awaiting_confirmation`) of the guild in the same
     * transaction that creates the run: the new snapshot supersedes it. Fails with
     * `GuildNotLinked` for a guild Guildhall does not know, `SyncAlreadyRunning` when another
     * run of the guild is in progress, `DatabaseError`.
     */
    readonly start: (input: StartInput) => Effect.Effect<SyncRun, GuildNotLinked | SyncAlreadyRunning | DatabaseError>;
    /** Succeeds when Guildhall knows `guildId` (snowflake), a guild some organization linked; fails with GuildNotLinked otherwise. */
    readonly requireGuild: (guildId: string) => Effect.Effect<void, GuildNotLinked | DatabaseError>;
    /**
     * Starts a run (as `start`) and runs `use` with it. When `use` fails in any way (a typed
     * failure, a defect, an interruption) the run is ended as `failed` before the failure
     * propagates unchanged, so a caller whose work fails never leaves its run open. On
     * success the run stays as `use` left it (running, or ended by `use`).
     */
    readonly withRun: <A, E, R>(
      input: StartInput,
      use: (run: SyncRun) => Effect.Effect<A, E, R>,
    ) => Effect.Effect<A, E | GuildNotLinked | SyncAlreadyRunning | DatabaseError, R>;
    /**
     * Starts a run (as `start`) and replaces the guild's roles with `roles` (as `applyRoles`):
     * what `bot.syncBegin` does. When storing the roles fails, the run is ended (`failed`)
     * first, since the caller never learns its id. Returns the run.
     */
    readonly begin: (
      input: StartInput,
      roles: ReadonlyArray<RoleSnapshot>,
    ) => Effect.Effect<SyncRun, GuildNotLinked | SyncAlreadyRunning | DatabaseError>;
    /**
     * Applies chunk `chunkIndex` of `chunkCount` (Discord's GUILD_MEMBERS_CHUNK numbering,
     * https://discord.com/developers/docs/events/gateway-events#guild-members-chunk).
     * `chunkCount` is null when it is not known yet (REST paging); `complete` then gives it.
     * Role ids equal to the guild's id (@everyone) are dropped. Returns the chunk's counts and
     * the run's progress as last written (at most PROGRESS_EVERY_MS old). Fails with
     * SyncNotRunning (the run ended or never was), ChunkMismatch (index outside
     * 0..chunkCount-1, or a chunkCount other chunks contradict), DatabaseError.
     */
    readonly applyChunk: (input: {
      runId: string;
      chunkIndex: number;
      chunkCount: number | null;
      members: ReadonlyArray<MemberSnapshot>;
    }) => Effect.Effect<ChunkResult, SyncNotRunning | ChunkMismatch | DatabaseError>;
    /**
     * Ends a run: `completed` (members not in the snapshot marked left) when every chunk arrived,
     * else `incomplete` with the reason. `chunkCount` fixes the count for runs that did not know
     * it while chunks arrived (REST paging). The mass-leave guard: a complete snapshot that
     * would mark more than LEAVE_GUARD_FLOOR members left, and more than the guild's share of
     * its present members (`leaveGuard`, default 10%), marks nobody left; it ends
     * `awaiting_confirmation`, its verdict (who, `pendingLeft`) kept for `confirmLeaves` /
     * `discardLeaves`. Returns the final run. Fails with SyncNotRunning, DatabaseError (then
     * nothing changed).
     */
    readonly complete: (runId: string, chunkCount?: number) => Effect.Effect<SyncRun, SyncNotRunning | DatabaseError>;
    /**
     * An admin (`decidedBy`, an app user id) confirms the held snapshot of run `runId` of
     * `guildId`: exactly the members of its verdict are marked left (with their history rows),
     * except those a live event touched since the run began (the gateway knows better). The run
     * becomes `completed` with `markedLeft`; all in one transaction. Fails with SyncRunNotFound,
     * SyncNotAwaitingConfirmation (decided before, or superseded by a later sync), DatabaseError
     * (then nothing changed).
     */
    readonly confirmLeaves: (
      guildId: string,
      runId: string,
      decidedBy: string,
    ) => Effect.Effect<SyncRun, SyncRunNotFound | SyncNotAwaitingConfirmation | DatabaseError>;
    /**
     * An admin (`decidedBy`) discards the held snapshot of run `runId` of `guildId`: nobody is
     * marked left, the verdict is dropped, the run becomes `discarded`. Fails as `confirmLeaves`.
     */
    readonly discardLeaves: (
      guildId: string,
      runId: string,
      decidedBy: string,
    ) => Effect.Effect<SyncRun, SyncRunNotFound | SyncNotAwaitingConfirmation | DatabaseError>;
    /** The guild's mass-leave guard: `{percent, floor}` (percent of present members; floor in members, LEAVE_GUARD_FLOOR). */
    readonly leaveGuard: (guildId: string) => Effect.Effect<LeaveGuard, DatabaseError>;
    /** Sets the guild's mass-leave guard share, `percent` (1 to 100; 100: never ask). */
    readonly setLeaveGuard: (guildId: string, percent: number) => Effect.Effect<LeaveGuard, DatabaseError>;
    /** Ends a run as `incomplete` (or `failed`) with `reason`; nobody is marked left. Fails with SyncNotRunning, DatabaseError. */
    readonly abort: (
      runId: string,
      reason: string,
      status?: "incomplete" | "failed",
    ) => Effect.Effect<SyncRun, SyncNotRunning | DatabaseError>;
    /**
     * Ends every running run, of every guild, whose bot went silent for SYNC_STALE_MS (neither
     * the run nor any chunk refreshed), as `incomplete` "timed out"; "now" is Effect's Clock.
     * Returns the runs it ended (each also announced). Scheduled as a job; `start` also runs
     * it for its guild.
     */
    readonly expireStale: () => Effect.Effect<ReadonlyArray<SyncRun>, DatabaseError>;
    /**
     * Replaces the guild's roles with `roles` (missing ones get date_deleted; a role listed
     * twice counts once, the last), in one transaction.
     */
    readonly applyRoles: (guildId: string, roles: ReadonlyArray<RoleSnapshot>) => Effect.Effect<void, DatabaseError>;
    /**
     * GUILD_MEMBER_ADD / GUILD_MEMBER_UPDATE, applied at once
     * (https://discord.com/developers/docs/events/gateway-events#guild-member-update). A merge:
     * only the fields `member` carries change (a present null clears; an absent field keeps its
     * stored value, see {@link MemberUpdate}), and only they are compared, so an event that
     * carries nothing new is `unchanged`. A member never seen before is created with defaults
     * for what the event left out; a member marked left comes back (`rejoined`). @everyone is
     * dropped from the roles. Fails with DatabaseError (then nothing changed).
     */
    readonly upsertLive: (guildId: string, member: MemberUpdate) => Effect.Effect<LiveOutcome, DatabaseError>;
    /** GUILD_MEMBER_REMOVE, applied at once. */
    readonly removeLive: (guildId: string, userId: string) => Effect.Effect<LiveOutcome, DatabaseError>;
    /** A run by id, or null. */
    readonly run: (runId: string) => Effect.Effect<SyncRun | null, DatabaseError>;
    /** The guild's runs, newest first, at most `limit`. */
    readonly history: (guildId: string, limit: number) => Effect.Effect<ReadonlyArray<SyncRun>, DatabaseError>;
    /** Calls `listener` with each run whose progress changed (any guild); returns the unsubscribe function. */
    readonly subscribe: (listener: (runs: ReadonlyArray<SyncRun>) => void) => () => void;
  }
>()("@guildhall/sync/MemberSync") {
  /** The service over a MemberSyncStore it is given (and the Database, for transactions and LISTEN). */
  static readonly layerOnStore = Layer.effect(
    MemberSync,
    Effect.gen(function* () {
      const database = yield* Database;
      const store = yield* MemberSyncStore;
      const domainEvents = yield* DomainEvents;

      /** The domain event a run's end is (sync.finished, sync.failed), appended in the transaction that ends it; none for a held or discarded run. */
      const endEvents = (runs: ReadonlyArray<SyncRun>) =>
        domainEvents.append(
          runs.flatMap((run): ReadonlyArray<AppendInput> => {
            if (run.status === "completed") {
              return [
                {
                  kind: "sync.finished",
                  guildId: run.guildId,
                  payload: {
                    runId: run.id,
                    trigger: run.trigger,
                    created: run.created,
                    updated: run.updated,
                    rejoined: run.rejoined,
                    markedLeft: run.markedLeft,
                    unchanged: run.unchanged,
                    durationMs: run.durationMs,
                  },
                },
              ];
            }
            if (run.status === "incomplete" || run.status === "failed") {
              return [
                {
                  kind: "sync.failed",
                  guildId: run.guildId,
                  payload: { runId: run.id, trigger: run.trigger, status: run.status, reason: run.reason },
                },
              ];
            }
            return [];
          }),
        );

      // Progress payloads always carry the run itself (one small row), never an id range.
      const feed = yield* listenFeed<SyncRun>(database, SYNC_CHANNEL, "member-sync", async () => []);

      // Per run, the progress this process last wrote (see PROGRESS_EVERY_MS), at Clock time `at` (ms).
      const lastRun = new Map<string, { at: number; run: SyncRun }>();

      /** Ends stale runs (of `guildId`, or all when null) at `now`, and announces each. */
      const expire = (guildId: string | null, now: Date) =>
        database
          .transaction(
            "memberSync.expireStale",
            store
              .expireStale({ guildId, cutoff: new Date(now.getTime() - SYNC_STALE_MS), now, reason: TIMED_OUT })
              .pipe(Effect.tap(endEvents)),
          )
          .pipe(
            Effect.tap((ended) =>
              Effect.forEach(ended, (run) => {
                lastRun.delete(run.id);
                return store.announce(run);
              }),
            ),
          );

      const expireStale = Effect.fn("MemberSync.expireStale")(function* () {
        return yield* expire(null, yield* currentTime);
      });

      /** Ends a run whose request failed, as `failed`; a failure to end it is logged (the stale expiry ends it later). */
      const endFailed = (runId: string, reason: string) =>
        finish(runId, () => Effect.succeed({ status: "failed", reason })).pipe(
          Effect.asVoid,
          Effect.catch((error) =>
            error._tag === "SyncNotRunning"
              ? Effect.void
              : Effect.logError(`member sync: could not end failed run ${runId} (${error._tag}); it expires after ${SYNC_STALE_MS} ms`),
          ),
        );

      const requireGuild = Effect.fn("MemberSync.requireGuild")(function* (guildId: string) {
        if (!(yield* store.guildExists(guildId))) return yield* new GuildNotLinked({ guildId });
      });

      const start = Effect.fn("MemberSync.start")(function* (input: StartInput) {
        const now = yield* currentTime;
        yield* expire(input.guildId, now);
        yield* requireGuild(input.guildId);
        const { run, superseded } = yield* database.transaction(
          "memberSync.start",
          Effect.gen(function* () {
            const created = yield* store.createRun({
              id: crypto.randomUUID(),
              guildId: input.guildId,
              trigger: input.trigger,
              source: input.source,
              requestedBy: input.requestedBy,
              nonce: input.nonce ?? null,
              now,
            });
            if (!created) return { run: null, superseded: [] };
            const reason = `superseded by a later sync (started ${now.toISOString()}) before an admin decided; nobody was marked left`;
            return { run: created, superseded: yield* store.discardHeld(input.guildId, reason, now) };
          }),
        );
        if (!run) {
          const running = yield* store.runningRunOf(input.guildId);
          return yield* new SyncAlreadyRunning({ guildId: input.guildId, runId: running ?? "unknown" });
        }
        lastRun.set(run.id, { at: now.getTime(), run });
        // Announcing a superseded run is best effort: a subscriber that misses it sees it in the history.
        yield* Effect.forEach(superseded, (ended) => store.announce(ended).pipe(Effect.ignore));
        // The caller learns the run only if this succeeds: on failure, end it rather than leave it open.
        yield* store.announce(run).pipe(Effect.onError(() => endFailed(run.id, "failed: the run could not be announced")));
        return run;
      });

      const withRun = Effect.fn("MemberSync.withRun")(function* <A, E, R>(
        input: StartInput,
        use: (run: SyncRun) => Effect.Effect<A, E, R>,
      ) {
        // Uninterruptible between the run's creation and the guard's installation, so that no
        // interruption can slip in while the run exists unguarded.
        return yield* Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(restore(start(input)), (run) =>
            restore(use(run)).pipe(Effect.onError((cause) => endFailed(run.id, failedReason(cause)))),
          ),
        );
      });

      /** Copies the chunk totals into the run row and announces it. Null when the run is not running. */
      const writeProgress = (runId: string, now: number) =>
        store.writeProgress(runId).pipe(
          Effect.tap((updated) => {
            if (!updated) return Effect.void;
            lastRun.set(runId, { at: now, run: updated });
            return store.announce(updated);
          }),
        );

      const applyChunk = Effect.fn("MemberSync.applyChunk")(function* (input: {
        runId: string;
        chunkIndex: number;
        chunkCount: number | null;
        members: ReadonlyArray<MemberSnapshot>;
      }) {
        if (input.chunkIndex < 0 || (input.chunkCount !== null && (input.chunkCount < 1 || input.chunkIndex >= input.chunkCount))) {
          return yield* new ChunkMismatch({
            runId: input.runId,
            message: `chunk_index ${input.chunkIndex} is outside 0..${(input.chunkCount ?? 0) - 1}`,
          });
        }
        const now = yield* currentTime;
        // Snowflakes are unique within a chunk (Discord never repeats a member in one); keep the last if a caller does.
        // Role ids are sorted here; @everyone is dropped by the store, which knows the run's guild.
        const incoming = new Map<string, MemberSnapshot>();
        for (const member of input.members) {
          const roleIds = storedRoleIds(member.roleIds, null);
          incoming.set(member.userId, roleIds === member.roleIds ? member : { ...member, roleIds });
        }
        const members = [...incoming.values()];
        const outcome = yield* store.applyChunk({ ...input, members, now });
        if (!outcome?.running) {
          const current = yield* store.run(input.runId);
          return yield* new SyncNotRunning({ runId: input.runId, status: current?.status ?? null });
        }
        const count = input.chunkCount;
        if (!outcome.duplicate && outcome.known_count !== null && count !== null && outcome.known_count !== count) {
          return yield* new ChunkMismatch({
            runId: input.runId,
            message: `chunk_count ${count} differs from the run's ${outcome.known_count}`,
          });
        }
        const previous = lastRun.get(input.runId);
        const progress =
          !previous || now.getTime() - previous.at >= PROGRESS_EVERY_MS || !outcome.stored
            ? yield* writeProgress(input.runId, now.getTime())
            : previous.run;
        const current = progress ?? previous?.run ?? (yield* store.run(input.runId));
        if (!current) return yield* new SyncNotRunning({ runId: input.runId, status: null });
        if (!outcome.stored) {
          // Already applied (a redelivery, possibly racing the first delivery): nothing changed.
          return { run: current, applied: false, created: 0, updated: 0, rejoined: 0, unchanged: 0 };
        }
        const created = Number(outcome.created);
        const updated = Number(outcome.updated);
        const rejoined = Number(outcome.rejoined);
        return { run: current, applied: true, created, updated, rejoined, unchanged: members.length - created - updated - rejoined };
      });

      /**
       * Ends a running run in one transaction: locks it (waiting for chunks in flight), sums its
       * chunks, lets `end` decide how it ends (and do its writes), then writes the end and drops
       * the chunks. Fails with SyncNotRunning (nothing written) or DatabaseError (rolled back).
       */
      const finish = (
        runId: string,
        end: (run: typeof schema.memberSyncRuns.$inferSelect, totals: ChunkTotals, now: Date) => Effect.Effect<RunEnding, DatabaseError>,
      ) =>
        Effect.gen(function* () {
          const now = yield* currentTime;
          const ended = yield* database.transaction(
            "memberSync.finish",
            Effect.gen(function* () {
              const locked = yield* store.lockRun(runId);
              if (locked?.status !== "running") return yield* new SyncNotRunning({ runId, status: locked?.status ?? null });
              const totals = yield* store.chunkTotals(runId);
              const ending = yield* end(locked, totals, now);
              const ended = yield* store.endRun(locked, totals, ending, now);
              yield* endEvents([ended]);
              return ended;
            }),
          );
          yield* store.announce(ended);
          return ended;
        }).pipe(Effect.ensuring(Effect.sync(() => lastRun.delete(runId))));

      const complete = Effect.fn("MemberSync.complete")(function* (runId: string, chunkCount?: number) {
        return yield* finish(runId, (run, totals, now) =>
          Effect.gen(function* () {
            const expected = run.chunkCount ?? chunkCount ?? totals.chunkCount;
            if (totals.chunkCounts > 1) {
              return {
                status: "incomplete",
                chunkCount: expected,
                reason: "snapshot inconsistent: its chunks disagree on chunk_count; nobody was marked left",
              } satisfies RunEnding;
            }
            if (expected === null || totals.chunks < expected) {
              return {
                status: "incomplete",
                chunkCount: expected,
                reason: `snapshot incomplete: ${totals.chunks} of ${expected ?? "?"} chunks arrived; nobody was marked left`,
              } satisfies RunEnding;
            }
            const absent = yield* store.absentMembers(run, totals);
            if (absent.tids === null) return { status: "completed", markedLeft: 0, chunkCount: expected } satisfies RunEnding;
            if (absent.count > LEAVE_GUARD_FLOOR) {
              const percent = yield* store.leaveGuardOf(run.guildId);
              // The guild's present members as this snapshot finds them: those it carried (each
              // present now) and those it found gone. No count of its own: a scan of every
              // present member took 60 to 250 ms at 1M members, the anti-join already read them.
              const present = totals.rows + absent.count;
              if (absent.count * 100 > percent * present) {
                // Too many at once to be believed without a person: hold the verdict, mark nobody.
                const held = yield* store.holdLeaves(run, absent.tids);
                const share = ((held * 100) / Math.max(present, 1)).toFixed(1);
                return {
                  status: "awaiting_confirmation",
                  chunkCount: expected,
                  pendingLeft: held,
                  presentMembers: present,
                  reason:
                    `this snapshot would mark ${held} of ${present} present members left (${share}%), more than this guild's ` +
                    `mass-leave guard of ${percent}%: waiting for an admin to confirm or discard it; nobody was marked left yet`,
                } satisfies RunEnding;
              }
            }
            const markedLeft = yield* store.markLeftByTids(run, absent.tids, now);
            return { status: "completed", markedLeft, chunkCount: expected } satisfies RunEnding;
          }),
        );
      });

      /** Decides a held run of `guildId` in one transaction (locked), then announces it. */
      const decide = (
        guildId: string,
        runId: string,
        apply: (run: typeof schema.memberSyncRuns.$inferSelect, now: Date) => Effect.Effect<SyncRun, DatabaseError>,
      ) =>
        Effect.gen(function* () {
          const now = yield* currentTime;
          const decided = yield* database.transaction(
            "memberSync.decide",
            Effect.gen(function* () {
              const locked = yield* store.lockRun(runId);
              if (!locked || locked.guildId !== guildId) return yield* new SyncRunNotFound({ runId });
              if (locked.status !== "awaiting_confirmation") {
                return yield* new SyncNotAwaitingConfirmation({ runId, status: locked.status });
              }
              const decided = yield* apply(locked, now);
              yield* endEvents([decided]);
              return decided;
            }),
          );
          yield* store.announce(decided);
          return decided;
        });

      const confirmLeaves = Effect.fn("MemberSync.confirmLeaves")(function* (guildId: string, runId: string, decidedBy: string) {
        return yield* decide(guildId, runId, (run, now) =>
          Effect.gen(function* () {
            const markedLeft = yield* store.applyHeldLeaves(run, now);
            const skipped = run.pendingLeft - markedLeft;
            const reason =
              `confirmed by an admin: ${markedLeft} members marked left` +
              (skipped > 0
                ? ` (${skipped} of the ${run.pendingLeft} held had changed or left since the snapshot, and were kept as they are)`
                : "");
            return yield* store.decideRun(run, { status: "completed", markedLeft, decidedBy, reason }, now);
          }),
        );
      });

      const discardLeaves = Effect.fn("MemberSync.discardLeaves")(function* (guildId: string, runId: string, decidedBy: string) {
        return yield* decide(guildId, runId, (run, now) =>
          store.decideRun(
            run,
            { status: "discarded", markedLeft: 0, decidedBy, reason: "discarded by an admin: nobody was marked left" },
            now,
          ),
        );
      });

      const leaveGuard = Effect.fn("MemberSync.leaveGuard")(function* (guildId: string) {
        return { percent: yield* store.leaveGuardOf(guildId), floor: LEAVE_GUARD_FLOOR } satisfies LeaveGuard;
      });

      const setLeaveGuard = Effect.fn("MemberSync.setLeaveGuard")(function* (guildId: string, percent: number) {
        yield* store.setLeaveGuard(guildId, percent, yield* currentTime);
        return { percent, floor: LEAVE_GUARD_FLOOR } satisfies LeaveGuard;
      });

      const abort = Effect.fn("MemberSync.abort")(function* (
        runId: string,
        reason: string,
        status: "incomplete" | "failed" = "incomplete",
      ) {
        return yield* finish(runId, () => Effect.succeed({ status, reason }));
      });

      const applyRoles = Effect.fn("MemberSync.applyRoles")(function* (guildId: string, roles: ReadonlyArray<RoleSnapshot>) {
        const now = yield* currentTime;
        // One row per role id: Postgres refuses an upsert that touches a row twice.
        const unique = [...new Map(roles.map((role) => [role.id, role])).values()];
        yield* database.transaction("memberSync.applyRoles", store.replaceRoles(guildId, unique, now));
      });

      const begin = Effect.fn("MemberSync.begin")(function* (input: StartInput, roles: ReadonlyArray<RoleSnapshot>) {
        return yield* withRun(input, (run) => applyRoles(input.guildId, roles).pipe(Effect.as(run)));
      });

      const upsertLive = Effect.fn("MemberSync.upsertLive")(function* (guildId: string, member: MemberUpdate) {
        const now = yield* currentTime;
        const fields = presentFields(member);
        return yield* database.transaction(
          "memberSync.upsertLive",
          Effect.gen(function* () {
            // Locked, so the fields the event leaves out are written back exactly as stored.
            const row = yield* store.member(guildId, member.userId, true);
            const stored = row && snapshotOf(row);
            const incoming = normalizeMember(mergeMember(stored, member), guildId);
            const joined = (rejoined: boolean) =>
              domainEvents.append([{ kind: "member.joined", guildId, payload: { ...namesOf(incoming), rejoined } }]);
            if (!row) {
              if ((yield* store.insertMembers(guildId, [incoming], now)) === 0) return "unchanged" as const;
              yield* joined(false);
              return "created" as const;
            }
            if (row.dateLeft !== null) {
              yield* store.updateMembers(guildId, [incoming], true, now);
              yield* joined(true);
              return "rejoined" as const;
            }
            const diff = diffSnapshots([stored!], [incoming], { key: (m) => m.userId, fields });
            if (diff.changed.length === 0) return "unchanged" as const;
            yield* store.updateMembers(guildId, [incoming], false, now);
            return "updated" as const;
          }),
        );
      });

      const removeLive = Effect.fn("MemberSync.removeLive")(function* (guildId: string, userId: string) {
        const now = yield* currentTime;
        return yield* database.transaction(
          "memberSync.removeLive",
          Effect.gen(function* () {
            const row = yield* store.member(guildId, userId, true);
            if ((yield* store.markLeft(guildId, userId, now)) === 0) return "unchanged" as const;
            const names = row ? namesOf(snapshotOf(row)) : { userId, username: userId, displayName: userId };
            yield* domainEvents.append([{ kind: "member.left", guildId, payload: names }]);
            return "left" as const;
          }),
        );
      });

      return MemberSync.of({
        start,
        requireGuild,
        withRun,
        begin,
        applyChunk,
        complete,
        confirmLeaves,
        discardLeaves,
        leaveGuard,
        setLeaveGuard,
        abort,
        expireStale,
        applyRoles,
        upsertLive,
        removeLive,
        run: Effect.fn("MemberSync.run")(function* (runId: string) {
          return yield* store.run(runId);
        }),
        history: Effect.fn("MemberSync.history")(function* (guildId: string, limit: number) {
          return yield* store.history(guildId, limit);
        }),
        subscribe: (listener) => feed.subscribe(listener),
      });
    }),
  );

  /** The service over its own store; needs only the Database service. */
  static readonly layer = MemberSync.layerOnStore.pipe(Layer.provide(MemberSyncStore.layer), Layer.provide(DomainEvents.layer));
}
