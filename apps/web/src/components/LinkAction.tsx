/**
 * Admin-only row actions of the members list: link a guild member to an app user (found by
 * name or email), or unlink an app user from their Discord id (`members.setDiscordId`).
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type Ref, useEffect, useId, useRef, useState } from "react";
import { memberNames } from "../lib/members";
import { errorCode, trpc } from "../lib/trpc";
import type { ComparisonRow, UserMatch } from "../lib/types";

/** A one-line summary of a link/unlink, for the list's notice. */
export type LinkNotice = { readonly kind: "ok" | "error"; readonly text: string };

/** Pause after the last keystroke before the user search runs (ms). */
const SEARCH_DEBOUNCE_MS = 200;

/** Most users the search lists. */
const SEARCH_LIMIT = 8;

/**
 * What a failed `members.setDiscordId` means, in words. CONFLICT (the Discord id belongs to
 * another user) and NOT_FOUND (no such user) are the expected ones.
 */
function linkErrorText(error: unknown, discordId: string): string {
  switch (errorCode(error)) {
    case "CONFLICT":
      return `Another app user is already linked to Discord id ${discordId}; unlink them first.`;
    case "NOT_FOUND":
      return "That app user no longer exists.";
    case "FORBIDDEN":
      return "Only admins can link and unlink accounts.";
    case "BAD_REQUEST":
      return `The server refused it: ${error instanceof Error ? error.message : "invalid input"}`;
    default:
      return `Could not save: ${error instanceof Error ? error.message : "unknown error"}`;
  }
}

/** `value`, once it has not changed for `delayMs`. */
function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), delayMs);
    return () => window.clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

/**
 * The action cell of one row. `guild_only` rows offer "Link…", which opens a search of the app
 * users by name or email (`members.searchUsers`): the matches are radio buttons (arrow keys
 * move between them), and "Link" links the chosen one. Rows with an app user offer "Unlink"
 * (with an inline confirmation). Focus moves into what a button opens, and back to the button
 * on Cancel or Escape. On success every comparison list and the roster refetch, and `onDone`
 * gets a notice. Errors stay on the row (`data-testid="link-error"`); a CONFLICT also goes to
 * `onDone`, since the refetch it triggers may take the row away. Test hooks: `link-action`,
 * `link-search`, `link-match` (with `data-user-id`), `link-submit`, `link-cancel`,
 * `unlink-action`, `unlink-confirm`.
 */
