// The audit log (audit:read): who did what to which resource, when and from where, newest
// first, filtered, with "Load more" following the API's cursor.
import { useEffect, useState } from 'react';
import { messageOf } from '../api/client';
import * as api from '../api/endpoints';
import type { AuditEntry, AuditQuery } from '../api/types';
import { EmptyState, ErrorState, Loading } from '../components/States';
import { useDashboard } from '../context';
import { formatDateTime, fromDateTimeLocal } from '../format';
import { useTitle } from '../hooks';
import { Link, paths } from '../router';

const PAGE = 50;

const ACTIONS = [
  'key.created',
  'key.updated',
  'key.rotated',
  'key.revealed',
  'key.deleted',
  'key.leaked',
  'push.configured',
  'push.removed',
  'push.realtime_started',
  'push.realtime_stopped',
  'push.history_started',
  'account.created',
  'account.updated',
  'account.role_changed',
  'account.deleted',
  'project.created',
  'project.updated',
  'project.deleted',
];

const TARGET_TYPES = ['key', 'project', 'account', 'push'] as const;

interface Filters {
  action: string;
  targetType: '' | (typeof TARGET_TYPES)[number];
  actorId: string;
  projectId: string;
  from: string;
  to: string;
}

const NO_FILTERS: Filters = { action: '', targetType: '', actorId: '', projectId: '', from: '', to: '' };

