// The API Keys page of one project: search, filters, the paged table (newest first, as the API
// orders it), "+ New Key" (disabled at the account's key limit) and the per-key actions.
import { useCallback, useEffect, useId, useState } from 'react';
import * as api from '../api/endpoints';
import type { ApiKey, Environment, KeyStatus, Project } from '../api/types';
import { CopyButton } from '../components/CopyButton';
import { Pagination } from '../components/Pagination';
import { EmptyState, ErrorState, Loading } from '../components/States';
import { EnvironmentBadge, StatusBadge } from '../components/StatusBadge';
import { useDashboard } from '../context';
import { formatDateTime, maskedKey, plural } from '../format';
import { useDebounced, useLoader, useTitle } from '../hooks';
import { Link, paths } from '../router';
import { DeleteKeyModal, RotateKeyModal } from './KeyDialogs';
import { KeyFormModal } from './KeyFormModal';

type Dialog =
  | { kind: 'create' }
  | { kind: 'edit'; apiKey: ApiKey }
  | { kind: 'delete'; apiKey: ApiKey }
  | { kind: 'rotate'; apiKey: ApiKey }
  | null;

export function KeysPage({ projectId }: { projectId: string }) {
  const { projects } = useDashboard();
  const project = projects.find((candidate) => candidate.id === projectId);
  useTitle(project === undefined ? 'API Keys' : `API Keys · ${project.name}`);
  if (project === undefined) {
    return (
      <EmptyState title="Project not found" testId="project-not-found">
        <p>It may have been deleted. Choose another project in the header.</p>
      </EmptyState>
    );
  }
  return <KeysOfProject project={project} />;
}

/** Time cells: the date over the time, so the table fits 1280px. */
function When({ iso, empty }: { iso: string | null; empty: string }) {
  if (iso === null) return <span className="muted">{empty}</span>;
  const [date, time] = formatDateTime(iso).split(' ');
  return (
    <time dateTime={iso} title={iso} className="when">
      <span>{date}</span> <span className="when-time">{time}</span>
    </time>
  );
}

