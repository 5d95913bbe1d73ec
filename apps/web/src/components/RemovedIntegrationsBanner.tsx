/**
 * The notice an organization's admins get when the bot was removed from one of its guilds on
 * Discord (kicked: a GUILD_DELETE without `unavailable`; the server marks the integration
 * `removed` and appends an `integration.removed` event). Shown under the header on every page
 * while an integration is removed, until an admin reinstalls or deletes it on the Integrations
 * page; it appears at once, through the `events.live` stream, when the removal happens.
 * Test hook: `integration-removed-banner`.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useSubscription } from "@trpc/tanstack-react-query";
import { trpc } from "../lib/trpc";

/** Admins only (others render nothing): the removed integrations of the selected organization. */
export function RemovedIntegrationsBanner() {
  const queryClient = useQueryClient();
  const list = useQuery(trpc.integrations.list.queryOptions());
  useSubscription(
    trpc.events.live.subscriptionOptions(
      { kinds: ["integration.removed"] },
      { onData: () => void queryClient.invalidateQueries(trpc.integrations.list.pathFilter()) },
    ),
  );
  const removed = (list.data ?? []).filter((row) => row.status === "removed");
  if (removed.length === 0) return null;
  const names = removed.map((row) => row.guildName).join(", ");
  return (
    <div className="removed-banner" role="alert" data-testid="integration-removed-banner">
      <div className="removed-banner-inner">
        <strong>The bot was removed from {names} on Discord.</strong>{" "}
        <span>
          Guildhall no longer sees {removed.length === 1 ? "that server" : "those servers"}: reinstall or delete it on the{" "}
          <Link to="/integrations">Integrations page</Link>.
        </span>
      </div>
    </div>
  );
}
