// The cost of usage logging: the same valid-key verify against two Keyward servers, one with
// usage logs on (the default) and one with KEYWARD_USAGE_LOGS=false, alternating A B A B.
import { alternate, type Span } from './load.js';
import { createKey, defaultProjectId } from './api.js';
import { allStarted, defaultKeyward, startKeyward } from './servers.js';
import type { Comparison } from './verify-http.js';

export async function loggingOnOff(span: Span, rounds: number, warmUpSeconds: number): Promise<Comparison> {
  const [on, off] = await allStarted(defaultKeyward(), startKeyward({ KEYWARD_USAGE_LOGS: 'false' }));
  try {
    const keyOn = await createKey(on, await defaultProjectId(on), { name: 'bench logging' });
    const keyOff = await createKey(off, await defaultProjectId(off), { name: 'bench logging' });
    const [a, b] = await alternate([{ url: on.url, body: { key: keyOn.key } }, { url: off.url, body: { key: keyOff.key } }], span, rounds, warmUpSeconds);
    return { scenario: 'verify valid, usage logs on vs off', keyward: a!, baseline: b!, ratio: Number((a!.requestsPerSecond / b!.requestsPerSecond).toFixed(3)) };
  } finally {
    await on.stop();
    await off.stop();
  }
}
