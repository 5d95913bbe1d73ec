/**
 * Role menus (self-service roles) and the guild's invite link. Reads: staff; posting, removing
 * and invite settings: admins; a member's choice in a menu: the bot (the gateway path of the
 * interaction; the HTTP endpoint runs the same service in the server). Every staff procedure
 * works in the caller's organization and, unless `guildId` names another of its guilds, its first guild.
 */
import { Directory, GuildInvites, MAX_MENU_ROLES, pgText, RoleMenus, Snowflake } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { Effect, Schema } from "effect";
import { adminProcedure, botProcedure, run, staffProcedure } from "../trpc";

const Uuid = Schema.String.check(Schema.isUUID());
const Guild = { guildId: Schema.optional(Snowflake) };
const GuildInput = Schema.Struct(Guild);
const PostInput = Schema.Struct({
  ...Guild,
  channelId: Snowflake,
  title: pgText(100),
  roleIds: Schema.Array(Snowflake).check(Schema.isMinLength(1), Schema.isMaxLength(MAX_MENU_ROLES)),
});
const MenuInput = Schema.Struct({ menuId: Uuid });
const CreateInviteInput = Schema.Struct({ ...Guild, channelId: Snowflake });
const SetInviteInput = Schema.Struct({ ...Guild, link: Schema.NullOr(pgText(200, 1)) });
const ChooseInput = Schema.Struct({
  menuId: Uuid,
  guildId: Snowflake,
  userId: Snowflake,
  memberRoles: Schema.Array(Snowflake).check(Schema.isMaxLength(250)),
  values: Schema.Array(Snowflake).check(Schema.isMaxLength(MAX_MENU_ROLES)),
});

const guildOf = (organizationId: string, guildId: string | undefined) => Directory.use((d) => d.guildFor(organizationId, guildId));

export const roleMenusRouter = {
  /** Staff. The guild's posted role menus, newest first: `[{id, guildId, channelId, messageId, title, roleIds, createdAt, messageUrl}]`. Errors: NOT_FOUND (guild). */
  list: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* RoleMenus.use((m) => m.list(ctx.staff.organizationId, guild.id));
      }),
    ),
  ),

  /**
   * Staff. The roles a menu may offer: each role mapped to a group of authority `discord` or
   * `both`, `[{roleId, name, position, groups: [{groupId, groupName, authority}], problem}]`
   * (`problem`: why the bot cannot give it, or null). Reads Discord. Errors: NOT_FOUND (guild),
   * PRECONDITION_FAILED (Discord could not be read).
   */
  selfAssignable: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* RoleMenus.use((m) => m.selfAssignable(ctx.staff.organizationId, guild.id));
      }),
    ),
  ),

  /** Staff. The guild's text channels: `[{id, name, canPost, canInvite}]` (what the bot may do there). Errors: NOT_FOUND (guild), PRECONDITION_FAILED. */
  channels: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* RoleMenus.use((m) => m.channels(ctx.staff.organizationId, guild.id));
      }),
    ),
  ),

  /**
   * Admin. Posts a role menu (a Components V2 message with a multi-select of `roleIds`, 1-25
   * self-assignable roles) in `channelId` (title up to 100 characters; empty: "Pick your roles").
   * Returns the menu. Errors: NOT_FOUND (guild, channel), BAD_REQUEST (a role not
   * self-assignable), PRECONDITION_FAILED (the bot may not post there, or Discord refused).
   */
  post: adminProcedure.input(Schema.toStandardSchemaV1(PostInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* RoleMenus.use((m) =>
          m.post(
            ctx.staff.organizationId,
            guild.id,
            { channelId: input.channelId, title: input.title, roleIds: input.roleIds },
            ctx.user.id,
          ),
        );
      }),
    ),
  ),

  /** Admin. Removes a role menu and deletes its message. Errors: NOT_FOUND. */
  remove: adminProcedure.input(Schema.toStandardSchemaV1(MenuInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      RoleMenus.use((m) => m.remove(ctx.staff.organizationId, input.menuId)),
    ),
  ),

  /** Staff. The guild's invite link `{guildId, code, url, channelId, source, updatedAt}`, or null. Errors: NOT_FOUND (guild). */
  invite: staffProcedure.input(Schema.toStandardSchemaV1(GuildInput)).query(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* GuildInvites.use((i) => i.get(ctx.staff.organizationId, guild.id));
      }),
    ),
  ),

  /**
   * Admin. Creates a permanent invite (no expiry, unlimited uses) in `channelId` through the
   * Discord port and makes it the guild's link. Errors: NOT_FOUND (guild, channel),
   * PRECONDITION_FAILED (the bot lacks Create Instant Invite there, or Discord refused).
   */
  createInvite: adminProcedure.input(Schema.toStandardSchemaV1(CreateInviteInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* GuildInvites.use((i) => i.create(ctx.staff.organizationId, guild.id, input.channelId));
      }),
    ),
  ),

  /** Admin. Sets the guild's invite link to a pasted one (a discord.gg or discord.com/invite link, or a code), or clears it (null). Errors: NOT_FOUND, BAD_REQUEST. */
  setInvite: adminProcedure.input(Schema.toStandardSchemaV1(SetInviteInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const guild = yield* guildOf(ctx.staff.organizationId, input.guildId);
        return yield* GuildInvites.use((i) => i.set(ctx.staff.organizationId, guild.id, input.link));
      }),
    ),
  ),

  /**
   * Bot only. A member's choice in a role menu, from an INTERACTION_CREATE the bot received:
   * `{menuId, guildId, userId, memberRoles, values}` (snowflakes; `memberRoles` as the interaction
   * lists them). Plans, applies and audits it (see `RoleMenus.choose`); returns `{content, added,
   * removed, refused, outcome}`, `content` being the ephemeral reply. Errors: UNAUTHORIZED, BAD_REQUEST.
   */
  choose: botProcedure.input(Schema.toStandardSchemaV1(ChooseInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      RoleMenus.use((m) => m.choose(input)),
    ),
  ),
} satisfies TRPCRouterRecord;
