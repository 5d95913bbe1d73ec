/**
 * Self-service roles and invite links (role reconciliation, sections 10 and 11):
 *
 * - `RoleMenus`: an admin posts a role menu in a guild channel, a Components V2 message whose
 *   string select offers roles mapped to groups of authority `discord` or `both`; a member's pick
 *   (a MESSAGE_COMPONENT interaction, by gateway or HTTP) is planned by the same planner as a
 *   reconciliation (hierarchy, managed roles, @everyone, missing Manage Roles are refused with
 *   their reason), made with one Discord call, written to the audit log, and the member's groups
 *   follow their roles.
 * - `GuildInvites`: the guild's invite link, shown next to linked users the plan blocks as "not
 *   in guild": created by the bot (never expiring) where it may create invites, or pasted.
 */
import { Database, type DatabaseError, schema } from "@guildhall/db";
import { type DiscordError, DiscordPermanentError, DiscordRest, describeDiscordError } from "@guildhall/discord";
import {
  type ActualRole,
  type Authority,
  BLOCK_REASONS,
  type BlockReason,
  effectiveAuthority,
  hasPermission,
  PERMISSIONS,
  type PlanInput,
  planReconciliation,
} from "@guildhall/roles";
import { and, asc, eq, inArray } from "drizzle-orm";
import { Context, Effect, Layer, Schema } from "effect";
import { applyGroupChanges, clearExpectedRoles, recordAppliedRoles, recordExpectedRoles } from "./roleBookkeeping";

// ------------------------------------------------------------------------------------ constants

/** The `custom_id` prefix of a role menu's select: `rolemenu:<menu id>`. */
export const ROLE_MENU_PREFIX = "rolemenu";
/** Message flag IS_COMPONENTS_V2 (1 << 15). https://discord.com/developers/docs/components/reference */
export const IS_COMPONENTS_V2 = 1 << 15;
/** A string select offers at most 25 options. https://discord.com/developers/docs/components/reference#string-select */
export const MAX_MENU_ROLES = 25;
/** Channel permission bits read here. https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags */
export const CHANNEL_PERMISSIONS = {
  CREATE_INSTANT_INVITE: 1n << 0n,
  ADMINISTRATOR: 1n << 3n,
  VIEW_CHANNEL: 1n << 10n,
  SEND_MESSAGES: 1n << 11n,
} as const;
/** Guild text (0) and announcement (5) channels: where a menu can be posted and an invite made. */
const TEXT_CHANNEL_TYPES = new Set([0, 5]);

// ------------------------------------------------------------------------------------ errors

/** No role menu `menuId` in the caller's organization (or it was removed). */
export class RoleMenuNotFound extends Schema.TaggedError<RoleMenuNotFound>()("RoleMenuNotFound", { menuId: Schema.String }) {}

/** A role offered for a menu is not self-assignable: `message` says why (not mapped to a discord/both group, managed, above the bot...). */
export class RoleNotSelfAssignable extends Schema.TaggedError<RoleNotSelfAssignable>()("RoleNotSelfAssignable", {
  roleId: Schema.String,
  message: Schema.String,
}) {}

/** The channel is not a text channel of the guild. */
export class ChannelNotInGuild extends Schema.TaggedError<ChannelNotInGuild>()("ChannelNotInGuild", { channelId: Schema.String }) {}

/** The bot may not create invites (or post) in that channel: `permission` names what it lacks. */
export class ChannelPermissionMissing extends Schema.TaggedError<ChannelPermissionMissing>()("ChannelPermissionMissing", {
  channelId: Schema.String,
  permission: Schema.String,
}) {}

/** A pasted invite link is neither `https://discord.gg/<code>`, `https://discord.com/invite/<code>` nor a bare code. */
export class InvalidInviteLink extends Schema.TaggedError<InvalidInviteLink>()("InvalidInviteLink", {}) {}

/** Discord refused or did not answer a call of this module: `message` says which and why (no token); `transient` when a retry may work. */
export class RoleMenuDiscordFailed extends Schema.TaggedError<RoleMenuDiscordFailed>()("RoleMenuDiscordFailed", {
  message: Schema.String,
  transient: Schema.Boolean,
}) {}

const discordFailed = (error: DiscordError) =>
  new RoleMenuDiscordFailed({ message: describeDiscordError(error), transient: !(error instanceof DiscordPermanentError) });

// ------------------------------------------------------------------------------------ shapes

/** A group a role is mapped to, with the mapping's effective authority. */
export interface MenuRoleGroup {
  readonly groupId: string;
  readonly groupName: string;
  readonly authority: Authority;
}

/** A role that may be offered in a role menu: mapped to at least one group of authority `discord` or `both`. */
export interface SelfAssignableRole {
  readonly roleId: string;
  readonly name: string;
  readonly position: number;
  readonly groups: ReadonlyArray<MenuRoleGroup>;
  /** Why the bot cannot give it (managed, at or above its highest role, deleted...), or null. */
  readonly problem: string | null;
}

