/**
 * Member writes as the bot: Modify Guild Member (`roles`, the whole list, and `nick`), Modify Current
 * Member (`/members/@me`, nick) and Add / Remove Guild Member Role. Each checks Discord's permissions and
 * hierarchy (permissions.ts), changes the member through members.ts (GUILD_MEMBER_UPDATE) and records
 * the change with its `X-Audit-Log-Reason` in the audit log. A request that changes nothing answers as
 * Discord does and sends no event. Rate limits: role PUT and DELETE share the `memberRoles` bucket per
 * guild, PATCH has `memberPatch` (ratelimits.ts).
 * https://discord.com/developers/docs/resources/guild#modify-guild-member
 */
import type { APIRole } from "discord-api-types/v10";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import type { AuditChange, AuditLog } from "../audit";
import { AuditAction, auditReason } from "../audit";
import { DiscordHttpError, FormErrors } from "../discorderrors";
import type { GuildState } from "../guild";
import type { Membership } from "../members";
import { memberObject } from "../payloads";
import { checkNickname, checkRoleGrant, checkRoleList } from "../permissions";
import { isSnowflake } from "../snowflake";
import type { MemberPatch, MemberRecord } from "../types";
import { isPlainObject } from "../validate";
import type { Reply, RestRequest, Route } from "./route";
import { unknownGuild, unknownMember } from "./route";

/** What the member routes need from the emulator. */
export interface MemberRoutesContext {
  /** A guild the bot is in, or undefined. */
  guild(id: string): GuildState | undefined;
  readonly membership: Membership;
  readonly audit: AuditLog;
}

/** The checked body of a member PATCH. */
interface PatchBody {
  nick?: string | null;
  roles?: string[];
}

