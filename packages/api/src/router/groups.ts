/**
 * App groups (the app side of role mappings): create, rename, delete, members, and the bulk
 * "these are the members now" another app sets through the typed client.
 * Reads: staff, or any API token; writes: admins, or a `read_write` API token (another app sets a group's members with `setMembers`). Every procedure works in the caller's organization.
 */
import { Groups, pgText, UserId } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { Schema } from "effect";
import { run, staffProcedure, writeProcedure } from "../trpc";

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

  /** Admin. Deletes a group with its memberships and mappings (their roles are never touched again). Errors: NOT_FOUND. */
  delete: writeProcedure.input(Schema.toStandardSchemaV1(GroupInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Groups.use((g) => g.remove(ctx.staff.organizationId, input.groupId)),
    ),
  ),

  /** Admin. Adds app users (ids) to a group; returns how many were new. Errors: NOT_FOUND (group or user), BAD_REQUEST. */
  addUsers: writeProcedure.input(Schema.toStandardSchemaV1(UsersInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Groups.use((g) => g.addUsers(ctx.staff.organizationId, input.groupId, input.userIds)),
    ),
  ),

  /** Admin. Removes app users from a group; returns how many were removed. Errors: NOT_FOUND (group), BAD_REQUEST. */
  removeUsers: writeProcedure.input(Schema.toStandardSchemaV1(UsersInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Groups.use((g) => g.removeUsers(ctx.staff.organizationId, input.groupId, input.userIds)),
    ),
  ),

  /**
   * Admin. "These are the members now": the group's membership becomes exactly `userIds` (up to
   * 100,000), diffed with @guildhall/diff in one transaction. Returns `{added, removed}` (user
   * ids). Errors: NOT_FOUND (group, or the first unknown user: nothing changes), BAD_REQUEST.
   */
  setMembers: writeProcedure.input(Schema.toStandardSchemaV1(UsersInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Groups.use((g) => g.setMembers(ctx.staff.organizationId, input.groupId, input.userIds)),
    ),
  ),
} satisfies TRPCRouterRecord;
