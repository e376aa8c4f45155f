// Rate-limit windows kept in the database (exact across nodes on PostgreSQL without Redis), and on
// PostgreSQL a pg_trgm index for the substring searches that narrow a fuzzy name search. The
// extension needs the CREATE privilege on the database (trusted since PostgreSQL 13); without it
// the index is skipped and search reads more rows, with the same results.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rate_windows')
    .addColumn('key_id', 'text', (c) => c.primaryKey().references('api_keys.id').onDelete('cascade'))
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('window_ms', 'integer', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .execute();

  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const { rows } = await sql<{ possible: boolean }>`
      select exists (select 1 from pg_extension where extname = 'pg_trgm')
          or (exists (select 1 from pg_available_extensions where name = 'pg_trgm')
              and has_database_privilege(current_database(), 'CREATE')) as possible`.execute(db);
    if (rows[0]?.possible === true) {
      // The extension is database-wide: several deployments (or schemas) may migrate at once, so
      // serialise, install it into `public` when missing, and name its operator class by the
      // schema it actually lives in (an administrator may have installed it elsewhere).
      await sql`select pg_advisory_xact_lock(hashtext('keyward:pg_trgm'))`.execute(db);
      await sql`create extension if not exists pg_trgm with schema public`.execute(db);
      const installed = await sql<{ schema: string }>`
        select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(db);
      const opclass = sql.id(installed.rows[0]!.schema, 'gin_trgm_ops');
      await sql`create index api_keys_name_trgm on api_keys using gin (lower(name) ${opclass})`.execute(db);
    }
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists api_keys_name_trgm`.execute(db);
  await db.schema.dropTable('rate_windows').execute();
}
