/** `/sign-in`: email + password, against better-auth's `POST /api/auth/sign-in/email`. */
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { Logo } from "../components/Logo";
import { authClient } from "../lib/auth";
import { queryClient, wsClient } from "../lib/trpc";

/** The sign-in form (`data-testid="sign-in-form"`). Bad credentials show an inline error; success goes to `/roster`. */
export function SignInPage() {
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email") ?? "").trim();
    const password = String(form.get("password") ?? "");
    if (!email || !password) {
      setError("Enter your email and password.");
      return;
    }
    setSubmitting(true);
    setError(null);
    try {
      const result = await authClient.signIn.email({ email, password });
      if (result.error) {
        const status = result.error.status;
        setError(
          status === 401 || status === 400
            ? "Incorrect email or password."
            : status === 429
              ? "Too many attempts. Wait a minute and try again."
              : (result.error.message ?? "Sign-in failed. Try again."),
        );
        return;
      }
      // Nothing cached or connected may outlive the previous (anonymous) identity.
      queryClient.clear();
      await wsClient.close();
      await navigate({ to: "/roster" });
    } catch {
      setError("The server could not be reached. Check your connection and try again.");
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <main className="auth-screen">
      <div className="auth-card card">
        <div className="auth-brand">
          <Logo size={36} />
          <h1>Guildhall</h1>
          <p className="muted">Sign in to see your staff roster.</p>
        </div>
        <form className="form" onSubmit={(e) => void onSubmit(e)} noValidate data-testid="sign-in-form">
          <label className="field">
            <span className="field-label">Email</span>
            <input className="input" name="email" type="email" autoComplete="username" required aria-invalid={error ? true : undefined} />
          </label>
          <label className="field">
            <span className="field-label">Password</span>
            <input
              className="input"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              aria-invalid={error ? true : undefined}
            />
          </label>
          {error ? (
            <p className="form-error" role="alert" data-testid="sign-in-error">
              {error}
            </p>
          ) : null}
          <button className="button primary block" type="submit" disabled={submitting}>
            {submitting ? "Signing in…" : "Sign in"}
          </button>
        </form>
      </div>
    </main>
  );
}
