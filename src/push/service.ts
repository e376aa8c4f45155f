// Webhook push per key (Supametas): set the address (the signing secret is shown once), start or
// stop real-time push, start the one-time historical push, see progress. Without an address
// nothing starts. Deleting the key, or the push, stops every stream at once (foreign-key cascade).
// A push carries the project's events that the key's account may see (see visibleAccount).
import { sql } from 'kysely';
import type { Db, DbOrTrx, PushStreamRow } from '../storage/database.js';
import { conflict, forbidden, notFound, validationError } from '../errors.js';
import { requireAny, type Actor } from '../domain/actor.js';
import { seal } from '../secrets/sealed-box.js';
import { recordChange } from '../audit/recorder.js';
import { findKey } from '../keys/store.js';
import type { ApiKeyRow } from '../storage/database.js';
import { checkWebhookUrl, TargetRefused } from './address-policy.js';
import { newWebhookSecret } from './signing.js';
import { visibleAccount } from './dispatcher.js';
import type { Dialect } from '../storage/storage.js';
import { between, frontier, horizon, ORIGIN, position } from '../storage/stream-position.js';
import type { PushResource } from './schema.js';

export interface PushServiceDeps {
  db: Db;
  dialect: Dialect;
  clock: () => number;
  masterKey: Buffer;
  allowPrivate: boolean;
  /** Nudges the dispatcher after a stream starts. */
  wake: () => void;
}

function progressOf(history: PushStreamRow | undefined): PushResource['history'] {
  if (history === undefined) return { state: 'idle', total: 0, delivered: 0, progress: 0 };
  const total = Number(history.total);
  const delivered = Math.min(Number(history.delivered), total);
  // Events the receiver refused (4xx) were processed too: progress counts them, `delivered` does not.
  const processed = Math.min(delivered + Number(history.failures), total);
  const completed = history.state === 'completed';
  return {
    state: completed ? 'completed' : 'running',
    total,
    delivered,
    progress: completed || total === 0 ? 100 : Math.floor((processed / total) * 100),
  };
}

export class PushService {
  constructor(private readonly deps: PushServiceDeps) {}

  async get(actor: Actor, keyId: string): Promise<PushResource> {
    const key = await this.findKey(actor, keyId);
    if (key.account_id !== actor.accountId) requireAny(actor, 'keys:manage_all');
    else requireAny(actor, 'push:manage', 'keys:read', 'keys:manage');
    return this.describe(this.deps.db, key.id);
  }

