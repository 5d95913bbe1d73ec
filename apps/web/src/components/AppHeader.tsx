/** The top bar: brand, organization, page navigation, signed-in user, sign-out. */
import { Link } from "@tanstack/react-router";
import { useState } from "react";
import { authClient } from "../lib/auth";
import type { Me } from "../lib/types";
import { Avatar } from "./Avatar";
import { Logo } from "./Logo";

/**
 * Header for signed-in pages, with the staff pages' navigation (Roster · Members · Sync history,
 * and Jobs for admins; shown to staff only, the current page marked with `aria-current="page"`). Signing out ends the better-auth session, then reloads into
 * /sign-in so no cached data or open WebSocket outlives it.
 */
export function AppHeader({ me }: { me: Me }) {
  const [signingOut, setSigningOut] = useState(false);
  const signOut = async () => {
    setSigningOut(true);
    await authClient.signOut().catch(() => {});
    window.location.assign("/sign-in");
  };
  return (
    <header className="topbar">
      <div className="topbar-inner">
        <div className="brand">
          <Logo size={26} />
          <span className="brand-name">Guildhall</span>
          {me.staff ? (
            <>
              <span className="brand-sep" aria-hidden="true">
                /
              </span>
              <span className="org-name" data-testid="org-name">
                {me.staff.organizationName}
              </span>
            </>
          ) : null}
        </div>
        {me.staff ? (
          <nav className="nav" aria-label="Pages">
            <Link to="/roster" className="nav-link" activeOptions={{ exact: true }} data-testid="nav-roster">
              Roster
            </Link>
            <Link to="/members" className="nav-link" activeOptions={{ exact: true, includeSearch: false }} data-testid="nav-members">
              Members
            </Link>
            <Link to="/members/history" className="nav-link" activeOptions={{ exact: true }} data-testid="nav-sync-history">
              Sync history
            </Link>
            {me.staff.role === "admin" ? (
              <Link to="/jobs" className="nav-link" activeOptions={{ includeSearch: false }} data-testid="nav-jobs">
                Jobs
              </Link>
            ) : null}
          </nav>
        ) : null}
        <div className="user">
          <Avatar name={me.user.name || me.user.email} size={28} />
          <div className="user-text">
            <span className="user-name" data-testid="user-name">
              {me.user.name}
            </span>
            <span className="user-email muted">{me.user.email}</span>
          </div>
          <button type="button" className="button" onClick={() => void signOut()} disabled={signingOut}>
            {signingOut ? "Signing out…" : "Sign out"}
          </button>
        </div>
      </div>
    </header>
  );
}
