// The database schema as Kysely sees it. Dialect-neutral by construction: ids and times are made in
// code, times are epoch milliseconds, booleans are 0/1 integers, lists and objects are JSON text.
import type { Generated, Insertable, Kysely, Selectable, Transaction, Updateable } from 'kysely';

export interface WorkspacesTable {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
}

export interface AccountsTable {
  id: string;
  workspace_id: string;
  email: string;
  name: string;
  role: string;
  password_hash: string | null;
  created_at: number;
  updated_at: number;
}

export interface ProjectsTable {
  id: string;
  workspace_id: string;
  name: string;
  prefix: string;
  scopes: string; // JSON array
  max_keys_per_account: number;
  recoverable: number;
  created_at: number;
  updated_at: number;
}

export interface ApiKeysTable {
  id: string;
  workspace_id: string;
  project_id: string;
  account_id: string;
  name: string;
  start: string;
  environment: string;
  type: string;
  username: string | null;
  scopes: string; // JSON array
  enabled: number;
  expires_at: number | null;
  host: string | null;
  limited_amount: number | null;
  used_amount: Generated<number>;
  refill_interval: string | null;
  /** Start of the refill period `used_amount` counts in (null until the first refill-aware charge). */
  refill_period_start: number | null;
  rate_limit_limit: number | null;
  rate_limit_window_ms: number | null;
  meta: string | null; // JSON object
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
  /** Why the key was disabled by the system (`leaked`); null when an admin disabled it or it is enabled. */
  disabled_reason: string | null;
}

/** One row per secret of a key: rotation adds a row and gives the old one an expiry (grace period). */
export interface KeySecretsTable {
  hash: string;
  key_id: string;
  created_at: number;
  expires_at: number | null;
  /** AES-256-GCM copy of the token, only in recoverable projects. */
  encrypted_token: string | null;
}

/** The append-only event stream: usage logs (`key.verified`) and key lifecycle events. */
export interface EventsTable {
  seq: Generated<number>;
  id: string;
  time: number;
  /** The writing transaction on PostgreSQL, 0 on SQLite (see stream-position.ts). */
  tx: Generated<number>;
  type: string;
  workspace_id: string | null;
  project_id: string | null;
  key_id: string | null;
  /** The account owning the key, so events can be shown only to who may see that key. */
  account_id: string | null;
  outcome: string | null;
  scopes: string | null; // JSON array
  host: string | null;
  ip: string | null;
  cost: number | null;
  latency_us: number | null;
  data: string | null; // JSON object; a usage-log chunk's entries (storage/usage-chunk.ts)
  /** Usage-log chunks only: how many entries the row holds (null: the row is one event). */
  entries: number | null;
  /** Usage-log chunks only: the oldest entry's time (`time` is the newest's). */
  first_time: number | null;
}

export interface UsageRollupsTable {
  key_id: string;
  bucket: number; // start of the hour, epoch ms
  outcome: string;
  count: number;
  project_id: string;
}

export interface AuditLogTable {
  id: string;
  workspace_id: string;
  time: number;
  actor_account_id: string | null;
  credential_type: string;
  credential_key_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  project_id: string | null;
  changes: string | null; // JSON {field: {before, after}}
  ip: string | null;
}

export interface PushSubscriptionsTable {
  key_id: string;
  workspace_id: string;
  project_id: string;
  webhook_url: string;
  secret_sealed: string;
  created_at: number;
  updated_at: number;
}

export interface PushStreamsTable {
  id: string;
  key_id: string;
  project_id: string;
  kind: string; // realtime | history
  state: string; // realtime: active | stopped; history: running | completed
  /** The last delivered position (tx, seq, index): the entry `cursor_index` of the row (tx, seq),
   * or with `cursor_index` null the whole row (see stream-position.ts). */
  cursor_tx: number;
  cursor_seq: number;
  cursor_index: number | null;
  /** history: the last position it covers. */
  until_tx: number | null;
  until_seq: number | null;
  /** realtime: the position it first started from (history covers everything up to it). */
  start_tx: number | null;
  start_seq: number | null;
  /** The last position of a batch that failed and will be retried: the retry sends the same batch. */
  batch_end_tx: number | null;
  batch_end_seq: number | null;
  batch_end_index: number | null;
  total: number;
  delivered: number;
  failures: number;
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  last_delivery_at: number | null;
  created_at: number;
  updated_at: number;
}

/** The current fixed window of a rate-limited key (database-backed rate limiting). */
export interface RateWindowsTable {
  key_id: string;
  window_start: number;
  window_ms: number;
  count: number;
}

/** SQLite only: each project's number of keys, kept by triggers on api_keys (migration 0012),
 * and a version of its key names that every insert, delete, move and rename moves on (0013). */
export interface ProjectKeyCountsTable {
  project_id: string;
  keys: number;
  names_version: Generated<number>;
}

/** Deployment-wide settings (e.g. `master_key_check`). */
export interface SettingsTable {
  name: string;
  value: string;
}

/** A dashboard session; the cookie holds the token, the table its SHA-256. */
export interface SessionsTable {
  id: string;
  account_id: string;
  workspace_id: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

/** Consecutive failed logins of an e-mail address or a client address. */
export interface LoginFailuresTable {
  subject: string;
  failures: number;
  last_failure_at: number;
  locked_until: number;
}

export interface Database {
  workspaces: WorkspacesTable;
  accounts: AccountsTable;
  projects: ProjectsTable;
  api_keys: ApiKeysTable;
  key_secrets: KeySecretsTable;
  events: EventsTable;
  usage_rollups: UsageRollupsTable;
  audit_log: AuditLogTable;
  push_subscriptions: PushSubscriptionsTable;
  push_streams: PushStreamsTable;
  rate_windows: RateWindowsTable;
  project_key_counts: ProjectKeyCountsTable;
  settings: SettingsTable;
  sessions: SessionsTable;
  login_failures: LoginFailuresTable;
}

export type Db = Kysely<Database>;
/** Repository functions take either the database or a transaction. */
export type DbOrTrx = Kysely<Database> | Transaction<Database>;

export type WorkspaceRow = Selectable<WorkspacesTable>;
export type AccountRow = Selectable<AccountsTable>;
export type ProjectRow = Selectable<ProjectsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type KeySecretRow = Selectable<KeySecretsTable>;
export type NewApiKey = Insertable<ApiKeysTable>;
export type ApiKeyUpdate = Updateable<ApiKeysTable>;
export type EventRow = Selectable<EventsTable>;
export type NewEvent = Insertable<EventsTable>;
export type AuditRow = Selectable<AuditLogTable>;
export type PushSubscriptionRow = Selectable<PushSubscriptionsTable>;
export type PushStreamRow = Selectable<PushStreamsTable>;
