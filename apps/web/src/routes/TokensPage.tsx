/**
 * `/tokens` (admins): the organization's API tokens (other apps call the API with them:
 * `createClient({ url, token })`), created here (the token shown once), listed (never the
 * token: its first characters), revoked; and the guilds: linked to the organization, and those
 * the bot is in that no organization installed ("not installed").
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { useId, useState } from "react";
import { AppHeader } from "../components/AppHeader";
import { AdminsOnly, NotStaff } from "../components/NotStaff";
import { formatDateTime } from "../lib/time";
import { trpc } from "../lib/trpc";

const tokensRoute = getRouteApi("/tokens");

/** The API tokens page: admins manage tokens; other staff are told it is for admins. */
export function TokensPage() {
  const { me } = tokensRoute.useRouteContext();
  return (
    <div className="app">
      <AppHeader me={me} />
      {!me.staff ? (
        <NotStaff me={me} />
      ) : me.staff.role !== "admin" ? (
        <AdminsOnly reason="API tokens let other apps read and change the organization's data; managing them needs the admin role." />
      ) : (
        <main className="page stack-gap">
          <div className="page-head">
            <h1 className="page-title">API tokens</h1>
            <p className="page-sub muted">
              Other apps call Guildhall's API with a token of {me.staff.organizationName}:{" "}
              <code>createClient(&#123; url, token &#125;)</code> from <code>@guildhall/api</code>.
            </p>
          </div>
          <CreateToken />
          <TokenList />
          <GuildList />
        </main>
      )}
    </div>
  );
}

function CreateToken() {
  const queryClient = useQueryClient();
  const nameId = useId();
  const scopeId = useId();
  const [name, setName] = useState("");
  const [scope, setScope] = useState<"read" | "read_write">("read");
  const create = useMutation(
    trpc.tokens.create.mutationOptions({
      onSuccess: () => {
        setName("");
        void queryClient.invalidateQueries(trpc.tokens.list.pathFilter());
      },
    }),
  );
  return (
    <section className="card" aria-labelledby={`${nameId}-title`}>
      <h2 className="card-title" id={`${nameId}-title`}>
        New token
      </h2>
      <form
        className="token-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (name.trim()) create.mutate({ name: name.trim(), scope });
        }}
      >
        <div className="field">
          <label className="field-label" htmlFor={nameId}>
            Name
          </label>
          <input
            id={nameId}
            className="input"
            value={name}
            maxLength={100}
            required
            onChange={(event) => setName(event.target.value)}
            placeholder="e.g. Website roster"
            data-testid="token-name"
          />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={scopeId}>
            Scope
          </label>
          <select
            id={scopeId}
            className="input select"
            value={scope}
            onChange={(event) => setScope(event.target.value === "read_write" ? "read_write" : "read")}
            data-testid="token-scope"
          >
            <option value="read">Read</option>
            <option value="read_write">Read and write</option>
          </select>
        </div>
        <button type="submit" className="button primary" disabled={create.isPending || !name.trim()} data-testid="token-create">
          {create.isPending ? "Creating…" : "Create token"}
        </button>
      </form>
      {create.error ? (
        <p className="form-error" role="alert">
          {create.error.message}
        </p>
      ) : null}
      {create.data ? (
        <div className="field" role="status" data-testid="token-created">
          <p className="small">Copy it now: it is shown only once.</p>
          <code className="token-secret" data-testid="token-secret">
            {create.data.token}
          </code>
        </div>
      ) : null}
    </section>
  );
}

function TokenList() {
  const queryClient = useQueryClient();
  const titleId = useId();
  const tokens = useQuery(trpc.tokens.list.queryOptions());
  const revoke = useMutation(
    trpc.tokens.revoke.mutationOptions({ onSuccess: () => void queryClient.invalidateQueries(trpc.tokens.list.pathFilter()) }),
  );
  return (
    <section className="card" aria-labelledby={titleId} data-testid="token-list" data-loading={tokens.isPending ? "true" : "false"}>
      <h2 className="card-title" id={titleId}>
        Tokens
      </h2>
      {tokens.isPending ? (
        <p className="muted">Loading…</p>
      ) : tokens.error ? (
        <p className="form-error">{tokens.error.message}</p>
      ) : tokens.data.length === 0 ? (
        <p className="muted" data-testid="token-empty">
          No tokens yet.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scope</th>
                <th scope="col">Starts with</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((token) => (
                <tr key={token.id} data-testid="token-row" data-revoked={token.revokedAt ? "true" : "false"}>
                  <td>{token.name}</td>
                  <td>{token.scope === "read_write" ? "Read and write" : "Read"}</td>
                  <td>
                    <code>{token.prefix}…</code>
                  </td>
                  <td>{formatDateTime(token.createdAt)}</td>
                  <td>{token.lastUsedAt ? formatDateTime(token.lastUsedAt) : "Never"}</td>
                  <td className="right">
                    {token.revokedAt ? (
                      <span className="muted small">Revoked</span>
                    ) : (
                      <button
                        type="button"
                        className="button danger small-button"
                        disabled={revoke.isPending}
                        onClick={() => revoke.mutate({ id: token.id })}
                        data-testid="token-revoke"
                      >
                        Revoke<span className="sr-only"> {token.name}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function GuildList() {
  const titleId = useId();
  const guilds = useQuery(trpc.guilds.list.queryOptions());
  return (
    <section className="card" aria-labelledby={titleId} data-testid="guild-list" data-loading={guilds.isPending ? "true" : "false"}>
      <h2 className="card-title" id={titleId}>
        Guilds
      </h2>
      {guilds.isPending ? (
        <p className="muted">Loading…</p>
      ) : guilds.error ? (
        <p className="form-error">{guilds.error.message}</p>
      ) : (
        <ul className="stack-gap" style={{ listStyle: "none", padding: 0, margin: 0 }}>
          {guilds.data.linked.map((guild) => (
            <li key={guild.id} data-testid="guild-linked">
              {guild.name} <span className="small muted">· installed</span>
            </li>
          ))}
          {guilds.data.notInstalled.map((guild) => (
            <li key={guild.id} data-testid="guild-not-installed">
              {guild.name} <span className="small muted">· not installed (the bot is in it; install Guildhall there to claim it)</span>
            </li>
          ))}
          {guilds.data.linked.length + guilds.data.notInstalled.length === 0 ? <li className="muted">No guilds.</li> : null}
        </ul>
      )}
    </section>
  );
}
