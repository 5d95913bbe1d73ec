/**
 * `/notifications` (admins): the organization's Discord channel webhooks, which domain events
 * each receives, "send test", enable/disable/remove, and the latest deliveries with their
 * result. A webhook Discord reports as gone shows as disabled with Discord's answer. Webhook
 * URLs hold a secret token: the page sends them once and never shows them again.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import type { inferInput, inferOutput } from "@trpc/tanstack-react-query";
import { type FormEvent, useId, useState } from "react";
import { AppHeader } from "../components/AppHeader";
import { AdminsOnly, NotStaff } from "../components/NotStaff";
import { ScrollRegion } from "../components/ScrollRegion";
import { formatDateTime, relativeTime, useNow } from "../lib/time";
import { trpc } from "../lib/trpc";

const notificationsRoute = getRouteApi("/notifications");

/** How often the deliveries and webhook counts are refreshed while the page is open (ms). */
const REFRESH_MS = 3_000;

/** Deliveries shown. */
export const DELIVERIES_INPUT = { limit: 25 } as const;

/** What each kind means, for the checkboxes. */
const KIND_LABEL: Record<string, string> = {
  "member.joined": "Member joined",
  "member.left": "Member left",
  "sync.finished": "Sync finished",
  "sync.failed": "Sync failed",
  "reconciliation.applied": "Reconciliation applied",
  "event.created": "Event created",
  "event.canceled": "Event canceled",
  "integration.removed": "Bot removed from a guild",
  test: "Test",
};

/** The Notifications page: admins manage webhooks; other staff are told it is for admins. */
export function NotificationsPage() {
  const { me } = notificationsRoute.useRouteContext();
  return (
    <div className="app">
      <AppHeader me={me} />
      {!me.staff ? (
        <NotStaff me={me} />
      ) : me.staff.role !== "admin" ? (
        <AdminsOnly reason="The Notifications page manages the Discord channels Guildhall posts to; it needs the admin role." />
      ) : (
        <Notifications />
      )}
    </div>
  );
}

function Notifications() {
  const kinds = useQuery(trpc.notifications.kinds.queryOptions());
  const webhooks = useQuery({ ...trpc.notifications.webhooks.queryOptions(), refetchInterval: REFRESH_MS });
  const all = kinds.data ?? [];
  return (
    <main className="page">
      <div className="page-head">
        <div>
          <h1 className="page-title">Notifications</h1>
          <p className="muted page-sub">
            Post Guildhall's events to Discord channels through channel webhooks. Each webhook receives the kinds you choose; deliveries are
            retried, and a webhook Discord no longer knows is disabled.
          </p>
        </div>
      </div>
      <section
        className="card"
        aria-labelledby="webhooks-title"
        data-testid="webhooks"
        data-loading={webhooks.isPending ? "true" : "false"}
      >
        <div className="card-header">
          <h2 className="card-title" id="webhooks-title">
            Webhooks
            <span className="count-pill">{webhooks.data?.length ?? 0}</span>
          </h2>
        </div>
        <ScrollRegion label="Webhooks table">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Webhook / channel</th>
                <th scope="col">Receives</th>
                <th scope="col">Status</th>
                <th scope="col" className="right">
                  Delivered
                </th>
                <th scope="col" className="right">
                  Failed
                </th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {(webhooks.data ?? []).map((webhook) => (
                <WebhookRow key={webhook.id} webhook={webhook} kinds={all} />
              ))}
            </tbody>
          </table>
          {webhooks.isPending ? (
            <p className="empty muted">Loading webhooks…</p>
          ) : webhooks.isError ? (
            <p className="empty error" role="alert">
              Could not load the webhooks: {webhooks.error.message}
            </p>
          ) : webhooks.data.length === 0 ? (
            <p className="empty muted" data-testid="webhooks-empty">
              No webhook yet: add one below.
            </p>
          ) : null}
        </ScrollRegion>
      </section>
      <AddWebhook kinds={all} />
      <Deliveries />
    </main>
  );
}

/** One webhook as `notifications.webhooks` lists it. */
type Webhook = inferOutput<typeof trpc.notifications.webhooks>[number];
/** The kinds a webhook may receive. */
type Kind = inferInput<typeof trpc.notifications.create>["kinds"][number];