/** A posted role menu (ISO-8601 `createdAt`). */
export interface RoleMenuEntry {
  readonly id: string;
  readonly guildId: string;
  readonly channelId: string;
  readonly messageId: string;
  readonly title: string;
  readonly roleIds: ReadonlyArray<string>;
  readonly createdAt: string;
  /** `https://discord.com/channels/<guild>/<channel>/<message>`. */
  readonly messageUrl: string;
}

/** A text channel of the guild, with what the bot may do there. */
export interface ChannelView {
  readonly id: string;
  readonly name: string;
  readonly canPost: boolean;
  readonly canInvite: boolean;
}

/** A member's choice in a role menu, as the interaction carries it. Ids are snowflakes. */
export interface RoleMenuChoice {
  readonly menuId: string;
  readonly guildId: string;
  readonly userId: string;
  /** The member's roles as the interaction lists them (Discord's truth at the click). */
  readonly memberRoles: ReadonlyArray<string>;
  /** The roles picked: the menu's roles the member wants; the menu's other roles are dropped. */
  readonly values: ReadonlyArray<string>;
}

/** What came of a choice: the ephemeral reply's text, and what changed or was refused. */
export interface RoleMenuAnswer {
  readonly content: string;
  readonly added: ReadonlyArray<string>;
  readonly removed: ReadonlyArray<string>;
  readonly refused: ReadonlyArray<{ readonly roleId: string; readonly reason: string }>;
  /** `applied` (the change made, or nothing to change), `failed` (Discord refused or did not answer), `refused` (nothing could be done). */
  readonly outcome: "applied" | "failed" | "refused" | "unchanged";
}

/** A guild's invite link (ISO-8601 `updatedAt`). */
export interface GuildInvite {
  readonly guildId: string;
  readonly code: string;
  readonly url: string;
  readonly channelId: string | null;
  readonly source: "created" | "pasted";
  readonly updatedAt: string;
}

// ------------------------------------------------------------------------------------ helpers

/**
 * A member's permissions in a channel (Discord's algorithm): the OR of @everyone's and the
 * member's roles' permissions (everything with ADMINISTRATOR, or for the guild owner), then the
 * channel's overwrites: @everyone's, the member's roles' (all denies, then all allows), the member's own.
 * https://discord.com/developers/docs/topics/permissions#permission-overwrites
 */
export const channelPermissions = (input: {
  readonly guildId: string;
  readonly ownerId: string;
  readonly userId: string;
  readonly memberRoles: ReadonlyArray<string>;
  readonly roles: ReadonlyArray<{ readonly id: string; readonly permissions: string }>;
  readonly overwrites: ReadonlyArray<{ readonly id: string; readonly type: number; readonly allow: string; readonly deny: string }>;
}): bigint => {
  const ALL = (1n << 64n) - 1n;
  if (input.userId === input.ownerId) return ALL;
  const held = new Set([...input.memberRoles, input.guildId]);
  let base = 0n;
  for (const role of input.roles) if (held.has(role.id)) base |= BigInt(role.permissions);
  if ((base & CHANNEL_PERMISSIONS.ADMINISTRATOR) !== 0n) return ALL;
  let perms = base;
  const everyone = input.overwrites.find((o) => o.id === input.guildId);
  if (everyone) perms = (perms & ~BigInt(everyone.deny)) | BigInt(everyone.allow);
  let allow = 0n;
  let deny = 0n;
  for (const o of input.overwrites) {
    if (o.type === 0 && o.id !== input.guildId && held.has(o.id)) {
      allow |= BigInt(o.allow);
      deny |= BigInt(o.deny);
    }
  }
  perms = (perms & ~deny) | allow;
  const own = input.overwrites.find((o) => o.type === 1 && o.id === input.userId);
  if (own) perms = (perms & ~BigInt(own.deny)) | BigInt(own.allow);
  return perms;
};

/** Why the bot cannot give or take `role` (the planner's rules), or null. */
const roleProblem = (guildId: string, role: ActualRole | undefined, bot: { highestPosition: number; permissions: bigint }) => {
  const reason: BlockReason | null =
    role === undefined
      ? "role-deleted"
      : role.id === guildId
        ? "role-everyone"
        : role.managed
          ? "role-managed"
          : role.position >= bot.highestPosition
            ? "role-above-bot"
            : !hasPermission(bot.permissions, PERMISSIONS.MANAGE_ROLES)
              ? "missing-manage-roles"
              : null;
  return reason === null ? null : BLOCK_REASONS[reason];
};

/**
 * The Components V2 message of a role menu: a container with the title, a line of help and an
 * action row holding the string select (`custom_id` `rolemenu:<id>`, 0 to all options).
 * https://discord.com/developers/docs/components/reference#container
 */
