/**
 * The guild audit log of what the bot changed through REST, with the `X-Audit-Log-Reason` it sent
 * (URL-decoded): one entry per change, in Discord's audit log entry terms (action types, `changes` with
 * `key` / `old_value` / `new_value`, `$add` / `$remove` for member roles). Discord's own audit log has not
 * shown bots' role changes reliably since late 2024; the emulator's is exact, for tests to read through
 * the control API.
 * https://discord.com/developers/docs/resources/audit-log#audit-log-entry-object
 */
import type { IncomingHttpHeaders } from "node:http";
import { newSnowflake } from "./snowflake";

/** Discord's audit log action types the emulator records. */
export const AuditAction = {
  MemberUpdate: 24,
  MemberRoleUpdate: 25,
  RoleCreate: 30,
  RoleUpdate: 31,
  RoleDelete: 32,
  InviteCreate: 40,
  InviteDelete: 42,
} as const;

/** One change of an entry: `nick` with old and new value, `$add` / `$remove` with `[{id, name}]` of roles, ... */
export interface AuditChange {
  key: string;
  old_value?: unknown;
  new_value?: unknown;
}

/** One audit log entry. Ids are snowflake strings; `at` is ms since the Unix epoch. */
export interface AuditEntry {
  id: string;
  guildId: string;
  /** Discord's audit log event type: 24 MEMBER_UPDATE (nick), 25 MEMBER_ROLE_UPDATE, 30-32 ROLE_*, 40 / 42 INVITE_*. */
  actionType: number;
  /** Who made the change: the bot. */
  userId: string;
  /** The member, role or invite changed (an invite's code). */
  targetId: string;
  changes: AuditChange[];
  /** The URL-decoded `X-Audit-Log-Reason`, or null when none was sent. */
  reason: string | null;
  at: number;
}

/** Filters for {@link AuditLog.list}; each given one must match. */
export interface AuditFilter {
  actionType?: number;
  targetId?: string;
  userId?: string;
}

/** Entries kept per guild; the oldest go beyond it. */
const MAX_PER_GUILD = 200_000;
/** Discord's longest reason, in characters. */
const MAX_REASON = 512;

/**
 * The reason of a request: its `X-Audit-Log-Reason` header URL-decoded (as discord.js and @discordjs/rest
 * encode it), cut to 512 characters; null without the header. A header that is not valid percent-encoding
 * is kept as sent.
 */
export function auditReason(headers: IncomingHttpHeaders): string | null {
  const raw = headers["x-audit-log-reason"];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === "") return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    decoded = value;
  }
  return decoded.slice(0, MAX_REASON);
}

/** The audit log of every guild. One per emulator. */
export class AuditLog {
  private readonly byGuild = new Map<string, AuditEntry[]>();

  /** Appends an entry (id and time filled in) and returns it. */
  record(entry: Omit<AuditEntry, "id" | "at">): AuditEntry {
    const full: AuditEntry = { id: newSnowflake(), at: Date.now(), ...entry };
    let list = this.byGuild.get(entry.guildId);
    if (!list) {
      list = [];
      this.byGuild.set(entry.guildId, list);
    }
    list.push(full);
    if (list.length > MAX_PER_GUILD) list.splice(0, list.length - MAX_PER_GUILD);
    return full;
  }

  /** A guild's entries, oldest first, matching `filter`. */
  list(guildId: string, filter: AuditFilter = {}): AuditEntry[] {
    return (this.byGuild.get(guildId) ?? []).filter(
      (e) =>
        (filter.actionType === undefined || e.actionType === filter.actionType) &&
        (filter.targetId === undefined || e.targetId === filter.targetId) &&
        (filter.userId === undefined || e.userId === filter.userId),
    );
  }
}