function WebhookRow({ webhook, kinds }: { webhook: Webhook; kinds: ReadonlyArray<string> }) {
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [chosen, setChosen] = useState<ReadonlyArray<string>>(webhook.kinds);
  const refresh = () => {
    void queryClient.invalidateQueries(trpc.notifications.webhooks.pathFilter());
    void queryClient.invalidateQueries(trpc.notifications.deliveries.pathFilter());
  };
  const update = useMutation(trpc.notifications.update.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.notifications.remove.mutationOptions({ onSuccess: refresh }));
  const test = useMutation(trpc.notifications.sendTest.mutationOptions({ onSuccess: refresh }));
  const error = update.error ?? remove.error ?? test.error;
  return (
    <tr data-testid="webhook-row" data-status={webhook.status}>
      <td className="nowrap">{webhook.name}</td>
      <td className="nowrap mono small">
        <div>{webhook.webhookId}</div>
        <div className="muted">{webhook.channelId ? `channel ${webhook.channelId}` : "channel known after the first message"}</div>
      </td>
      <td className="kinds-cell">
        {editing ? (
          <fieldset className="kinds">
            <legend className="sr-only">Event kinds {webhook.name} receives</legend>
            <KindChoices kinds={kinds} chosen={chosen} onChange={setChosen} />
            <div className="row gap">
              <button
                type="button"
                className="button primary"
                disabled={update.isPending}
                onClick={() => update.mutate({ id: webhook.id, kinds: chosen as Kind[] }, { onSuccess: () => setEditing(false) })}
              >
                Save
              </button>
              <button type="button" className="button" onClick={() => setEditing(false)}>
                Cancel
              </button>
            </div>
          </fieldset>
        ) : (
          <span>
            {webhook.kinds.length === 0 ? <span className="muted">nothing</span> : webhook.kinds.map((k) => KIND_LABEL[k] ?? k).join(", ")}
          </span>
        )}
      </td>
      <td>
        {webhook.status === "active" ? (
          <span className="pill pill-ok">
            <span className="dot" aria-hidden="true" />
            Active
          </span>
        ) : (
          <div>
            <span className="pill pill-bad" data-testid="webhook-disabled">
              <span className="dot" aria-hidden="true" />
              Disabled
            </span>
            {webhook.disabledReason ? <div className="small error">{webhook.disabledReason}</div> : null}
          </div>
        )}
      </td>
      <td className="right num">{webhook.delivered}</td>
      <td className="right num">{webhook.failed}</td>
      <td>
        <div className="row gap">
          <button
            type="button"
            className="button"
            disabled={test.isPending || webhook.status !== "active"}
            onClick={() => test.mutate({ id: webhook.id })}
          >
            Send test
          </button>
          {editing ? null : (
            <button type="button" className="button" onClick={() => setEditing(true)}>
              Edit kinds
            </button>
          )}
          <button
            type="button"
            className="button"
            disabled={update.isPending}
            onClick={() => update.mutate({ id: webhook.id, enabled: webhook.status !== "active" })}
          >
            {webhook.status === "active" ? "Disable" : "Enable"}
          </button>
          <button
            type="button"
            className="button"
            disabled={remove.isPending}
            onClick={() => {
              if (window.confirm(`Remove the webhook "${webhook.name}" and its deliveries?`)) remove.mutate({ id: webhook.id });
            }}
          >
            Remove
          </button>
        </div>
        {test.isSuccess ? <div className="small muted">Test queued.</div> : null}
        {error ? (
          <div className="small error" role="alert">
            {error.message}
          </div>
        ) : null}
      </td>
    </tr>
  );
}

function KindChoices({
  kinds,
  chosen,
  onChange,
}: {
  kinds: ReadonlyArray<string>;
  chosen: ReadonlyArray<string>;
  onChange: (kinds: ReadonlyArray<string>) => void;
}) {
  const id = useId();
  return (
    <div className="kind-choices">
      {kinds.map((kind) => (
        <label key={kind} className="kind-choice" htmlFor={`${id}-${kind}`}>
          <input
            id={`${id}-${kind}`}
            type="checkbox"
            checked={chosen.includes(kind)}
            onChange={(e) => onChange(e.target.checked ? [...chosen, kind] : chosen.filter((k) => k !== kind))}
          />{" "}
          {KIND_LABEL[kind] ?? kind}
        </label>
      ))}
    </div>
  );
}

