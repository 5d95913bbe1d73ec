/**
 * `/sign-in`: email + password, against better-auth's `POST /api/auth/sign-in/email`, and, when
 * the server offers it (`/api/config`'s `discordSignIn`), "Sign in with Discord"
 * (`POST /api/auth/sign-in/social`, then Discord's authorize page, then back to `/roster`).
 */
import { useQuery } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { Logo } from "../components/Logo";
import { authClient } from "../lib/auth";
import { appConfigQuery } from "../lib/config";
import { queryClient, wsClient } from "../lib/trpc";

/**
 * What a Discord sign-in that came back with `?error=` says. better-auth sends the browser here
 * with Discord's error (`access_denied` when the person cancelled) or its own code.
 */
export function discordErrorMessage(code: string | null): string | null {
  if (code === null || code === "") return null;
  if (code === "access_denied") return "Discord sign-in was cancelled.";
  if (code === "signup_disabled") return "This Discord account cannot create a Guildhall account. Ask an admin.";
  return "Discord sign-in did not complete. Try again.";
}

/** The sign-in form (`data-testid="sign-in-form"`). Bad credentials show an inline error; success goes to `/roster`. */
export function SignInPage() {
  const navigate = useNavigate();
  const config = useQuery(appConfigQuery);
  const [error, setError] = useState<string | null>(() => discordErrorMessage(new URLSearchParams(window.location.search).get("error")));
  const [submitting, setSubmitting] = useState(false);
  const [redirecting, setRedirecting] = useState(false);

  /** Off to Discord's authorize page; it sends the browser back to /roster (or here with `?error=`). */
  const onDiscord = async () => {
    setRedirecting(true);
    setError(null);
    try {
      const result = await authClient.signIn.social({ provider: "discord", callbackURL: "/roster", errorCallbackURL: "/sign-in" });
      if (result.error) {
        setError(
          result.error.status === 429 ? "Too many attempts. Wait a minute and try again." : "Discord sign-in could not start. Try again.",
        );
        setRedirecting(false);
      }
      // Success: the client is navigating to Discord; the button stays busy until the page goes.
    } catch {
      setError("The server could not be reached. Check your connection and try again.");
      setRedirecting(false);
    }
  };

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
          <button className="button primary block" type="submit" disabled={submitting || redirecting}>
            {submitting ? "Signing in…" : "Sign in"}
          </button>
        </form>
        {config.data?.discordSignIn ? (
          <div className="auth-alt">
            <p className="auth-divider">
              <span>or</span>
            </p>
            <button
              className="button discord block"
              type="button"
              onClick={() => void onDiscord()}
              disabled={submitting || redirecting}
              data-testid="sign-in-discord"
            >
              <DiscordMark />
              {redirecting ? "Opening Discord…" : "Sign in with Discord"}
            </button>
          </div>
        ) : null}
      </div>
    </main>
  );
}

/** Discord's mark, decorative (the button's text names it). */
function DiscordMark() {
  return (
    <svg aria-hidden="true" focusable="false" width="18" height="14" viewBox="0 0 24 18" fill="currentColor">
      <path d="M20.3 1.5A19.6 19.6 0 0 0 15.4 0l-.6 1.2a18.2 18.2 0 0 0-5.6 0L8.6 0a19.6 19.6 0 0 0-4.9 1.5C.6 6.1-.3 10.6.1 15a19.8 19.8 0 0 0 6 3l1.3-2a12.8 12.8 0 0 1-2-1l.5-.4a14.1 14.1 0 0 0 12.2 0l.5.4c-.6.4-1.3.7-2 1l1.3 2a19.7 19.7 0 0 0 6-3c.5-5.1-.8-9.5-3.6-13.5ZM8 12.3c-1.2 0-2.2-1.1-2.2-2.4S6.8 7.5 8 7.5s2.2 1.1 2.2 2.4-1 2.4-2.2 2.4Zm8 0c-1.2 0-2.2-1.1-2.2-2.4s1-2.4 2.2-2.4 2.2 1.1 2.2 2.4-1 2.4-2.2 2.4Z" />
    </svg>
  );
}
