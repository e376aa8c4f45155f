// Write path: key creations per second over HTTP (POST /v1/projects/{id}/keys as the root key,
// 50 connections, each body a new name), against the built server on SQLite.
import { api, defaultProjectId } from './api.js';
import { CONNECTIONS, runAutocannon, type Measurement, type Span } from './load.js';
import { ROOT_KEY, defaultKeyward } from './servers.js';

export async function writePath(span: Span): Promise<Measurement & { created: number }> {
  const keyward = await defaultKeyward();
  try {
    const projectId = await defaultProjectId(keyward);
    // One account may hold at most maxKeysPerAccount keys: raise it so the run measures creation, not refusals.
    await api(keyward, 'PATCH', `/v1/projects/${projectId}`, { maxKeysPerAccount: 10_000 });
    const keys = async () => (await api<{ total: number }>(keyward, 'GET', `/v1/projects/${projectId}/keys?pageSize=1`)).total;
    const before = await keys(); // other sections' keys, on the quick run's shared server
    let n = 0;
    const measured = await runAutocannon({
      url: `${keyward.url}/v1/projects/${projectId}/keys`,
      method: 'POST',
      connections: CONNECTIONS,
      headers: { authorization: `Bearer ${ROOT_KEY}`, 'content-type': 'application/json' },
      requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ name: `bench key ${n++}`, scopes: ['inference'] }) }) }],
    }, span);
    return { ...measured, created: (await keys()) - before };
  } finally {
    await keyward.stop();
  }
}
