// Every admin change leaves two traces, written in the same transaction as the change itself:
// an audit entry (who did what to which resource, with before/after of the changed fields, never
// a secret) and, for key changes, a project event that webhook pushes deliver.
import type { DbOrTrx } from '../storage/database.js';
import type { Actor } from '../domain/actor.js';
import { newId } from '../domain/ids.js';

export type FieldChanges = Record<string, { before: unknown; after: unknown }>;

export interface Change {
  /** `key.created`, `project.updated`, `account.role_changed`, `push.realtime_started`, … */
  action: string;
  targetType: 'key' | 'project' | 'account' | 'push';
  targetId: string;
  projectId?: string | null;
  changes?: FieldChanges | null;
  /** A project event to record too (push delivers it). */
  event?: { type: string; keyId: string; accountId: string; data: Record<string, unknown> };
}

/** Fields that never belong in a diff: bookkeeping the system updates on its own. */
const UNTRACKED = new Set(['updatedAt', 'lastUsedAt', 'usedAmount', 'status']);

/** The fields whose values differ between two API objects (compared as JSON). */
export function diffFields(before: object, after: object): FieldChanges {
  const changes: FieldChanges = {};
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (UNTRACKED.has(field)) continue;
    if (JSON.stringify(a[field]) !== JSON.stringify(b[field])) changes[field] = { before: a[field] ?? null, after: b[field] ?? null };
  }
  return changes;
}

export async function recordChange(db: DbOrTrx, actor: Actor, now: number, change: Change): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      id: newId('aud', now),
      workspace_id: actor.workspaceId,
      time: now,
      actor_account_id: actor.accountId,
      credential_type: actor.credentialType,
      credential_key_id: actor.credentialKeyId,
      action: change.action,
      target_type: change.targetType,
      target_id: change.targetId,
      project_id: change.projectId ?? null,
      changes: change.changes == null || Object.keys(change.changes).length === 0 ? null : JSON.stringify(change.changes),
      ip: actor.ip,
    })
    .execute();
  if (change.event !== undefined) {
    await db
      .insertInto('events')
      .values({
        id: newId('evt', now),
        time: now,
        type: change.event.type,
        workspace_id: actor.workspaceId,
        project_id: change.projectId ?? null,
        key_id: change.event.keyId,
        account_id: change.event.accountId,
        data: JSON.stringify(change.event.data),
      })
      .execute();
  }
}
