/**
 * `/roles`: role reconciliation. The preflight (the bot's permissions and highest role, mappings
 * that cannot work), app groups and their members, mappings group <-> Discord role, the preview
 * of the plan (who gains and loses what, what is blocked and why), apply with live progress
 * (`roles.progress`), the runs, the audit log (filters, CSV export), the suppressions, members
 * flagged as flapping, the guild's schedules (verify, weekly hard check, flapping threshold), and
 * the organization's settings (the default authority of new mappings, the nickname template).
 * Everyone on staff reads; admins change.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import type { inferOutput } from "@trpc/tanstack-react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { type FormEvent, useState } from "react";
import { AppHeader } from "../components/AppHeader";
import { NotStaff } from "../components/NotStaff";
import { InviteLinkCard, InviteLinkHint, RoleMenusCard } from "../components/RoleMenus";
import { ScrollRegion } from "../components/ScrollRegion";
import { downloadText } from "../lib/download";
import { formatDateTime } from "../lib/time";
import { trpc } from "../lib/trpc";

const rolesRoute = getRouteApi("/roles");

type Preview = inferOutput<typeof trpc.roles.preview>;
type Run = inferOutput<typeof trpc.roles.runs>[number];
type Group = inferOutput<typeof trpc.groups.list>[number];

const AUTHORITY_LABEL: Record<string, string> = {
  app: "App is the truth",
  discord: "Discord is the truth",
  both: "Both (newer change wins)",
  add_only: "Add only",
};

/** The Roles page; signed-in users who are not staff get an explanation instead. */
export function RolesPage() {
  const { me } = rolesRoute.useRouteContext();
  return (
    <div className="app">
      <AppHeader me={me} />
      {me.staff ? <Roles isAdmin={me.staff.role === "admin"} /> : <NotStaff me={me} />}
    </div>
  );
}

function Roles({ isAdmin }: { isAdmin: boolean }) {
  const preview = useQuery({ ...trpc.roles.preview.queryOptions({}), retry: false });
  const roleName = (id: string) => preview.data?.roles.find((r) => r.id === id)?.name ?? id;
  return (
    <main className="page" data-testid="roles-page">
      <div className="page-head">
        <div>
          <h1 className="page-title">Roles</h1>
          <p className="muted page-sub">
            App groups mapped to Discord roles. Guildhall plans the changes, shows them here first, and applies them with one call per
            member. Roles no mapping manages are never touched.
          </p>
        </div>
      </div>
      <PreflightCard />
      <GroupsCard isAdmin={isAdmin} />
      <MappingsCard isAdmin={isAdmin} roles={preview.data?.roles ?? []} roleName={roleName} />
      <PreviewCard
        isAdmin={isAdmin}
        preview={preview.data}
        loading={preview.isPending}
        error={preview.error?.message ?? null}
        roleName={roleName}
      />
      <RoleMenusCard isAdmin={isAdmin} roleName={roleName} />
      <InviteLinkCard isAdmin={isAdmin} />
      <AuditCard roleName={roleName} />
      <SuppressionsCard isAdmin={isAdmin} roleName={roleName} />
      <FlaggedCard isAdmin={isAdmin} />
      <ScheduleCard isAdmin={isAdmin} />
      <SettingsCard isAdmin={isAdmin} />
    </main>
  );
}

function PreflightCard() {
  const preflight = useQuery({ ...trpc.roles.preflight.queryOptions({}), retry: false });
  const data = preflight.data;
  return (
    <section
      className="card"
      aria-labelledby="preflight-title"
      data-testid="roles-preflight"
      data-loading={preflight.isPending ? "true" : "false"}
    >
      <div className="card-header">
        <h2 className="card-title" id="preflight-title">
          Preflight
        </h2>
      </div>
      <div className="card-body">
        {preflight.error ? <p className="error small">{preflight.error.message}</p> : null}
        {data ? (
          <ul className="plain-list">
            <li>Manage Roles: {data.manageRoles ? "yes" : "MISSING"}</li>
            <li>Manage Nicknames: {data.manageNicknames ? "yes" : "MISSING"}</li>
            <li>
              Bot's highest role: {data.highestRole ? `${data.highestRole.name} (position ${data.highestPosition})` : "none"}; mapped roles
              must be below it.
            </li>
            {data.problems.map((p) => (
              <li key={p.mappingId} className="error" data-testid="preflight-problem">
                Mapping to role {p.roleId}: {p.sentence}
              </li>
            ))}
            {data.problems.length === 0 ? <li>Every mapping can be applied.</li> : null}
          </ul>
        ) : null}
      </div>
    </section>
  );
}

