/**
 * Admin-only row actions of the members list: link a guild member to an app user, or unlink an
 * app user from their Discord id (`members.setDiscordId`).
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { errorCode, trpc } from "../lib/trpc";
import type { ComparisonRow } from "../lib/types";

/** A one-line summary of a link/unlink, for the list's notice. */
export type LinkNotice = { readonly kind: "ok" | "error"; readonly text: string };

/**
 * What a failed `members.setDiscordId` means, in words. CONFLICT (the Discord id belongs to
 * another user) and NOT_FOUND (no such user) are the expected ones.
 */
function linkErrorText(error: unknown, discordId: string, userId: string | null): string {
  switch (errorCode(error)) {
    case "CONFLICT":
      return `Another app user is already linked to Discord id ${discordId}; unlink them first.`;
    case "NOT_FOUND":
      return userId ? `No app user has the id “${userId}”.` : "That app user no longer exists.";
    case "FORBIDDEN":
      return "Only admins can link and unlink accounts.";
    case "BAD_REQUEST":
      return `The server refused it: ${error instanceof Error ? error.message : "invalid input"}`;
    default:
      return `Could not save: ${error instanceof Error ? error.message : "unknown error"}`;
  }
}

/**
 * The action cell of one row. `guild_only` rows offer "Link…" (an inline form taking the app
 * user's id); rows with an app user offer "Unlink" (with an inline confirmation). On success
 * every comparison list and the roster refetch, and `onDone` gets a notice. Errors stay on the
 * row (`data-testid="link-error"`); a CONFLICT also goes to `onDone`, since the refetch it
 * triggers may take the row away. Test hooks: `link-action`, `link-user-id`, `link-submit`,
 * `link-cancel`, `unlink-action`, `unlink-confirm`.
 */
export function LinkAction({ row, onDone }: { row: ComparisonRow; onDone: (notice: LinkNotice) => void }) {
  const queryClient = useQueryClient();
  const inputId = useId();
  const [open, setOpen] = useState(false);
  const [userId, setUserId] = useState("");
  const [error, setError] = useState<string | null>(null);

  const save = useMutation(
    trpc.members.setDiscordId.mutationOptions({
      onSuccess: (result) => {
        setOpen(false);
        setUserId("");
        setError(null);
        onDone({
          kind: "ok",
          text: result.discordId
            ? `Linked Discord id ${result.discordId} to app user ${result.userId}.`
            : `Unlinked ${row.user?.name || row.user?.email || result.userId} from Discord id ${row.discordId}.`,
        });
        void queryClient.invalidateQueries(trpc.members.comparison.pathFilter());
        void queryClient.invalidateQueries(trpc.roster.list.pathFilter());
      },
      onError: (e, input) => {
        setError(linkErrorText(e, row.discordId, input.discordId ? input.userId : null));
        if (errorCode(e) === "CONFLICT") {
          // Someone else got there first. The refetch may move this row to another category (and
          // its error with it), so the list's notice says it too.
          onDone({ kind: "error", text: `Could not link: ${linkErrorText(e, row.discordId, null)}` });
          void queryClient.invalidateQueries(trpc.members.comparison.pathFilter());
        }
      },
    }),
  );

  const close = () => {
    setOpen(false);
    setError(null);
    save.reset();
  };

  if (!row.user) {
    if (!row.member) return null;
    if (!open) {
      return (
        <button type="button" className="button small-button" data-testid="link-action" onClick={() => setOpen(true)}>
          Link…
        </button>
      );
    }
    const submit = (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      const id = userId.trim();
      if (!id) {
        setError("Enter the app user's id.");
        return;
      }
      setError(null);
      save.mutate({ userId: id, discordId: row.discordId });
    };
    return (
      <form className="link-form" onSubmit={submit} noValidate>
        <label className="sr-only" htmlFor={inputId}>
          App user id to link to Discord id {row.discordId}
        </label>
        <input
          id={inputId}
          className="input input-small mono"
          placeholder="App user id"
          value={userId}
          onChange={(e) => setUserId(e.target.value)}
          onKeyDown={(e) => e.key === "Escape" && close()}
          aria-invalid={error ? true : undefined}
          autoFocus
          autoComplete="off"
          spellCheck={false}
          data-testid="link-user-id"
        />
        <div className="link-buttons">
          <button type="submit" className="button primary small-button" disabled={save.isPending} data-testid="link-submit">
            {save.isPending ? "Linking…" : "Link"}
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

  const user = row.user;
  if (!open) {
    return (
      <button type="button" className="button small-button" data-testid="unlink-action" onClick={() => setOpen(true)}>
        Unlink
      </button>
    );
  }
  return (
    <div className="link-form">
      <span className="small">Unlink {user.name || user.email}?</span>
      <div className="link-buttons">
        <button
          type="button"
          className="button danger small-button"
          disabled={save.isPending}
          onClick={() => save.mutate({ userId: user.id, discordId: null })}
          data-testid="unlink-confirm"
          autoFocus
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
    </div>
  );
}
