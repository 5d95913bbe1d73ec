/**
 * Role writes as the bot: Create Guild Role, Modify Guild Role, Delete Guild Role and Modify Guild Role
 * Positions, each checked against the bot's permissions and hierarchy (permissions.ts), carried out by
 * roles.ts (GUILD_ROLE_* events) and recorded in the audit log with its `X-Audit-Log-Reason`.
 * https://discord.com/developers/docs/resources/guild#create-guild-role
 */
import type { APIRole } from "discord-api-types/v10";
import type { AuditChange, AuditLog } from "../audit";
import { AuditAction, auditReason } from "../audit";
import { FormErrors } from "../discorderrors";
import type { GuildState } from "../guild";
import { checkRoleWrite, checkTargetPosition, invalidRole } from "../permissions";
import type { GuildRoles, RoleFields } from "../roles";
import { isSnowflake } from "../snowflake";
import { isPlainObject } from "../validate";
import type { Reply, Route } from "./route";
import { unknownGuild } from "./route";

/** What the role routes need from the emulator. */
export interface RoleRoutesContext {
  /** A guild the bot is in, or undefined. */
  guild(id: string): GuildState | undefined;
  readonly roles: GuildRoles;
  readonly audit: AuditLog;
}

/** Checks a Create / Modify Guild Role body; throws 400 / 50035 naming the field. */
function roleBody(raw: unknown): RoleFields {
  const errors = new FormErrors();
  const b = raw === undefined || raw === null ? {} : raw;
  if (!isPlainObject(b)) {
    errors.add([], "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
    errors.throwIfAny();
  }
  const o = b as Record<string, unknown>;
  const out: RoleFields = {};
  if (o.name !== undefined && o.name !== null) {
    if (typeof o.name !== "string") errors.add(["name"], "BASE_TYPE_STRING", "Must be a string.");
    else if (o.name.length > 100) errors.add(["name"], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.");
    else out.name = o.name;
  }
  if (o.permissions !== undefined && o.permissions !== null) {
    const p = o.permissions;
    if ((typeof p !== "string" && typeof p !== "number") || !/^[0-9]{1,20}$/.test(String(p)))
      errors.add(["permissions"], "NUMBER_TYPE_COERCE", `Value "${String(p)}" is not int.`);
    else out.permissions = BigInt(p).toString();
  }
  if (o.color !== undefined && o.color !== null) {
    if (typeof o.color !== "number" || !Number.isInteger(o.color) || o.color < 0 || o.color > 0xffffff)
      errors.add(["color"], "NUMBER_TYPE_MAX", "int value should be between 0 and 16777215.");
    else out.color = o.color;
  }
  for (const key of ["hoist", "mentionable"] as const) {
    if (o[key] !== undefined && o[key] !== null) {
      if (typeof o[key] !== "boolean") errors.add([key], "BASE_TYPE_BOOLEAN", "Must be either true or false.");
      else out[key] = o[key];
    }
  }
  // colors, icon and unicode_emoji are taken and not kept; unknown fields are ignored, as Discord ignores them.
  errors.throwIfAny();
  return out;
}

/** The `changes` of a role audit entry: each field given, old and new. */
function roleChanges(before: APIRole | null, after: APIRole | null, keys: ReadonlyArray<keyof APIRole>): AuditChange[] {
  return keys
    .filter((k) => before === null || after === null || before[k] !== after[k])
    .map((k) => ({ key: k, ...(before ? { old_value: before[k] } : {}), ...(after ? { new_value: after[k] } : {}) }));
}

/** Role routes under /guilds/{guild.id}/roles. */
export function roleRoutes(ctx: RoleRoutesContext): Route[] {
  const withGuild = (guildId: string | undefined, fn: (guild: GuildState) => Reply): Reply => {
    const guild = ctx.guild(guildId ?? "");
    return guild ? fn(guild) : unknownGuild();
  };
  const audit = (
    guild: GuildState,
    actionType: number,
    targetId: string,
    changes: AuditChange[],
    headers: Parameters<typeof auditReason>[0],
  ) => ctx.audit.record({ guildId: guild.id, actionType, userId: guild.botUserId, targetId, changes, reason: auditReason(headers) });

  return [
    {
      // https://discord.com/developers/docs/resources/guild#create-guild-role
      method: "POST",
      pattern: "/guilds/:guild_id/roles",
      auth: true,
      handle: ({ params, body, headers }) =>
        withGuild(params.guild_id, (guild) => {
          const fields = roleBody(body);
          checkRoleWrite(guild, null, fields.permissions);
          const role = ctx.roles.create(guild, { ...fields, position: 1 });
          audit(
            guild,
            AuditAction.RoleCreate,
            role.id,
            roleChanges(null, role, ["name", "permissions", "color", "hoist", "mentionable"]),
            headers,
          );
          return { status: 200, body: role };
        }),
    },
    {
      // https://discord.com/developers/docs/resources/guild#modify-guild-role-positions
      method: "PATCH",
      pattern: "/guilds/:guild_id/roles",
      auth: true,
      handle: ({ params, body, headers }) =>
        withGuild(params.guild_id, (guild) => {
          const errors = new FormErrors();
          if (!Array.isArray(body)) {
            errors.add([], "BASE_TYPE_ARRAY", "Must be an array.");
            errors.throwIfAny();
          }
          const moves: Array<{ id: string; position: number }> = [];
          (body as unknown[]).forEach((item, i) => {
            if (!isPlainObject(item) || !isSnowflake(item.id)) errors.add([i, "id"], "NUMBER_TYPE_COERCE", "Must be a snowflake.");
            else if (typeof item.position !== "number" || !Number.isInteger(item.position) || item.position < 0)
              errors.add([i, "position"], "NUMBER_TYPE_COERCE", "Must be a non-negative integer.");
            else moves.push({ id: item.id, position: item.position });
          });
          errors.throwIfAny();
          for (const move of moves) {
            const role = ctx.roles.require(guild, move.id);
            if (role.id === guild.id) throw invalidRole();
            checkRoleWrite(guild, role);
            checkTargetPosition(guild, move.position);
          }
          const before = new Map(guild.roles.map((r) => [r.id, r.position]));
          const roles = ctx.roles.move(guild, moves);
          for (const role of roles) {
            const old = before.get(role.id);
            if (old !== undefined && old !== role.position)
              audit(guild, AuditAction.RoleUpdate, role.id, [{ key: "position", old_value: old, new_value: role.position }], headers);
          }
          return { status: 200, body: roles };
        }),
    },
    {
      // https://discord.com/developers/docs/resources/guild#modify-guild-role
      method: "PATCH",
      pattern: "/guilds/:guild_id/roles/:role_id",
      auth: true,
      handle: ({ params, body, headers }) =>
        withGuild(params.guild_id, (guild) => {
          const role = ctx.roles.require(guild, params.role_id ?? "");
          const fields = roleBody(body);
          checkRoleWrite(guild, role, fields.permissions);
          const before = { ...role };
          ctx.roles.edit(guild, role.id, fields);
          const changes = roleChanges(before, role, ["name", "permissions", "color", "hoist", "mentionable"]);
          if (changes.length) audit(guild, AuditAction.RoleUpdate, role.id, changes, headers);
          return { status: 200, body: role };
        }),
    },
    {
      // https://discord.com/developers/docs/resources/guild#delete-guild-role
      method: "DELETE",
      pattern: "/guilds/:guild_id/roles/:role_id",
      auth: true,
      handle: ({ params, headers }) =>
        withGuild(params.guild_id, (guild) => {
          const role = ctx.roles.require(guild, params.role_id ?? "");
          checkRoleWrite(guild, null);
          if (role.id === guild.id || role.managed) throw invalidRole();
          checkRoleWrite(guild, role);
          ctx.roles.delete(guild, role.id);
          audit(
            guild,
            AuditAction.RoleDelete,
            role.id,
            roleChanges(role, null, ["name", "permissions", "color", "hoist", "mentionable"]),
            headers,
          );
          return { status: 204 };
        }),
    },
  ];
}
