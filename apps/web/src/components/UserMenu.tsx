/** The signed-in user's menu in the top bar: who is signed in, in which organization, and "Sign out". */
import { useEffect, useId, useRef, useState } from "react";
import { authClient } from "../lib/auth";
import { switchOrganization } from "../lib/organization";
import type { Me } from "../lib/types";
import { Avatar } from "./Avatar";

/**
 * A disclosure button (avatar, and the user's name on wide screens) that opens a small panel
 * with the user's name, email, staff role and organization, the organization switcher (when
 * the user is staff of several: choosing one reloads the app in it), and "Sign out". Escape closes it
 * and returns focus to the button; so does a click or focus outside. Signing out ends the
 * better-auth session, then reloads into /sign-in so no cached data or open WebSocket
 * outlives it. Test hooks: `user-menu` (the button, `aria-expanded`), `user-name`, `sign-out`,
 * `org-switcher`, `org-option-<organization id>`.
 */
export function UserMenu({ me }: { me: Me }) {
  const [open, setOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  const panelId = useId();
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const name = me.user.name || me.user.email;

  useEffect(() => {
    if (!open) return;
    const outside = (event: Event) => {
      if (event.target instanceof Node && !rootRef.current?.contains(event.target)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      setOpen(false);
      buttonRef.current?.focus();
    };
    document.addEventListener("pointerdown", outside);
    document.addEventListener("focusin", outside);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("pointerdown", outside);
      document.removeEventListener("focusin", outside);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const signOut = async () => {
    setSigningOut(true);
    await authClient.signOut().catch(() => {});
    window.location.assign("/sign-in");
  };

  return (
    <div className="user" ref={rootRef}>
      <button
        ref={buttonRef}
        type="button"
        className="user-button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((was) => !was)}
        data-testid="user-menu"
      >
        <Avatar name={name} size={28} />
        <span className="user-text">
          <span className="sr-only">Account: </span>
          <span className="user-name" data-testid="user-name">
            {name}
          </span>
        </span>
        <svg className="chevron" viewBox="0 0 24 24" width="14" height="14" aria-hidden="true">
          <path d="M6 9l6 6 6-6" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
      </button>
      <div id={panelId} className="user-panel" hidden={!open}>
        <p className="user-panel-name">{me.user.name || "No name"}</p>
        <p className="user-panel-email muted">{me.user.email}</p>
        {me.staff ? (
          <p className="user-panel-org small muted">
            {me.staff.role === "admin" ? "Admin" : "Staff"} of {me.staff.organizationName}
          </p>
        ) : null}
        {me.organizations.length > 1 ? (
          <nav className="org-switcher" aria-label="Organizations" data-testid="org-switcher">
            <p className="small muted">Switch organization</p>
            <ul>
              {me.organizations.map((org) => {
                const current = org.organizationId === me.staff?.organizationId;
                return (
                  <li key={org.organizationId}>
                    <button
                      type="button"
                      className="button ghost block-small org-option"
                      aria-current={current ? "true" : undefined}
                      disabled={current}
                      onClick={() => switchOrganization(org.organizationId)}
                      data-testid={`org-option-${org.organizationId}`}
                    >
                      {org.organizationName}
                      <span className="small muted"> · {org.role === "admin" ? "Admin" : "Staff"}</span>
                    </button>
                  </li>
                );
              })}
            </ul>
          </nav>
        ) : null}
        <button type="button" className="button block-small" onClick={() => void signOut()} disabled={signingOut} data-testid="sign-out">
          {signingOut ? "Signing out…" : "Sign out"}
        </button>
      </div>
    </div>
  );
}
