/**
 * Wires `roster.live` into the query cache: each batch of presence changes patches the cached
 * `roster.list` answer in place; a reset refetches it.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useState } from "react";
import type { LiveState } from "../components/LiveIndicator";
import { applyPresenceChange } from "./presence";
import { ROSTER_INPUT } from "./queries";
import { isUnauthorized, redirectToSignIn, trpc } from "./trpc";

/** After the server ends the subscription with an error, start it again after this long (ms). */
const RESTART_AFTER_ERROR_MS = 3_000;

/**
 * Subscribes to `roster.live` from `cursor` (the `cursor` of the cached `roster.list` answer)
 * and returns the connection state for the live indicator.
 *
 * The subscription is keyed on `cursor`: when `roster.list` is refetched (after a reset) it
 * starts again from the new answer's cursor, so the cache and the stream always agree.
 * Dropped sockets are handled by tRPC's wsLink, which reconnects and resends the last event
 * id so the server resumes with nothing lost or repeated. An UNAUTHORIZED error (the session
 * ended) goes to /sign-in; any other error restarts the subscription after a pause.
 */
export function useRosterLive(cursor: number): LiveState {
  const queryClient = useQueryClient();
  const [wasLive, setWasLive] = useState(false);

  const subscription = useSubscription(
    trpc.roster.live.subscriptionOptions(
      { ...ROSTER_INPUT, cursor: String(cursor) },
      {
        onData: ({ data: event }) => {
          const listKey = trpc.roster.list.queryKey(ROSTER_INPUT);
          if (event.type === "reset") {
            void queryClient.invalidateQueries({ queryKey: listKey, exact: true });
            return;
          }
          queryClient.setQueryData(listKey, (snapshot) => snapshot && event.changes.reduce(applyPresenceChange, snapshot));
        },
        onError: (error) => {
          if (isUnauthorized(error)) redirectToSignIn();
        },
      },
    ),
  );

  const { status, error, reset } = subscription;
  useEffect(() => {
    if (status !== "error" || isUnauthorized(error)) return;
    const timer = window.setTimeout(reset, RESTART_AFTER_ERROR_MS);
    return () => window.clearTimeout(timer);
  }, [status, error, reset]);

  // Derived state, set during render (React's documented pattern): "Connecting…" only before the first start.
  if (status === "pending" && !wasLive) setWasLive(true);
  if (status === "pending") return "live";
  return wasLive ? "reconnecting" : "connecting";
}