function AddWebhook({ kinds }: { kinds: ReadonlyArray<string> }) {
  const queryClient = useQueryClient();
  const id = useId();
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [chosen, setChosen] = useState<ReadonlyArray<string>>(["member.joined", "member.left", "sync.failed"]);
  const create = useMutation(
    trpc.notifications.create.mutationOptions({
      onSuccess: () => {
        setName("");
        setUrl("");
        void queryClient.invalidateQueries(trpc.notifications.webhooks.pathFilter());
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name, url, kinds: chosen as Kind[] });
  };
  return (
    <section className="card" aria-labelledby="add-webhook-title">
      <div className="card-header">
        <h2 className="card-title" id="add-webhook-title">
          Add a webhook
        </h2>
      </div>
      <form className="form add-webhook" onSubmit={submit} data-testid="add-webhook">
        <div className="field">
          <label className="field-label" htmlFor={`${id}-name`}>
            Name
          </label>
          <input id={`${id}-name`} className="input" value={name} maxLength={80} required onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={`${id}-url`}>
            Webhook URL (Discord: channel settings, Integrations, Webhooks, Copy Webhook URL)
          </label>
          <input
            id={`${id}-url`}
            className="input"
            type="url"
            autoComplete="off"
            spellCheck={false}
            placeholder="https://discord.com/api/webhooks/…"
            value={url}
            required
            onChange={(e) => setUrl(e.target.value)}
          />
        </div>
        <fieldset className="kinds">
          <legend className="field-label">Receives</legend>
          <KindChoices kinds={kinds} chosen={chosen} onChange={setChosen} />
        </fieldset>
        {create.error ? (
          <p className="form-error" role="alert">
            {create.error.message}
          </p>
        ) : null}
        <div>
          <button type="submit" className="button primary" disabled={create.isPending}>
            Add webhook
          </button>
        </div>
      </form>
    </section>
  );
}

const STATUS_CLASS: Record<string, string> = { delivered: "pill pill-ok", failed: "pill pill-bad", pending: "pill", skipped: "pill" };

function Deliveries() {
  const now = useNow(REFRESH_MS);
  const deliveries = useQuery({ ...trpc.notifications.deliveries.queryOptions(DELIVERIES_INPUT), refetchInterval: REFRESH_MS });
  const rows = deliveries.data?.deliveries ?? [];
  return (
    <section
      className="card"
      aria-labelledby="deliveries-title"
      data-testid="deliveries"
      data-loading={deliveries.isPending ? "true" : "false"}
    >
      <div className="card-header">
        <h2 className="card-title" id="deliveries-title">
          Latest deliveries
          <span className="count-pill">{rows.length}</span>
        </h2>
      </div>
      <ScrollRegion label="Deliveries table">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Webhook</th>
              <th scope="col">Event</th>
              <th scope="col">Result</th>
              <th scope="col" className="right">
                Attempts
              </th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.id} data-testid="delivery-row" data-status={d.status}>
                <td className="nowrap" title={formatDateTime(d.createdAt)}>
                  {relativeTime(d.createdAt, now)}
                </td>
                <td className="nowrap">{d.webhookName}</td>
                <td className="nowrap">
                  {KIND_LABEL[d.kind] ?? d.kind}
                  {d.eventId === null ? null : <span className="muted small"> #{d.eventId}</span>}
                </td>
                <td className="nowrap">
                  <span className={STATUS_CLASS[d.status] ?? "pill"}>{d.status}</span>
                </td>
                <td className="right num">{d.attempts}</td>
                <td className="reason">
                  {d.lastError ? <span title={d.lastError}>{d.lastError}</span> : <span className="muted">—</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {deliveries.isPending ? (
          <p className="empty muted">Loading deliveries…</p>
        ) : deliveries.isError ? (
          <p className="empty error" role="alert">
            Could not load the deliveries: {deliveries.error.message}
          </p>
        ) : rows.length === 0 ? (
          <p className="empty muted" data-testid="deliveries-empty">
            Nothing delivered yet.
          </p>
        ) : null}
      </ScrollRegion>
    </section>
  );
}
