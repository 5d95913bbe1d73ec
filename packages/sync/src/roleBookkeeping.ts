/**
 * The bookkeeping every writer of members' roles and of discord-following groups keeps, in one
 * place: the Reconciler (runs and live events, Roles.ts) and role menus (RoleMenus.ts) change
 * roles through Discord and groups in the app, and both must leave the same records behind:
 *
 * - `role_member_states`: the roles a call in flight will leave (`expectedRoleIds`, so the
 *   GUILD_MEMBER_UPDATE echoing it is known as Guildhall's own, not a moderator's), then the
 *   roles known after it (`knownRoleIds`) and when each changed role changed (`roleChangedAt`,
 *   the Discord side of `both` authority's timestamps);
 * - `group_members` and `group_member_changes`: group memberships that follow Discord, each
 *   change stamped (the app side of `both` timestamps).
 *
 * Each function takes the Drizzle handle `Database.use` gives (so it joins the caller's
 * transaction) and returns the statement's promise; failures reach the caller's `use` as
 * DatabaseError.
 */
import { type Db, schema } from "@guildhall/db";
import { and, eq, inArray, sql } from "drizzle-orm";

const { groupMembers, groupMemberChanges, roleMemberStates } = schema;

/** A discord-following group's membership change: app user ids to add to and remove from `groupId`. */
export interface GroupChange {
  readonly groupId: string;
  readonly add: ReadonlyArray<string>;
  readonly remove: ReadonlyArray<string>;
}

/**
 * Records that `userIds` (app user ids) joined or left `groupId` at `at` (table
 * `group_member_changes`, one row per group and user, the newest time kept). A no-op for an
 * empty list.
 */
export const stampGroupChanges = (db: Db, groupId: string, userIds: ReadonlyArray<string>, at: Date): Promise<void> =>
  userIds.length === 0
    ? Promise.resolve()
    : db
        .insert(groupMemberChanges)
        .values(userIds.map((userId) => ({ groupId, userId, changedAt: at })))
        .onConflictDoUpdate({ target: [groupMemberChanges.groupId, groupMemberChanges.userId], set: { changedAt: at } })
        .then(() => undefined);

/**
 * Applies `changes` to the groups of `organizationId` (adds are idempotent, removes of
 * non-members change nothing) and stamps every user they name at `at`. Run it inside the
 * transaction that records why the groups changed.
 */
export const applyGroupChanges = async (db: Db, organizationId: string, changes: ReadonlyArray<GroupChange>, at: Date): Promise<void> => {
  for (const change of changes) {
    if (change.add.length > 0) {
      await db
        .insert(groupMembers)
        .values(change.add.map((userId) => ({ organizationId, groupId: change.groupId, userId })))
        .onConflictDoNothing();
    }
    if (change.remove.length > 0) {
      await db.delete(groupMembers).where(and(eq(groupMembers.groupId, change.groupId), inArray(groupMembers.userId, [...change.remove])));
    }
    await stampGroupChanges(db, change.groupId, [...change.add, ...change.remove], at);
  }
};

/**
 * Records the roles (snowflakes) Guildhall's call in flight will leave on member `userId` of
 * `guildId`, before the call, so the GUILD_MEMBER_UPDATE echoing it is known as Guildhall's own.
 */
export const recordExpectedRoles = (db: Db, guildId: string, userId: string, roles: ReadonlyArray<string>): Promise<void> =>
  db
    .insert(roleMemberStates)
    .values({ guildId, userId, expectedRoleIds: [...roles] })
    .onConflictDoUpdate({
      target: [roleMemberStates.guildId, roleMemberStates.userId],
      set: { expectedRoleIds: [...roles], updatedAt: new Date() },
    })
    .then(() => undefined);

/**
 * Records a role change Guildhall made (or saw) on member `userId` of `guildId`: its roles now
 * are `roles`, each role of `changed` changed at `at` (ms since the epoch); nothing is expected
 * any more.
 */
export const recordAppliedRoles = (
  db: Db,
  guildId: string,
  userId: string,
  roles: ReadonlyArray<string>,
  changed: ReadonlyArray<string>,
  at: number,
): Promise<void> => {
  const stamps = Object.fromEntries(changed.map((roleId) => [roleId, at]));
  return db
    .insert(roleMemberStates)
    .values({ guildId, userId, knownRoleIds: [...roles], roleChangedAt: stamps })
    .onConflictDoUpdate({
      target: [roleMemberStates.guildId, roleMemberStates.userId],
      set: {
        knownRoleIds: [...roles],
        expectedRoleIds: null,
        roleChangedAt: sql`${roleMemberStates.roleChangedAt} || ${JSON.stringify(stamps)}::jsonb`,
        updatedAt: new Date(),
      },
    })
    .then(() => undefined);
};

/** Nothing is expected of member `userId` of `guildId` any more (Guildhall's call was refused or failed). */
export const clearExpectedRoles = (db: Db, guildId: string, userId: string): Promise<void> =>
  db
    .update(roleMemberStates)
    .set({ expectedRoleIds: null })
    .where(and(eq(roleMemberStates.guildId, guildId), eq(roleMemberStates.userId, userId)))
    .then(() => undefined);
