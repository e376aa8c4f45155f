// HTTP verify against a raw node:http server answering the same JSON shape: valid, malformed and
// unknown keys, and keys whose every verification is counted (a quota, a rate limit; both set far
// above what the run uses, so every answer is VALID and the cost measured is the counter's).
import { alternate, type Measurement, type Span } from './load.js';
import { createKey, defaultProjectId } from './api.js';
import { allStarted, defaultKeyward, startRawServer } from './servers.js';
import { checksumOf } from '../src/domain/token.js';

export interface Comparison {
  scenario: string;
  keyward: Measurement;
  baseline: Measurement;
  ratio: number;
}

export async function verifyVsRaw(span: Span, rounds: number, warmUpSeconds: number): Promise<Comparison[]> {
  const [keyward, raw] = await allStarted(defaultKeyward(), startRawServer());
  try {
    const projectId = await defaultProjectId(keyward);
    const key = await createKey(keyward, projectId, { name: 'bench', scopes: ['inference'] });
    // Names unlike other sections' keys: in the quick run the sections share one Keyward.
    const quota = await createKey(keyward, projectId, { name: 'bench verify quota', scopes: ['inference'], limitedAmount: 1_000_000_000 });
    const rateLimited = await createKey(keyward, projectId, { name: 'bench verify rate limit', scopes: ['inference'], rateLimit: { limit: 1_000_000, windowMs: 1_000 } });
    const unknownPayload = 'kw_live_' + 'U'.repeat(29);
    const scenarios = [
      { scenario: 'verify valid (cache warm)', body: { key: key.key, scopes: ['inference'] } },
      { scenario: 'verify malformed (checksum fails)', body: { key: key.key.slice(0, -1) + (key.key.endsWith('a') ? 'b' : 'a') } },
      { scenario: 'verify unknown (well-formed, not stored)', body: { key: unknownPayload + checksumOf(unknownPayload) } },
      { scenario: 'verify quota key (limitedAmount, counted)', body: { key: quota.key, scopes: ['inference'] } },
      { scenario: 'verify rate-limited key (under its limit)', body: { key: rateLimited.key, scopes: ['inference'] } },
    ];
    const rows: Comparison[] = [];
    for (const { scenario, body } of scenarios) {
      const [a, b] = await alternate([{ url: keyward.url, body }, { url: raw.url, body }], span, rounds, warmUpSeconds);
      rows.push({ scenario, keyward: a!, baseline: b!, ratio: Number((a!.requestsPerSecond / b!.requestsPerSecond).toFixed(3)) });
    }
    return rows;
  } finally {
    await keyward.stop();
    await raw.stop();
  }
}
