// Invalidation messages over Redis pub/sub: one connection publishes, one subscribes.
import { Redis } from 'ioredis';
import { parseMessage, type InvalidationBus, type InvalidationMessage } from '../verify/invalidation.js';

export class RedisBus implements InvalidationBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly channel: string;

  constructor(url: string, prefix: string, private readonly onError: (error: unknown) => void) {
    this.channel = `${prefix}:invalidate`;
    const options = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false };
    this.publisher = new Redis(url, options);
    this.subscriber = new Redis(url, { ...options, maxRetriesPerRequest: null, connectionName: `${prefix}-invalidation` });
    this.publisher.on('error', () => undefined); // reported through publish failures and the subscriber
  }

  publish(message: InvalidationMessage): void {
    this.publisher.publish(this.channel, JSON.stringify(message)).catch(this.onError);
  }

  async start(onMessage: (message: InvalidationMessage) => void, onState: (connected: boolean) => void): Promise<void> {
    this.subscriber.on('message', (channel: string, raw: string) => {
      if (channel !== this.channel) return;
      const message = parseMessage(raw);
      if (message !== null) onMessage(message);
    });
    // ioredis re-subscribes after reconnecting; `ready` fires then, `close` when the link drops.
    this.subscriber.on('ready', () => onState(true));
    this.subscriber.on('close', () => onState(false));
    this.subscriber.on('error', (error) => this.onError(error));
    await this.publisher.connect().catch(this.onError);
    await this.subscriber.connect();
    await this.subscriber.subscribe(this.channel);
    onState(true);
  }

  async close(): Promise<void> {
    this.subscriber.removeAllListeners('close');
    await Promise.allSettled([this.subscriber.quit(), this.publisher.quit()]);
  }
}
