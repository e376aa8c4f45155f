// HTTP verify against a raw node:http server answering the same JSON shape: valid, malformed and
// unknown keys, and keys whose every verification is counted (a quota, a rate limit; both set far
// above what the run uses, so every answer is VALID and the cost measured is the counter's). One
// more Keyward with usage logs off answers the valid key too: what the usage log costs.
//
// Every Keyward target is loaded between two loads of the raw server (paired() in load.ts): many
// short loads, each row set against the raw loads beside its own. The raw server answers every
// body alike (it only reads `key`), so one baseline serves all the rows.
//
// How fast a process runs this path also depends on the process (bench/README.md "Start-up
// state"): the valid row, the one the main target is about, and the baseline each take two
// processes, a second Keyward (valid key only) and a second raw server taking turns with the first.
import { mean, paired, verifyLoader, type Measurement, type Span } from './load.js';
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
   * Keyward with KEYWARD_USAGE_LOGS=false: the ratio is the quotient of their ratios to the raw
   * loads beside each. */
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

export async function verifyVsRaw(span: Span, cycles: number, warmUpSeconds: number): Promise<VerifyResult> {
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
    // Every target between two loads of the raw servers (paired() in load.ts). The rows with
    // targets get more loads per cycle: the valid key (on two Keywards) and the malformed one.
    const targets = [
      ...scenarios.map(({ body }, i) => ({ load: verifyLoader(keyward.url, body), perCycle: i <= 1 ? 2 : 1 })),
      { load: verifyLoader(keyward2.url, { key: key2.key, scopes: ['inference'] }), perCycle: 2 },
      { load: verifyLoader(logsOff.url, { key: keyLogsOff.key, scopes: ['inference'] }), perCycle: 2 },
    ];
    const { measured, beside } = await paired([verifyLoader(raw.url, valid), verifyLoader(raw2.url, valid)], targets, span, cycles, warmUpSeconds);
    const [validSecond, off] = [measured.at(-2)!, measured.at(-1)!];
    const rows = scenarios.map(({ scenario }, i) =>
      i === 0 ? compare(scenario, mean([measured[0]!, validSecond]), mean([beside[0]!, beside.at(-2)!])) : compare(scenario, measured[i]!, beside[i]!),
    );
    const loggingOff = compare('verify valid, usage logs off', off, beside.at(-1)!);
    return {
      rows,
      // Each against the raw loads beside it, then one against the other.
      logging: { scenario: 'verify valid, usage logs on vs off', keyward: rows[0]!.keyward, baseline: off, ratio: Number((rows[0]!.ratio / loggingOff.ratio).toFixed(3)) },
      loggingOff,
    };
  } finally {
    await Promise.all([keyward, keyward2, logsOff, raw, raw2].map((server) => server.stop()));
  }
}