/** Checks a Modify Guild Member body; throws 400 / 50035 naming the field, 400 / 40032 for voice fields. */
function patchBody(raw: unknown, self: boolean): PatchBody {
  const errors = new FormErrors();
  if (!isPlainObject(raw)) {
    errors.add([], "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
    errors.throwIfAny();
  }
  const b = raw as Record<string, unknown>;
  const out: PatchBody = {};
  if (b.nick !== undefined) {
    if (b.nick !== null && typeof b.nick !== "string") errors.add(["nick"], "BASE_TYPE_STRING", "Must be a string.");
    else if (typeof b.nick === "string" && b.nick.length > 32)
      errors.add(["nick"], "BASE_TYPE_MAX_LENGTH", "Must be 32 or fewer in length.");
    // An empty nickname removes it, as null does.
    else out.nick = b.nick === "" ? null : (b.nick as string | null);
  }
  // Modify Current Member takes nick, banner, avatar and bio; the emulator keeps the nick.
  if (self) {
    errors.throwIfAny();
    return out;
  }
  if (b.roles !== undefined && b.roles !== null) {
    if (!Array.isArray(b.roles)) errors.add(["roles"], "BASE_TYPE_ARRAY", "Must be an array.");
    else if (b.roles.length > 350) errors.add(["roles"], "BASE_TYPE_MAX_LENGTH", "Must be 350 or fewer in length.");
    else {
      b.roles.forEach((id: unknown, i) => {
        if (!isSnowflake(id)) errors.add(["roles", i], "NUMBER_TYPE_COERCE", `Value "${String(id)}" is not snowflake.`);
      });
      out.roles = [...new Set(b.roles as string[])];
    }
  }
  for (const key of ["mute", "deaf", "channel_id"]) {
    if (b[key] !== undefined && b[key] !== null) {
      errors.throwIfAny();
      // Nobody is in a voice channel in the emulator.
      throw new DiscordHttpError(400, RESTJSONErrorCodes.TargetUserIsNotConnectedToVoice, "Target user is not connected to voice.");
    }
  }
  if (b.communication_disabled_until !== undefined && b.communication_disabled_until !== null)
    errors.add(["communication_disabled_until"], "UNSUPPORTED", "The emulator does not model timeouts.");
  if (b.flags !== undefined && b.flags !== null && b.flags !== 0)
    errors.add(["flags"], "UNSUPPORTED", "The emulator does not model member flags.");
  // Unknown fields are ignored, as Discord ignores them.
  errors.throwIfAny();
  return out;
}

/** `[{id, name}]` of role ids, as Discord's `$add` / `$remove` changes list them. */
function roleRefs(guild: GuildState, ids: ReadonlyArray<string>): Array<{ id: string; name: string }> {
  return ids.map((id) => ({ id, name: (guild.role(id) as APIRole | undefined)?.name ?? "deleted-role" }));
}

/** Member routes under /guilds/{guild.id}/members/{user.id}. */
export function memberRoutes(ctx: MemberRoutesContext): Route[] {
  const target = (req: RestRequest): { guild: GuildState; member: MemberRecord } => {
    const guild = ctx.guild(req.params.guild_id ?? "");
    if (!guild) throw httpError(unknownGuild());
    const userId = req.params.user_id === "@me" ? guild.botUserId : (req.params.user_id ?? "");
    const member = isSnowflake(userId) ? guild.member(userId) : undefined;
    if (!member) throw httpError(unknownMember());
    return { guild, member };
  };

  /** Applies a checked change, dispatching GUILD_MEMBER_UPDATE, and records one audit entry per kind of change. */
  const apply = (guild: GuildState, member: MemberRecord, patch: MemberPatch, reason: string | null): MemberRecord => {
    const changed = ctx.membership.update(guild, member.userId, patch);
    const base = { guildId: guild.id, userId: guild.botUserId, targetId: member.userId, reason };
    if (patch.nick !== undefined) {
      ctx.audit.record({
        ...base,
        actionType: AuditAction.MemberUpdate,
        changes: [{ key: "nick", old_value: member.nick, new_value: patch.nick }],
      });
    }
    if (patch.roles !== undefined) {
      const added = patch.roles.filter((id) => !member.roles.includes(id));
      const removed = member.roles.filter((id) => !(patch.roles as string[]).includes(id));
      const changes: AuditChange[] = [];
      if (added.length) changes.push({ key: "$add", new_value: roleRefs(guild, added) });
      if (removed.length) changes.push({ key: "$remove", new_value: roleRefs(guild, removed) });
      ctx.audit.record({ ...base, actionType: AuditAction.MemberRoleUpdate, changes });
    }
    return changed;
  };

  const roleRoute = (method: "PUT" | "DELETE"): Route => ({
    // https://discord.com/developers/docs/resources/guild#add-guild-member-role (and #remove-guild-member-role)
    method,
    pattern: "/guilds/:guild_id/members/:user_id/roles/:role_id",
    auth: true,
    bucket: "memberRoles",
    handle: (req): Reply => {
      const { guild, member } = target(req);
      const roleId = req.params.role_id ?? "";
      const role = isSnowflake(roleId) ? guild.role(roleId) : undefined;
      if (!role) throw new DiscordHttpError(404, RESTJSONErrorCodes.UnknownRole, "Unknown Role");
      checkRoleGrant(guild, role);
      const has = member.roles.includes(role.id);
      if (method === "PUT" ? !has : has) {
        const roles = method === "PUT" ? [...member.roles, role.id] : member.roles.filter((id) => id !== role.id);
        apply(guild, member, { roles }, auditReason(req.headers));
      }
      return { status: 204 };
    },
  });

  return [
    {
      // https://discord.com/developers/docs/resources/guild#modify-guild-member and #modify-current-member (`@me`)
      method: "PATCH",
      pattern: "/guilds/:guild_id/members/:user_id",
      auth: true,
      bucket: "memberPatch",
      handle: (req): Reply => {
        const { guild, member } = target(req);
        const body = patchBody(req.body, req.params.user_id === "@me");
        const patch: MemberPatch = {};
        if (body.roles !== undefined) {
          // @everyone is every member's role implicitly; a list naming it is taken without it.
          const next = body.roles.filter((id) => id !== guild.id);
          checkRoleList(guild, member.roles, next);
          if (next.length !== member.roles.length || next.some((id) => !member.roles.includes(id))) patch.roles = next;
        }
        if (body.nick !== undefined && body.nick !== member.nick) {
          checkNickname(guild, member.userId);
          patch.nick = body.nick;
        }
        const result =
          patch.nick === undefined && patch.roles === undefined ? member : apply(guild, member, patch, auditReason(req.headers));
        return { status: 200, body: memberObject(result) };
      },
    },
    roleRoute("PUT"),
    roleRoute("DELETE"),
  ];
}

/** A Reply of the error helpers as a throwable DiscordHttpError. */
function httpError(reply: Reply): DiscordHttpError {
  const body = reply.body as { code: number; message: string };
  return new DiscordHttpError(reply.status, body.code, body.message);
}
