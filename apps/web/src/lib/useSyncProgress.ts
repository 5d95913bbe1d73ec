/**
 * Wires `members.progress` into the query cache: each run it reports is folded into the cached
 * `members.history` answer (so the progress panel and the history table move together), and
 * the comparison is refetched as members are written.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useState } from "react";
import type { LiveState } from "../components/LiveIndicator";
import { SYNC_INPUT } from "./queries";
import { upsertRun } from "./sync";
import { isUnauthorized, redirectToSignIn, trpc } from "./trpc";
import type { SyncRun } from "./types";

/** After the server ends the subscription with an error, start it again after this long (ms). */
const RESTART_AFTER_ERROR_MS = 3_000;

/** What {@link useSyncProgress} returns. */
export interface SyncProgress {
  /** The guild's newest run; null when no sync has run yet (or while history is loading). */
  readonly run: SyncRun | null;
  /** True until `members.history` has answered once. */
  readonly loading: boolean;
  /** The progress subscription's connection state. */
  readonly live: LiveState;
}

const sameProgress = (a: SyncRun, b: SyncRun) =>
  a.status === b.status && a.chunksReceived === b.chunksReceived && a.rowsReceived === b.rowsReceived && a.finishedAt === b.finishedAt;

/**
 * Subscribes to `members.progress` for the organization's default guild and returns its newest
 * run (for the progress bar) and the connection state.
 *
 * The subscription is tracked: when the socket drops, tRPC's wsLink reconnects and sends the
 * last event id, and the server first replays every run that moved meanwhile (a run that
 * ended while we were away, then the one that started since), so the cache misses nothing.
 * A reported run that differs from the cached copy (the first event after subscribing is the
 * newest run, usually unchanged) is written into the `members.history` cache and makes every
 * `members.comparison` query refetch, since chunks write members as they arrive; a run that has
 * ended also refetches `members.history`, for the server's final word. Refetches triggered
 * while one is in flight join it instead of cancelling it, so a fast run cannot starve them.
 * An UNAUTHORIZED error (the session ended) goes to /sign-in; any other error restarts the
 * subscription after a pause (a fresh one, with no event id: so `members.history` is
 * refetched too, for whatever happened in between).
 */
export function useSyncProgress(): SyncProgress {
  const queryClient = useQueryClient();
  const history = useQuery(trpc.members.history.queryOptions(SYNC_INPUT));
  // Only used when the history cache is missing (its query failed): the last run we heard of.
  const [heard, setHeard] = useState<SyncRun | null>(null);
  const [wasLive, setWasLive] = useState(false);

  const subscription = useSubscription(
    trpc.members.progress.subscriptionOptions(SYNC_INPUT, {
      onData: ({ data: run }) => {
        const historyKey = trpc.members.history.queryKey(SYNC_INPUT);
        const cached = queryClient.getQueryData(historyKey)?.find((r) => r.id === run.id);
        if (cached && sameProgress(cached, run)) return;
        setHeard((prev) => (prev && Date.parse(prev.startedAt) > Date.parse(run.startedAt) ? prev : run));
        queryClient.setQueryData(historyKey, (runs) => runs && [...upsertRun(runs, run)]);
        void queryClient.invalidateQueries(trpc.members.comparison.pathFilter(), { cancelRefetch: false });
        if (run.status !== "running") {
          void queryClient.invalidateQueries(trpc.members.history.queryFilter(SYNC_INPUT), { cancelRefetch: false });
        }
      },
      onError: (error) => {
        if (isUnauthorized(error)) redirectToSignIn();
      },
    }),
  );

  const { status, error, reset } = subscription;
  useEffect(() => {
    if (status !== "error" || isUnauthorized(error)) return;
    const timer = window.setTimeout(() => {
      reset();
      void queryClient.invalidateQueries(trpc.members.history.queryFilter(SYNC_INPUT), { cancelRefetch: false });
    }, RESTART_AFTER_ERROR_MS);
    return () => window.clearTimeout(timer);
  }, [status, error, reset, queryClient]);

  // Derived state, set during render (as in useRosterLive): "connecting" only before the first start.
  if (status === "pending" && !wasLive) setWasLive(true);
  const live: LiveState = status === "pending" ? "live" : wasLive ? "reconnecting" : "connecting";

  const run = history.data ? (history.data[0] ?? null) : heard;
  return { run, loading: history.isPending && !heard, live };
}
