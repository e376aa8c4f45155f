// Reading the audit log: newest first, filtered, paged by cursor. Append-only: no route changes it.
import type { AuditRow, Db } from '../storage/database.js';
import { validationError } from '../errors.js';
import { requireAny, type Actor, type CredentialType } from '../domain/actor.js';
import type { FieldChanges } from './recorder.js';
import type { AuditEntryResource, ListAuditInput } from './schema.js';

export function toAuditEntry(row: AuditRow): AuditEntryResource {
  return {
    id: row.id,
    time: new Date(Number(row.time)).toISOString(),
    actor: { accountId: row.actor_account_id, credential: row.credential_type as CredentialType, keyId: row.credential_key_id },
    action: row.action,
    target: { type: row.target_type, id: row.target_id },
    projectId: row.project_id,
    changes: row.changes === null ? null : (JSON.parse(row.changes) as FieldChanges),
    ip: row.ip,
  };
}

function time(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw validationError(field, `${field} is not a valid date-time`);
  return ms;
}

export class AuditService {
  constructor(private readonly deps: { db: Db }) {}

  async list(actor: Actor, query: ListAuditInput): Promise<{ entries: AuditEntryResource[]; nextCursor: string | null }> {
    requireAny(actor, 'audit:read');
    let q = this.deps.db.selectFrom('audit_log').selectAll().where('workspace_id', '=', actor.workspaceId);
    if (query.action !== undefined) q = q.where('action', '=', query.action);
    if (query.actorId !== undefined) q = q.where('actor_account_id', '=', query.actorId);
    if (query.targetType !== undefined) q = q.where('target_type', '=', query.targetType);
    if (query.targetId !== undefined) q = q.where('target_id', '=', query.targetId);
    if (query.projectId !== undefined) q = q.where('project_id', '=', query.projectId);
    const from = time('from', query.from);
    const to = time('to', query.to);
    if (from !== undefined) q = q.where('time', '>=', from);
    if (to !== undefined) q = q.where('time', '<', to);
    if (query.cursor !== undefined) q = q.where('id', '<', query.cursor);
    const rows = await q.orderBy('id', 'desc').limit(query.limit + 1).execute();
    const page = rows.slice(0, query.limit);
    return { entries: page.map(toAuditEntry), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null };
  }
}
