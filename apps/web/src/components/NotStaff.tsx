/** What a signed-in user who is staff nowhere sees instead of a staff page. */
import type { Me } from "../lib/types";

/** Explains that `me` has no staff membership and whom to ask. */
export function NotStaff({ me }: { me: Me }) {
  return (
    <main className="page">
      <div className="card narrow">
        <h1 className="card-title">No staff access</h1>
        <p className="muted">
          You are signed in as {me.user.email}, but you are not staff of any organization. Ask an admin of your organization to add you.
        </p>
      </div>
    </main>
  );
}
