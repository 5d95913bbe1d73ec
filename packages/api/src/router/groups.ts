/**
 * App groups (the app side of role mappings): create, rename, delete, members, and the bulk
 * "these are the members now" another app sets through the typed client.
 * Reads: staff, or any API token; writes: admins, or a `read_write` API token (another app sets a group's members with `setMembers`). Every procedure works in the caller's organization.
 */
import { Groups, pgText, Reconciler, UserId } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { Effect, Schema } from "effect";
import { run, staffProcedure, writeProcedure } from "../trpc";

/** Who changed a group, for the audit entries of the live re-plans it causes: an API token is an external app, else the signed-in user. */
const actorOf = (ctx: { readonly user: { readonly id: string }; readonly token: { readonly tokenId: string } | null }) =>
  ctx.token ? { kind: "external_app" as const, id: ctx.token.tokenId } : { kind: "user" as const, id: ctx.user.id };

/**
 * Re-plans the users a group change touched (each linked member, in each guild with active
 * mappings; see `Reconciler.queueUsers`). A failure to queue is logged, not returned: the group
 * changed, and the guild's next verify catches what the re-plan would have done.
 */
const replan = (organizationId: string, userIds: ReadonlyArray<string>, actor: ReturnType<typeof actorOf>) =>
  Reconciler.use((r) => r.queueUsers(organizationId, userIds, actor)).pipe(
    Effect.asVoid,
    Effect.catch((error) => Effect.logWarning("roles: could not queue the re-plans of a group change", error)),
  );

/** Most user ids one call takes (a bulk `setMembers` of a large community). */
export const GROUP_USERS_MAX = 100_000;

const GroupId = Schema.String.check(Schema.isUUID());
const Name = pgText(100, 1).check(Schema.isPattern(/\S/, { message: "must not be blank" }));
const Priority = Schema.Int.check(Schema.isBetween({ minimum: -1_000, maximum: 1_000 }));
const UserIds = Schema.Array(UserId).check(Schema.isMaxLength(GROUP_USERS_MAX));

const CreateInput = Schema.Struct({ name: Name, priority: Schema.optional(Priority) });
const RenameInput = Schema.Struct({ groupId: GroupId, name: Name, priority: Schema.optional(Priority) });
const GroupInput = Schema.Struct({ groupId: GroupId });
const UsersInput = Schema.Struct({ groupId: GroupId, userIds: UserIds });

export const groupsRouter = {
  /** Staff. The organization's groups: `[{id, name, priority, memberCount}]` by name. Errors: UNAUTHORIZED, FORBIDDEN. */
  list: staffProcedure.query(({ ctx }) =>
    run(
      ctx,
      Groups.use((g) => g.list(ctx.staff.organizationId)),
    ),
  ),

  /** Staff. A group's members: `[{userId, name, email, discordId (snowflake or null)}]` by name. Errors: NOT_FOUND, BAD_REQUEST. */
  members: staffProcedure.input(Schema.toStandardSchemaV1(GroupInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Groups.use((g) => g.members(ctx.staff.organizationId, input.groupId)),
    ),
  ),

  /** Admin. Creates a group `{name (1-100 chars), priority? (-1000..1000, for the nickname's {group})}`; returns it. Errors: CONFLICT (name taken), BAD_REQUEST. */
  create: writeProcedure.input(Schema.toStandardSchemaV1(CreateInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Groups.use((g) => g.create(ctx.staff.organizationId, input)),
    ),
  ),

  /** Admin. Renames a group (and sets its priority when given). Errors: NOT_FOUND, CONFLICT, BAD_REQUEST. */
  rename: writeProcedure.input(Schema.toStandardSchemaV1(RenameInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Groups.use((g) => g.rename(ctx.staff.organizationId, input.groupId, input)),
    ),
  ),

  /** Admin. Deletes a group with its memberships and mappings (their roles are never touched again); its former members are re-planned live. Errors: NOT_FOUND. */
  delete: writeProcedure.input(Schema.toStandardSchemaV1(GroupInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const removed = yield* Groups.use((g) => g.remove(ctx.staff.organizationId, input.groupId));
        yield* replan(ctx.staff.organizationId, removed, actorOf(ctx));
      }),
    ),
  ),

  /** Admin. Adds app users (ids) to a group; returns how many were new; their members are re-planned live (`roles.member`). Errors: NOT_FOUND (group or user), BAD_REQUEST. */
  addUsers: writeProcedure
    .input(Schema.toStandardSchemaV1(UsersInput))
    .mutation(({ ctx, input }) =>
      run(
        ctx,
        Groups.use((g) => g.addUsers(ctx.staff.organizationId, input.groupId, input.userIds)).pipe(
          Effect.tap((added) => (added > 0 ? replan(ctx.staff.organizationId, input.userIds, actorOf(ctx)) : Effect.void)),
        ),
      ),
    ),

  /** Admin. Removes app users from a group; returns how many were removed; their members are re-planned live. Errors: NOT_FOUND (group), BAD_REQUEST. */
  removeUsers: writeProcedure
    .input(Schema.toStandardSchemaV1(UsersInput))
    .mutation(({ ctx, input }) =>
      run(
        ctx,
        Groups.use((g) => g.removeUsers(ctx.staff.organizationId, input.groupId, input.userIds)).pipe(
          Effect.tap((removed) => (removed > 0 ? replan(ctx.staff.organizationId, input.userIds, actorOf(ctx)) : Effect.void)),
        ),
      ),
    ),

  /**
   * Admin. "These are the members now": the group's membership becomes exactly `userIds` (up to
   * 100,000), diffed with @guildhall/diff in one transaction. Returns `{added, removed}` (user
   * ids); the users added and removed are re-planned live (actor `external_app` for an API
   * token, else `user`). Errors: NOT_FOUND (group, or the first unknown user: nothing changes), BAD_REQUEST.
   */
  setMembers: writeProcedure
    .input(Schema.toStandardSchemaV1(UsersInput))
    .mutation(({ ctx, input }) =>
      run(
        ctx,
        Groups.use((g) => g.setMembers(ctx.staff.organizationId, input.groupId, input.userIds)).pipe(
          Effect.tap((diff) => replan(ctx.staff.organizationId, [...diff.added, ...diff.removed], actorOf(ctx))),
        ),
      ),
    ),
} satisfies TRPCRouterRecord;