export const roleMenuMessage = (
  menuId: string,
  title: string,
  roles: ReadonlyArray<{ readonly roleId: string; readonly name: string; readonly groups: ReadonlyArray<{ readonly groupName: string }> }>,
) => ({
  flags: IS_COMPONENTS_V2,
  components: [
    {
      type: 17,
      accent_color: 0x5865f2,
      components: [
        { type: 10, content: `## ${title}` },
        { type: 10, content: "Pick the roles you want, unpick one to drop it. Your groups in Guildhall follow your roles." },
        {
          type: 1,
          components: [
            {
              type: 3,
              custom_id: `${ROLE_MENU_PREFIX}:${menuId}`,
              placeholder: "Choose your roles",
              min_values: 0,
              max_values: roles.length,
              options: roles.map((r) => ({
                label: r.name.slice(0, 100) || r.roleId,
                value: r.roleId,
                description: `Group: ${r.groups.map((g) => g.groupName).join(", ")}`.slice(0, 100),
              })),
            },
          ],
        },
      ],
    },
  ],
});

/** The invite code in a pasted link or code, or null. */
export const inviteCodeOf = (link: string): string | null => {
  const text = link.trim();
  const code = /^(?:https?:\/\/)?(?:www\.)?(?:discord\.gg\/|discord(?:app)?\.com\/invite\/)([A-Za-z0-9-]{2,32})\/?$/.exec(text)?.[1];
  if (code) return code;
  return /^[A-Za-z0-9-]{2,32}$/.test(text) ? text : null;
};

/** A channel's `position` (absent from some channel types' typings). */
const positionOf = (channel: object): number => (channel as { position?: number }).position ?? 0;

const iso = (d: Date | string) => new Date(d).toISOString();

type MenuRow = typeof schema.roleMenus.$inferSelect;
const menuOf = (row: MenuRow): RoleMenuEntry => ({
  id: row.id,
  guildId: row.guildId,
  channelId: row.channelId,
  messageId: row.messageId,
  title: row.title,
  roleIds: row.roleIds,
  createdAt: iso(row.createdAt),
  messageUrl: `https://discord.com/channels/${row.guildId}/${row.channelId}/${row.messageId}`,
});

/** The guild's owner, roles and the bot's state, from Discord (four reads). */
const botStateOf = Effect.fn("RoleMenus.botState")(function* (discord: typeof DiscordRest.Service, guildId: string) {
  const [guild, roles, me] = yield* Effect.all([discord.guild(guildId), discord.roles(guildId), discord.me()], { concurrency: 3 });
  const botMember = yield* discord.member(guildId, me.id);
  const held = new Set([...botMember.roles, guildId]);
  let permissions = 0n;
  let highestPosition = 0;
  for (const role of roles) {
    if (!held.has(role.id)) continue;
    permissions |= BigInt(role.permissions);
    if (role.id !== guildId && role.position > highestPosition) highestPosition = role.position;
  }
  if (guild.owner_id === me.id) permissions |= PERMISSIONS.ADMINISTRATOR;
  const actualRoles: ActualRole[] = roles.map((r) => ({ id: r.id, position: r.position, managed: r.managed, name: r.name }));
  return {
    ownerId: guild.owner_id,
    roles,
    actualRoles,
    botUserId: me.id,
    botRoles: botMember.roles,
    bot: { highestPosition, permissions },
  };
});

// ------------------------------------------------------------------------------------ RoleMenus

/**
 * Role menus of an organization's guilds: the self-assignable roles, posting and removing menus,
 * and a member's choice in one. Needs the Database and the Discord port.
 */
export class RoleMenus extends Context.Service<
  RoleMenus,
  {
    /**
     * The roles that may be offered in a menu of `guildId`: each role mapped to a group whose
     * effective authority is `discord` or `both`, with its groups, its name and position from
     * Discord, and the reason the bot cannot give it (or null). Fails with RoleMenuDiscordFailed
     * when Discord cannot be read.
     */
    readonly selfAssignable: (
      organizationId: string,
      guildId: string,
    ) => Effect.Effect<ReadonlyArray<SelfAssignableRole>, RoleMenuDiscordFailed | DatabaseError>;
    /** The guild's text channels with whether the bot may post and create invites there (one read of channels, four of the bot's state). */
    readonly channels: (
      organizationId: string,
      guildId: string,
    ) => Effect.Effect<ReadonlyArray<ChannelView>, RoleMenuDiscordFailed | DatabaseError>;
    /** The guild's posted menus, newest first. */
    readonly list: (organizationId: string, guildId: string) => Effect.Effect<ReadonlyArray<RoleMenuEntry>, DatabaseError>;
    /**
     * Posts a role menu in `channelId` (a Components V2 message, see {@link roleMenuMessage}) and
     * records it. `roleIds` (1-25) must be self-assignable and givable by the bot, else
     * RoleNotSelfAssignable; ChannelNotInGuild, ChannelPermissionMissing (View Channel / Send
     * Messages), RoleMenuDiscordFailed. https://discord.com/developers/docs/resources/message#create-message
     */
    readonly post: (
      organizationId: string,
      guildId: string,
      input: { readonly channelId: string; readonly title: string; readonly roleIds: ReadonlyArray<string> },
      createdBy: string | null,
    ) => Effect.Effect<
      RoleMenuEntry,
      RoleNotSelfAssignable | ChannelNotInGuild | ChannelPermissionMissing | RoleMenuDiscordFailed | DatabaseError
    >;
    /** Removes a menu and deletes its message on Discord (a message already gone is fine). RoleMenuNotFound. */
    readonly remove: (organizationId: string, menuId: string) => Effect.Effect<void, RoleMenuNotFound | DatabaseError>;
    /**
     * A member picked roles in a menu (the interaction's `values`): the menu's roles picked are
     * wanted, its others not. Planned by @guildhall/roles for this member alone (roles managed, at
     * or above the bot's highest, @everyone, deleted, or without Manage Roles are refused, each
     * with an audit entry `blocked`), made with one call (a role PUT/DELETE for one change, else a
     * PATCH with the full role list) with `X-Audit-Log-Reason`, recorded as one audit entry
     * (actor `user`, `discord:<user id>`), the mirror updated, and the linked user's groups
     * following the roles (their `discord`/`both` mappings). Recorded like the Reconciler's own
     * calls (`role_member_states`: expected roles before the call, so its GUILD_MEMBER_UPDATE echo
     * is not taken for a moderator's change; role and group timestamps of `both` after); a member
     * flagged for flapping is left alone (reason `flagged`). Never fails for the member's sake:
     * what went wrong is in the answer's `content`; fails only with DatabaseError.
     */
    readonly choose: (choice: RoleMenuChoice) => Effect.Effect<RoleMenuAnswer, DatabaseError>;
  }
