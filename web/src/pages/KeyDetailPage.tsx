// One key: its configuration, the usage chart, the latest verifications (usage logs) and the
// push panel, with the same actions as the list (modify, rotate, reveal, delete).
import { useEffect, useState } from 'react';
import { ApiError, messageOf } from '../api/client';
import * as api from '../api/endpoints';
import type { ApiKey, UsageLog } from '../api/types';
import { CopyButton } from '../components/CopyButton';
import { EmptyState, ErrorState, Loading } from '../components/States';
import { EnvironmentBadge, StatusBadge } from '../components/StatusBadge';
import { outcomeLabel, UsageChart } from '../components/UsageChart';
import { useDashboard } from '../context';
import { formatDateTime, formatDuration, formatNumber, maskedKey } from '../format';
import { useLoader, useTitle } from '../hooks';
import { Link, navigate, paths } from '../router';
import { DeleteKeyModal, RevealKeyModal, RotateKeyModal } from './KeyDialogs';
import { KeyFormModal } from './KeyFormModal';
import { PushPanel } from './PushPanel';

type Dialog = 'edit' | 'rotate' | 'delete' | 'reveal' | null;

export function KeyDetailPage({ keyId }: { keyId: string }) {
  const { session, can, projects, selectProject, accountName } = useDashboard();
  const loaded = useLoader(() => api.keys.get(keyId), [keyId]);
  const apiKey = loaded.data;
  const [dialog, setDialog] = useState<Dialog>(null);
  useTitle(apiKey?.name ?? 'API key');

  const projectId = apiKey?.projectId;
  useEffect(() => {
    if (projectId !== undefined) selectProject(projectId);
  }, [projectId, selectProject]);

  if (apiKey === undefined) {
    if (loaded.error !== null) {
      return (
        <>
          <BackLink projectId={null} />
          <ErrorState message={loaded.error} onRetry={loaded.reload} />
        </>
      );
    }
    return <Loading label="Loading key…" />;
  }

  const project = projects.find((candidate) => candidate.id === apiKey.projectId);
  const mine = apiKey.accountId === session.account.id;
  const mayManage = mine ? can('keys:manage') || can('keys:manage_all') : can('keys:manage_all');
  const mayPush = can('push:manage') && (mine || can('keys:manage_all'));
  const mayReadLogs = can('logs:read') && (mine || can('keys:manage_all'));
  const owner = mine ? `${session.account.name} (you)` : (accountName(apiKey.accountId) ?? apiKey.accountId);

  return (
    <article aria-labelledby="key-title" data-testid="key-page" data-key-id={apiKey.id}>
      <BackLink projectId={apiKey.projectId} />
      <div className="page-header">
        <div className="key-title-block">
          <h1 id="key-title" className="break-all" data-testid="key-title">
            {apiKey.name}
          </h1>
          <div className="key-title-meta">
            <StatusBadge status={apiKey.status} reason={apiKey.disabledReason} />
            <EnvironmentBadge environment={apiKey.environment} />
            <span className="masked">
              <code>{maskedKey(apiKey.start)}</code>
              <CopyButton text={apiKey.start} label="Copy key start" testId="copy-key" compact />
            </span>
          </div>
        </div>
        {mayManage && (
          <div className="page-actions">
            <button type="button" className="button button-secondary" onClick={() => setDialog('edit')} data-testid="modify-key">
              Modify configuration
            </button>
            <button type="button" className="button button-secondary" onClick={() => setDialog('rotate')} data-testid="rotate-key">
              Rotate
            </button>
            {project?.recoverable === true && (
              <button type="button" className="button button-secondary" onClick={() => setDialog('reveal')} data-testid="reveal-key">
                Reveal
              </button>
            )}
            <button type="button" className="button button-danger-ghost" onClick={() => setDialog('delete')} data-testid="delete-key">
              Delete
            </button>
          </div>
        )}
      </div>

      <section className="card" aria-labelledby="details-title">
        <h2 id="details-title" className="card-title">
          Details
        </h2>
        <dl className="details" data-testid="key-details">
          <div>
            <dt>Key id</dt>
            <dd>
              <span className="masked">
                <code>{apiKey.id}</code>
                <CopyButton text={apiKey.id} label="Copy key id" compact />
              </span>
            </dd>
          </div>
          <div>
            <dt>Project</dt>
            <dd>{project?.name ?? apiKey.projectId}</dd>
          </div>
          <div>
            <dt>Owner</dt>
            <dd>{owner}</dd>
          </div>
          <div>
            <dt>Type</dt>
            <dd>{apiKey.type === 'token' ? 'Token' : 'Identity'}</dd>
          </div>
          {apiKey.username !== null && (
            <div>
              <dt>Username</dt>
              <dd>
                <code>{apiKey.username}</code>
              </dd>
            </div>
          )}
          <div>
            <dt>Scopes</dt>
            <dd>
              {apiKey.scopes.length === 0 ? (
                <span className="muted">None</span>
              ) : (
                <span className="chip-row">
                  {apiKey.scopes.map((scope) => (
                    <span key={scope} className={`chip${scope === 'admin' ? ' chip-admin' : ''}`}>
                      {scope}
                    </span>
                  ))}
                </span>
              )}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatDateTime(apiKey.createdAt)}</dd>
          </div>
          <div>
            <dt>Updated</dt>
            <dd>{formatDateTime(apiKey.updatedAt)}</dd>
          </div>
          <div>
            <dt>Expires</dt>
            <dd data-testid="key-expires">{apiKey.expiresAt === null ? 'Permanent' : formatDateTime(apiKey.expiresAt)}</dd>
          </div>
          <div>
            <dt>Last used</dt>
            <dd data-testid="key-last-used">{apiKey.lastUsedAt === null ? 'Never' : formatDateTime(apiKey.lastUsedAt)}</dd>
          </div>
          <div>
            <dt>Host binding</dt>
            <dd>{apiKey.host ?? <span className="muted">Any host</span>}</dd>
          </div>
          <div>
            <dt>Usage</dt>
            <dd data-testid="key-usage">
              {apiKey.limitedAmount === null ? (
                <>
                  {formatNumber(apiKey.usedAmount)} used <span className="muted">(unlimited)</span>
                </>
              ) : (
                <UsageMeter used={apiKey.usedAmount} limit={apiKey.limitedAmount} refill={apiKey.refill?.interval ?? null} />
              )}
            </dd>
          </div>
          <div>
            <dt>Rate limit</dt>
            <dd>
              {apiKey.rateLimit === null ? (
                <span className="muted">None</span>
              ) : (
                `${formatNumber(apiKey.rateLimit.limit)} requests per ${formatDuration(apiKey.rateLimit.windowMs)}`
              )}
            </dd>
          </div>
          {apiKey.meta !== null && (
            <div className="details-wide">
              <dt>Metadata</dt>
              <dd>
                <pre className="code-block">{JSON.stringify(apiKey.meta, null, 2)}</pre>
              </dd>
            </div>
          )}
        </dl>
      </section>

      {mayReadLogs && (
        <section className="card" aria-labelledby="usage-title">
          <h2 id="usage-title" className="card-title">
            Usage
          </h2>
          <UsageChart keyId={apiKey.id} />
        </section>
      )}

      {(mayPush || mine || can('keys:manage_all')) && (
        <section className="card" aria-labelledby="push-title">
          <h2 id="push-title" className="card-title">
            Data push
          </h2>
          <PushPanel keyId={apiKey.id} mayManage={mayPush} />
        </section>
      )}

      {mayReadLogs && (
        <section className="card" aria-labelledby="logs-title">
          <h2 id="logs-title" className="card-title">
            Recent verifications
          </h2>
          <UsageLogs projectId={apiKey.projectId} keyId={apiKey.id} />
        </section>
      )}

      {dialog === 'edit' && project !== undefined && (
        <KeyFormModal
          project={project}
          apiKey={apiKey}
          ownAccountId={session.account.id}
          owners={null}
          onClose={() => setDialog(null)}
          onSaved={(saved) => loaded.setData(saved)}
        />
      )}
      {dialog === 'rotate' && <RotateKeyModal apiKey={apiKey} onClose={() => setDialog(null)} onRotated={(rotated: ApiKey) => loaded.setData(stripSecret(rotated))} />}
      {dialog === 'reveal' && <RevealKeyModal apiKey={apiKey} onClose={() => setDialog(null)} />}
      {dialog === 'delete' && <DeleteKeyModal apiKey={apiKey} onClose={() => setDialog(null)} onDeleted={() => navigate(paths.keys(apiKey.projectId))} />}
    </article>
  );
}

