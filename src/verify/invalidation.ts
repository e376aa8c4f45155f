// Cache invalidation across nodes. Every change to a key, account or project is applied to this
// node's cache at once and published; other nodes apply it when it arrives (milliseconds). While
// the channel is down, nodes cannot know what they missed, so each clears its cache and caches
// for a short TTL only, until the channel is back.
import { randomUUID } from 'node:crypto';
import type { KeyCache, KeyInvalidation } from './cache.js';

export interface InvalidationMessage {
  kind: 'key' | 'account' | 'project';
  id: string;
  origin: string;
}

export interface InvalidationBus {
  publish(message: InvalidationMessage): void;
  /** `onState(false)` when messages may be lost from now on, `onState(true)` when they flow again. */
  start(onMessage: (message: InvalidationMessage) => void, onState: (connected: boolean) => void): Promise<void>;
  close(): Promise<void>;
}

export function parseMessage(raw: string): InvalidationMessage | null {
  try {
    const value = JSON.parse(raw) as Partial<InvalidationMessage>;
    if ((value.kind === 'key' || value.kind === 'account' || value.kind === 'project') && typeof value.id === 'string' && typeof value.origin === 'string') {
      return { kind: value.kind, id: value.id, origin: value.origin };
    }
  } catch {
    // not ours: ignore
  }
  return null;
}

export interface ClusterInvalidationOptions {
  /** TTL while the channel is down. */
  fallbackTtlMs: number;
  onError?: (error: unknown) => void;
  onConnectionChange?: (connected: boolean) => void;
}

export class ClusterInvalidation implements KeyInvalidation {
  readonly nodeId = randomUUID();
  connected = false;
  /** Messages from other nodes applied, and times the channel went down (for tests and metrics). */
  received = 0;
  disconnects = 0;

  constructor(
    private readonly cache: KeyCache,
    private readonly bus: InvalidationBus,
    private readonly options: ClusterInvalidationOptions,
  ) {
    // Until the channel is up, other nodes' changes could be missed.
    cache.useShortTtl(options.fallbackTtlMs);
  }

  async start(): Promise<void> {
    await this.bus.start(
      (message) => {
        if (message.origin === this.nodeId) return;
        this.received++;
        this.apply(message.kind, message.id);
      },
      (connected) => {
        if (connected === this.connected) return;
        this.connected = connected;
        if (!connected) this.disconnects++;
        // Either way the cache may hold what changed meanwhile: start over.
        this.cache.useShortTtl(connected ? null : this.options.fallbackTtlMs);
        this.options.onConnectionChange?.(connected);
      },
    );
  }

  invalidateKey(keyId: string): void {
    this.cache.invalidateKey(keyId);
    this.bus.publish({ kind: 'key', id: keyId, origin: this.nodeId });
  }

  invalidateAccount(accountId: string): void {
    this.cache.invalidateAccount(accountId);
    this.bus.publish({ kind: 'account', id: accountId, origin: this.nodeId });
  }

  invalidateProject(projectId: string): void {
    this.cache.invalidateProject(projectId);
    this.bus.publish({ kind: 'project', id: projectId, origin: this.nodeId });
  }

  close(): Promise<void> {
    return this.bus.close();
  }

  private apply(kind: InvalidationMessage['kind'], id: string): void {
    if (kind === 'key') this.cache.invalidateKey(id);
    else if (kind === 'account') this.cache.invalidateAccount(id);
    else this.cache.invalidateProject(id);
  }
}
