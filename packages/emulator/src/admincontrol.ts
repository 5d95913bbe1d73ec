/**
 * Control routes of the guild administration surface (see admintypes.ts): roles, role positions, the
 * audit log, invites and the rate limits. Errors are `{error}` naming the field, as for every control route.
 */
import type { AdminApi, RoleInput, RolePosition } from "./admintypes";
import type { AuditFilter } from "./audit";
import type { ControlRoute } from "./control";
import { EmulatorError } from "./errors";
import type { RateLimitOptions } from "./ratelimits";

/** The administration routes under /_emulator. */
export function adminControlRoutes(emulator: AdminApi): ControlRoute[] {
  return [
    { method: "GET", pattern: "/_emulator/guilds/:guild/roles", handle: (p) => ({ status: 200, body: emulator.roles(p.guild ?? "") }) },
    {
      method: "POST",
      pattern: "/_emulator/guilds/:guild/roles",
      handle: (p, body) => ({ status: 201, body: emulator.createRole(p.guild ?? "", body as RoleInput) }),
    },
    {
      // [{id, position}], as Modify Guild Role Positions takes it.
      method: "PATCH",
      pattern: "/_emulator/guilds/:guild/roles",
      handle: (p, body) => ({ status: 200, body: emulator.setRolePositions(p.guild ?? "", body as RolePosition[]) }),
    },
    {
      method: "PATCH",
      pattern: "/_emulator/guilds/:guild/roles/:role",
      handle: (p, body) => ({ status: 200, body: emulator.editRole(p.guild ?? "", p.role ?? "", body as RoleInput) }),
    },
    {
      method: "DELETE",
      pattern: "/_emulator/guilds/:guild/roles/:role",
      handle: (p) => {
        emulator.deleteRole(p.guild ?? "", p.role ?? "");
        return { status: 204 };
      },
    },
    {
      // ?actionType=25&targetId=...&userId=...
      method: "GET",
      pattern: "/_emulator/guilds/:guild/audit-log",
      handle: (p, _b, query) => {
        const filter: AuditFilter = {};
        const actionType = query.get("actionType");
        if (actionType !== null) {
          if (!/^[0-9]{1,3}$/.test(actionType)) throw new EmulatorError(400, "actionType must be an audit log event type (an integer)");
          filter.actionType = Number(actionType);
        }
        const targetId = query.get("targetId");
        if (targetId !== null) filter.targetId = targetId;
        const userId = query.get("userId");
        if (userId !== null) filter.userId = userId;
        return { status: 200, body: emulator.auditLog(p.guild ?? "", filter) };
      },
    },
    { method: "GET", pattern: "/_emulator/guilds/:guild/invites", handle: (p) => ({ status: 200, body: emulator.invites(p.guild ?? "") }) },
    { method: "GET", pattern: "/_emulator/rate-limits", handle: () => ({ status: 200, body: emulator.rateLimits() }) },
    {
      method: "PUT",
      pattern: "/_emulator/rate-limits",
      handle: (_p, body) => ({ status: 200, body: emulator.setRateLimits(body as RateLimitOptions) }),
    },
    {
      method: "POST",
      pattern: "/_emulator/rate-limits/reset",
      bodyOptional: true,
      handle: () => {
        emulator.resetRateLimits();
        return { status: 204 };
      },
    },
  ];
}
