// Webhook push throughput to a receiver on loopback: real-time push while verify runs at full
// load (events delivered per second, and how long the backlog takes to drain after the load),
// then a one-time historical push of everything recorded (events per second).
import { createServer, type Server as HttpServer } from 'node:http';
import { load, type Span } from './load.js';
import { api, createKey, defaultProjectId } from './api.js';
import { startKeyward } from './servers.js';

export interface PushResult {
  realtime: { verifications: number; loadSeconds: number; deliveredDuringLoad: number; eventsPerSecondDuringLoad: number; drainSeconds: number; delivered: number };
  history: { events: number; seconds: number; eventsPerSecond: number };
}

interface Receiver {
  url: string;
  events: number;
  requests: number;
  server: HttpServer;
}

async function receiver(): Promise<Receiver> {
  const state = { events: 0, requests: 0 } as Receiver;
  state.server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { events: unknown[] } };
      state.events += body.data.events.length;
      state.requests++;
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  const address = state.server.address();
  state.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/hook`;
  return state;
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

export async function pushThroughput(span: Span): Promise<PushResult> {
  const keyward = await startKeyward({ KEYWARD_WEBHOOK_ALLOW_PRIVATE: 'true' });
  const realtime = await receiver();
  const history = await receiver();
  try {
    const projectId = await defaultProjectId(keyward);
    const pushed = await createKey(keyward, projectId, { name: 'pushed' });
    await api(keyward, 'PUT', `/v1/keys/${pushed.id}/push`, { webhookUrl: realtime.url });
    await api(keyward, 'POST', `/v1/keys/${pushed.id}/push/realtime`, { enabled: true });

    const before = realtime.events;
    const measured = await load(keyward.url, { key: pushed.key }, span);
    // A quick run's load is a number of requests: the time they took.
    const loadSeconds = 'seconds' in span ? span.seconds : Number((measured.requests / measured.requestsPerSecond).toFixed(2));
    const deliveredDuringLoad = realtime.events - before;
    const drainStart = Date.now();
    // Every verification is one event; admin calls add a few more (they are verifications too).
    await until(() => realtime.events >= measured.requests, 120_000);
    const drainSeconds = (Date.now() - drainStart) / 1000;

    const second = await createKey(keyward, projectId, { name: 'history' });
    await api(keyward, 'PUT', `/v1/keys/${second.id}/push`, { webhookUrl: history.url });
    const started = Date.now();
    const { push } = await api<{ push: { history: { total: number } } }>(keyward, 'POST', `/v1/keys/${second.id}/push/history`);
    await until(() => history.events >= push.history.total, 300_000);
    const seconds = (Date.now() - started) / 1000;
    return {
      realtime: {
        verifications: measured.requests,
        loadSeconds,
        deliveredDuringLoad,
        eventsPerSecondDuringLoad: Math.round(deliveredDuringLoad / loadSeconds),
        drainSeconds,
        delivered: realtime.events - before,
      },
      history: { events: push.history.total, seconds, eventsPerSecond: Math.round(push.history.total / seconds) },
    };
  } finally {
    await keyward.stop();
    realtime.server.close();
    history.server.close();
  }
}
