// Loading, error and empty states, the same on every page.
import type { ReactNode } from 'react';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" data-testid="loading">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function ErrorState({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div className="state state-error" role="alert" data-testid="error-state">
      <p>{message}</p>
      {onRetry !== undefined && (
        <button type="button" className="button button-secondary button-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children, testId = 'empty-state' }: { title: string; children?: ReactNode; testId?: string }) {
  return (
    <div className="state state-empty" data-testid={testId}>
      <svg aria-hidden="true" viewBox="0 0 48 48" width="48" height="48" className="state-icon">
        <circle cx="18" cy="24" r="9" fill="none" stroke="currentColor" strokeWidth="2.5" />
        <path d="M27 24h16m-5 0v6m-5-6v4" fill="none" stroke="currentColor" strokeWidth="2.5" strokeLinecap="round" />
      </svg>
      <p className="state-title">{title}</p>
      {children}
    </div>
  );
}

/** An inline error under a form or panel. */
export function Alert({ children, tone = 'error', testId }: { children: ReactNode; tone?: 'error' | 'warning' | 'info' | 'success'; testId?: string }) {
  return (
    <div className={`alert alert-${tone}`} role={tone === 'error' ? 'alert' : 'status'} data-testid={testId}>
      {children}
    </div>
  );
}
