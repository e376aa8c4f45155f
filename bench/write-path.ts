// Write path: key creations per second over HTTP (POST /v1/projects/{id}/keys as the root key,
// 50 connections, each body a new name), against the built server on SQLite.
import autocannon from 'autocannon';
import { api, defaultProjectId } from './api.js';
import { CONNECTIONS, measurement, type Measurement } from './load.js';
import { ROOT_KEY, startKeyward } from './servers.js';

export async function writePath(durationSeconds: number): Promise<Measurement & { created: number }> {
  const keyward = await startKeyward();
  try {
    const projectId = await defaultProjectId(keyward);
    // One account may hold at most maxKeysPerAccount keys: raise it so the run measures creation, not refusals.
    await api(keyward, 'PATCH', `/v1/projects/${projectId}`, { maxKeysPerAccount: 10_000 });
    let n = 0;
    const result = await autocannon({
      url: `${keyward.url}/v1/projects/${projectId}/keys`,
      method: 'POST',
      connections: CONNECTIONS,
      duration: durationSeconds,
      headers: { authorization: `Bearer ${ROOT_KEY}`, 'content-type': 'application/json' },
      requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ name: `bench key ${n++}`, scopes: ['inference'] }) }) }],
    });
    const { total } = await api<{ total: number }>(keyward, 'GET', `/v1/projects/${projectId}/keys?pageSize=1`);
    return { ...measurement(result), created: total };
  } finally {
    await keyward.stop();
  }
}