function queryOf(filters: Filters): AuditQuery {
  return {
    action: filters.action || undefined,
    targetType: filters.targetType || undefined,
    actorId: filters.actorId || undefined,
    projectId: filters.projectId || undefined,
    from: fromDateTimeLocal(filters.from) ?? undefined,
    to: fromDateTimeLocal(filters.to) ?? undefined,
    limit: PAGE,
  };
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export function AuditPage() {
  useTitle('Audit log');
  const { can, accounts, accountName, projects } = useDashboard();
  const allowed = can('audit:read');
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [state, setState] = useState<'loading' | 'idle' | 'more'>('loading');
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    if (!allowed) return;
    let cancelled = false;
    setState('loading');
    setError(null);
    api.audit.list(queryOf(filters)).then(
      (page) => {
        if (cancelled) return;
        setEntries(page.entries);
        setCursor(page.nextCursor);
        setState('idle');
      },
      (reason: unknown) => {
        if (cancelled) return;
        setEntries([]);
        setCursor(null);
        setError(messageOf(reason));
        setState('idle');
      },
    );
    return () => {
      cancelled = true;
    };
  }, [filters, allowed, version]);

  if (!allowed) {
    return (
      <EmptyState title="No access to the audit log" testId="no-access">
        <p>Reading the audit log needs the audit:read permission (owners and admins).</p>
      </EmptyState>
    );
  }

  const loadMore = () => {
    if (cursor === null) return;
    setState('more');
    api.audit.list({ ...queryOf(filters), cursor }).then(
      (page) => {
        setEntries((current) => [...current, ...page.entries]);
        setCursor(page.nextCursor);
        setState('idle');
      },
      (reason: unknown) => {
        setError(messageOf(reason));
        setState('idle');
      },
    );
  };

  const set = <K extends keyof Filters>(name: K, value: Filters[K]) => setFilters((current) => ({ ...current, [name]: value }));
  const filtered = JSON.stringify(filters) !== JSON.stringify(NO_FILTERS);
  const projectName = (projectId: string | null) => (projectId === null ? null : (projects.find((project) => project.id === projectId)?.name ?? projectId));

  return (
    <section aria-labelledby="audit-title">
      <div className="page-header">
        <div>
          <h1 id="audit-title">Audit log</h1>
          <p className="muted page-subtitle">Every change to keys, pushes, members and projects: who, what, when and from where.</p>
        </div>
      </div>

      <div className="toolbar toolbar-wrap" role="group" aria-label="Audit log filters">
        <label className="toolbar-filter">
          <span>Action</span>
          <select value={filters.action} onChange={(event) => set('action', event.target.value)} data-testid="audit-filter-action">
            <option value="">All actions</option>
            {ACTIONS.map((action) => (
              <option key={action} value={action}>
                {action}
              </option>
            ))}
          </select>
        </label>
        <label className="toolbar-filter">
          <span>Target</span>
          <select value={filters.targetType} onChange={(event) => set('targetType', event.target.value as Filters['targetType'])} data-testid="audit-filter-target">
            <option value="">All</option>
            {TARGET_TYPES.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
        </label>
        {accounts !== null && (
          <label className="toolbar-filter">
            <span>Member</span>
            <select value={filters.actorId} onChange={(event) => set('actorId', event.target.value)} data-testid="audit-filter-actor">
              <option value="">Anyone</option>
              {accounts.map((account) => (
                <option key={account.id} value={account.id}>
                  {account.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label className="toolbar-filter">
          <span>Project</span>
          <select value={filters.projectId} onChange={(event) => set('projectId', event.target.value)} data-testid="audit-filter-project">
            <option value="">All projects</option>
            {projects.map((project) => (
              <option key={project.id} value={project.id}>
                {project.name}
              </option>
            ))}
          </select>
        </label>
        <label className="toolbar-filter">
          <span>From</span>
          <input type="datetime-local" value={filters.from} onChange={(event) => set('from', event.target.value)} data-testid="audit-filter-from" />
        </label>
        <label className="toolbar-filter">
          <span>To</span>
          <input type="datetime-local" value={filters.to} onChange={(event) => set('to', event.target.value)} data-testid="audit-filter-to" />
        </label>
        {filtered && (
          <button type="button" className="button button-ghost button-small" onClick={() => setFilters(NO_FILTERS)} data-testid="audit-clear-filters">
            Clear filters
          </button>
        )}
      </div>

      {state === 'loading' ? (
        <Loading label="Loading audit log…" />
      ) : error !== null && entries.length === 0 ? (
        <ErrorState message={error} onRetry={() => setVersion((value) => value + 1)} />
      ) : entries.length === 0 ? (
        <EmptyState title={filtered ? 'No entries match these filters' : 'Nothing recorded yet'} testId="audit-empty" />
      ) : (
        <>
          <div className="table-wrap">
            <table className="table table-cards audit-table" data-testid="audit-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Project</th>
                  <th scope="col">Changes</th>
                  <th scope="col">From</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => (
                  <tr key={entry.id} data-testid="audit-row" data-action={entry.action}>
                    <td data-label="Time">
                      <time dateTime={entry.time}>{formatDateTime(entry.time)}</time>
                    </td>
                    <td data-label="Who">
                      {entry.actor.accountId === null ? 'System' : (accountName(entry.actor.accountId) ?? <code>{entry.actor.accountId}</code>)}
                      <span className="muted cell-note" title={entry.actor.keyId ?? undefined}>
                        {entry.actor.credential === 'session' ? 'via dashboard' : entry.actor.credential === 'root' ? 'via root key' : 'via admin API key'}
                      </span>
                    </td>
                    <td data-label="Action">
                      <code className="action-code">{entry.action}</code>
                    </td>
                    <td data-label="Target" className="break-all">
                      {entry.target.type === 'key' || entry.target.type === 'push' ? (
                        <Link to={paths.key(entry.target.id)}>
                          {entry.target.type} {entry.target.id}
                        </Link>
                      ) : (
                        <>
                          {entry.target.type} <code>{entry.target.id}</code>
                        </>
                      )}
                    </td>
                    <td data-label="Project">{projectName(entry.projectId) ?? <span className="muted">—</span>}</td>
                    <td data-label="Changes">
                      {entry.changes === null || Object.keys(entry.changes).length === 0 ? (
                        <span className="muted">—</span>
                      ) : (
                        <ul className="changes">
                          {Object.entries(entry.changes).map(([field, change]) => (
                            <li key={field}>
                              <span className="change-field">{field}</span>: <span className="change-before">{show(change.before)}</span> →{' '}
                              <span className="change-after">{show(change.after)}</span>
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                    <td data-label="From">{entry.ip ?? <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {error !== null && <ErrorState message={error} />}
          {cursor !== null ? (
            <p className="load-more">
              <button type="button" className="button button-secondary" onClick={loadMore} disabled={state === 'more'} data-testid="audit-load-more">
                {state === 'more' ? 'Loading…' : 'Load more'}
              </button>
            </p>
          ) : (
            <p className="muted load-more" data-testid="audit-end">
              That is everything{filtered ? ' matching these filters' : ''}.
            </p>
          )}
        </>
      )}
    </section>
  );
}
