// Usage-log chunks (storage/usage-chunk.ts): an events row may hold many `key.verified` entries
// of one key (`entries`, with the oldest entry's time in `first_time`), so a stream position
// within such a row needs the entry's index too: a push stream's cursor and the end of a batch
// waiting for its retry. Null in all four means what the columns meant before: a row of one
// event, a position after a whole row. Existing rows stay as they are and read as before.
import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('events').addColumn('entries', 'integer').execute();
  await db.schema.alterTable('events').addColumn('first_time', 'bigint').execute();
  await db.schema.alterTable('push_streams').addColumn('cursor_index', 'integer').execute();
  await db.schema.alterTable('push_streams').addColumn('batch_end_index', 'integer').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('push_streams').dropColumn('batch_end_index').execute();
  await db.schema.alterTable('push_streams').dropColumn('cursor_index').execute();
  await db.schema.alterTable('events').dropColumn('first_time').execute();
  await db.schema.alterTable('events').dropColumn('entries').execute();
}
