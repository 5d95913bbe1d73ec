/**
 * `/members`: the guild's Discord members against the organization's app accounts, in four
 * categories, with filters, pages, CSV export and the member sync's live progress.
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { getRouteApi, Link, useNavigate } from "@tanstack/react-router";
import { useEffect, useRef, useState } from "react";
import { AppHeader } from "../components/AppHeader";
import { MemberFilters } from "../components/MemberFilters";
import { MembersTable } from "../components/MembersTable";
import { NotStaff } from "../components/NotStaff";
import { SyncPanel } from "../components/SyncPanel";
import { downloadText } from "../lib/download";
import {
  CATEGORIES,
  CATEGORY_INFO,
  comparisonInput,
  csvDownloadName,
  DEFAULT_CATEGORY,
  hasFilters,
  type MembersSearch,
  type MembersSearchPatch,
  pageCount,
  pageRange,
  patchMembersSearch,
} from "../lib/members";
import { COMPARISON_REFETCH_MS, MEMBERS_PAGE_SIZE } from "../lib/queries";
import { trpc } from "../lib/trpc";
import type { ComparisonCategory, ComparisonInput, ComparisonPage } from "../lib/types";
import { RoutePending } from "./fallbacks";

const membersRoute = getRouteApi("/members");

/** The members page; signed-in users who are not staff get an explanation instead. */
export function MembersPage() {
  const { me } = membersRoute.useRouteContext();
  return (
    <div className="app">
      <AppHeader me={me} />
      {me.staff ? <Comparison isAdmin={me.staff.role === "admin"} /> : <NotStaff me={me} />}
    </div>
  );
}

/** How long a link/unlink or export notice stays (ms). */
const NOTICE_MS = 8_000;

/** A one-line outcome shown above the list: a link, an unlink, an export. */
type Notice = { readonly kind: "ok" | "error"; readonly text: string };