function stripSecret(apiKey: ApiKey & { key?: string; password?: string }): ApiKey {
  const { key: _key, password: _password, ...rest } = apiKey;
  return rest;
}

function BackLink({ projectId }: { projectId: string | null }) {
  const { selectedProjectId } = useDashboard();
  const target = projectId ?? selectedProjectId;
  if (target === null) return null;
  return (
    <p className="back-link">
      <Link to={paths.keys(target)} data-testid="back-to-keys">
        ← API Keys
      </Link>
    </p>
  );
}

function UsageMeter({ used, limit, refill }: { used: number; limit: number; refill: string | null }) {
  const percent = limit === 0 ? 100 : Math.min(100, Math.round((used / limit) * 100));
  return (
    <span className="usage-meter">
      <span>
        {formatNumber(used)} of {formatNumber(limit)} used{refill !== null ? `, refills ${refill}` : ''}
      </span>
      <span className="meter" role="meter" aria-label="Usage of the limit" aria-valuemin={0} aria-valuemax={limit} aria-valuenow={Math.min(used, limit)}>
        <span className={`meter-fill${percent >= 90 ? ' meter-fill-high' : ''}`} style={{ width: `${percent}%` }} />
      </span>
    </span>
  );
}

const LOG_PAGE = 25;

function UsageLogs({ projectId, keyId }: { projectId: string; keyId: string }) {
  const [logs, setLogs] = useState<UsageLog[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [state, setState] = useState<'loading' | 'idle' | 'more'>('loading');
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let cancelled = false;
    setState('loading');
    setError(null);
    api.logs.list(projectId, { keyId, limit: LOG_PAGE }).then(
      (page) => {
        if (cancelled) return;
        setLogs(page.logs);
        setCursor(page.nextCursor);
        setState('idle');
      },
      (reason: unknown) => {
        if (cancelled) return;
        setError(messageOf(reason));
        setState('idle');
      },
    );
    return () => {
      cancelled = true;
    };
  }, [projectId, keyId, version]);

  const loadMore = () => {
    if (cursor === null) return;
    setState('more');
    setError(null);
    api.logs.list(projectId, { keyId, limit: LOG_PAGE, cursor }).then(
      (page) => {
        setLogs((current) => [...current, ...page.logs]);
        setCursor(page.nextCursor);
        setState('idle');
      },
      (reason: unknown) => {
        setError(reason instanceof ApiError ? reason.message : messageOf(reason));
        setState('idle');
      },
    );
  };

  if (state === 'loading') return <Loading label="Loading verifications…" />;
  if (error !== null && logs.length === 0) return <ErrorState message={error} onRetry={() => setVersion((value) => value + 1)} />;
  if (logs.length === 0) {
    return (
      <EmptyState title="No verifications yet" testId="logs-empty">
        <p>Each time a service verifies this key, the result is listed here.</p>
      </EmptyState>
    );
  }
  return (
    <>
      <div className="table-wrap">
        <table className="table table-cards" data-testid="logs-table">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Outcome</th>
              <th scope="col">Scopes asked</th>
              <th scope="col">Host</th>
              <th scope="col">Caller</th>
              <th scope="col">Cost</th>
              <th scope="col">Latency</th>
            </tr>
          </thead>
          <tbody>
            {logs.map((log) => (
              <tr key={log.id} data-testid="log-row">
                <td data-label="Time">
                  <time dateTime={log.time}>{formatDateTime(log.time)}</time>
                </td>
                <td data-label="Outcome">
                  <span className={`badge badge-outcome ${log.outcome === 'VALID' ? 'badge-status-active' : 'badge-status-disabled'}`} data-testid="log-outcome">
                    <span className={`badge-dot chart-bg-${log.outcome}`} aria-hidden="true" />
                    {outcomeLabel(log.outcome)}
                  </span>
                </td>
                <td data-label="Scopes asked">{log.scopes.length === 0 ? <span className="muted">—</span> : log.scopes.join(', ')}</td>
                <td data-label="Host">{log.host ?? <span className="muted">—</span>}</td>
                <td data-label="Caller">{log.ip ?? <span className="muted">—</span>}</td>
                <td data-label="Cost">{formatNumber(log.cost)}</td>
                <td data-label="Latency">{log.latencyUs < 1000 ? `${log.latencyUs} µs` : `${(log.latencyUs / 1000).toFixed(1)} ms`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {error !== null && <ErrorState message={error} />}
      {cursor !== null && (
        <p className="load-more">
          <button type="button" className="button button-secondary" onClick={loadMore} disabled={state === 'more'} data-testid="logs-load-more">
            {state === 'more' ? 'Loading…' : 'Load more'}
          </button>
        </p>
      )}
    </>
  );
}
