// Storage set-up on PostgreSQL when several nodes start at once on an empty schema: every node's
// schema creation and migration must succeed (`create schema if not exists` alone collides).
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { BACKEND, TEST_DATABASE_URL } from '../../test/helpers.js';
import { sql } from 'kysely';
import { dropSchema, migrate, openPostgres } from './storage.js';
import { migrations } from './migrations/index.js';

describe('PostgreSQL set-up', () => {
  it.runIf(BACKEND === 'postgres')('five nodes creating and migrating one new schema at once all succeed', async () => {
    for (let round = 0; round < 5; round++) {
      const schema = `t_race_${randomBytes(5).toString('hex')}`;
      const nodes = Array.from({ length: 5 }, () => openPostgres(TEST_DATABASE_URL, schema, 2));
      try {
        const results = await Promise.allSettled(nodes.map((node) => migrate(node)));
        expect(results.filter((result) => result.status === 'rejected').map((result) => String((result).reason))).toEqual([]);
        const { rows } = await sql<{ name: string }>`select name from ${sql.id(schema, 'kysely_migration')}`.execute(nodes[0]!.db);
        expect(rows.map((row) => row.name)).toEqual(Object.keys(migrations)); // each applied once
      } finally {
        await Promise.all(nodes.map((node) => node.close()));
        await dropSchema(TEST_DATABASE_URL, schema);
      }
    }
  });
});