export function LinkAction({ row, onDone }: { row: ComparisonRow; onDone: (notice: LinkNotice) => void }) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  // Set when the user opens or closes the form, so focus follows their action (and only then).
  const focusNext = useRef<"form" | "opener" | null>(null);
  // Who the pending link or unlink is for, in words (for the notice).
  const subject = useRef("");

  useEffect(() => {
    if (focusNext.current === "form" && open) (searchRef.current ?? confirmRef.current)?.focus();
    if (focusNext.current === "opener" && !open) openerRef.current?.focus();
    focusNext.current = null;
  }, [open]);

  const save = useMutation(
    trpc.members.setDiscordId.mutationOptions({
      onSuccess: (result) => {
        setOpen(false);
        setError(null);
        onDone({
          kind: "ok",
          text: result.discordId
            ? `Linked ${memberNames(row).primary} (Discord id ${result.discordId}) to app user ${subject.current}.`
            : `Unlinked ${subject.current} from Discord id ${row.discordId}.`,
        });
        void queryClient.invalidateQueries(trpc.members.comparison.pathFilter());
        void queryClient.invalidateQueries(trpc.roster.list.pathFilter());
      },
      onError: (e) => {
        setError(linkErrorText(e, row.discordId));
        if (errorCode(e) === "CONFLICT") {
          // Someone else got there first. The refetch may move this row to another category (and
          // its error with it), so the list's notice says it too.
          onDone({ kind: "error", text: `Could not link: ${linkErrorText(e, row.discordId)}` });
          void queryClient.invalidateQueries(trpc.members.comparison.pathFilter());
        }
      },
    }),
  );

  const show = () => {
    focusNext.current = "form";
    setOpen(true);
  };
  const close = () => {
    focusNext.current = "opener";
    setOpen(false);
    setError(null);
    save.reset();
  };

  if (!row.user) {
    if (!row.member) return null;
    if (!open) {
      return (
        <button ref={openerRef} type="button" className="button small-button" data-testid="link-action" onClick={show}>
          Link…
        </button>
      );
    }
    return (
      <UserPicker
        row={row}
        inputRef={searchRef}
        pending={save.isPending}
        error={error}
        onError={setError}
        onCancel={close}
        onLink={(user) => {
          setError(null);
          subject.current = user.name || user.email;
          save.mutate({ userId: user.id, discordId: row.discordId });
        }}
      />
    );
  }

  const user = row.user;
  if (!open) {
    return (
      <button ref={openerRef} type="button" className="button small-button" data-testid="unlink-action" onClick={show}>
        Unlink
      </button>
    );
  }
  const unlink = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    subject.current = user.name || user.email;
    save.mutate({ userId: user.id, discordId: null });
  };
  return (
    <form className="link-form" onSubmit={unlink} onKeyDown={(e) => e.key === "Escape" && close()}>
      <span className="small">Unlink {user.name || user.email}?</span>
      <div className="link-buttons">
        <button
          ref={confirmRef}
          type="submit"
          className="button danger small-button"
          disabled={save.isPending}
          data-testid="unlink-confirm"
        >
          {save.isPending ? "Unlinking…" : "Unlink"}
        </button>
        <button type="button" className="button small-button" onClick={close} data-testid="link-cancel">
          Cancel
        </button>
      </div>
      {error ? (
        <p className="link-error" role="alert" data-testid="link-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}

/**
 * The link form of a `guild_only` row: a search field (name or email), the matching app users
 * as radio buttons, and Link / Cancel. Users already linked to another Discord id can be
 * chosen (the link then moves here), with a warning.
 */
function UserPicker({
  row,
  inputRef,
  pending,
  error,
  onError,
  onCancel,
  onLink,
}: {
  row: ComparisonRow;
  inputRef: Ref<HTMLInputElement>;
  pending: boolean;
  error: string | null;
  onError: (message: string | null) => void;
  onCancel: () => void;
  onLink: (user: UserMatch) => void;
}) {
  const id = useId();
  const [query, setQuery] = useState("");
  const [chosen, setChosen] = useState<UserMatch | null>(null);
  const settled = useDebounced(query.trim(), SEARCH_DEBOUNCE_MS);
  const search = useQuery(
    trpc.members.searchUsers.queryOptions(
      { query: settled, limit: SEARCH_LIMIT },
      { enabled: settled.length > 0, placeholderData: keepPreviousData, staleTime: 5_000 },
    ),
  );
  const matches = settled.length > 0 ? (search.data ?? []) : [];
  const name = memberNames(row).primary;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!chosen) {
      onError(matches.length > 0 ? "Choose the app user to link." : "Search for the app user by name or email.");
      return;
    }
    onLink(chosen);
  };

  const status = !settled
    ? "Type a name or an email."
    : search.isPending
      ? "Searching…"
      : search.isError
        ? `The search failed: ${search.error.message}`
        : matches.length === 0
          ? `No app user matches “${settled}”.`
          : `${matches.length === SEARCH_LIMIT ? `First ${SEARCH_LIMIT}` : matches.length} match${matches.length === 1 ? "" : "es"}.`;

  return (
    <form
      className="user-picker"
      onSubmit={submit}
      onKeyDown={(e) => {
        // Escape in a search field that holds text clears it (the browser does); anywhere else it cancels.
        if (e.key === "Escape" && !(e.target instanceof HTMLInputElement && e.target.type === "search" && e.target.value)) onCancel();
      }}
      noValidate
    >
      <label className="link-label" htmlFor={`${id}-search`}>
        Find the app user to link to <span className="strong">{name}</span>
      </label>
      <input
        id={`${id}-search`}
        ref={inputRef}
        className="input input-small"
        type="search"
        placeholder="Name or email"
        value={query}
        maxLength={100}
        onChange={(e) => {
          setQuery(e.target.value);
          setChosen(null);
          onError(null);
        }}
        aria-describedby={`${id}-status`}
        aria-invalid={error ? true : undefined}
        autoComplete="off"
        spellCheck={false}
        data-testid="link-search"
      />
      <p id={`${id}-status`} className={`link-status small ${search.isError ? "error" : "muted"}`} role="status" aria-live="polite">
        {status}
      </p>
      {matches.length > 0 ? (
        <fieldset className="link-matches">
          <legend className="sr-only">Matching app users</legend>
          {matches.map((user) => (
            <label key={user.id} className="link-match" data-testid="link-match" data-user-id={user.id}>
              <input
                type="radio"
                name={`${id}-user`}
                value={user.id}
                checked={chosen?.id === user.id}
                onChange={() => {
                  setChosen(user);
                  onError(null);
                }}
              />
              <span className="link-match-text">
                <span className="user-cell-name">{user.name || "No name"}</span>
                <span className="member-sub muted">{user.email}</span>
                {user.discordId ? <span className="member-sub link-warning">Linked to Discord id {user.discordId}</span> : null}
              </span>
            </label>
          ))}
        </fieldset>
      ) : null}
      {chosen?.discordId ? (
        <p className="link-note small" data-testid="link-moves">
          {chosen.name || chosen.email} is linked to Discord id {chosen.discordId}; linking moves the link to this member.
        </p>
      ) : null}
      <div className="link-buttons">
        <button type="submit" className="button primary small-button" disabled={pending} data-testid="link-submit">
          {pending ? "Linking…" : chosen ? `Link ${chosen.name || chosen.email}` : "Link"}
        </button>
        <button type="button" className="button small-button" onClick={onCancel} data-testid="link-cancel">
          Cancel
        </button>
      </div>
      {error ? (
        <p className="link-error" role="alert" data-testid="link-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
