/**
 * The Roles page's self-service parts: role menus (a Components V2 message with a select of
 * self-assignable roles, posted in a channel; members pick and unpick roles in it) and the
 * guild's invite link (for linked users the plan blocks as "not in guild": created by the bot
 * with no expiry, or pasted). Everyone on staff reads; admins post, remove and set.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { formatDateTime } from "../lib/time";
import { trpc } from "../lib/trpc";

const AUTHORITY: Record<string, string> = { discord: "Discord is the truth", both: "both ways" };

/** Role menus: the posted ones, and (admins) a form to post one. */
export function RoleMenusCard({ isAdmin, roleName }: { isAdmin: boolean; roleName: (id: string) => string }) {
  const queryClient = useQueryClient();
  const menus = useQuery(trpc.roleMenus.list.queryOptions({}));
  const channels = useQuery({ ...trpc.roleMenus.channels.queryOptions({}), retry: false });
  const channelName = (id: string) => {
    const channel = channels.data?.find((c) => c.id === id);
    return channel ? `#${channel.name}` : `channel ${id}`;
  };
  const remove = useMutation(
    trpc.roleMenus.remove.mutationOptions({ onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.roleMenus.pathKey() }) }),
  );
  const list = menus.data ?? [];
  return (
    <section className="card" aria-labelledby="role-menus-title" data-testid="role-menus" data-loading={menus.isPending ? "true" : "false"}>
      <div className="card-header">
        <h2 className="card-title" id="role-menus-title">
          Role menus <span className="count-pill">{list.length}</span>
        </h2>
      </div>
      <div className="card-body">
        <p className="muted small">
          A message in a Discord channel where members pick their own roles. Only roles mapped to a group whose authority is Discord or both
          can be offered; the member's groups follow what they pick, and every change is in the audit log.
        </p>
        {menus.error ? <p className="error small">{menus.error.message}</p> : null}
        {list.length === 0 ? <p className="muted small">No role menu posted yet.</p> : null}
        <ul className="plain-list" data-testid="role-menu-list">
          {list.map((m) => (
            <li key={m.id} className="small" data-testid="role-menu-row" data-menu-id={m.id} data-message-id={m.messageId}>
              <strong>{m.title}</strong> in {channelName(m.channelId)}: {m.roleIds.map(roleName).join(", ")} (posted{" "}
              {formatDateTime(m.createdAt)}){" "}
              <a href={m.messageUrl} target="_blank" rel="noreferrer">
                Open in Discord
              </a>
              {isAdmin ? (
                <>
                  {" "}
                  <button
                    type="button"
                    className="button small-button"
                    onClick={() => remove.mutate({ menuId: m.id })}
                    aria-label={`Remove the role menu ${m.title}`}
                  >
                    Remove
                  </button>
                </>
              ) : null}
            </li>
          ))}
        </ul>
        {remove.error ? <p className="error small">{remove.error.message}</p> : null}
        {isAdmin ? <PostRoleMenu /> : null}
      </div>
    </section>
  );
}

