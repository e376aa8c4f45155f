// Helpers of the middleware tests: a fetch that counts verify calls, a port nothing listens on, a
// server that accepts connections and never answers, and a logger that keeps its lines.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { CreateKeyRequest } from '../src/index.js';
import { serveKeyward, WallClock, type ServedKeyward } from './keyward-server.js';

/** A fetch that forwards to the global one and counts the verify calls it made. */
export function countingFetch(): { fetch: typeof globalThis.fetch; verifies: () => number } {
  let count = 0;
  const fetch: typeof globalThis.fetch = (input, init) => {
    if (String(input instanceof Request ? input.url : input).endsWith('/v1/keys/verify')) count++;
    return globalThis.fetch(input, init);
  };
  return { fetch, verifies: () => count };
}

/** A loopback port that was free a moment ago: connections to it are refused. */
export async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Accepts connections and reads requests, but never answers. */
export async function silentServer(): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function recordingLogger(): { logger: (line: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { logger: (line) => lines.push(line), lines };
}

export const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

/** A real Keyward on the wall clock whose default project lets one account hold many keys (the tests make a key each). */
export async function serveWithRoomForKeys(): Promise<ServedKeyward> {
  const s = await serveKeyward({ clock: new WallClock(Date.now()) });
  await s.kw.projects.update(s.t.projectId, { maxKeysPerAccount: 1000 });
  return s;
}

/** A new key in the default project, with the `inference` scope unless the request says otherwise. */
export function newKeyOn(s: ServedKeyward, request: CreateKeyRequest = {}) {
  return s.kw.keys.create(s.t.projectId, { scopes: ['inference'], ...request });
}
