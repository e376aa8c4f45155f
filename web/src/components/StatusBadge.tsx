// A key's status as the list and the key page show it.
import type { KeyStatus } from '../api/types';

const LABELS: Record<KeyStatus, string> = { active: 'Enabled', disabled: 'Disabled', expired: 'Expired' };

export function statusLabel(status: KeyStatus): string {
  return LABELS[status];
}

export function StatusBadge({ status, reason }: { status: KeyStatus; reason?: string | null }) {
  const title = status === 'disabled' && reason != null ? `Disabled by the system: ${reason}` : undefined;
  return (
    <span className={`badge badge-status-${status}`} data-testid="status-badge" data-status={status} title={title}>
      <span className="badge-dot" aria-hidden="true" />
      {LABELS[status]}
      {status === 'disabled' && reason != null && <span className="badge-note"> ({reason})</span>}
    </span>
  );
}

export function EnvironmentBadge({ environment }: { environment: 'live' | 'test' }) {
  return (
    <span className={`badge badge-env-${environment}`} data-testid="environment-badge">
      {environment === 'live' ? 'Live' : 'Test'}
    </span>
  );
}
