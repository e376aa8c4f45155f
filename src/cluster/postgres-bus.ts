// Invalidation messages over PostgreSQL LISTEN/NOTIFY, for clusters without Redis. One dedicated
// connection listens (reconnecting with backoff); notifications go out through the pool.
import pg from 'pg';
import { sql } from 'kysely';
import type { Db } from '../storage/database.js';
import { parseMessage, type InvalidationBus, type InvalidationMessage } from '../verify/invalidation.js';

export class PostgresBus implements InvalidationBus {
  private client: pg.Client | null = null;
  private closed = false;
  /** Also the listening connection's application_name (visible in pg_stat_activity). */
  readonly channel: string;

  constructor(
    private readonly db: Db,
    private readonly connectionString: string,
    schema: string | undefined,
    private readonly onError: (error: unknown) => void,
  ) {
    // One channel per schema, so deployments sharing a database do not hear each other.
    this.channel = `keyward_invalidate${schema === undefined ? '' : `_${schema}`}`.slice(0, 63);
  }

  publish(message: InvalidationMessage): void {
    sql`select pg_notify(${this.channel}, ${JSON.stringify(message)})`.execute(this.db).catch(this.onError);
  }

  async start(onMessage: (message: InvalidationMessage) => void, onState: (connected: boolean) => void): Promise<void> {
    let delay = 100;
    const connect = async (): Promise<void> => {
      const client = new pg.Client({ connectionString: this.connectionString, application_name: this.channel });
      client.on('notification', (notification) => {
        if (notification.channel !== this.channel || notification.payload === undefined) return;
        const message = parseMessage(notification.payload);
        if (message !== null) onMessage(message);
      });
      let failed = false;
      client.on('error', (error) => {
        if (failed) return; // one reconnect per dead connection
        failed = true;
        this.onError(error);
        onState(false);
        void client.end().catch(() => undefined);
        if (!this.closed) setTimeout(() => void connect(), delay).unref();
        delay = Math.min(delay * 2, 5_000);
      });
      try {
        await client.connect();
        await client.query(`listen ${pg.escapeIdentifier(this.channel)}`);
        this.client = client;
        delay = 100;
        onState(true);
      } catch (error) {
        client.emit('error', error);
      }
    };
    await connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => undefined);
  }
}
