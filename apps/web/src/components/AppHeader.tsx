/** The top bar: brand, organization, signed-in user, sign-out. */
import { useState } from "react";
import { authClient } from "../lib/auth";
import type { Me } from "../lib/types";
import { Avatar } from "./Avatar";
import { Logo } from "./Logo";

/**
 * Header for signed-in pages. Signing out ends the better-auth session, then reloads into
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