  async configure(actor: Actor, keyId: string, webhookUrl: string): Promise<PushResource & { secret: string }> {
    const key = await this.manageable(actor, keyId);
    let url: URL;
    try {
      url = checkWebhookUrl(webhookUrl, this.deps.allowPrivate);
    } catch (error) {
      if (error instanceof TargetRefused) throw validationError('webhookUrl', error.message);
      throw error;
    }
    const now = this.deps.clock();
    const secret = newWebhookSecret();
    const sealed = seal(this.deps.masterKey, secret);
    const described = await this.deps.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('push_subscriptions').select('webhook_url').where('key_id', '=', key.id).executeTakeFirst();
      if (existing === undefined) {
        await trx
          .insertInto('push_subscriptions')
          .values({ key_id: key.id, workspace_id: key.workspace_id, project_id: key.project_id, webhook_url: url.href, secret_sealed: sealed, created_at: now, updated_at: now })
          .execute();
      } else {
        await trx.updateTable('push_subscriptions').set({ webhook_url: url.href, secret_sealed: sealed, updated_at: now }).where('key_id', '=', key.id).execute();
      }
      await recordChange(trx, actor, now, {
        action: 'push.configured',
        targetType: 'push',
        targetId: key.id,
        projectId: key.project_id,
        changes: { webhookUrl: { before: existing?.webhook_url ?? null, after: url.href }, secret: { before: null, after: '(new)' } },
      });
      return this.describe(trx, key.id);
    });
    return { ...described, secret };
  }

  async remove(actor: Actor, keyId: string): Promise<void> {
    const key = await this.manageable(actor, keyId);
    const now = this.deps.clock();
    await this.deps.db.transaction().execute(async (trx) => {
      const removed = await trx.deleteFrom('push_subscriptions').where('key_id', '=', key.id).executeTakeFirst();
      if (Number(removed.numDeletedRows) === 0) throw notFound('Push configuration');
      await trx.deleteFrom('push_streams').where('key_id', '=', key.id).execute();
      await recordChange(trx, actor, now, { action: 'push.removed', targetType: 'push', targetId: key.id, projectId: key.project_id });
    });
  }

  /** Real-time push follows events from the moment it starts; stopping keeps nothing queued. */
  async setRealtime(actor: Actor, keyId: string, enabled: boolean): Promise<PushResource> {
    const key = await this.manageable(actor, keyId);
    const now = this.deps.clock();
    const described = await this.deps.db.transaction().execute(async (trx) => {
      await this.requireSubscription(trx, key.id);
      const stream = await trx.selectFrom('push_streams').selectAll().where('id', '=', `${key.id}:realtime`).executeTakeFirst();
      const running = stream?.state === 'active';
      if (enabled && !running) {
        // The first start picks up where a historical push (if one ran first) ends, so no event
        // falls between the two; a restart after a stop goes on from now.
        const history = await trx.selectFrom('push_streams').select(['until_tx', 'until_seq']).where('id', '=', `${key.id}:history`).executeTakeFirst();
        const historyEnd = history === undefined ? null : position(history.until_tx, history.until_seq);
        const from = stream === undefined && historyEnd !== null ? historyEnd : await horizon(trx, this.deps.dialect);
        if (stream === undefined) {
          await trx
            .insertInto('push_streams')
            .values({ ...newStream(key, 'realtime', now), state: 'active', cursor_tx: from.tx, cursor_seq: from.seq, start_tx: from.tx, start_seq: from.seq })
            .execute();
        } else {
          await trx
            .updateTable('push_streams')
            .set({
              state: 'active',
              cursor_tx: from.tx,
              cursor_seq: from.seq,
              cursor_index: null,
              batch_end_tx: null,
              batch_end_seq: null,
              batch_end_index: null,
              attempts: 0,
              next_attempt_at: now,
              last_error: null,
              updated_at: now,
            })
            .where('id', '=', stream.id)
            .execute();
        }
      } else if (!enabled && running) {
        await trx.updateTable('push_streams').set({ state: 'stopped', updated_at: now }).where('id', '=', stream.id).execute();
      }
      if (enabled !== running) {
        await recordChange(trx, actor, now, {
          action: enabled ? 'push.realtime_started' : 'push.realtime_stopped',
          targetType: 'push',
          targetId: key.id,
          projectId: key.project_id,
        });
      }
      return this.describe(trx, key.id);
    });
    if (enabled) this.deps.wake();
    return described;
  }

  /** The one-time historical push: every project event recorded before real-time push first
   * started (or before now, if it never did). A second start is refused. */
  async startHistory(actor: Actor, keyId: string): Promise<PushResource> {
    const key = await this.manageable(actor, keyId);
    const now = this.deps.clock();
    const described = await this.deps.db.transaction().execute(async (trx) => {
      await this.requireSubscription(trx, key.id);
      const existing = await trx.selectFrom('push_streams').select('state').where('id', '=', `${key.id}:history`).executeTakeFirst();
      if (existing !== undefined) {
        throw conflict(
          existing.state === 'completed'
            ? 'The historical push already ran for this key; it happens only once'
            : 'The historical push is already running for this key',
        );
      }
      const realtime = await trx.selectFrom('push_streams').select(['start_tx', 'start_seq']).where('id', '=', `${key.id}:realtime`).executeTakeFirst();
      // Everything recorded before now (or before real-time push first started), including events
      // of transactions still running: the dispatcher reaches them once those transactions end.
      const until = (realtime === undefined ? null : position(realtime.start_tx, realtime.start_seq)) ?? (await frontier(trx, this.deps.dialect));
      const onlyAccount = await visibleAccount(trx, key.id);
      let counting = trx
        .selectFrom('events')
        .select(sql<number>`coalesce(sum(coalesce(entries, 1)), 0)`.as('count'))
        .where('project_id', '=', key.project_id)
        .where((eb) => between(eb, ORIGIN, until));
      if (onlyAccount != null) counting = counting.where('account_id', '=', onlyAccount);
      const counted = await counting.executeTakeFirstOrThrow();
      const total = Number(counted.count);
      await trx
        .insertInto('push_streams')
        .values({
          ...newStream(key, 'history', now),
          state: total === 0 ? 'completed' : 'running',
          cursor_tx: ORIGIN.tx,
          cursor_seq: ORIGIN.seq,
          until_tx: until.tx,
          until_seq: until.seq,
          total,
        })
        .execute();
      await recordChange(trx, actor, now, {
        action: 'push.history_started',
        targetType: 'push',
        targetId: key.id,
        projectId: key.project_id,
        changes: { total: { before: null, after: total } },
      });
      return this.describe(trx, key.id);
    });
    this.deps.wake();
    return described;
  }

  private async describe(db: DbOrTrx, keyId: string): Promise<PushResource> {
    const subscription = await db.selectFrom('push_subscriptions').select('webhook_url').where('key_id', '=', keyId).executeTakeFirst();
    const streams = await db.selectFrom('push_streams').selectAll().where('key_id', '=', keyId).execute();
    const realtime = streams.find((stream) => stream.kind === 'realtime');
    const history = streams.find((stream) => stream.kind === 'history');
    const lastDelivery = Math.max(0, ...streams.map((stream) => Number(stream.last_delivery_at ?? 0)));
    const withError = streams.filter((stream) => stream.last_error !== null).sort((a, b) => Number(b.updated_at) - Number(a.updated_at))[0];
    return {
      webhookUrl: subscription?.webhook_url ?? null,
      realtime: realtime?.state === 'active',
      history: progressOf(history),
      delivery: {
        lastDeliveryAt: lastDelivery === 0 ? null : new Date(lastDelivery).toISOString(),
        lastError: withError?.last_error ?? null,
        failedEvents: streams.reduce((sum, stream) => sum + Number(stream.failures), 0),
        pendingRetry: streams.some((stream) => stream.attempts > 0 && (stream.state === 'active' || stream.state === 'running')),
      },
    };
  }

  private async requireSubscription(db: DbOrTrx, keyId: string): Promise<void> {
    const subscription = await db.selectFrom('push_subscriptions').select('key_id').where('key_id', '=', keyId).executeTakeFirst();
    if (subscription === undefined) {
      throw conflict('Set a webhook address first (PUT /v1/keys/{keyId}/push with {"webhookUrl": …}); push cannot start without one');
    }
  }

  private async findKey(actor: Actor, keyId: string): Promise<ApiKeyRow> {
    const key = await findKey(this.deps.db, actor.workspaceId, keyId);
    if (key === undefined) throw notFound('API key');
    return key;
  }

  /** push:manage, and keys:manage_all for another account's key. */
  private async manageable(actor: Actor, keyId: string): Promise<ApiKeyRow> {
    const key = await this.findKey(actor, keyId);
    requireAny(actor, 'push:manage');
    if (key.account_id !== actor.accountId && !actor.permissions.has('keys:manage_all')) {
      throw forbidden("Managing pushes of another account's key needs the keys:manage_all permission");
    }
    return key;
  }
}

function newStream(key: ApiKeyRow, kind: 'realtime' | 'history', now: number) {
  return {
    id: `${key.id}:${kind}`,
    key_id: key.id,
    project_id: key.project_id,
    kind,
    until_tx: null,
    until_seq: null,
    start_tx: null,
    start_seq: null,
    cursor_index: null,
    batch_end_tx: null,
    batch_end_seq: null,
    batch_end_index: null,
    total: 0,
    delivered: 0,
    failures: 0,
    attempts: 0,
    next_attempt_at: now,
    lease_owner: null,
    lease_until: null,
    last_error: null,
    last_delivery_at: null,
    created_at: now,
    updated_at: now,
  };
}