>()("@guildhall/sync/RoleMenus") {
  static readonly layer = Layer.effect(
    RoleMenus,
    Effect.gen(function* () {
      const { use, transaction } = yield* Database;
      const discord = yield* DiscordRest;
      const { roleMenus, roleMappings, roleSettings, groups, groupMembers, roleMemberStates, users, guildMembers, roleAuditLog } = schema;

      /** The guild's mappings of effective authority discord/both, with group names. */
      const followedMappings = Effect.fn("RoleMenus.followedMappings")(function* (organizationId: string, guildId: string) {
        const [settings, rows] = yield* Effect.all([
          use("roleMenus.settings", (db) =>
            db
              .select({ defaultAuthority: roleSettings.defaultAuthority })
              .from(roleSettings)
              .where(eq(roleSettings.organizationId, organizationId))
              .limit(1),
          ),
          use("roleMenus.mappings", (db) =>
            db
              .select({
                roleId: roleMappings.roleId,
                groupId: roleMappings.groupId,
                groupName: groups.name,
                authority: roleMappings.authority,
              })
              .from(roleMappings)
              .innerJoin(groups, eq(groups.id, roleMappings.groupId))
              .where(and(eq(roleMappings.organizationId, organizationId), eq(roleMappings.guildId, guildId)))
              .orderBy(asc(groups.name)),
          ),
        ]);
        const fallback = (settings[0]?.defaultAuthority ?? "app") as Authority;
        return rows
          .map((r) => ({ ...r, authority: effectiveAuthority({ authority: r.authority as Authority | null }, fallback) }))
          .filter((r) => r.authority === "discord" || r.authority === "both");
      });

      const byRole = (mappings: ReadonlyArray<{ roleId: string; groupId: string; groupName: string; authority: Authority }>) => {
        const map = new Map<string, MenuRoleGroup[]>();
        for (const m of mappings) {
          const list = map.get(m.roleId) ?? [];
          list.push({ groupId: m.groupId, groupName: m.groupName, authority: m.authority });
          map.set(m.roleId, list);
        }
        return map;
      };

      const selfAssignable = Effect.fn("RoleMenus.selfAssignable")(function* (organizationId: string, guildId: string) {
        const mappings = byRole(yield* followedMappings(organizationId, guildId));
        if (mappings.size === 0) return [];
        const state = yield* botStateOf(discord, guildId).pipe(Effect.mapError(discordFailed));
        const roles = new Map(state.actualRoles.map((r) => [r.id, r]));
        return [...mappings.entries()]
          .map(([roleId, groupList]) => {
            const role = roles.get(roleId);
            return {
              roleId,
              name: role?.name ?? roleId,
              position: role?.position ?? -1,
              groups: groupList,
              problem: roleProblem(guildId, role, state.bot),
            };
          })
          .sort((a, b) => b.position - a.position);
      });

      const channels = Effect.fn("RoleMenus.channels")(function* (_organizationId: string, guildId: string) {
        const [state, list] = yield* Effect.all([botStateOf(discord, guildId), discord.channels(guildId)], { concurrency: 2 }).pipe(
          Effect.mapError(discordFailed),
        );
        return list
          .filter((c) => TEXT_CHANNEL_TYPES.has(c.type))
          .sort((a, b) => positionOf(a) - positionOf(b))
          .map((c) => {
            const perms = channelPermissions({
              guildId,
              ownerId: state.ownerId,
              userId: state.botUserId,
              memberRoles: state.botRoles,
              roles: state.roles,
              overwrites: (c.permission_overwrites ?? []).map((o) => ({ id: o.id, type: o.type, allow: o.allow, deny: o.deny })),
            });
            const view = (perms & CHANNEL_PERMISSIONS.VIEW_CHANNEL) !== 0n;
            return {
              id: c.id,
              name: c.name ?? c.id,
              canPost: view && (perms & CHANNEL_PERMISSIONS.SEND_MESSAGES) !== 0n,
              canInvite: view && (perms & CHANNEL_PERMISSIONS.CREATE_INSTANT_INVITE) !== 0n,
            };
          });
      });

      const list = Effect.fn("RoleMenus.list")(function* (organizationId: string, guildId: string) {
        const rows = yield* use("roleMenus.list", (db) =>
          db
            .select()
            .from(roleMenus)
            .where(and(eq(roleMenus.organizationId, organizationId), eq(roleMenus.guildId, guildId)))
            .orderBy(asc(roleMenus.createdAt)),
        );
        return rows.map(menuOf).reverse();
      });

      const post = Effect.fn("RoleMenus.post")(function* (
        organizationId: string,
        guildId: string,
        input: { readonly channelId: string; readonly title: string; readonly roleIds: ReadonlyArray<string> },
        createdBy: string | null,
      ) {
        const offered = new Map((yield* selfAssignable(organizationId, guildId)).map((r) => [r.roleId, r]));
        const roleIds = [...new Set(input.roleIds)];
        const chosen: SelfAssignableRole[] = [];
        for (const roleId of roleIds) {
          const role = offered.get(roleId);
          if (!role)
            return yield* new RoleNotSelfAssignable({
              roleId,
              message: "the role is not mapped to a group whose authority is discord or both",
            });
          if (role.problem !== null) return yield* new RoleNotSelfAssignable({ roleId, message: role.problem });
          chosen.push(role);
        }
        const channel = (yield* channels(organizationId, guildId)).find((c) => c.id === input.channelId);
        if (!channel) return yield* new ChannelNotInGuild({ channelId: input.channelId });
        if (!channel.canPost)
          return yield* new ChannelPermissionMissing({ channelId: input.channelId, permission: "View Channel and Send Messages" });
        const id = crypto.randomUUID();
        const title = input.title.trim() || "Pick your roles";
        const message = yield* discord
          .createMessage(input.channelId, roleMenuMessage(id, title, chosen) as never)
          .pipe(Effect.mapError(discordFailed));
        const rows = yield* use("roleMenus.insert", (db) =>
          db
            .insert(roleMenus)
            .values({ id, organizationId, guildId, channelId: input.channelId, messageId: message.id, title, roleIds, createdBy })
            .returning(),
        );
        return menuOf(rows[0]!);
      });

      const remove = Effect.fn("RoleMenus.remove")(function* (organizationId: string, menuId: string) {
        const rows = yield* use("roleMenus.remove", (db) =>
          db
            .delete(roleMenus)
            .where(and(eq(roleMenus.id, menuId), eq(roleMenus.organizationId, organizationId)))
            .returning(),
        );
        const row = rows[0];
        if (!row) return yield* new RoleMenuNotFound({ menuId });
        // The message goes too; one already deleted (or a Discord that does not answer) leaves nothing to undo here.
        yield* discord
          .deleteMessage(row.channelId, row.messageId, { reason: `Guildhall role menu ${menuId} removed` })
          .pipe(
            Effect.catch((error) =>
              error instanceof DiscordPermanentError && error.code === 10008
                ? Effect.void
                : Effect.logWarning(`role menu ${menuId}: its message was not deleted (${describeDiscordError(error)})`),
            ),
          );
      });

      type AuditInsert = typeof roleAuditLog.$inferInsert;

      const choose = Effect.fn("RoleMenus.choose")(function* (choice: RoleMenuChoice) {
        const nothing = { added: [], removed: [], refused: [] } as const;
        const menus = yield* use("roleMenus.find", (db) =>
          db
            .select()
            .from(roleMenus)
            .where(and(eq(roleMenus.id, choice.menuId), eq(roleMenus.guildId, choice.guildId)))
            .limit(1),
        );
        const menu = menus[0];
        if (!menu)
          return {
            ...nothing,
            outcome: "refused",
            content: "This role menu was removed; ask an admin for a new one.",
          } satisfies RoleMenuAnswer;
        const organizationId = menu.organizationId;
        const mappings = (yield* followedMappings(organizationId, menu.guildId)).filter((m) => menu.roleIds.includes(m.roleId));
        const mapped = byRole(mappings);
        const picked = new Set(choice.values.filter((v) => menu.roleIds.includes(v)));

        const stateResult = yield* Effect.result(botStateOf(discord, menu.guildId));
        if (stateResult._tag === "Failure")
          return {
            ...nothing,
            outcome: "failed",
            content: `Discord did not answer, so your roles were not changed; try again in a moment. (${describeDiscordError(stateResult.failure)})`,
          } satisfies RoleMenuAnswer;
        const state = stateResult.success;
        const names = new Map(state.actualRoles.map((r) => [r.id, r.name ?? r.id]));
        const nameOf = (id: string) => `@${names.get(id) ?? id}`;

        const linked = yield* use("roleMenus.user", (db) =>
          db.select({ id: users.id }).from(users).where(eq(users.discordId, choice.userId)).limit(1),
        );
        const appUserId = linked[0]?.id ?? null;
        // A member flagged for flapping is left alone until someone looks, their own picks included.
        const flagged = yield* use("roleMenus.flagged", (db) =>
          db
            .select({ flaggedAt: roleMemberStates.flaggedAt })
            .from(roleMemberStates)
            .where(and(eq(roleMemberStates.guildId, menu.guildId), eq(roleMemberStates.userId, choice.userId)))
            .limit(1),
        );
        const isFlagged = flagged[0]?.flaggedAt != null;

        // The roles: the planner for this member alone, each menu role an `app` mapping of a group holding the member when picked.
        const refusedNow: Array<{ roleId: string; reason: string }> = [];
        const offered = menu.roleIds.filter((roleId) => {
          if (mapped.has(roleId)) return true;
          const held = choice.memberRoles.includes(roleId);
          if (picked.has(roleId) !== held)
            refusedNow.push({ roleId, reason: "the role is no longer mapped to a group whose authority is discord or both" });
          return false;
        });
        const planUser = appUserId ?? `discord:${choice.userId}`;
        const input: PlanInput = {
          desired: {
            groups: offered.map((roleId) => ({ id: `menu:${roleId}`, name: roleId, userIds: picked.has(roleId) ? [planUser] : [] })),
            users: [{ id: planUser, discordId: choice.userId }],
            mappings: offered.map((roleId) => ({ id: `menu:${roleId}`, groupId: `menu:${roleId}`, roleId, authority: "app" as const })),
            defaultAuthority: "app",
            nicknameTemplate: null,
          },
          actual: {
            guildId: menu.guildId,
            ownerId: state.ownerId,
            members: [{ userId: choice.userId, roleIds: choice.memberRoles, nick: null, globalName: null, username: "", inGuild: true }],
            roles: state.actualRoles,
            bot: state.bot,
            suppressions: [],
            flagged: isFlagged ? [choice.userId] : [],
          },
        };
        const plan = planReconciliation(input, { only: [choice.userId] });
        const step = plan.members[0];
        const refused = [
          ...refusedNow,
          ...plan.blocked.flatMap((b) => (b.kind === "role" ? [{ roleId: b.roleId, reason: BLOCK_REASONS[b.reason] }] : [])),
        ];
        // A wanted change the plan neither makes nor refuses per member was refused for its whole mapping (a deleted role).
        for (const roleId of offered) {
          if (picked.has(roleId) === choice.memberRoles.includes(roleId)) continue;
          if (step?.add.includes(roleId) || step?.remove.includes(roleId) || refused.some((r) => r.roleId === roleId)) continue;
          const block =
            plan.blocked.find((b) => b.kind === "mapping" && b.roleId === roleId) ?? plan.blocked.find((b) => b.kind === "guild");
          refused.push({ roleId, reason: block ? BLOCK_REASONS[block.reason] : "the change could not be planned" });
        }
        const actor = { actorKind: "user" as const, actorId: `discord:${choice.userId}` };
        const audit: AuditInsert[] = refused.map((r) => ({
          organizationId,
          guildId: menu.guildId,
          runId: null,
          ...actor,
          userId: choice.userId,
          outcome: "blocked",
          rolesBefore: [...choice.memberRoles],
          rolesAfter: [`${picked.has(r.roleId) ? "+" : "-"}${r.roleId}`],
          reason: `role menu ${menu.id}: ${r.reason}`,
        }));

        let outcome: RoleMenuAnswer["outcome"] = step ? "applied" : refused.length > 0 ? "refused" : "unchanged";
        let failure: DiscordError | null = null;
        let after: ReadonlyArray<string> = choice.memberRoles;
        if (step) {
          const parts = [...step.add.map((r) => `+${r}`), ...step.remove.map((r) => `-${r}`)].join(" ");
          const reason = `Guildhall role menu ${menu.id} (member ${choice.userId}): ${parts}`;
          const call =
            step.action.kind === "add-role"
              ? discord.addMemberRole(menu.guildId, choice.userId, step.action.roleId, { reason })
              : step.action.kind === "remove-role"
                ? discord.removeMemberRole(menu.guildId, choice.userId, step.action.roleId, { reason })
                : Effect.asVoid(discord.editMember(menu.guildId, choice.userId, { roles: [...step.roles] }, { reason }));
          // Expected before the call, so the GUILD_MEMBER_UPDATE echoing it is Guildhall's own change (not a moderator's, no flip).
          yield* use("roleMenus.expected", (db) => recordExpectedRoles(db, menu.guildId, choice.userId, step.roles));
          const result = yield* Effect.result(call);
          if (result._tag === "Failure") {
            failure = result.failure;
            outcome = "failed";
          } else {
            after = step.roles;
          }
          audit.push({
            organizationId,
            guildId: menu.guildId,
            runId: null,
            ...actor,
            userId: choice.userId,
            outcome: failure ? "failed" : "applied",
            rolesBefore: [...step.before],
            rolesAfter: [...step.roles],
            reason,
            discordStatus: failure ? (failure instanceof DiscordPermanentError ? failure.status : null) : 200,
            discordCode: failure instanceof DiscordPermanentError ? failure.code : null,
            discordMessage: failure ? describeDiscordError(failure) : null,
          });
        }

        // The groups follow the roles: the member's change is the newest, so each discord/both mapping of the
        // menu's groups is planned as `discord` (the role is the truth) for this member.
        let groupChanges: ReadonlyArray<{ groupId: string; add: ReadonlyArray<string>; remove: ReadonlyArray<string> }> = [];
        if (appUserId !== null && !failure) {
          const groupIds = [...new Set(mappings.map((m) => m.groupId))];
          const all = (yield* followedMappings(organizationId, menu.guildId)).filter((m) => groupIds.includes(m.groupId));
          const memberOf = new Set(
            groupIds.length === 0
              ? []
              : (yield* use("roleMenus.memberships", (db) =>
                  db
                    .select({ groupId: groupMembers.groupId })
                    .from(groupMembers)
                    .where(and(eq(groupMembers.userId, appUserId), inArray(groupMembers.groupId, groupIds))),
                )).map((r) => r.groupId),
          );
          const follow = planReconciliation(
            {
              desired: {
                groups: groupIds.map((id) => ({ id, name: id, userIds: memberOf.has(id) ? [appUserId] : [] })),
                users: [{ id: appUserId, discordId: choice.userId }],
                mappings: all.map((m, i) => ({ id: `follow:${i}`, groupId: m.groupId, roleId: m.roleId, authority: "discord" as const })),
                defaultAuthority: "discord",
                nicknameTemplate: null,
              },
              actual: { ...input.actual, members: [{ ...input.actual.members[0]!, roleIds: after }] },
            },
            { only: [choice.userId] },
          );
          groupChanges = follow.groups;
        }

        yield* transaction(
          "roleMenus.record",
          Effect.gen(function* () {
            if (audit.length > 0) yield* use("roleMenus.audit", (db) => db.insert(roleAuditLog).values(audit));
            const now = new Date();
            if (step && !failure) {
              yield* use("roleMenus.mirror", (db) =>
                db
                  .update(guildMembers)
                  .set({ roleIds: [...after], dateModified: now })
                  .where(and(eq(guildMembers.guildId, menu.guildId), eq(guildMembers.userId, choice.userId))),
              );
              // As the Reconciler records its own calls: the roles known now, each changed role stamped (the Discord side of `both`).
              yield* use("roleMenus.applied", (db) =>
                recordAppliedRoles(db, menu.guildId, choice.userId, after, [...step.add, ...step.remove], now.getTime()),
              );
            } else if (step) {
              yield* use("roleMenus.clearExpected", (db) => clearExpectedRoles(db, menu.guildId, choice.userId));
            }
            // The app side of `both` timestamps, as Groups and the Reconciler record their own changes.
            yield* use("roleMenus.groupChanges", (db) => applyGroupChanges(db, organizationId, groupChanges, now));
          }),
        );

        const lines: string[] = [];
        const added = failure ? [] : (step?.add ?? []);
        const removed = failure ? [] : (step?.remove ?? []);
        if (added.length > 0) lines.push(`You now have ${added.map(nameOf).join(", ")}.`);
        if (removed.length > 0) lines.push(`Removed ${removed.map(nameOf).join(", ")}.`);
        if (failure)
          lines.push(
            failure instanceof DiscordPermanentError
              ? `Discord refused the change, so your roles were not changed: ${failure.message}`
              : "Discord did not answer, so your roles were not changed; try again in a moment.",
          );
        for (const r of refused) lines.push(`Not changed: ${nameOf(r.roleId)}: ${r.reason}.`);
        const joined = groupChanges.flatMap((g) => (g.add.length > 0 ? [g.groupId] : []));
        const left = groupChanges.flatMap((g) => (g.remove.length > 0 ? [g.groupId] : []));
        const groupName = new Map(mappings.map((m) => [m.groupId, m.groupName]));
        if (joined.length > 0) lines.push(`Joined the group(s) ${joined.map((id) => groupName.get(id) ?? id).join(", ")} in Guildhall.`);
        if (left.length > 0) lines.push(`Left the group(s) ${left.map((id) => groupName.get(id) ?? id).join(", ")} in Guildhall.`);
        if (!failure && step && appUserId === null)
          lines.push("Link your Discord account in Guildhall for your groups to follow your roles.");
        if (lines.length === 0) lines.push("Your roles already match your choice; nothing changed.");
        return { content: lines.join("\n"), added, removed, refused, outcome } satisfies RoleMenuAnswer;
      });

      return RoleMenus.of({ selfAssignable, channels, list, post, remove, choose });
    }),
  );
}

