/**
 * `/integrations`: the organization's Discord integrations (the bot installed in a guild through
 * OAuth2). Staff see each guild, its status (active, or removed when the bot was kicked), its
 * scopes, who installed it and when; admins also "Add to Discord" (the permissions the bot asks
 * for, each explained, then Discord's authorize page) and delete an integration. Discord sends
 * the admin back here with `?installed=<guild id>` after a successful install.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { useId, useState } from "react";
import { AppHeader } from "../components/AppHeader";
import { NotStaff } from "../components/NotStaff";
import { formatDateTime } from "../lib/time";
import { trpc } from "../lib/trpc";
import type { Me } from "../lib/types";

const integrationsRoute = getRouteApi("/integrations");

/** The Integrations page. */
export function IntegrationsPage() {
  const { me } = integrationsRoute.useRouteContext();
  return (
    <div className="app">
      <AppHeader me={me} />
      {!me.staff ? <NotStaff me={me} /> : <Integrations me={me} />}
    </div>
  );
}

function Integrations({ me }: { me: Me }) {
  const isAdmin = me.staff?.role === "admin";
  const search = integrationsRoute.useSearch();
  const list = useQuery(trpc.integrations.list.queryOptions());
  const rows = list.data ?? [];
  const installed = search.installed ? rows.find((r) => r.guildId === search.installed) : undefined;

  return (
    <main className="page">
      <div className="page-head">
        <div>
          <h1 className="page-title">Integrations</h1>
          <p className="muted page-sub">
            The Discord servers where the bot is installed for {me.staff?.organizationName}. A server belongs to an organization only
            through an install by one of its admins, who must also manage that server on Discord.
          </p>
        </div>
      </div>

      {installed ? (
        <p className="notice" role="status" data-testid="installed-notice">
          The bot was added to {installed.guildName}.
        </p>
      ) : null}

      {isAdmin ? <AddToDiscord /> : null}

      <section className="card roster" aria-labelledby="integrations-title">
        <div className="card-header">
          <h2 className="card-title" id="integrations-title">
            Installed
            <span className="count-pill">{rows.length}</span>
          </h2>
        </div>
        {rows.length === 0 ? (
          <p className="empty muted" data-testid="integrations-empty">
            {list.isPending ? "Loading…" : "No integration yet."}
          </p>
        ) : (
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1).
          <section className="table-wrap" tabIndex={0} aria-labelledby="integrations-title">
            <table className="table" data-testid="integrations-list" data-loading={list.isFetching ? "true" : "false"}>
              <thead>
                <tr>
                  <th scope="col">Server</th>
                  <th scope="col">Status</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Installed by</th>
                  {isAdmin ? (
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.id} data-testid="integration-row" data-guild-id={row.guildId} data-status={row.status}>
                    <td>
                      <span className="strong">{row.guildName}</span>
                      <div className="muted small mono">{row.guildId}</div>
                    </td>
                    <td>
                      {row.status === "active" ? (
                        <span className="pill pill-ok">Active</span>
                      ) : (
                        <>
                          <span className="pill pill-bad">Removed</span>
                          <div className="muted small">{row.statusReason}</div>
                        </>
                      )}
                    </td>
                    <td className="small">{row.scopes.join(", ")}</td>
                    <td>
                      {row.installedBy.name ?? "a former user"}
                      <div className="muted small">{formatDateTime(new Date(row.installedAt).toISOString())}</div>
                    </td>
                    {isAdmin ? (
                      <td className="right">
                        <DeleteButton id={row.id} guildName={row.guildName} />
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )}
      </section>
    </main>
  );
}

/** "Add to Discord": asks the server for an authorize URL, shows what each permission is for, then goes to Discord's page. */
function AddToDiscord() {
  const notificationsId = useId();
  const [notifications, setNotifications] = useState(false);
  const begin = useMutation(trpc.integrations.beginInstall.mutationOptions());
  const start = begin.data;

  return (
    <section className="card" aria-labelledby="add-title" data-testid="install-add">
      <div className="card-header">
        <h2 className="card-title" id="add-title">
          Add the bot to a Discord server
        </h2>
      </div>
      <div className="sync-body">
        <label className="check-field" htmlFor={notificationsId}>
          <input id={notificationsId} type="checkbox" checked={notifications} onChange={(e) => setNotifications(e.target.checked)} /> Also
          post notifications through a channel webhook
        </label>
        <div className="toolbar">
          <button type="button" className="button" disabled={begin.isPending} onClick={() => begin.mutate({ notifications })}>
            Add to Discord
          </button>
        </div>
        {begin.error ? (
          <p className="form-error" role="alert">
            {begin.error.message}
          </p>
        ) : null}
        {start ? (
          <div data-testid="install-permissions">
            <p className="muted">
              The bot asks for these permissions (permissions integer <span className="mono">{start.permissions}</span>); you can untick any
              on Discord's page. The link works once, for 10 minutes.
            </p>
            <ul>
              {start.explanation.map((p) => (
                <li key={p.bit}>
                  <span className="strong">{p.name}</span>: {p.why}
                </li>
              ))}
            </ul>
            <a className="button" href={start.url} data-testid="continue-to-discord">
              Continue to Discord
            </a>
          </div>
        ) : null}
      </div>
    </section>
  );
}

function DeleteButton({ id, guildName }: { id: string; guildName: string }) {
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.integrations.remove.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries(trpc.integrations.list.pathFilter()),
    }),
  );
  return (
    <>
      <button
        type="button"
        className="button"
        disabled={remove.isPending}
        onClick={() => {
          if (window.confirm(`Delete the integration with ${guildName}? The token is revoked and the bot leaves the server.`))
            remove.mutate({ id });
        }}
      >
        Delete<span className="sr-only"> the integration with {guildName}</span>
      </button>
      {remove.error ? (
        <div className="form-error" role="alert">
          {remove.error.message}
        </div>
      ) : null}
    </>
  );
}
