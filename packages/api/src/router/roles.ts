/**
 * Role reconciliation: mappings group <-> Discord role, organization settings, the preview of
 * the plan, apply (a `roles.apply` job) with its progress, runs, the audit log (filters, CSV),
 * suppressions, members flagged as flapping, the per-guild schedules (verify, weekly hard
 * check) and the preflight. Reads: staff; writes: admins. Every procedure works in the
 * caller's organization and, unless `guildId` names another of its guilds, its first guild.
 */
import { AUTHORITIES } from "@guildhall/roles";
import { AUDIT_EXPORT_LIMIT, Directory, pgText, Reconciler, type RoleAuditEntry, Snowflake, VERIFY_MINUTES } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { tracked } from "@trpc/server";
import { Effect, Schema } from "effect";
import { adminProcedure, run, staffProcedure } from "../trpc";

const Authority = Schema.Literals(AUTHORITIES as ReadonlyArray<"app" | "discord" | "both" | "add_only">);
const Policy = Schema.Literals(["restore", "remember"]);
const Uuid = Schema.String.check(Schema.isUUID());
const Guild = { guildId: Schema.optional(Snowflake) };
const ActorKind = Schema.Literals(["user", "schedule", "live", "external_app"]);
const Outcome = Schema.Literals(["applied", "failed", "blocked"]);

const GuildInput = Schema.Struct(Guild);
const SettingsInput = Schema.Struct({ defaultAuthority: Authority, nicknameTemplate: Schema.NullOr(pgText(200, 1)) });
const CreateMappingInput = Schema.Struct({
  ...Guild,
  groupId: Uuid,
  roleId: Snowflake,
  authority: Schema.optional(Schema.NullOr(Authority)),
  onManualRemoval: Schema.optional(Policy),
});
const UpdateMappingInput = Schema.Struct({ mappingId: Uuid, authority: Schema.NullOr(Authority), onManualRemoval: Policy });
const MappingInput = Schema.Struct({ mappingId: Uuid });
const RunInput = Schema.Struct({ runId: Uuid });
const AuditInput = Schema.Struct({
  ...Guild,
  userId: Schema.optional(Snowflake),
  runId: Schema.optional(Uuid),
  outcome: Schema.optional(Outcome),
  actorKind: Schema.optional(ActorKind),
  beforeId: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }))),
  limit: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 500 }))),
});
const SuppressionInput = Schema.Struct({ ...Guild, userId: Snowflake, roleId: Snowflake });
const FlagInput = Schema.Struct({ ...Guild, userId: Snowflake });
const ScheduleInput = Schema.Struct({
  ...Guild,
  verifyEnabled: Schema.Boolean,
  verifyMinutes: Schema.Literals(VERIFY_MINUTES),
  hardCheckEnabled: Schema.Boolean,
  maxFlips: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1_000 })),
});
const ProgressInput = Schema.Struct({
  runId: Uuid,
  lastEventId: Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(64)))),
});

/** How often `progress` looks at the run row (ms): the same answer from every server instance, no per-process state. */
const PROGRESS_POLL_MS = 300;

const csvCell = (value: unknown): string => {
  const text = value === null || value === undefined ? "" : Array.isArray(value) ? value.join(" ") : String(value);
  return `"${(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text).replace(/"/g, '""')}"`;
};

/** The audit entries as CSV (RFC 4180, header first, CRLF; cells that look like formulas are neutralized). */
export const auditCsv = (rows: ReadonlyArray<RoleAuditEntry>): string =>
  [
    [
      "id",
      "at",
      "guild_id",
      "run_id",
      "actor_kind",
      "actor_id",
      "user_id",
      "outcome",
      "roles_before",
      "roles_after",
      "nick_before",
      "nick_after",
      "reason",
      "discord_status",
      "discord_code",
      "discord_message",
    ],
    ...rows.map((r) => [
      r.id,
      r.at,
      r.guildId,
      r.runId,
      r.actorKind,
      r.actorId,
      r.userId,
      r.outcome,
      r.rolesBefore,
      r.rolesAfter,
      r.nickBefore,
      r.nickAfter,
      r.reason,
      r.discordStatus,
      r.discordCode,
      r.discordMessage,
    ]),
  ]
    .map((cells) => cells.map(csvCell).join(","))
    .join("\r\n");

const guildOf = (organizationId: string, guildId: string | undefined) => Directory.use((d) => d.guildFor(organizationId, guildId));