// ------------------------------------------------------------------------------------ GuildInvites

/**
 * A guild's invite link (one per guild), for linked users who are not in the guild: read, created
 * by the bot in a channel, or pasted/cleared by an admin. Needs the Database and the Discord port.
 */
export class GuildInvites extends Context.Service<
  GuildInvites,
  {
    /** The guild's invite link, or null when none was set. */
    readonly get: (organizationId: string, guildId: string) => Effect.Effect<GuildInvite | null, DatabaseError>;
    /**
     * Creates a permanent invite in `channelId` through the Discord port (`max_age` 0, `max_uses`
     * 0, `unique` false: Discord answers the bot's live invite with those settings instead of a
     * new one) and makes it the guild's link. ChannelNotInGuild; ChannelPermissionMissing when
     * the bot lacks Create Instant Invite (or View Channel) there; RoleMenuDiscordFailed.
     * https://discord.com/developers/docs/resources/channel#create-channel-invite
     */
    readonly create: (
      organizationId: string,
      guildId: string,
      channelId: string,
    ) => Effect.Effect<GuildInvite, ChannelNotInGuild | ChannelPermissionMissing | RoleMenuDiscordFailed | DatabaseError>;
    /**
     * Sets the guild's link to a pasted one (`https://discord.gg/<code>`, `https://discord.com/invite/<code>`
     * or a bare code; stored as `https://discord.gg/<code>`), or clears it (null). InvalidInviteLink.
     */
    readonly set: (
      organizationId: string,
      guildId: string,
      link: string | null,
    ) => Effect.Effect<GuildInvite | null, InvalidInviteLink | DatabaseError>;
  }
