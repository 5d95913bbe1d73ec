/** The members list's toolbar: search box, role, bots, and joined-after / joined-before dates. */
import { useId } from "react";
import {
  type BotFilter,
  hasFilters,
  hasMemberFilters,
  isIsoDate,
  MAX_SEARCH_LENGTH,
  type MembersSearch,
  type MembersSearchPatch,
} from "../lib/members";
import type { ComparisonCategory, GuildRole } from "../lib/types";
import { useDraft } from "../lib/useDraft";

/** Pause after the last keystroke before the search reaches the URL (ms). */
const SEARCH_DEBOUNCE_MS = 300;

/** A date input's value is committed once it is cleared or a whole, plausible date (not the "0002" of a year being typed). */
const acceptDate = (value: string) => value === "" || (isIsoDate(value) && Number(value.slice(0, 4)) >= 1970);

/**
 * Filters bound to the URL search params: `search` (debounced), `roleId`, `bots`,
 * `joinedAfter`, `joinedBefore`. `onChange` gets the keys to change (`undefined` clears one).
 * The member filters are disabled for `no_guild_record`, whose rows have no guild member.
 * `roles` should not hold @everyone. Test hooks: `members-search`, `filter-role`,
 * `filter-bots`, `filter-joined-after`, `filter-joined-before`, `clear-filters`.
 */
export function MemberFilters({
  search,
  category,
  roles,
  onChange,
}: {
  search: MembersSearch;
  category: ComparisonCategory;
  roles: ReadonlyArray<GuildRole>;
  onChange: (patch: MembersSearchPatch, options?: { replace?: boolean }) => void;
}) {
  const id = useId();
  const memberFilters = hasMemberFilters(category);
  const disabledTitle = memberFilters ? undefined : "These rows have no guild member, so member filters do not apply";

  const [query, setQuery] = useDraft(search.search ?? "", (draft) => onChange({ search: draft }, { replace: true }), {
    delayMs: SEARCH_DEBOUNCE_MS,
  });
  const [after, setAfter] = useDraft(search.joinedAfter ?? "", (draft) => onChange({ joinedAfter: draft || undefined }), {
    delayMs: 0,
    accept: acceptDate,
  });
  const [before, setBefore] = useDraft(search.joinedBefore ?? "", (draft) => onChange({ joinedBefore: draft || undefined }), {
    delayMs: 0,
    accept: acceptDate,
  });

  return (
    <div className="toolbar filters">
      <label className="search">
        <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
          <path
            d="M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14M20 20l-4-4"
            fill="none"
            stroke="currentColor"
            strokeWidth="2"
            strokeLinecap="round"
          />
        </svg>
        <span className="sr-only">Search members</span>
        <input
          className="input"
          type="search"
          placeholder="Search name, Discord id, email"
          value={query}
          maxLength={MAX_SEARCH_LENGTH}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") onChange({ search: query }, { replace: true });
          }}
          data-testid="members-search"
        />
      </label>
      <div className="filter-group">
        <label className="filter" title={disabledTitle}>
          <span className="filter-label">Role</span>
          <select
            className="input select"
            value={memberFilters ? (search.roleId ?? "") : ""}
            disabled={!memberFilters}
            onChange={(e) => onChange({ roleId: e.target.value || undefined })}
            data-testid="filter-role"
          >
            <option value="">All roles</option>
            {roles.map((role) => (
              <option key={role.id} value={role.id}>
                {role.name}
              </option>
            ))}
            {search.roleId && !roles.some((r) => r.id === search.roleId) ? (
              <option value={search.roleId}>Unknown role {search.roleId}</option>
            ) : null}
          </select>
        </label>
        <label className="filter" title={disabledTitle}>
          <span className="filter-label">Bots</span>
          <select
            className="input select"
            value={memberFilters ? (search.bots ?? "") : ""}
            disabled={!memberFilters}
            onChange={(e) => onChange({ bots: (e.target.value || undefined) as BotFilter | undefined })}
            data-testid="filter-bots"
          >
            <option value="">All members</option>
            <option value="only">Only bots</option>
            <option value="none">No bots</option>
          </select>
        </label>
        <label className="filter" htmlFor={`${id}-after`} title={disabledTitle ?? "Joined on or after this day"}>
          <span className="filter-label">Joined after</span>
          <input
            id={`${id}-after`}
            className="input date"
            type="date"
            value={memberFilters ? after : ""}
            max={before || undefined}
            disabled={!memberFilters}
            onChange={(e) => setAfter(e.target.value)}
            data-testid="filter-joined-after"
          />
        </label>
        <label className="filter" htmlFor={`${id}-before`} title={disabledTitle ?? "Joined before this day"}>
          <span className="filter-label">Joined before</span>
          <input
            id={`${id}-before`}
            className="input date"
            type="date"
            value={memberFilters ? before : ""}
            min={after || undefined}
            disabled={!memberFilters}
            onChange={(e) => setBefore(e.target.value)}
            data-testid="filter-joined-before"
          />
        </label>
        {hasFilters(search) ? (
          <button
            type="button"
            className="button ghost clear-filters"
            onClick={() =>
              onChange({ search: undefined, roleId: undefined, bots: undefined, joinedAfter: undefined, joinedBefore: undefined })
            }
            data-testid="clear-filters"
          >
            Clear filters
          </button>
        ) : null}
      </div>
    </div>
  );
}
