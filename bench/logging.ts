// The cost of usage logging: the same valid-key verify against two Keyward servers, one with
// usage logs on (the default) and one with KEYWARD_USAGE_LOGS=false, alternating A B A B.
import { alternate } from './load.js';
import { createKey, defaultProjectId } from './api.js';
import { startKeyward } from './servers.js';
import type { Comparison } from './verify-http.js';

export async function loggingOnOff(durationSeconds: number, rounds: number): Promise<Comparison> {
  const on = await startKeyward();
  const off = await startKeyward({ KEYWARD_USAGE_LOGS: 'false' });
  try {
    const keyOn = await createKey(on, await defaultProjectId(on), { name: 'bench' });
    const keyOff = await createKey(off, await defaultProjectId(off), { name: 'bench' });
    const [a, b] = await alternate([{ url: on.url, body: { key: keyOn.key } }, { url: off.url, body: { key: keyOff.key } }], durationSeconds, rounds);
    return { scenario: 'verify valid, usage logs on vs off', keyward: a!, baseline: b!, ratio: Number((a!.requestsPerSecond / b!.requestsPerSecond).toFixed(3)) };
  } finally {
    await on.stop();
    await off.stop();
  }
}