function Comparison({ isAdmin }: { isAdmin: boolean }) {
  const search = membersRoute.useSearch();
  const navigate = useNavigate({ from: "/members" });
  const category = search.category ?? DEFAULT_CATEGORY;
  const input = comparisonInput(search, MEMBERS_PAGE_SIZE);
  const listRef = useRef<HTMLElement>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  useEffect(() => {
    if (!notice) return;
    const timer = window.setTimeout(() => setNotice(null), NOTICE_MS);
    return () => window.clearTimeout(timer);
  }, [notice]);

  // The route loader filled the cache; polling shows joins and leaves (which emit no sync event),
  // members.progress refetches it during syncs (see useSyncProgress). While a new filter or page
  // loads, the previous rows stay (dimmed) instead of a spinner.
  const comparison = useQuery(
    trpc.members.comparison.queryOptions(input, { refetchInterval: COMPARISON_REFETCH_MS, placeholderData: keepPreviousData }),
  );

  const update = (patch: MembersSearchPatch, options: { replace?: boolean; scrollToList?: boolean } = {}) => {
    void navigate({
      search: (prev: MembersSearch) => patchMembersSearch(prev, patch),
      replace: options.replace ?? false,
      resetScroll: false,
    });
    const list = listRef.current;
    if (options.scrollToList && list && list.getBoundingClientRect().top < 0) list.scrollIntoView({ block: "start" });
  };

  const data = comparison.data;
  // The category the rows on screen belong to: while another one loads, the previous rows stay,
  // and must keep their own columns.
  const [shownCategory, setShownCategory] = useState(category);
  if (!comparison.isPlaceholderData && data && shownCategory !== category) setShownCategory(category);
  const pages = data ? pageCount(data.total, data.pageSize) : 1;
  const page = search.page ?? 1;
  // A page past the end (rows left since the link was made): go to the last one.
  useEffect(() => {
    if (data && !comparison.isPlaceholderData && data.total > 0 && page > pages) {
      void navigate({ search: (prev: MembersSearch) => patchMembersSearch(prev, { page: pages }), replace: true, resetScroll: false });
    }
  }, [data, comparison.isPlaceholderData, page, pages, navigate]);

  if (!data) {
    if (comparison.isPending) return <RoutePending />;
    return (
      <main className="page">
        <div className="card narrow" role="alert">
          <h1 className="card-title">Could not load members</h1>
          <p className="muted">{comparison.error?.message ?? "The server did not answer."}</p>
          <div className="row gap">
            <button type="button" className="button primary" onClick={() => void comparison.refetch()}>
              Try again
            </button>
            <Link to="/members" className="button">
              Clear filters
            </Link>
          </div>
        </div>
      </main>
    );
  }

  // @everyone (its id is the guild's) is every member's implicit role: no use as a chip or filter.
  const roles = data.roles.filter((r) => r.id !== data.guild.id);

  return (
    <main className="page">
      <div className="page-head">
        <div>
          <h1 className="page-title">Members</h1>
          <p className="muted page-sub">
            Discord members of <strong className="guild-name">{data.guild.name}</strong>
            <span className="mono small"> · {data.guild.id}</span> compared with app accounts
          </p>
        </div>
      </div>
      <SyncPanel showHistoryLink isAdmin={isAdmin} />
      <CategoryCards counts={data.counts} active={category} />
      <section
        className="card roster members"
        aria-labelledby="members-title"
        ref={listRef}
        data-testid="members-list"
        data-category={shownCategory}
        data-loading={comparison.isPlaceholderData ? "true" : "false"}
      >
        <div className="card-header">
          <h2 className="card-title" id="members-title">
            {CATEGORY_INFO[shownCategory].label}
            <span className="count-pill" data-testid="members-total" title={hasFilters(search) ? "Rows matching the filters" : undefined}>
              {hasFilters(search) ? `${data.total.toLocaleString("en")} matching` : data.total.toLocaleString("en")}
            </span>
            {comparison.isFetching && comparison.isPlaceholderData ? (
              <span className="spinner spinner-small" role="img" aria-label="Loading" />
            ) : null}
          </h2>
          <ExportButton input={input} total={data.total} onNotice={setNotice} />
        </div>
        <MemberFilters search={search} category={category} roles={roles} onChange={update} />
        <p className={`list-notice notice ${notice?.kind ?? "ok"}`} role="status" aria-live="polite" data-testid="members-notice">
          {notice?.text}
        </p>
        <div className={comparison.isPlaceholderData ? "is-stale" : undefined}>
          <MembersTable
            rows={data.rows}
            category={shownCategory}
            roles={roles}
            isAdmin={isAdmin}
            emptyText={emptyText(shownCategory, hasFilters(search), data)}
            onNotice={setNotice}
          />
        </div>
        <Pagination
          page={Math.min(page, pages)}
          pages={pages}
          total={data.total}
          pageSize={data.pageSize}
          onPage={(n) => update({ page: n }, { scrollToList: true })}
        />
      </section>
    </main>
  );
}

function emptyText(category: ComparisonCategory, filtered: boolean, data: ComparisonPage): string {
  if (filtered) return "No members match these filters.";
  if (data.page > 1 && data.total > 0) return "This page is past the end of the list.";
  switch (category) {
    case "guild_only":
      return "Every guild member has an app account.";
    case "linked":
      return "No guild member is linked to an app account yet.";
    case "left":
      return "No app user has left the guild.";
    case "no_guild_record":
      return "Every app account with a Discord id is known to the guild.";
  }
}

/**
 * "Export CSV": every row of the list with the current filters (not just this page), as
 * `members.exportCsv` renders it, saved as `<api filename>-<local day>.csv`. Disabled for an
 * empty list. Test hook: `export-csv`.
 */
