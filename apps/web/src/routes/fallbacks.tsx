/** Route-level loading, error and not-found screens. */
import { type ErrorComponentProps, Link, useRouter } from "@tanstack/react-router";
import { errorCode } from "../lib/trpc";

/** Shown while a route's loader runs (after a short delay, so fast loads never flash it). */
export function RoutePending() {
  return (
    <div className="center-screen" role="status" aria-live="polite">
      <div className="spinner" aria-hidden="true" />
      <span className="muted">Loading…</span>
    </div>
  );
}

/** Shown when a loader fails for a reason other than "not signed in" (which redirects). */
export function RouteError({ error }: ErrorComponentProps) {
  const router = useRouter();
  const code = errorCode(error);
  const message =
    code === "FORBIDDEN"
      ? "Your account is not allowed to see this roster."
      : code === "NOT_FOUND"
        ? "No Discord guild is linked to your organization yet."
        : "The server could not be reached or failed to answer.";
  return (
    <div className="center-screen">
      <div className="card narrow" role="alert">
        <h1 className="card-title">Something went wrong</h1>
        <p className="muted">{message}</p>
        {error instanceof Error && error.message ? <p className="mono small muted">{error.message}</p> : null}
        <div className="row gap">
          <button type="button" className="button primary" onClick={() => void router.invalidate()}>
            Try again
          </button>
          <Link to="/sign-in" className="button">
            Sign in again
          </Link>
        </div>
      </div>
    </div>
  );
}

/** Any unknown path. */
export function NotFoundPage() {
  return (
    <div className="center-screen">
      <div className="card narrow">
        <h1 className="card-title">Page not found</h1>
        <p className="muted">There is nothing at this address.</p>
        <Link to="/roster" className="button primary">
          Go to the roster
        </Link>
      </div>
    </div>
  );
}
