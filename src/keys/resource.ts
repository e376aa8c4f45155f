// The one row → API object mapper for keys.
import type { ApiKeyRow } from '../storage/database.js';
import { keyStatus } from '../domain/status.js';
import type { Environment } from '../domain/token.js';
import type { RefillInterval } from '../domain/quota.js';
import type { ApiKeyResource } from './schema.js';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(Number(ms)));

export function toApiKey(row: ApiKeyRow, now: number): ApiKeyResource {
  const expiresAt = row.expires_at === null ? null : Number(row.expires_at);
  return {
    id: row.id,
    name: row.name,
    start: row.start,
    projectId: row.project_id,
    accountId: row.account_id,
    environment: row.environment as Environment,
    type: row.type as 'token' | 'identity',
    username: row.username,
    scopes: JSON.parse(row.scopes) as string[],
    enabled: row.enabled === 1,
    disabledReason: row.disabled_reason,
    status: keyStatus(row.enabled === 1, expiresAt, now),
    expiresAt: isoOrNull(expiresAt),
    host: row.host,
    limitedAmount: row.limited_amount === null ? null : Number(row.limited_amount),
    usedAmount: Number(row.used_amount),
    refill: row.refill_interval === null ? null : { interval: row.refill_interval as RefillInterval },
    rateLimit:
      row.rate_limit_limit === null || row.rate_limit_window_ms === null
        ? null
        : { limit: row.rate_limit_limit, windowMs: row.rate_limit_window_ms },
    meta: row.meta === null ? null : (JSON.parse(row.meta) as Record<string, unknown>),
    createdAt: iso(Number(row.created_at)),
    updatedAt: iso(Number(row.updated_at)),
    lastUsedAt: isoOrNull(row.last_used_at),
  };
}
