// Leak reports: a token found in the wild revokes its key at once (disabled, reason `leaked`),
// audited and pushed as `key.leaked`. Anyone holding an admin credential of the workspace may
// report: holding the token is proof enough, and revoking is the safe direction.
import type { Db } from '../storage/database.js';
import type { KeyInvalidation } from '../verify/cache.js';
import type { Actor } from '../domain/actor.js';
import { hashToken, isWellFormedToken } from '../domain/token.js';
import { recordChange } from '../audit/recorder.js';
import { toApiKey } from '../keys/resource.js';
import * as keyStore from '../keys/store.js';

export interface LeakResult {
  revoked: string[];
  alreadyRevoked: string[];
  inactive: number;
  unknown: number;
  malformed: number;
}

export class LeakService {
  constructor(private readonly deps: { db: Db; clock: () => number; invalidation: KeyInvalidation }) {}

  async report(actor: Actor, tokens: readonly string[]): Promise<LeakResult> {
    const result: LeakResult = { revoked: [], alreadyRevoked: [], inactive: 0, unknown: 0, malformed: 0 };
    const now = this.deps.clock();
    const hashes = new Map<string, string>();
    for (const raw of new Set(tokens.map((token) => token.trim()))) {
      // Identity credentials may be reported as username:password; the password is the token.
      const token = raw.includes(':') ? raw.slice(raw.indexOf(':') + 1) : raw;
      if (!isWellFormedToken(token)) result.malformed++;
      else hashes.set(hashToken(token), token);
    }
    if (hashes.size === 0) return result;
    const matches = await this.deps.db
      .selectFrom('key_secrets as s')
      .innerJoin('api_keys as k', 'k.id', 's.key_id')
      .select(['s.hash', 's.expires_at as secret_expires_at', 'k.id'])
      .where('s.hash', 'in', [...hashes.keys()])
      .where('k.workspace_id', '=', actor.workspaceId)
      .execute();
    result.unknown = hashes.size - matches.length;
    const toRevoke = new Set<string>();
    for (const match of matches) {
      if (match.secret_expires_at !== null && Number(match.secret_expires_at) <= now) result.inactive++;
      else toRevoke.add(match.id);
    }
    await this.deps.db.transaction().execute(async (trx) => {
      for (const keyId of toRevoke) {
        const key = (await keyStore.findKey(trx, actor.workspaceId, keyId))!;
        if (key.enabled === 0 && key.disabled_reason === 'leaked') {
          result.alreadyRevoked.push(keyId);
          continue;
        }
        await keyStore.updateKey(trx, keyId, { enabled: 0, disabled_reason: 'leaked', updated_at: now });
        const revoked = toApiKey((await keyStore.findKey(trx, actor.workspaceId, keyId))!, now);
        await recordChange(trx, actor, now, {
          action: 'key.leaked',
          targetType: 'key',
          targetId: keyId,
          projectId: key.project_id,
          changes: { enabled: { before: key.enabled === 1, after: false }, disabledReason: { before: key.disabled_reason, after: 'leaked' } },
          event: { type: 'key.leaked', keyId, accountId: key.account_id, data: { apiKey: revoked } },
        });
        result.revoked.push(keyId);
      }
    });
    for (const keyId of result.revoked) this.deps.invalidation.invalidateKey(keyId);
    return result;
  }
}
