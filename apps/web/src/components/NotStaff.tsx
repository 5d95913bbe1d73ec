/** What a signed-in user sees instead of a staff page: staff nowhere ({@link NotStaff}), or staff without the admin role on an admins-only page ({@link AdminsOnly}). */
import type { Me } from "../lib/types";

/**
 * The domain of the addresses given to users created by Sign in with Discord (discordOnlyEmail in
 * packages/api/src/auth.ts): nobody reads mail there, so such a user is named, not addressed.
 */
const DISCORD_ONLY_DOMAIN = "@users.guildhall.invalid";

/** Who `me` is, in words: their email, or for a Discord-only account their name and "(Discord)". */
export function signedInAs(me: Me): string {
  return me.user.email.endsWith(DISCORD_ONLY_DOMAIN) ? `${me.user.name} (Discord)` : me.user.email;
}

/** Explains that `me` has no staff membership and whom to ask. */
export function NotStaff({ me }: { me: Me }) {
  return (
    <main className="page" data-testid="not-staff">
      <div className="card narrow">
        <h1 className="card-title">No staff access</h1>
        <p className="muted">
          You are signed in as {signedInAs(me)}, but you are not staff of any organization. Ask an admin of your organization to add you.
        </p>
      </div>
    </main>
  );
}

/**
 * The body of an admins-only page for staff without the admin role: says so, and why the page
 * needs it (`reason`, one sentence).
 */
export function AdminsOnly({ reason }: { reason: string }) {
  return (
    <main className="page">
      <div className="card narrow">
        <h1 className="card-title">Admins only</h1>
        <p className="muted">{reason}</p>
      </div>
    </main>
  );
}
