/** The rows of one comparison category: who they are on Discord, their roles and dates, and their app account. */
import { CATEGORY_INFO, memberNames } from "../lib/members";
import { formatDay } from "../lib/time";
import type { ComparisonCategory, ComparisonRow, GuildRole } from "../lib/types";
import { DiscordAvatar } from "./DiscordAvatar";
import { LinkAction, type LinkNotice } from "./LinkAction";
import { RoleChips } from "./RoleChips";
import { ScrollRegion } from "./ScrollRegion";

/** Which columns a category shows: member facts when there is a guild member, the app user when there can be one. */
function columnsOf(category: ComparisonCategory) {
  return {
    memberFacts: category !== "no_guild_record",
    left: category === "left",
    user: category !== "guild_only",
  };
}

/**
 * The table of `rows` of `category`. `roles` names role ids (the guild's roles, highest first).
 * `isAdmin` adds the link/unlink action column. Rows carry `data-testid="member-row"`,
 * `data-discord-id` and `data-user-id` (the app user's id, "" when none); a bot has
 * `data-testid="bot-badge"`.
 */
export function MembersTable({
  rows,
  category,
  roles,
  isAdmin,
  emptyText,
  onNotice,
}: {
  rows: ReadonlyArray<ComparisonRow>;
  category: ComparisonCategory;
  roles: ReadonlyArray<GuildRole>;
  isAdmin: boolean;
  emptyText: string;
  onNotice: (notice: LinkNotice) => void;
}) {
  const cols = columnsOf(category);
  return (
    <ScrollRegion label={`${CATEGORY_INFO[category].label} table`}>
      <table className="table members-table">
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Discord id</th>
            {cols.memberFacts ? <th scope="col">Roles</th> : null}
            {cols.memberFacts ? <th scope="col">Joined</th> : null}
            {cols.left ? <th scope="col">Left</th> : null}
            {cols.user ? <th scope="col">App user</th> : null}
            {isAdmin ? (
              <th scope="col" className="right">
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <MemberRow key={row.discordId} row={row} cols={cols} roles={roles} isAdmin={isAdmin} onNotice={onNotice} />
          ))}
        </tbody>
      </table>
      {rows.length === 0 ? (
        <p className="empty muted" data-testid="members-empty">
          {emptyText}
        </p>
      ) : null}
    </ScrollRegion>
  );
}

function MemberRow({
  row,
  cols,
  roles,
  isAdmin,
  onNotice,
}: {
  row: ComparisonRow;
  cols: ReturnType<typeof columnsOf>;
  roles: ReadonlyArray<GuildRole>;
  isAdmin: boolean;
  onNotice: (notice: LinkNotice) => void;
}) {
  const { member, user } = row;
  const names = memberNames(row);
  return (
    <tr data-testid="member-row" data-discord-id={row.discordId} data-user-id={user?.id ?? ""}>
      <td>
        <div className="member">
          <DiscordAvatar discordId={row.discordId} avatar={member?.avatar ?? null} name={names.primary} />
          <div className="member-text">
            <span className="member-name-line">
              <span className="member-name" title={names.primary}>
                {names.primary}
              </span>
              {member?.isBot ? (
                <span className="bot-badge" data-testid="bot-badge" title="A bot account">
                  Bot
                </span>
              ) : null}
            </span>
            <span className="member-sub muted">{member ? names.secondary.join(" · ") : "Not in the guild"}</span>
          </div>
        </div>
      </td>
      <td className="mono nowrap">{row.discordId}</td>
      {cols.memberFacts ? (
        <td>{member ? <RoleChips roleIds={member.roleIds} roles={roles} /> : <span className="muted">—</span>}</td>
      ) : null}
      {cols.memberFacts ? (
        <td className="nowrap">
          <DateCell iso={member?.joinedAt ?? null} />
        </td>
      ) : null}
      {cols.left ? (
        <td className="nowrap">
          <DateCell iso={member?.dateLeft ?? null} />
        </td>
      ) : null}
      {cols.user ? (
        <td>
          {user ? (
            <div className="member-text">
              <span className="user-cell-name">{user.name || <span className="muted">No name</span>}</span>
              <span className="member-sub muted" title={`App user id ${user.id}`}>
                {user.email}
              </span>
            </div>
          ) : (
            <span className="muted">—</span>
          )}
        </td>
      ) : null}
      {isAdmin ? (
        <td className="right action-cell">
          <LinkAction row={row} onDone={onNotice} />
        </td>
      ) : null}
    </tr>
  );
}

function DateCell({ iso }: { iso: string | null }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {formatDay(iso)}
    </time>
  );
}
