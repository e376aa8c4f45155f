// Key lists and name searches read (project, newest first) and the name: with the name in the
// index, a search that scans a project's names (LIKE pieces on SQLite, or every name for a long
// query) reads the index alone instead of one table row per key: about 3x faster at 100,000 keys.
// It replaces the index it extends.
import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('api_keys_project_created_name').on('api_keys').columns(['project_id', 'created_at', 'id', 'name']).execute();
  await db.schema.dropIndex('api_keys_project_created').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('api_keys_project_created').on('api_keys').columns(['project_id', 'created_at', 'id']).execute();
  await db.schema.dropIndex('api_keys_project_created_name').execute();
}
