// The shapes the admin API sends and accepts, copied by hand from the server's route schemas
// (src/*/schema.ts). The dashboard is a separate build, so it does not import server code.

export const PERMISSIONS = [
  'keys:manage',
  'keys:manage_all',
  'keys:read',
  'logs:read',
  'push:manage',
  'members:manage',
  'projects:manage',
  'audit:read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['owner', 'admin', 'developer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const ENVIRONMENTS = ['live', 'test'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const KEY_STATUSES = ['active', 'disabled', 'expired'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

export type KeyType = 'token' | 'identity';
export type RefillInterval = 'daily' | 'monthly';

/** The built-in scope that lets a key call the admin API; every project has it without listing it. */
export const ADMIN_SCOPE = 'admin';
export const SCOPE_PATTERN = /^[a-z][a-z0-9_:.-]{0,63}$/;
export const PREFIX_PATTERN = /^[a-z][a-z0-9]{1,15}$/;
export const MAX_KEY_NAME = 200;
export const MAX_GRACE_PERIOD_SECONDS = 30 * 24 * 3600;

export const VERIFY_CODES = [
  'VALID',
  'MALFORMED',
  'NOT_FOUND',
  'DISABLED',
  'EXPIRED',
  'FORBIDDEN_HOST',
  'INSUFFICIENT_SCOPE',
  'WRONG_ENVIRONMENT',
  'RATE_LIMITED',
  'USAGE_EXCEEDED',
] as const;
export type VerifyCode = (typeof VERIFY_CODES)[number];

export interface SessionAccount {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export interface Session {
  account: SessionAccount;
  workspace: { id: string; name: string };
  permissions: string[];
  csrfToken: string;
  expiresAt: string;
}

export interface Project {
  id: string;
  name: string;
  prefix: string;
  /** The project's own scopes; `admin` is built in and not listed. */
  scopes: string[];
  maxKeysPerAccount: number;
  recoverable: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ProjectInput {
  name?: string;
  scopes?: string[];
  prefix?: string;
  maxKeysPerAccount?: number;
  recoverable?: boolean;
}

export interface Account {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: string;
  updatedAt: string;
}

export interface AccountInput {
  email?: string;
  name?: string;
  role?: Role;
  password?: string;
  /** Required with `password` when changing your own through the dashboard. */
  currentPassword?: string;
}

export interface RateLimit {
  limit: number;
  windowMs: number;
}

export interface ApiKey {
  id: string;
  name: string;
  start: string;
  projectId: string;
  accountId: string;
  environment: Environment;
  type: KeyType;
  username: string | null;
  scopes: string[];
  enabled: boolean;
  disabledReason: string | null;
  status: KeyStatus;
  expiresAt: string | null;
  host: string | null;
  limitedAmount: number | null;
  usedAmount: number;
  refill: { interval: RefillInterval } | null;
  rateLimit: RateLimit | null;
  meta: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
  lastUsedAt: string | null;
}

/** A key as create, rotate and reveal return it: the only replies that carry the secret. */
export interface ApiKeyWithSecret extends ApiKey {
  key?: string;
  password?: string;
}

export interface KeyPage {
  apiKeys: ApiKey[];
  page: number;
  pageSize: number;
  total: number;
}

export interface KeyListQuery {
  search?: string;
  page?: number;
  pageSize?: number;
  environment?: Environment;
  status?: KeyStatus;
  accountId?: string;
}

/** Fields both create and update take; null clears an optional field. */
export interface KeyEditableFields {
  name?: string;
  scopes?: string[];
  expiresAt?: string | null;
  host?: string | null;
  limitedAmount?: number | null;
  refill?: { interval: RefillInterval } | null;
  rateLimit?: RateLimit | null;
  meta?: Record<string, unknown> | null;
}

export interface CreateKeyInput extends KeyEditableFields {
  accountId?: string;
  environment?: Environment;
  type?: KeyType;
  enabled?: boolean;
}

export interface UpdateKeyInput extends KeyEditableFields {
  enabled?: boolean;
}

export interface UsageLog {
  id: string;
  time: string;
  keyId: string | null;
  outcome: VerifyCode;
  scopes: string[];
  host: string | null;
  ip: string | null;
  cost: number;
  latencyUs: number;
}

export interface LogPage {
  logs: UsageLog[];
  nextCursor: string | null;
}

export type Granularity = 'hour' | 'day';

export interface UsageBucket {
  time: string;
  total: number;
  outcomes: Record<string, number>;
}

export interface AuditEntry {
  id: string;
  time: string;
  actor: { accountId: string | null; credential: 'key' | 'root' | 'session'; keyId: string | null };
  action: string;
  target: { type: string; id: string };
  projectId: string | null;
  changes: Record<string, { before: unknown; after: unknown }> | null;
  ip: string | null;
}

export interface AuditQuery {
  action?: string;
  actorId?: string;
  targetType?: 'key' | 'project' | 'account' | 'push';
  targetId?: string;
  projectId?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

export interface AuditPage {
  entries: AuditEntry[];
  nextCursor: string | null;
}

export type HistoryState = 'idle' | 'running' | 'completed';

export interface Push {
  webhookUrl: string | null;
  realtime: boolean;
  history: { state: HistoryState; total: number; delivered: number; progress: number };
  delivery: { lastDeliveryAt: string | null; lastError: string | null; failedEvents: number; pendingRetry: boolean };
}

export interface PushWithSecret extends Push {
  secret: string;
}