export const rolesRouter = {
  /** Staff. `{defaultAuthority, nicknameTemplate}` of the organization. */
  settings: staffProcedure.query(({ ctx }) =>
    run(
      ctx,
      Reconciler.use((r) => r.settings(ctx.staff.organizationId)),
    ),
  ),

  /** Admin. Sets the default authority (`app`, `discord`, `both`, `add_only`) and the nickname template (1-200 chars, or null). Errors: BAD_REQUEST. */
  updateSettings: adminProcedure.input(Schema.toStandardSchemaV1(SettingsInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Reconciler.use((r) => r.updateSettings(ctx.staff.organizationId, input)),
    ),
  ),

  /** Staff. The guild's mappings `[{id, guildId, groupId, groupName, roleId, authority|null, onManualRemoval, previewOnly, createdAt}]`. Errors: NOT_FOUND (guild). */
  mappings: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* Reconciler.use((r) => r.mappings(ctx.staff.organizationId, guild.id));
      }),
    ),
  ),

  /**
   * Admin. Maps a group to a role (a snowflake) of the guild, with an authority (null or absent:
   * the organization's default) and a manual-removal policy (`restore`, the default, or
   * `remember`). New mappings are preview-only until the next apply. Errors: NOT_FOUND (guild,
   * group), CONFLICT (already mapped), BAD_REQUEST.
   */
  createMapping: adminProcedure.input(Schema.toStandardSchemaV1(CreateMappingInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* Reconciler.use((r) =>
          r.createMapping(ctx.staff.organizationId, {
            guildId: guild.id,
            groupId: input.groupId,
            roleId: input.roleId,
            authority: input.authority ?? null,
            onManualRemoval: input.onManualRemoval ?? "restore",
          }),
        );
      }),
    ),
  ),

  /** Admin. Changes a mapping's authority and manual-removal policy. Errors: NOT_FOUND, BAD_REQUEST. */
  updateMapping: adminProcedure.input(Schema.toStandardSchemaV1(UpdateMappingInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Reconciler.use((r) => r.updateMapping(ctx.staff.organizationId, input.mappingId, input)),
    ),
  ),

  /** Admin. Deletes a mapping. Errors: NOT_FOUND. */
  deleteMapping: adminProcedure.input(Schema.toStandardSchemaV1(MappingInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Reconciler.use((r) => r.deleteMapping(ctx.staff.organizationId, input.mappingId)),
    ),
  ),

  /**
   * Staff. The plan for the guild now (nothing changes): `{summary, members: [{userId, name, add,
   * remove, nick, call}], groups, blocked: [{kind, reason, sentence, ...}], roles,
   * previewOnlyMappings}` (lists cut at 500; the summary counts all). Reads the guild's roles
   * and the bot's member from Discord. Errors: NOT_FOUND (guild), PRECONDITION_FAILED (Discord could not be read).
   */
  preview: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* Reconciler.use((r) => r.preview(ctx.staff.organizationId, guild.id));
      }),
    ),
  ),

  /** Admin. Applies the guild's plan as a durable job; returns the run (follow it on `progress`). Errors: NOT_FOUND (guild). */
  apply: adminProcedure.input(Schema.toStandardSchemaV1(GuildInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* Reconciler.use((r) => r.startApply(ctx.staff.organizationId, guild.id, { kind: "user", id: ctx.user.id }));
      }),
    ),
  ),

  /** Staff. The guild's newest 20 runs, newest first: `[{id, status, total, done, failed, blocked, actorKind, startedAt, finishedAt, reason}]`. */
  runs: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* Reconciler.use((r) => r.runs(ctx.staff.organizationId, guild.id));
      }),
    ),
  ),

  /** Staff. One run `{id, status, total, done, failed, blocked, ...}`. Errors: NOT_FOUND, BAD_REQUEST. */
  getRun: staffProcedure.input(Schema.toStandardSchemaV1(RunInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Reconciler.use((r) => r.run(ctx.staff.organizationId, input.runId)),
    ),
  ),

  /**
   * Staff. A run as it progresses: `tracked(id, run)` each time its status or counts change
   * (ids `status:done:failed`, the same on every server instance), ending after the run
   * finished. Errors: NOT_FOUND (run), BAD_REQUEST.
   */
  progress: staffProcedure.input(Schema.toStandardSchemaV1(ProgressInput)).subscription(async function* ({ ctx, input, signal }) {
    let last = input.lastEventId ?? null;
    while (!signal?.aborted) {
      const current = await run(
        ctx,
        Reconciler.use((r) => r.run(ctx.staff.organizationId, input.runId)),
      );
      const id = `${current.status}:${current.done}:${current.failed}`;
      if (id !== last) {
        last = id;
        yield tracked(id, current);
      }
      if (current.status === "completed" || current.status === "failed") return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, PROGRESS_POLL_MS);
        signal?.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }),

  /** Staff. Audit entries, newest first, filtered by member, run, outcome, actor kind; page with `beforeId` (at most `limit`, 1-500, default 100). */
  audit: staffProcedure.input(Schema.toStandardSchemaV1(AuditInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* Reconciler.use((r) => r.audit(ctx.staff.organizationId, guild.id, input));
      }),
    ),
  ),

  /** Staff. The filtered audit log as CSV (`{csv, rows}`, at most 100,000 rows, newest first). */
  auditCsv: staffProcedure.input(Schema.toStandardSchemaV1(AuditInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        const rows = yield* Reconciler.use((r) => r.audit(ctx.staff.organizationId, guild.id, { ...input, limit: AUDIT_EXPORT_LIMIT }));
        return { csv: auditCsv(rows), rows: rows.length };
      }),
    ),
  ),

  /** Staff. The guild's remembered manual removals `[{userId, roleId, createdAt}]`. */
  suppressions: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* Reconciler.use((r) => r.suppressions(ctx.staff.organizationId, guild.id));
      }),
    ),
  ),

  /** Admin. Clears a suppression (the role may be given again); `{cleared: boolean}`. */
  clearSuppression: adminProcedure.input(Schema.toStandardSchemaV1(SuppressionInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        const cleared = yield* Reconciler.use((r) => r.clearSuppression(ctx.staff.organizationId, guild.id, input.userId, input.roleId));
        return { cleared };
      }),
    ),
  ),

  /**
   * Staff. The guild's role schedules: `{verifyEnabled, verifyMinutes, hardCheckEnabled,
   * maxFlips, verifyCron, hardCheckCron (what pg-boss holds; null: none), discordStateAt}`.
   * Defaults: verify every 5 minutes, weekly hard check, more than 6 changes an hour flags a member. Errors: NOT_FOUND (guild).
   */
  schedule: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* Reconciler.use((r) => r.schedule(ctx.staff.organizationId, guild.id));
      }),
    ),
  ),

  /**
   * Admin. Sets the guild's schedules (`verifyEnabled`, `verifyMinutes` one of 1, 2, 5, 10, 15,
   * 30, 60, 120, 180, 360, 720, 1440; `hardCheckEnabled`: the weekly REST member sync, hard check
   * and nickname sync) and the flapping threshold (`maxFlips`, 1-1000 changes an hour); the
   * guild's pg-boss schedules are created, replaced or removed to match. Returns the schedule
   * as `schedule` does. Errors: NOT_FOUND (guild), BAD_REQUEST.
   */
  setSchedule: adminProcedure.input(Schema.toStandardSchemaV1(ScheduleInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* Reconciler.use((r) =>
          r.setSchedule(ctx.staff.organizationId, guild.id, {
            verifyEnabled: input.verifyEnabled,
            verifyMinutes: input.verifyMinutes,
            hardCheckEnabled: input.hardCheckEnabled,
            maxFlips: input.maxFlips,
          }),
        );
      }),
    ),
  ),

  /** Staff. Members flagged as flapping (left alone until cleared): `[{userId, username, flaggedAt, reason, flips}]`, newest first. Errors: NOT_FOUND (guild). */
  flagged: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* Reconciler.use((r) => r.flagged(ctx.staff.organizationId, guild.id));
      }),
    ),
  ),

  /** Admin. Clears a member's flapping flag (someone looked); the member is re-planned. `{cleared: boolean}`. Errors: NOT_FOUND (guild), BAD_REQUEST. */
  clearFlag: adminProcedure.input(Schema.toStandardSchemaV1(FlagInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        const cleared = yield* Reconciler.use((r) =>
          r.clearFlag(ctx.staff.organizationId, guild.id, input.userId, { kind: "user", id: ctx.user.id }),
        );
        return { cleared };
      }),
    ),
  ),

  /**
   * Staff. The preflight: `{botUserId, manageRoles, manageNicknames, highestPosition,
   * highestRole, problems: [{mappingId, roleId, problem (managed, at-or-above-bot, deleted,
   * everyone), sentence}]}`. Errors: NOT_FOUND (guild), PRECONDITION_FAILED (Discord could not be read).
   */
  preflight: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* Reconciler.use((r) => r.preflight(ctx.staff.organizationId, guild.id));
      }),
    ),
  ),
} satisfies TRPCRouterRecord;