function ExportButton({ input, total, onNotice }: { input: ComparisonInput; total: number; onNotice: (notice: Notice) => void }) {
  const queryClient = useQueryClient();
  const { page: _page, pageSize: _pageSize, ...filters } = input;
  const exportCsv = useMutation({
    // A one-off read, not a cached one: always fresh, and the CSV is not kept in memory afterwards.
    mutationFn: () => queryClient.fetchQuery(trpc.members.exportCsv.queryOptions(filters, { staleTime: 0, gcTime: 0 })),
    onSuccess: (result) => {
      const filename = csvDownloadName(result.filename, new Date());
      downloadText(filename, result.csv, "text/csv;charset=utf-8");
      onNotice({ kind: "ok", text: `Exported ${result.rows.toLocaleString("en")} row${result.rows === 1 ? "" : "s"} to ${filename}.` });
    },
    onError: (error) => onNotice({ kind: "error", text: `Export failed: ${error.message}` }),
  });
  return (
    <button
      type="button"
      className="button"
      onClick={() => exportCsv.mutate()}
      disabled={exportCsv.isPending || total === 0}
      title={total === 0 ? "Nothing to export" : "Download every row of this list with these filters as CSV"}
      data-testid="export-csv"
    >
      <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true">
        <path
          d="M12 4v11M7 10l5 5 5-5M5 20h14"
          fill="none"
          stroke="currentColor"
          strokeWidth="2"
          strokeLinecap="round"
          strokeLinejoin="round"
        />
      </svg>
      {exportCsv.isPending ? "Exporting…" : "Export CSV"}
    </button>
  );
}

/**
 * The four category cards with their (unfiltered) counts, as links that keep the filters.
 * `data-testid="category-<category>"`, `data-count`; the active one has `aria-current="page"`
 * and `data-status="active"` (set by the router's Link).
 */
function CategoryCards({ counts, active }: { counts: ComparisonPage["counts"]; active: ComparisonCategory }) {
  return (
    <nav className="categories" aria-label="Member categories">
      {CATEGORIES.map((c) => (
        <Link
          key={c}
          to="/members"
          // The active card links to the current URL itself, so the router marks it (and only it)
          // active; the others keep the filters and go back to page 1.
          search={(prev: MembersSearch) => (c === active ? prev : patchMembersSearch(prev, { category: c }))}
          activeOptions={{ exact: true, includeSearch: true }}
          resetScroll={false}
          className="category"
          data-testid={`category-${c}`}
          data-count={counts[c]}
        >
          <span className="category-label">{CATEGORY_INFO[c].label}</span>
          <span className="category-count">{counts[c].toLocaleString("en")}</span>
          <span className="category-hint muted">{CATEGORY_INFO[c].hint}</span>
        </Link>
      ))}
    </nav>
  );
}

/**
 * Previous / next and "Page X of Y", with "Showing a–b of n". Test hooks: `page-prev`,
 * `page-next` (disabled at the ends), `page-label`.
 */
function Pagination({
  page,
  pages,
  total,
  pageSize,
  onPage,
}: {
  page: number;
  pages: number;
  total: number;
  pageSize: number;
  onPage: (page: number) => void;
}) {
  const { from, to } = pageRange(page, pageSize, total);
  return (
    <div className="pagination">
      <span className="muted small" data-testid="page-range">
        {total === 0 ? "No rows" : `Showing ${from.toLocaleString("en")}–${to.toLocaleString("en")} of ${total.toLocaleString("en")}`}
      </span>
      <div className="pager">
        <button type="button" className="button" disabled={page <= 1} onClick={() => onPage(page - 1)} data-testid="page-prev">
          <span aria-hidden="true">‹</span> Previous
        </button>
        <span className="page-label" data-testid="page-label" aria-live="polite">
          Page {page.toLocaleString("en")} of {pages.toLocaleString("en")}
        </span>
        <button type="button" className="button" disabled={page >= pages} onClick={() => onPage(page + 1)} data-testid="page-next">
          Next <span aria-hidden="true">›</span>
        </button>
      </div>
    </div>
  );
}
