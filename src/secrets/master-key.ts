// The master key encrypts recoverable tokens. From KEYWARD_MASTER_KEY when set, else from
// `<dataDir>/master.key`, created on first use with 32 random bytes (mode 0600).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config.js';
import type { DbOrTrx } from '../storage/database.js';

export function loadMasterKey(configured: string | undefined, dataDir: string): Buffer {
  if (configured !== undefined) return createHash('sha256').update(configured).digest();
  const file = join(dataDir, 'master.key');
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  // 'wx' fails if another process created it meanwhile; then read theirs.
  try {
    writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  }
}

const CHECK_SETTING = 'master_key_check';

/** A value that tells whether two master keys are the same without revealing either. */
function checkValue(key: Buffer): string {
  return createHmac('sha256', key).update('keyward master key check v1').digest('base64url');
}

/**
 * Records the master key's check value on first use and refuses a different key afterwards, so
 * every node of a deployment encrypts with the same key and a lost key is noticed at start, not
 * at the first reveal.
 */
export async function checkMasterKey(db: DbOrTrx, key: Buffer): Promise<void> {
  const value = checkValue(key);
  await db.insertInto('settings').values({ name: CHECK_SETTING, value }).onConflict((c) => c.column('name').doNothing()).execute();
  const stored = await db.selectFrom('settings').select('value').where('name', '=', CHECK_SETTING).executeTakeFirstOrThrow();
  const same = stored.value.length === value.length && timingSafeEqual(Buffer.from(stored.value), Buffer.from(value));
  if (!same) {
    throw new ConfigError(
      'KEYWARD_MASTER_KEY does not match the master key this database was first used with ' +
        '(every node must be given the same KEYWARD_MASTER_KEY; without it each node reads master.key from its own KEYWARD_DATA_DIR)',
    );
  }
}