function GroupsCard({ isAdmin }: { isAdmin: boolean }) {
  const queryClient = useQueryClient();
  const groups = useQuery(trpc.groups.list.queryOptions());
  const [name, setName] = useState("");
  const [selected, setSelected] = useState<string | null>(null);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.groups.pathKey() });
  const create = useMutation(trpc.groups.create.mutationOptions({ onSuccess: () => void invalidate() }));
  const remove = useMutation(trpc.groups.delete.mutationOptions({ onSuccess: () => void invalidate() }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() === "") return;
    create.mutate({ name: name.trim() }, { onSuccess: () => setName("") });
  };
  const list = groups.data ?? [];
  return (
    <section className="card" aria-labelledby="groups-title" data-testid="roles-groups">
      <div className="card-header">
        <h2 className="card-title" id="groups-title">
          Groups <span className="count-pill">{list.length}</span>
        </h2>
      </div>
      <div className="card-body">
        {isAdmin ? (
          <form className="row gap" onSubmit={submit}>
            <label className="field">
              <span className="field-label">New group</span>
              <input className="input" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} data-testid="group-name" />
            </label>
            <button type="submit" className="button primary" disabled={create.isPending} data-testid="group-create">
              Create group
            </button>
          </form>
        ) : null}
        {create.error ? <p className="error small">{create.error.message}</p> : null}
        <ul className="plain-list">
          {list.map((g) => (
            <li key={g.id} data-testid="group-row" data-name={g.name}>
              <button type="button" className="button small-button" onClick={() => setSelected(selected === g.id ? null : g.id)}>
                {g.name} ({g.memberCount} members)
              </button>{" "}
              {isAdmin ? (
                <button type="button" className="button small-button" onClick={() => remove.mutate({ groupId: g.id })}>
                  Delete
                </button>
              ) : null}
              {selected === g.id ? <GroupMembers group={g} isAdmin={isAdmin} /> : null}
            </li>
          ))}
        </ul>
        {list.length === 0 ? <p className="empty muted">No groups yet.</p> : null}
      </div>
    </section>
  );
}

