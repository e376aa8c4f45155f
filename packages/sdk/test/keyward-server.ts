// A real Keyward for the SDK's tests: the app of test/helpers.ts on its own temporary data dir,
// listening on a loopback port, and a client holding the owner's admin key.
import type { AddressInfo } from 'node:net';
import { startApp, TestClock, type StartOptions, type TestApp } from '../../../test/helpers.js';
import { Keyward, type KeywardOptions } from '../src/index.js';

/** Reads the real time: webhook signatures carry a timestamp that receivers check against now. */
export class WallClock extends TestClock {
  override readonly read = () => Date.now();
}

export interface ServedKeyward {
  t: TestApp;
  baseUrl: string;
  /** The owner's client. */
  kw: Keyward;
  /** Another client on the same server (another token, other options). */
  client(options?: Partial<KeywardOptions>): Keyward;
  close(): Promise<void>;
}

export async function serveKeyward(options: StartOptions = {}): Promise<ServedKeyward> {
  const t = await startApp(options);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  const client = (overrides: Partial<KeywardOptions> = {}) => new Keyward({ baseUrl, token: t.ownerKey, ...overrides });
  return { t, baseUrl, kw: client(), client, close: () => t.close() };
}

export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
