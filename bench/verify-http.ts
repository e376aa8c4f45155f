// HTTP verify against a raw node:http server answering the same JSON shape: valid, malformed and
// unknown keys, and keys whose every verification is counted (a quota, a rate limit; both set far
// above what the run uses, so every answer is VALID and the cost measured is the counter's). One
// more Keyward with usage logs off answers the valid key too: what the usage log costs.
//
// All of them are measured in one rotation (see alternate() in load.ts), the raw server once per
// round like every other target, and each Keyward row is compared with that raw measurement: the
// raw server answers every body alike (it only reads `key`), so one baseline serves all the rows,
// and the bench measures it once instead of once per row.
//
// How fast a process runs this path also depends on the process (bench/README.md "Start-up
// state"): the valid row, the one the main target is about, and the baseline each take the mean
// of two processes, a second Keyward (valid key only) and a second raw server in the rotation.
import { alternate, mean, type Measurement, type Span } from './load.js';
import { createKey, defaultProjectId } from './api.js';
import { allStarted, defaultKeyward, startKeyward, startRawServer } from './servers.js';
import { checksumOf } from '../src/domain/token.js';

export interface Comparison {
  scenario: string;
  keyward: Measurement;
  baseline: Measurement;
  ratio: number;
}

export interface VerifyResult {
  /** Each Keyward scenario against the raw server. */
  rows: Comparison[];
  /** The valid key with usage logs on (the default; the mean of the two Keywards) against a
   * Keyward with KEYWARD_USAGE_LOGS=false. */
  logging: Comparison;
  /** The Keyward with usage logs off against the raw server. */
  loggingOff: Comparison;
}

const compare = (scenario: string, keyward: Measurement, baseline: Measurement): Comparison => ({
  scenario,
  keyward,
  baseline,
  ratio: Number((keyward.requestsPerSecond / baseline.requestsPerSecond).toFixed(3)),
});

export async function verifyVsRaw(span: Span, rounds: number, warmUpSeconds: number): Promise<VerifyResult> {
  const [keyward, keyward2, logsOff, raw, raw2] = await allStarted(defaultKeyward(), startKeyward(), startKeyward({ KEYWARD_USAGE_LOGS: 'false' }), startRawServer(), startRawServer());
  try {
    const projectId = await defaultProjectId(keyward);
    const key = await createKey(keyward, projectId, { name: 'bench', scopes: ['inference'] });
    // Names unlike other sections' keys: in the quick run the sections share one Keyward.
    const quota = await createKey(keyward, projectId, { name: 'bench verify quota', scopes: ['inference'], limitedAmount: 1_000_000_000 });
    const rateLimited = await createKey(keyward, projectId, { name: 'bench verify rate limit', scopes: ['inference'], rateLimit: { limit: 1_000_000, windowMs: 1_000 } });
    const keyLogsOff = await createKey(logsOff, await defaultProjectId(logsOff), { name: 'bench', scopes: ['inference'] });
    const key2 = await createKey(keyward2, await defaultProjectId(keyward2), { name: 'bench', scopes: ['inference'] });
    const unknownPayload = 'kw_live_' + 'U'.repeat(29);
    const valid = { key: key.key, scopes: ['inference'] };
    const scenarios = [
      { scenario: 'verify valid (cache warm)', body: valid },
      { scenario: 'verify malformed (checksum fails)', body: { key: key.key.slice(0, -1) + (key.key.endsWith('a') ? 'b' : 'a') } },
      { scenario: 'verify unknown (well-formed, not stored)', body: { key: unknownPayload + checksumOf(unknownPayload) } },
      { scenario: 'verify quota key (limitedAmount, counted)', body: { key: quota.key, scopes: ['inference'] } },
      { scenario: 'verify rate-limited key (under its limit)', body: { key: rateLimited.key, scopes: ['inference'] } },
    ];
    // The second raw server and Keyward sit apart from the first in the rotation.
    const measured = await alternate(
      [
        { url: raw.url, body: valid },
        ...scenarios.map(({ body }) => ({ url: keyward.url, body })),
        { url: raw2.url, body: valid },
        { url: logsOff.url, body: { key: keyLogsOff.key, scopes: ['inference'] } },
        { url: keyward2.url, body: { key: key2.key, scopes: ['inference'] } },
      ],
      span,
      rounds,
      warmUpSeconds,
    );
    const at = (i: number) => measured.at(i)!;
    const baseline = mean([at(0), at(-3)]);
    const off = at(-2);
    const rows = scenarios.map(({ scenario }, i) => compare(scenario, i === 0 ? mean([at(1), at(-1)]) : at(i + 1), baseline));
    return {
      rows,
      logging: compare('verify valid, usage logs on vs off', rows[0]!.keyward, off),
      loggingOff: compare('verify valid, usage logs off', off, baseline),
    };
  } finally {
    await Promise.all([keyward, keyward2, logsOff, raw, raw2].map((server) => server.stop()));
  }
}