function KeysOfProject({ project }: { project: Project }) {
  const { session, can, accounts, accountName } = useDashboard();
  const ownAccountId = session.account.id;
  const seesAll = can('keys:manage_all');
  const mayCreate = can('keys:manage') || can('keys:manage_all');
  const mayRead = mayCreate || can('keys:read');
  const showOwners = seesAll && accounts !== null;

  const [searchInput, setSearchInput] = useState('');
  const search = useDebounced(searchInput.trim(), 300);
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(20);
  const [environment, setEnvironment] = useState<'' | Environment>('');
  const [status, setStatus] = useState<'' | KeyStatus>('');
  const [owner, setOwner] = useState('');
  const [dialog, setDialog] = useState<Dialog>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const ids = useId();

  // A new search or filter starts again at page 1.
  useEffect(() => setPage(1), [search, environment, status, owner, pageSize]);

  const list = useLoader(
    (signal) =>
      mayRead
        ? api.keys.list(
            project.id,
            {
              search: search === '' ? undefined : search,
              page,
              pageSize,
              environment: environment === '' ? undefined : environment,
              status: status === '' ? undefined : status,
              accountId: owner === '' ? undefined : owner,
            },
            signal,
          )
        : Promise.resolve(undefined),
    [project.id, search, page, pageSize, environment, status, owner, mayRead],
  );
  // The caller's own keys in the project, against maxKeysPerAccount.
  const ownCount = useLoader(
    (signal) => (mayCreate ? api.keys.list(project.id, { accountId: ownAccountId, pageSize: 1 }, signal).then((result) => result.total) : Promise.resolve(0)),
    [project.id, ownAccountId, mayCreate],
  );

  const reloadAll = useCallback(() => {
    list.reload();
    ownCount.reload();
  }, [list, ownCount]);

  // After a delete empties the last page, step back to the new last page.
  const data = list.data;
  useEffect(() => {
    if (data !== undefined && data.apiKeys.length === 0 && data.total > 0 && page > 1) setPage(Math.max(1, Math.ceil(data.total / pageSize)));
  }, [data, page, pageSize]);

  useEffect(() => {
    if (notice === null) return;
    const timer = window.setTimeout(() => setNotice(null), 5000);
    return () => window.clearTimeout(timer);
  }, [notice]);

  if (!mayRead) {
    return (
      <EmptyState title="No access to keys" testId="no-access">
        <p>Your role cannot read API keys. Ask an owner or admin for the keys:read permission.</p>
      </EmptyState>
    );
  }

  const owned = ownCount.data;
  const atLimit = owned !== undefined && owned >= project.maxKeysPerAccount;
  const filtered = search !== '' || environment !== '' || status !== '' || owner !== '';
  const limitMessageId = `${ids}-limit`;
  const clearFilters = () => {
    setSearchInput('');
    setEnvironment('');
    setStatus('');
    setOwner('');
  };

  const newKeyButton = (testId: string) => (
    <button
      type="button"
      className="button button-primary"
      onClick={() => setDialog({ kind: 'create' })}
      disabled={atLimit}
      aria-describedby={atLimit ? limitMessageId : undefined}
      data-testid={testId}
    >
      <span aria-hidden="true">+</span> New Key
    </button>
  );

  return (
    <section aria-labelledby={`${ids}-title`}>
      <div className="page-header">
        <div>
          <h1 id={`${ids}-title`}>API Keys</h1>
          <p className="muted page-subtitle">
            {seesAll ? 'Every key in' : 'Your keys in'} <strong>{project.name}</strong>. Secrets are shown once, when a key is created or rotated.
          </p>
        </div>
        {mayCreate && (
          <div className="page-actions">
            {owned !== undefined && (
              <span className={`key-count${atLimit ? ' key-count-full' : ''}`} data-testid="key-count">
                You have {owned} of {project.maxKeysPerAccount} keys
              </span>
            )}
            {newKeyButton('new-key-button')}
          </div>
        )}
      </div>
      {mayCreate && atLimit && (
        <p id={limitMessageId} className="alert alert-warning" role="note" data-testid="key-limit-message">
          You have reached the limit of {plural(project.maxKeysPerAccount, 'key')} per account in this project. Delete a key to add another.
        </p>
      )}
      {notice !== null && (
        <p className="alert alert-success" role="status" data-testid="notice">
          {notice}
        </p>
      )}

      <div className="toolbar" role="search">
        <div className="search-box">
          <svg aria-hidden="true" viewBox="0 0 20 20" width="16" height="16" className="search-icon">
            <circle cx="8.5" cy="8.5" r="5.5" fill="none" stroke="currentColor" strokeWidth="2" />
            <path d="M13 13l4 4" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
          </svg>
          <input
            type="search"
            value={searchInput}
            onChange={(event) => setSearchInput(event.target.value)}
            placeholder="Search keys by name"
            aria-label="Search keys by name"
            maxLength={200}
            data-testid="key-search"
          />
        </div>
        <label className="toolbar-filter">
          <span>Environment</span>
          <select value={environment} onChange={(event) => setEnvironment(event.target.value as '' | Environment)} data-testid="filter-environment">
            <option value="">All</option>
            <option value="live">Live</option>
            <option value="test">Test</option>
          </select>
        </label>
        <label className="toolbar-filter">
          <span>Status</span>
          <select value={status} onChange={(event) => setStatus(event.target.value as '' | KeyStatus)} data-testid="filter-status">
            <option value="">All</option>
            <option value="active">Enabled</option>
            <option value="disabled">Disabled</option>
            <option value="expired">Expired</option>
          </select>
        </label>
        {seesAll && (
          <label className="toolbar-filter">
            <span>Owner</span>
            <select value={owner} onChange={(event) => setOwner(event.target.value)} data-testid="filter-owner">
              <option value="">Everyone</option>
              <option value={ownAccountId}>Me</option>
              {(accounts ?? [])
                .filter((account) => account.id !== ownAccountId)
                .map((account) => (
                  <option key={account.id} value={account.id}>
                    {account.name}
                  </option>
                ))}
            </select>
          </label>
        )}
        {list.loading && data !== undefined && <span className="spinner spinner-small" role="status" aria-label="Updating" />}
      </div>

      {data === undefined ? (
        list.error !== null ? (
          <ErrorState message={list.error} onRetry={list.reload} />
        ) : (
          <Loading label="Loading keys…" />
        )
      ) : (
        <>
          {list.error !== null && <ErrorState message={list.error} onRetry={list.reload} />}
          {data.total === 0 && !filtered ? (
            <EmptyState title={mayCreate ? 'No keys yet — create your first' : 'No keys yet'} testId="keys-empty">
              {mayCreate ? (
                <>
                  <p>Keys let your services call your API. Each one is shown once, when it is generated.</p>
                  {newKeyButton('new-key-empty')}
                </>
              ) : (
                <p>Keys you create in this project will appear here.</p>
              )}
            </EmptyState>
          ) : data.apiKeys.length === 0 ? (
            <EmptyState title="No keys match" testId="keys-no-match">
              <p>Try another name, or clear the filters.</p>
              <button type="button" className="button button-secondary" onClick={clearFilters} data-testid="clear-filters">
                Clear filters
              </button>
            </EmptyState>
          ) : (
            <div className="table-wrap">
              <table className="table table-cards keys-table" data-testid="keys-table" aria-busy={list.loading}>
                <caption className="visually-hidden">
                  API keys of {project.name}, newest first, page {data.page}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Key</th>
                    <th scope="col">Scopes</th>
                    <th scope="col">Env.</th>
                    <th scope="col">Status</th>
                    <th scope="col">Created</th>
                    <th scope="col">Expires</th>
                    <th scope="col">Last used</th>
                    {showOwners && <th scope="col">Owner</th>}
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.apiKeys.map((apiKey) => {
                    const mine = apiKey.accountId === ownAccountId;
                    const mayManage = mine ? mayCreate : seesAll;
                    return (
                      <tr key={apiKey.id} data-testid="key-row" data-key-id={apiKey.id} data-status={apiKey.status}>
                        <td data-label="Name" className="cell-name">
                          <Link to={paths.key(apiKey.id)} data-testid="key-name" className="key-name-link">
                            {apiKey.name}
                          </Link>
                          {apiKey.type === 'identity' && <span className="tag">Identity</span>}
                        </td>
                        <td data-label="Key" className="cell-key">
                          <span className="masked">
                            <code data-testid="key-masked">{maskedKey(apiKey.start)}</code>
                            <CopyButton text={apiKey.start} label={`Copy key start of ${apiKey.name}`} testId="copy-key" compact />
                          </span>
                        </td>
                        <td data-label="Scopes">
                          {apiKey.scopes.length === 0 ? (
                            <span className="muted">None</span>
                          ) : (
                            <span className="chip-row" data-testid="key-scopes">
                              {apiKey.scopes.map((scope) => (
                                <span key={scope} className={`chip${scope === 'admin' ? ' chip-admin' : ''}`}>
                                  {scope}
                                </span>
                              ))}
                            </span>
                          )}
                        </td>
                        <td data-label="Environment">
                          <EnvironmentBadge environment={apiKey.environment} />
                        </td>
                        <td data-label="Status">
                          <StatusBadge status={apiKey.status} reason={apiKey.disabledReason} />
                        </td>
                        <td data-label="Created" data-testid="key-created">
                          <When iso={apiKey.createdAt} empty="" />
                        </td>
                        <td data-label="Expires" data-testid="key-expires">
                          <When iso={apiKey.expiresAt} empty="Permanent" />
                        </td>
                        <td data-label="Last used" data-testid="key-last-used">
                          <When iso={apiKey.lastUsedAt} empty="Never" />
                        </td>
                        {showOwners && (
                          <td data-label="Owner" data-testid="key-owner">
                            {mine ? 'You' : (accountName(apiKey.accountId) ?? <span className="muted">{apiKey.accountId}</span>)}
                          </td>
                        )}
                        <td className="cell-actions">
                          {mayManage && (
                            <div className="row-actions">
                              <button
                                type="button"
                                className="button button-small button-secondary"
                                onClick={() => setDialog({ kind: 'edit', apiKey })}
                                aria-label={`Modify configuration of ${apiKey.name}`}
                                data-testid="modify-key"
                              >
                                Modify
                              </button>
                              <button
                                type="button"
                                className="button button-small button-secondary"
                                onClick={() => setDialog({ kind: 'rotate', apiKey })}
                                aria-label={`Rotate ${apiKey.name}`}
                                data-testid="rotate-key"
                              >
                                Rotate
                              </button>
                              <button
                                type="button"
                                className="button button-small button-danger-ghost"
                                onClick={() => setDialog({ kind: 'delete', apiKey })}
                                aria-label={`Delete ${apiKey.name}`}
                                data-testid="delete-key"
                              >
                                Delete
                              </button>
                            </div>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          {data.total > 0 && (
            <Pagination
              page={page}
              pageSize={pageSize}
              total={data.total}
              onPage={setPage}
              onPageSize={(size) => {
                setPageSize(size);
              }}
            />
          )}
        </>
      )}

      {dialog?.kind === 'create' && (
        <KeyFormModal
          project={project}
          ownAccountId={ownAccountId}
          owners={seesAll ? accounts : null}
          onClose={() => setDialog(null)}
          onSaved={reloadAll}
          onModifyCreated={(apiKey) => setDialog({ kind: 'edit', apiKey })}
        />
      )}
      {dialog?.kind === 'edit' && (
        <KeyFormModal
          key={dialog.apiKey.id}
          project={project}
          apiKey={dialog.apiKey}
          ownAccountId={ownAccountId}
          owners={null}
          onClose={() => setDialog(null)}
          onSaved={(apiKey) => {
            setNotice(`Saved “${apiKey.name}”.`);
            reloadAll();
          }}
        />
      )}
      {dialog?.kind === 'rotate' && <RotateKeyModal apiKey={dialog.apiKey} onClose={() => setDialog(null)} onRotated={reloadAll} />}
      {dialog?.kind === 'delete' && (
        <DeleteKeyModal
          apiKey={dialog.apiKey}
          onClose={() => setDialog(null)}
          onDeleted={(apiKey) => {
            setDialog(null);
            setNotice(`Deleted “${apiKey.name}”.`);
            reloadAll();
          }}
        />
      )}
    </section>
  );
}
