// Events (usage logs and key lifecycle events, one append-only stream with a sequence number),
// hourly usage rollups, the audit log, webhook push subscriptions and their delivery streams,
// and the reason a key was disabled. Frozen once shipped.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('disabled_reason', 'text').execute();

  // `seq` orders the stream (cursors of push and of log pages); `id` is the public, time-sortable id.
  await db.schema
    .createTable('events')
    .addColumn('seq', isPostgres(db) ? sql`bigint generated always as identity` : 'integer', (c) =>
      isPostgres(db) ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    // No unique index on id (ULIDs do not collide) and none on time: each index is paid on every
    // verification; retention finds its cut-off seq by searching the seq order instead.
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    // The writing transaction (PostgreSQL) for commit-order-safe reading; 0 on SQLite. See stream-position.ts.
    .addColumn('tx', 'bigint', (c) => c.notNull().defaultTo(isPostgres(db) ? sql`(pg_current_xact_id()::text::bigint)` : 0))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('workspace_id', 'text')
    .addColumn('project_id', 'text')
    .addColumn('key_id', 'text')
    .addColumn('account_id', 'text')
    .addColumn('outcome', 'text')
    .addColumn('scopes', 'text')
    .addColumn('host', 'text')
    .addColumn('ip', 'text')
    .addColumn('cost', 'integer')
    .addColumn('latency_us', 'integer')
    .addColumn('data', 'text')
    .execute();
  await db.schema.createIndex('events_project_position').on('events').columns(['project_id', 'tx', 'seq']).execute();
  await db.schema.createIndex('events_key_position').on('events').columns(['key_id', 'tx', 'seq']).execute();
  await db.schema.createIndex('events_project_account_position').on('events').columns(['project_id', 'account_id', 'tx', 'seq']).execute();

  await db.schema
    .createTable('usage_rollups')
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('bucket', 'bigint', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_rollups_pk', ['key_id', 'bucket', 'outcome'])
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('actor_account_id', 'text')
    .addColumn('credential_type', 'text', (c) => c.notNull())
    .addColumn('credential_key_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text')
    .addColumn('changes', 'text')
    .addColumn('ip', 'text')
    .execute();
  await db.schema.createIndex('audit_log_workspace').on('audit_log').columns(['workspace_id', 'id']).execute();

  await db.schema
    .createTable('push_subscriptions')
    .addColumn('key_id', 'text', (c) => c.primaryKey().references('api_keys.id').onDelete('cascade'))
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('webhook_url', 'text', (c) => c.notNull())
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  // One row per stream of a subscription: `realtime` (follows new events) and `history` (the events
  // recorded before it started, once). Positions are (tx, seq) pairs; see stream-position.ts.
  await db.schema
    .createTable('push_streams')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key_id', 'text', (c) => c.notNull().references('push_subscriptions.key_id').onDelete('cascade'))
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('cursor_tx', 'bigint', (c) => c.notNull())
    .addColumn('cursor_seq', 'bigint', (c) => c.notNull())
    .addColumn('until_tx', 'bigint')
    .addColumn('until_seq', 'bigint')
    .addColumn('start_tx', 'bigint')
    .addColumn('start_seq', 'bigint')
    .addColumn('batch_end_tx', 'bigint')
    .addColumn('batch_end_seq', 'bigint')
    .addColumn('total', 'bigint', (c) => c.notNull())
    .addColumn('delivered', 'bigint', (c) => c.notNull())
    .addColumn('failures', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('last_delivery_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('push_streams_due').on('push_streams').columns(['state', 'next_attempt_at']).execute();
  await db.schema.createIndex('push_streams_key').on('push_streams').column('key_id').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['push_streams', 'push_subscriptions', 'audit_log', 'usage_rollups', 'events']) {
    await db.schema.dropTable(table).execute();
  }
  await db.schema.alterTable('api_keys').dropColumn('disabled_reason').execute();
}
