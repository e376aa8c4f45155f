// Sign-in with e-mail and password. After too many failures the server answers 429 with
// Retry-After: the form counts down and stays locked until then.
import { useEffect, useId, useState, type FormEvent } from 'react';
import { ApiError, messageOf } from '../api/client';
import * as api from '../api/endpoints';
import type { Session } from '../api/types';
import { Alert } from '../components/States';
import { useTitle } from '../hooks';

interface LoginPageProps {
  sessionEnded: boolean;
  /** Set after the signed-in account changed its password: its e-mail, to sign in again. */
  passwordChangedFor?: string | undefined;
  onLoggedIn: (session: Session) => void;
}

export function LoginPage({ sessionEnded, passwordChangedFor, onLoggedIn }: LoginPageProps) {
  useTitle('Sign in');
  const [email, setEmail] = useState(passwordChangedFor ?? '');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [lockedUntil, setLockedUntil] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const emailId = useId();
  const passwordId = useId();

  useEffect(() => {
    if (lockedUntil === null) return;
    const timer = window.setInterval(() => {
      const current = Date.now();
      setNow(current);
      if (current >= lockedUntil) {
        setLockedUntil(null);
        setError(null);
      }
    }, 250);
    return () => window.clearInterval(timer);
  }, [lockedUntil]);

  const secondsLeft = lockedUntil === null ? 0 : Math.max(0, Math.ceil((lockedUntil - now) / 1000));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (busy || lockedUntil !== null) return;
    if (email.trim() === '' || password === '') {
      setError('Enter your e-mail address and password.');
      return;
    }
    setBusy(true);
    setError(null);
    api.auth.login(email.trim(), password).then(
      (session) => {
        setBusy(false);
        onLoggedIn(session);
      },
      (reason: unknown) => {
        setBusy(false);
        if (reason instanceof ApiError && reason.status === 429) {
          const seconds = reason.retryAfterSeconds ?? 30;
          setNow(Date.now());
          setLockedUntil(Date.now() + seconds * 1000);
          setError('tooMany');
        } else if (reason instanceof ApiError && reason.status === 401) {
          setError(reason.message !== '' ? reason.message : 'Wrong e-mail address or password.');
          setPassword('');
        } else {
          setError(messageOf(reason));
        }
      },
    );
  };

  const shownError = error === 'tooMany' ? `Too many attempts, try again in ${secondsLeft} s` : error;

  return (
    <main className="login-page">
      <div className="login-card">
        <div className="login-brand">
          <svg aria-hidden="true" viewBox="0 0 32 32" width="40" height="40">
            <rect width="32" height="32" rx="7" fill="var(--accent)" />
            <circle cx="12" cy="16" r="5" fill="none" stroke="#fff" strokeWidth="2.5" />
            <path d="M17 16h9m-3 0v4" stroke="#fff" strokeWidth="2.5" strokeLinecap="round" />
          </svg>
          <h1>Sign in to Keyward</h1>
          <p className="muted">Manage the API keys of your workspace.</p>
        </div>
        {passwordChangedFor !== undefined && (
          <Alert tone="success" testId="password-changed">
            Password changed — log in again with the new one.
          </Alert>
        )}
        {sessionEnded && (
          <Alert tone="info" testId="session-ended">
            Your session has ended. Sign in again to continue.
          </Alert>
        )}
        <form onSubmit={submit} noValidate aria-describedby={shownError !== null ? 'login-error' : undefined}>
          <div className="field">
            <label htmlFor={emailId} className="field-label">
              E-mail
            </label>
            <input
              id={emailId}
              type="email"
              autoComplete="username"
              value={email}
              onChange={(event) => setEmail(event.target.value)}
              required
              autoFocus={passwordChangedFor === undefined}
              data-testid="login-email"
            />
          </div>
          <div className="field">
            <label htmlFor={passwordId} className="field-label">
              Password
            </label>
            <input
              id={passwordId}
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              required
              autoFocus={passwordChangedFor !== undefined}
              data-testid="login-password"
            />
          </div>
          {shownError !== null && (
            <p id="login-error" className="alert alert-error" role="alert" data-testid="login-error">
              {shownError}
            </p>
          )}
          <button type="submit" className="button button-primary button-block" disabled={busy || lockedUntil !== null} data-testid="login-submit">
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