function GroupMembers({ group, isAdmin }: { group: Group; isAdmin: boolean }) {
  const queryClient = useQueryClient();
  const members = useQuery(trpc.groups.members.queryOptions({ groupId: group.id }));
  const [query, setQuery] = useState("");
  const search = useQuery({ ...trpc.members.searchUsers.queryOptions({ query, limit: 10 }), enabled: isAdmin && query.trim().length > 0 });
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.groups.pathKey() });
  const add = useMutation(trpc.groups.addUsers.mutationOptions({ onSuccess: () => void invalidate() }));
  const remove = useMutation(trpc.groups.removeUsers.mutationOptions({ onSuccess: () => void invalidate() }));
  return (
    <div className="group-members" data-testid="group-members">
      <ul className="plain-list">
        {(members.data ?? []).map((m) => (
          <li key={m.userId}>
            {m.name} <span className="muted small">{m.discordId ? `Discord ${m.discordId}` : "not linked"}</span>{" "}
            {isAdmin ? (
              <button
                type="button"
                className="button small-button"
                onClick={() => remove.mutate({ groupId: group.id, userIds: [m.userId] })}
              >
                Remove
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {isAdmin ? (
        <label className="field">
          <span className="field-label">Add a user (name or email)</span>
          <input
            className="input"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            maxLength={100}
            data-testid="group-user-search"
          />
        </label>
      ) : null}
      <ul className="plain-list">
        {(search.data ?? []).map((u) => (
          <li key={u.id}>
            {u.name} <span className="muted small">{u.email}</span>{" "}
            <button
              type="button"
              className="button small-button"
              data-testid="group-user-add"
              onClick={() => add.mutate({ groupId: group.id, userIds: [u.id] })}
            >
              Add
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function MappingsCard({ isAdmin, roles, roleName }: { isAdmin: boolean; roles: Preview["roles"]; roleName: (id: string) => string }) {
  const queryClient = useQueryClient();
  const mappings = useQuery(trpc.roles.mappings.queryOptions({}));
  const groups = useQuery(trpc.groups.list.queryOptions());
  const [groupId, setGroupId] = useState("");
  const [roleId, setRoleId] = useState("");
  const [authority, setAuthority] = useState("");
  const [policy, setPolicy] = useState<"restore" | "remember">("restore");
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.roles.pathKey() });
  const create = useMutation(trpc.roles.createMapping.mutationOptions({ onSuccess: () => void invalidate() }));
  const remove = useMutation(trpc.roles.deleteMapping.mutationOptions({ onSuccess: () => void invalidate() }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!groupId || !roleId) return;
    create.mutate({
      groupId,
      roleId,
      authority: authority === "" ? null : (authority as "app" | "discord" | "both" | "add_only"),
      onManualRemoval: policy,
    });
  };
  const list = mappings.data ?? [];
  return (
    <section className="card" aria-labelledby="mappings-title" data-testid="roles-mappings">
      <div className="card-header">
        <h2 className="card-title" id="mappings-title">
          Mappings <span className="count-pill">{list.length}</span>
        </h2>
      </div>
      <div className="card-body">
        {isAdmin ? (
          <form className="row gap wrap" onSubmit={submit}>
            <label className="field">
              <span className="field-label">Group</span>
              <select className="input" value={groupId} onChange={(e) => setGroupId(e.target.value)} data-testid="mapping-group">
                <option value="">Choose…</option>
                {(groups.data ?? []).map((g) => (
                  <option key={g.id} value={g.id}>
                    {g.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span className="field-label">Discord role</span>
              <select className="input" value={roleId} onChange={(e) => setRoleId(e.target.value)} data-testid="mapping-role">
                <option value="">Choose…</option>
                {roles
                  .filter((r) => r.position > 0)
                  .map((r) => (
                    <option key={r.id} value={r.id}>
                      {r.name}
                      {r.managed ? " (managed)" : ""}
                    </option>
                  ))}
              </select>
            </label>
            <label className="field">
              <span className="field-label">Authority</span>
              <select className="input" value={authority} onChange={(e) => setAuthority(e.target.value)}>
                <option value="">Organization default</option>
                {Object.entries(AUTHORITY_LABEL).map(([k, label]) => (
                  <option key={k} value={k}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span className="field-label">When a moderator removes it</span>
              <select className="input" value={policy} onChange={(e) => setPolicy(e.target.value as "restore" | "remember")}>
                <option value="restore">Put it back</option>
                <option value="remember">Remember and leave it off</option>
              </select>
            </label>
            <button type="submit" className="button primary" disabled={create.isPending} data-testid="mapping-create">
              Add mapping
            </button>
          </form>
        ) : null}
        {create.error ? <p className="error small">{create.error.message}</p> : null}
        <ScrollRegion label="Mappings table">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Role</th>
                <th scope="col">Authority</th>
                <th scope="col">Manual removal</th>
                <th scope="col">State</th>
                {isAdmin ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {list.map((m) => (
                <tr key={m.id} data-testid="mapping-row">
                  <td>{m.groupName}</td>
                  <td>{roleName(m.roleId)}</td>
                  <td>{m.authority ? AUTHORITY_LABEL[m.authority] : "Organization default"}</td>
                  <td>{m.onManualRemoval === "remember" ? "Remember" : "Put back"}</td>
                  <td>{m.previewOnly ? "Preview only" : "Active"}</td>
                  {isAdmin ? (
                    <td>
                      <button type="button" className="button small-button" onClick={() => remove.mutate({ mappingId: m.id })}>
                        Delete
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      </div>
    </section>
  );
}

function PreviewCard({
  isAdmin,
  preview,
  loading,
  error,
  roleName,
}: {
  isAdmin: boolean;
  preview: Preview | undefined;
  loading: boolean;
  error: string | null;
  roleName: (id: string) => string;
}) {
  const queryClient = useQueryClient();
  const runs = useQuery(trpc.roles.runs.queryOptions({}));
  const [runId, setRunId] = useState<string | null>(null);
  const [live, setLive] = useState<Run | null>(null);
  const apply = useMutation(
    trpc.roles.apply.mutationOptions({
      onSuccess: (run) => {
        setLive(run);
        setRunId(run.id);
      },
    }),
  );
  useSubscription(
    trpc.roles.progress.subscriptionOptions(runId ? { runId } : { runId: "00000000-0000-4000-8000-000000000000" }, {
      enabled: runId !== null,
      onData: ({ data }) => {
        setLive(data);
        if (data.status === "completed" || data.status === "failed") void queryClient.invalidateQueries({ queryKey: trpc.roles.pathKey() });
      },
    }),
  );
  const current = live ?? runs.data?.[0] ?? null;
  const percent = current && current.total > 0 ? Math.round(((current.done + current.failed) / current.total) * 100) : 100;
  return (
    <section className="card" aria-labelledby="preview-title" data-testid="roles-preview" data-loading={loading ? "true" : "false"}>
      <div className="card-header">
        <h2 className="card-title" id="preview-title">
          Preview
        </h2>
      </div>
      <div className="card-body">
        {error ? <p className="error small">{error}</p> : null}
        {preview ? (
          <>
            <p data-testid="preview-summary">
              {preview.summary.members} member(s) change: {preview.summary.roleAdds} role(s) given, {preview.summary.roleRemoves} taken,{" "}
              {preview.summary.nicks} nickname(s); {preview.summary.blocked} item(s) blocked.
              {preview.previewOnlyMappings > 0 ? ` ${preview.previewOnlyMappings} new mapping(s) are in preview until you apply.` : ""}
            </p>
            {isAdmin ? (
              <button
                type="button"
                className="button primary"
                disabled={apply.isPending || current?.status === "running" || current?.status === "queued"}
                onClick={() => apply.mutate({})}
                data-testid="roles-apply"
              >
                Apply
              </button>
            ) : null}
            {apply.error ? <p className="error small">{apply.error.message}</p> : null}
            {current ? (
              <div className="run-progress" data-testid="roles-progress" data-status={current.status}>
                <progress max={100} value={percent} aria-label="Apply progress" />{" "}
                <span>
                  Run {current.status}: {current.done} done, {current.failed} failed of {current.total}; {current.blocked} blocked (started{" "}
                  {formatDateTime(current.startedAt)})
                </span>
              </div>
            ) : null}
            <ScrollRegion label="Planned changes">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Member</th>
                    <th scope="col">Gains</th>
                    <th scope="col">Loses</th>
                    <th scope="col">Nickname</th>
                    <th scope="col">Call</th>
                  </tr>
                </thead>
                <tbody>
                  {preview.members.map((m) => (
                    <tr key={m.userId} data-testid="preview-row">
                      <td>{m.name ?? m.userId}</td>
                      <td>{m.add.map(roleName).join(", ")}</td>
                      <td>{m.remove.map(roleName).join(", ")}</td>
                      <td>{m.nick ? `${m.nick.before ?? "(none)"} → ${m.nick.after ?? "(none)"}` : ""}</td>
                      <td className="mono small">{m.call}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollRegion>
            {preview.blocked.length > 0 ? (
              <>
                <h3 className="small strong">Blocked</h3>
                <ul className="plain-list" data-testid="preview-blocked">
                  {preview.blocked.map((b, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: blocked items have no id of their own, and the list is replaced whole.
                    <li key={i} className="small">
                      {"userId" in b ? `Member ${b.userId}: ` : ""}
                      {"roleId" in b ? `${roleName(b.roleId)}: ` : ""}
                      {b.sentence}
                      {b.reason === "not-in-guild" ? <InviteLinkHint /> : null}
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
          </>
        ) : null}
      </div>
    </section>
  );
}

function AuditCard({ roleName }: { roleName: (id: string) => string }) {
  const [outcome, setOutcome] = useState<"" | "applied" | "failed" | "blocked">("");
  const [userId, setUserId] = useState("");
  const filter = { ...(outcome ? { outcome } : {}), ...(/^\d{17,20}$/.test(userId) ? { userId } : {}) };
  const audit = useQuery(trpc.roles.audit.queryOptions(filter));
  const queryClient = useQueryClient();
  const exportCsv = async () => {
    const { csv } = await queryClient.fetchQuery(trpc.roles.auditCsv.queryOptions(filter));
    downloadText("guildhall-role-audit.csv", csv, "text/csv;charset=utf-8");
  };
  const rows = audit.data ?? [];
  const roles = (list: ReadonlyArray<string>) =>
    list.map((r) => (r.startsWith("+") || r.startsWith("-") ? r[0] + roleName(r.slice(1)) : roleName(r))).join(", ");
  return (
    <section className="card" aria-labelledby="audit-title" data-testid="roles-audit" data-loading={audit.isPending ? "true" : "false"}>
      <div className="card-header">
        <h2 className="card-title" id="audit-title">
          Audit log <span className="count-pill">{rows.length}</span>
        </h2>
      </div>
      <div className="card-body">
        <div className="row gap wrap">
          <label className="field">
            <span className="field-label">Outcome</span>
            <select
              className="input"
              value={outcome}
              onChange={(e) => setOutcome(e.target.value as typeof outcome)}
              data-testid="audit-outcome"
            >
              <option value="">All</option>
              <option value="applied">Applied</option>
              <option value="failed">Failed</option>
              <option value="blocked">Blocked</option>
            </select>
          </label>
          <label className="field">
            <span className="field-label">Member (Discord id)</span>
            <input className="input" value={userId} onChange={(e) => setUserId(e.target.value)} maxLength={20} />
          </label>
          <button type="button" className="button" onClick={() => void exportCsv()} data-testid="audit-export">
            Export CSV
          </button>
        </div>
        <ScrollRegion label="Audit log table">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Member</th>
                <th scope="col">Outcome</th>
                <th scope="col">Before</th>
                <th scope="col">After</th>
                <th scope="col">Reason</th>
                <th scope="col">Discord</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-testid="audit-row" data-outcome={r.outcome}>
                  <td className="nowrap">{formatDateTime(r.at)}</td>
                  <td className="mono small">{r.userId}</td>
                  <td>{r.outcome}</td>
                  <td className="small">{roles(r.rolesBefore)}</td>
                  <td className="small">{roles(r.rolesAfter)}</td>
                  <td className="small">{r.reason}</td>
                  <td className="small">
                    {r.discordStatus ?? ""}
                    {r.discordCode ? ` / ${r.discordCode}` : ""}
                    {r.discordMessage ? ` ${r.discordMessage}` : ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      </div>
    </section>
  );
}

function SuppressionsCard({ isAdmin, roleName }: { isAdmin: boolean; roleName: (id: string) => string }) {
  const queryClient = useQueryClient();
  const suppressions = useQuery(trpc.roles.suppressions.queryOptions({}));
  const clear = useMutation(
    trpc.roles.clearSuppression.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.roles.pathKey() }),
    }),
  );
  const rows = suppressions.data ?? [];
  return (
    <section className="card" aria-labelledby="suppressions-title" data-testid="roles-suppressions">
      <div className="card-header">
        <h2 className="card-title" id="suppressions-title">
          Suppressions <span className="count-pill">{rows.length}</span>
        </h2>
      </div>
      <div className="card-body">
        <p className="muted small">Roles a moderator removed by hand under a mapping that remembers: they stay off until cleared.</p>
        <ul className="plain-list">
          {rows.map((s) => (
            <li key={`${s.userId}:${s.roleId}`}>
              Member {s.userId}: {roleName(s.roleId)} (since {formatDateTime(s.createdAt)}){" "}
              {isAdmin ? (
                <button type="button" className="button small-button" onClick={() => clear.mutate({ userId: s.userId, roleId: s.roleId })}>
                  Clear
                </button>
              ) : null}
            </li>
          ))}
        </ul>
        {rows.length === 0 ? <p className="empty muted">None.</p> : null}
      </div>
    </section>
  );
}

/** Members whose roles flipped too often within an hour: Guildhall leaves them alone until an admin clears the flag. */
function FlaggedCard({ isAdmin }: { isAdmin: boolean }) {
  const queryClient = useQueryClient();
  const flagged = useQuery(trpc.roles.flagged.queryOptions({}));
  const clear = useMutation(
    trpc.roles.clearFlag.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.roles.pathKey() }),
    }),
  );
  const rows = flagged.data ?? [];
  return (
    <section className="card" aria-labelledby="flagged-title" data-testid="roles-flagged">
      <div className="card-header">
        <h2 className="card-title" id="flagged-title">
          Flagged members <span className="count-pill">{rows.length}</span>
        </h2>
      </div>
      <div className="card-body">
        <p className="muted small">
          Members whose roles flipped on and off too often within an hour (two bots, or a bot and a moderator, fighting). Guildhall leaves
          them alone until someone looks and clears the flag.
        </p>
        <ul className="plain-list">
          {rows.map((f) => (
            <li key={f.userId} data-testid="flagged-member">
              {f.username ?? `Member ${f.userId}`} ({f.userId}), flagged {formatDateTime(f.flaggedAt)}: {f.reason}{" "}
              {isAdmin ? (
                <button
                  type="button"
                  className="button small-button"
                  disabled={clear.isPending}
                  onClick={() => clear.mutate({ userId: f.userId })}
                  aria-label={`Clear the flag of ${f.username ?? f.userId}`}
                >
                  Clear flag
                </button>
              ) : null}
            </li>
          ))}
        </ul>
        {rows.length === 0 ? <p className="empty muted">None.</p> : null}
      </div>
    </section>
  );
}

const VERIFY_CHOICES = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440] as const;
type VerifyMinutes = (typeof VERIFY_CHOICES)[number];
const minutesLabel = (m: number) => (m < 60 ? `${m} min` : m < 1440 ? `${m / 60} h` : "24 h");

/** The guild's schedules: the verify against the mirror, the weekly hard check, the flapping threshold. */
function ScheduleCard({ isAdmin }: { isAdmin: boolean }) {
  const queryClient = useQueryClient();
  const schedule = useQuery(trpc.roles.schedule.queryOptions({}));
  const [draft, setDraft] = useState<{
    verifyEnabled: boolean;
    verifyMinutes: VerifyMinutes;
    hardCheckEnabled: boolean;
    maxFlips: number;
  } | null>(null);
  const save = useMutation(
    trpc.roles.setSchedule.mutationOptions({
      onSuccess: () => {
        setDraft(null);
        void queryClient.invalidateQueries({ queryKey: trpc.roles.schedule.queryKey({}) });
      },
    }),
  );
  const data = schedule.data;
  const value =
    draft ??
    (data
      ? {
          verifyEnabled: data.verifyEnabled,
          verifyMinutes: data.verifyMinutes as VerifyMinutes,
          hardCheckEnabled: data.hardCheckEnabled,
          maxFlips: data.maxFlips,
        }
      : null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (value) save.mutate(value);
  };
  return (
    <section className="card" aria-labelledby="schedule-title" data-testid="roles-schedule">
      <div className="card-header">
        <h2 className="card-title" id="schedule-title">
          Schedules
        </h2>
      </div>
      <div className="card-body">
        <p className="muted small">
          A verify plans the whole guild against the member mirror (no Discord reads) and applies any drift. The weekly hard check re-reads
          the members from Discord, then verifies roles and nicknames.
        </p>
        {data ? (
          <p className="small" data-testid="schedule-registered">
            Verify: {data.verifyCron ? <code>{data.verifyCron}</code> : "off"} · Hard check:{" "}
            {data.hardCheckCron ? <code>{data.hardCheckCron}</code> : "off"} (cron, UTC)
            {data.discordStateAt ? ` · Discord last read ${formatDateTime(data.discordStateAt)}` : ""}
          </p>
        ) : null}
        {value ? (
          <form className="row gap wrap" onSubmit={submit}>
            <label className="field">
              <span className="field-label">Verify</span>
              <select
                className="input"
                disabled={!isAdmin}
                value={value.verifyEnabled ? String(value.verifyMinutes) : "off"}
                onChange={(e) =>
                  setDraft({
                    ...value,
                    verifyEnabled: e.target.value !== "off",
                    verifyMinutes: e.target.value === "off" ? value.verifyMinutes : (Number(e.target.value) as VerifyMinutes),
                  })
                }
                data-testid="schedule-verify"
              >
                <option value="off">Off</option>
                {VERIFY_CHOICES.map((m) => (
                  <option key={m} value={m}>
                    Every {minutesLabel(m)}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span className="field-label">Weekly hard check</span>
              <select
                className="input"
                disabled={!isAdmin}
                value={value.hardCheckEnabled ? "on" : "off"}
                onChange={(e) => setDraft({ ...value, hardCheckEnabled: e.target.value === "on" })}
                data-testid="schedule-hard-check"
              >
                <option value="on">On</option>
                <option value="off">Off</option>
              </select>
            </label>
            <label className="field">
              <span className="field-label">Flag after more than N changes an hour</span>
              <input
                className="input"
                type="number"
                min={1}
                max={1000}
                disabled={!isAdmin}
                value={value.maxFlips}
                onChange={(e) => setDraft({ ...value, maxFlips: Math.max(1, Math.min(1000, Math.trunc(Number(e.target.value)) || 1)) })}
                data-testid="schedule-max-flips"
              />
            </label>
            {isAdmin ? <SaveButton disabled={save.isPending || draft === null} testId="schedule-save" /> : null}
          </form>
        ) : null}
        <ErrorAlert error={save.error} />
      </div>
    </section>
  );
}

/** A settings card's submit button (admins only; the caller decides whether to render it). */
function SaveButton({ disabled, testId }: { readonly disabled: boolean; readonly testId: string }) {
  return (
    <button type="submit" className="button primary" disabled={disabled} data-testid={testId}>
      Save
    </button>
  );
}

/** A query's or mutation's error as an alert (announced by screen readers), or nothing. */
function ErrorAlert({ error }: { readonly error: { readonly message: string } | null }) {
  return error ? (
    <p className="error" role="alert">
      {error.message}
    </p>
  ) : null;
}

/** Discord's limit on a nickname (characters); the planner cuts a templated nickname to it. */
const NICK_MAX = 32;

/**
 * The organization's settings (`roles.settings`, `roles.updateSettings`): the authority a new
 * mapping takes when it names none, and the optional nickname template (`{display_name}`,
 * `{group}`; cut to Discord's 32 characters). Admins change them; staff read.
 */
function SettingsCard({ isAdmin }: { isAdmin: boolean }) {
  const queryClient = useQueryClient();
  const settings = useQuery(trpc.roles.settings.queryOptions());
  const [draft, setDraft] = useState<{ defaultAuthority: string; nicknameTemplate: string } | null>(null);
  const save = useMutation(
    trpc.roles.updateSettings.mutationOptions({
      onSuccess: () => {
        setDraft(null);
        void queryClient.invalidateQueries({ queryKey: trpc.roles.settings.queryKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.roles.preview.queryKey({}) });
      },
    }),
  );
  const data = settings.data;
  const value = draft ?? (data ? { defaultAuthority: data.defaultAuthority, nicknameTemplate: data.nicknameTemplate ?? "" } : null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!value) return;
    const template = value.nicknameTemplate.trim();
    save.mutate({
      defaultAuthority: value.defaultAuthority as "app" | "discord" | "both" | "add_only",
      nicknameTemplate: template === "" ? null : template,
    });
  };
  return (
    <section className="card" aria-labelledby="role-settings-title" data-testid="roles-settings">
      <div className="card-header">
        <h2 className="card-title" id="role-settings-title">
          Settings
        </h2>
      </div>
      <div className="card-body">
        <p className="muted small">
          The default authority applies to mappings that name none. The nickname template, when set, gives every linked member a nickname
          such as <code>{"{display_name} [{group}]"}</code> (also <code>{"{username}"}</code> and <code>{"{name}"}</code>, the app name),
          shortened to Discord&apos;s {NICK_MAX} characters (names first, so the group survives) and sent in the same call as their roles;
          the guild owner and members above the bot are skipped, with the reason in the preview.
        </p>
        <ErrorAlert error={settings.error} />
        {value ? (
          <form className="row gap wrap" onSubmit={submit}>
            <label className="field">
              <span className="field-label">Default authority</span>
              <select
                className="input"
                disabled={!isAdmin}
                value={value.defaultAuthority}
                onChange={(e) => setDraft({ ...value, defaultAuthority: e.target.value })}
                data-testid="settings-authority"
              >
                {Object.entries(AUTHORITY_LABEL).map(([key, label]) => (
                  <option key={key} value={key}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span className="field-label">Nickname template (empty: nicknames are left alone)</span>
              <input
                className="input"
                maxLength={200}
                disabled={!isAdmin}
                placeholder="{display_name} [{group}]"
                value={value.nicknameTemplate}
                onChange={(e) => setDraft({ ...value, nicknameTemplate: e.target.value })}
                data-testid="settings-nickname-template"
              />
            </label>
            {isAdmin ? <SaveButton disabled={save.isPending || draft === null} testId="settings-save" /> : null}
          </form>
        ) : null}
        <ErrorAlert error={save.error} />
      </div>
    </section>
  );
}