>()("@guildhall/sync/GuildInvites") {
  /** Needs RoleMenus (for the channels and the bot's permissions in them), the Database and the Discord port. */
  static readonly layer = Layer.effect(
    GuildInvites,
    Effect.gen(function* () {
      const { use } = yield* Database;
      const discord = yield* DiscordRest;
      const menus = yield* RoleMenus;
      const { guildInvites } = schema;

      const inviteOf = (row: typeof guildInvites.$inferSelect): GuildInvite => ({
        guildId: row.guildId,
        code: row.code,
        url: row.url,
        channelId: row.channelId,
        source: row.source,
        updatedAt: iso(row.updatedAt),
      });

      const save = Effect.fn("GuildInvites.save")(function* (
        organizationId: string,
        guildId: string,
        value: { code: string; channelId: string | null; source: "created" | "pasted" },
      ) {
        const row = { ...value, url: `https://discord.gg/${value.code}`, updatedAt: new Date() };
        const rows = yield* use("guildInvites.save", (db) =>
          db
            .insert(guildInvites)
            .values({ guildId, organizationId, ...row })
            .onConflictDoUpdate({ target: guildInvites.guildId, set: row })
            .returning(),
        );
        return inviteOf(rows[0]!);
      });

      const get = Effect.fn("GuildInvites.get")(function* (organizationId: string, guildId: string) {
        const rows = yield* use("guildInvites.get", (db) =>
          db
            .select()
            .from(guildInvites)
            .where(and(eq(guildInvites.guildId, guildId), eq(guildInvites.organizationId, organizationId)))
            .limit(1),
        );
        return rows[0] ? inviteOf(rows[0]) : null;
      });

      const create = Effect.fn("GuildInvites.create")(function* (organizationId: string, guildId: string, channelId: string) {
        const channel = (yield* menus.channels(organizationId, guildId)).find((c) => c.id === channelId);
        if (!channel) return yield* new ChannelNotInGuild({ channelId });
        if (!channel.canInvite) return yield* new ChannelPermissionMissing({ channelId, permission: "Create Instant Invite" });
        const invite = yield* discord
          .createChannelInvite(channelId, { max_age: 0, max_uses: 0, unique: false }, { reason: "Guildhall: the guild's invite link" })
          .pipe(Effect.mapError(discordFailed));
        return yield* save(organizationId, guildId, { code: invite.code, channelId, source: "created" });
      });

      const set = Effect.fn("GuildInvites.set")(function* (organizationId: string, guildId: string, link: string | null) {
        if (link === null) {
          yield* use("guildInvites.clear", (db) =>
            db.delete(guildInvites).where(and(eq(guildInvites.guildId, guildId), eq(guildInvites.organizationId, organizationId))),
          );
          return null;
        }
        const code = inviteCodeOf(link);
        if (code === null) return yield* new InvalidInviteLink();
        return yield* save(organizationId, guildId, { code, channelId: null, source: "pasted" });
      });

      return GuildInvites.of({ get, create, set });
    }),
  );
}
