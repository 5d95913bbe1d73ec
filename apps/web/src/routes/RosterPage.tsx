/** `/roster`: the live staff roster, the bot's health and the online chart. */
import { useMutation, useSuspenseQuery } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { useEffect, useState } from "react";
import { AppHeader } from "../components/AppHeader";
import { BotStatusPanel } from "../components/BotStatusPanel";
import { LiveIndicator } from "../components/LiveIndicator";
import { NotStaff } from "../components/NotStaff";
import { OnlineChart } from "../components/OnlineChart";
import { RosterTable } from "../components/RosterTable";
import { ROSTER_INPUT } from "../lib/queries";
import { trpc } from "../lib/trpc";
import { useRosterLive } from "../lib/useRosterLive";

const rosterRoute = getRouteApi("/roster");

/** The roster page; signed-in users who are not staff get an explanation instead. */
export function RosterPage() {
  const { me } = rosterRoute.useRouteContext();
  return (
    <div className="app">
      <AppHeader me={me} />
      {me.staff ? <Dashboard /> : <NotStaff me={me} />}
    </div>
  );
}

function Dashboard() {
  // The cache is kept current by roster.live; a background refetch would only race it.
  const roster = useSuspenseQuery(
    trpc.roster.list.queryOptions(ROSTER_INPUT, { staleTime: Number.POSITIVE_INFINITY, refetchOnWindowFocus: false }),
  );
  const live = useRosterLive(roster.data.cursor);
  const { guild, entries } = roster.data;

  return (
    <main className="page">
      <div className="page-head">
        <div>
          <h1 className="page-title">Staff roster</h1>
          <p className="muted page-sub">
            Discord presence of your staff in <strong className="guild-name">{guild.name}</strong>
            <span className="mono small"> · {guild.id}</span>
          </p>
        </div>
        <LiveIndicator state={live} />
      </div>
      <div className="grid">
        <OnlineChart />
        <BotStatusPanel />
      </div>
      <RosterTable entries={entries} toolbarEnd={<ResyncButton />} />
    </main>
  );
}

/** How long the resync confirmation stays (ms). */
const NOTICE_MS = 8_000;

function ResyncButton() {
  const [notice, setNotice] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const resync = useMutation(
    trpc.roster.resync.mutationOptions({
      onSuccess: ({ userCount }) =>
        setNotice({
          kind: "ok",
          text: `Resync requested for ${userCount} linked staff member${userCount === 1 ? "" : "s"}.`,
        }),
      onError: (error) => setNotice({ kind: "error", text: `Resync failed: ${error.message}` }),
    }),
  );
  useEffect(() => {
    if (!notice) return;
    const timer = window.setTimeout(() => setNotice(null), NOTICE_MS);
    return () => window.clearTimeout(timer);
  }, [notice]);

  return (
    <div className="resync">
      <span className={`notice ${notice?.kind === "error" ? "error" : "ok"}`} role="status" aria-live="polite" data-testid="resync-notice">
        {notice?.text}
      </span>
      <button
        type="button"
        className="button"
        onClick={() => {
          setNotice(null);
          resync.mutate(ROSTER_INPUT);
        }}
        disabled={resync.isPending}
        title="Ask the bot to re-request every linked staff member's presence from Discord"
      >
        <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true">
          <path
            d="M20 12a8 8 0 1 1-2.3-5.7M20 4v5h-5"
            fill="none"
            stroke="currentColor"
            strokeWidth="2"
            strokeLinecap="round"
            strokeLinejoin="round"
          />
        </svg>
        {resync.isPending ? "Resyncing…" : "Resync presences"}
      </button>
    </div>
  );
}