function PostRoleMenu() {
  const queryClient = useQueryClient();
  const id = useId();
  const roles = useQuery({ ...trpc.roleMenus.selfAssignable.queryOptions({}), retry: false });
  const channels = useQuery({ ...trpc.roleMenus.channels.queryOptions({}), retry: false });
  const [channelId, setChannelId] = useState("");
  const [title, setTitle] = useState("Pick your roles");
  const [chosen, setChosen] = useState<ReadonlyArray<string>>([]);
  const post = useMutation(
    trpc.roleMenus.post.mutationOptions({
      onSuccess: () => {
        setChosen([]);
        void queryClient.invalidateQueries({ queryKey: trpc.roleMenus.pathKey() });
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!channelId || chosen.length === 0) return;
    post.mutate({ channelId, title, roleIds: [...chosen] });
  };
  const offered = roles.data ?? [];
  return (
    <form className="stack-gap" onSubmit={submit} aria-labelledby={`${id}-legend`} data-testid="role-menu-form">
      <h3 className="small strong" id={`${id}-legend`}>
        Post a role menu
      </h3>
      {roles.error ? <p className="error small">{roles.error.message}</p> : null}
      {channels.error ? <p className="error small">{channels.error.message}</p> : null}
      <div className="row gap wrap">
        <label className="field">
          <span className="field-label">Channel</span>
          <select className="input" value={channelId} onChange={(e) => setChannelId(e.target.value)} data-testid="role-menu-channel">
            <option value="">Choose…</option>
            {(channels.data ?? []).map((c) => (
              <option key={c.id} value={c.id} disabled={!c.canPost}>
                #{c.name}
                {c.canPost ? "" : " (the bot cannot post here)"}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">Title</span>
          <input className="input" value={title} maxLength={100} onChange={(e) => setTitle(e.target.value)} data-testid="role-menu-title" />
        </label>
      </div>
      {offered.length === 0 && roles.isSuccess ? (
        <p className="muted small">Map a group to a role with the authority "Discord is the truth" or "both" to offer it here.</p>
      ) : (
        <fieldset className="kind-choices choice-set" data-testid="role-menu-roles">
          <legend className="field-label">Roles offered</legend>
          {offered.map((r) => (
            <label key={r.roleId} className="check-field small" htmlFor={`${id}-${r.roleId}`}>
              <input
                id={`${id}-${r.roleId}`}
                type="checkbox"
                disabled={r.problem !== null}
                checked={chosen.includes(r.roleId)}
                onChange={(e) => setChosen(e.target.checked ? [...chosen, r.roleId] : chosen.filter((x) => x !== r.roleId))}
              />
              <span>
                {r.name} ({r.groups.map((g) => `${g.groupName}, ${AUTHORITY[g.authority] ?? g.authority}`).join("; ")})
                {r.problem ? <span className="error"> cannot be given: {r.problem}</span> : null}
              </span>
            </label>
          ))}
        </fieldset>
      )}
      <div>
        <button
          type="submit"
          className="button primary"
          disabled={post.isPending || !channelId || chosen.length === 0}
          data-testid="role-menu-post"
        >
          Post role menu
        </button>
      </div>
      {post.error ? <p className="error small">{post.error.message}</p> : null}
    </form>
  );
}

/** The guild's invite link: shown to staff; admins create one (channel picker) or paste one. */
export function InviteLinkCard({ isAdmin }: { isAdmin: boolean }) {
  const queryClient = useQueryClient();
  const id = useId();
  const invite = useQuery(trpc.roleMenus.invite.queryOptions({}));
  const channels = useQuery({ ...trpc.roleMenus.channels.queryOptions({}), retry: false, enabled: isAdmin });
  const [channelId, setChannelId] = useState("");
  const [link, setLink] = useState("");
  const done = () => void queryClient.invalidateQueries({ queryKey: trpc.roleMenus.invite.queryKey({}) });
  const create = useMutation(trpc.roleMenus.createInvite.mutationOptions({ onSuccess: done }));
  const set = useMutation(
    trpc.roleMenus.setInvite.mutationOptions({
      onSuccess: () => {
        setLink("");
        done();
      },
    }),
  );
  const current = invite.data ?? null;
  return (
    <section className="card" aria-labelledby="invite-title" data-testid="invite-link" data-loading={invite.isPending ? "true" : "false"}>
      <div className="card-header">
        <h2 className="card-title" id="invite-title">
          Invite link
        </h2>
      </div>
      <div className="card-body">
        <p className="muted small">Offered next to linked users who are not in the guild, so they can join and get their roles.</p>
        {current ? (
          <p className="small" data-testid="invite-current">
            <a href={current.url} target="_blank" rel="noreferrer">
              {current.url}
            </a>{" "}
            ({current.source === "created" ? "created by the bot, never expires" : "pasted"}, {formatDateTime(current.updatedAt)})
          </p>
        ) : (
          <p className="muted small" data-testid="invite-none">
            No invite link yet.
          </p>
        )}
        {isAdmin ? (
          <div className="stack-gap">
            <form
              className="row gap wrap"
              onSubmit={(e) => {
                e.preventDefault();
                if (channelId) create.mutate({ channelId });
              }}
            >
              <label className="field">
                <span className="field-label">Channel</span>
                <select className="input" value={channelId} onChange={(e) => setChannelId(e.target.value)} data-testid="invite-channel">
                  <option value="">Choose…</option>
                  {(channels.data ?? []).map((c) => (
                    <option key={c.id} value={c.id} disabled={!c.canInvite}>
                      #{c.name}
                      {c.canInvite ? "" : " (the bot may not create invites here)"}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit" className="button primary" disabled={create.isPending || !channelId} data-testid="invite-create">
                Create invite link
              </button>
            </form>
            <form
              className="row gap wrap"
              onSubmit={(e) => {
                e.preventDefault();
                if (link.trim()) set.mutate({ link: link.trim() });
              }}
            >
              <label className="field" htmlFor={`${id}-paste`}>
                <span className="field-label">Or paste one</span>
                <input
                  id={`${id}-paste`}
                  className="input"
                  value={link}
                  maxLength={200}
                  placeholder="https://discord.gg/…"
                  onChange={(e) => setLink(e.target.value)}
                  data-testid="invite-paste"
                />
              </label>
              <button type="submit" className="button" disabled={set.isPending || !link.trim()}>
                Save link
              </button>
              {current ? (
                <button type="button" className="button" onClick={() => set.mutate({ link: null })}>
                  Clear
                </button>
              ) : null}
            </form>
          </div>
        ) : null}
        {channels.error ? <p className="error small">{channels.error.message}</p> : null}
        {create.error ? <p className="error small">{create.error.message}</p> : null}
        {set.error ? <p className="error small">{set.error.message}</p> : null}
      </div>
    </section>
  );
}

/** Next to a blocked "not in guild" row: the guild's invite link, or a pointer to where one is set. */
export function InviteLinkHint() {
  const invite = useQuery(trpc.roleMenus.invite.queryOptions({}));
  if (!invite.data) return <span className="muted"> (no invite link yet: set one under Invite link)</span>;
  return (
    <>
      {" "}
      <a href={invite.data.url} target="_blank" rel="noreferrer" data-testid="blocked-invite">
        Send them the invite link
      </a>
    </>
  );
}
