// A real webhook receiver on loopback for push tests: records every request, can fail, hold or
// slow down answers on demand, counts how many requests are in flight at once (overall and per
// webhook-id), and checks signatures with the `standardwebhooks` npm verifier.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export type Reply = number | 'drop';

export interface PushedEvent {
  id: string;
  type: string;
  timestamp: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: Record<string, any>;
}

export interface Batch {
  type: string;
  timestamp: string;
  data: { keyId: string; events: PushedEvent[] };
}

export interface Received {
  headers: Record<string, string>;
  body: string;
  batch: Batch;
  /** Date.now() when the request's body had arrived. */
  receivedAt: number;
  /** How it was answered; undefined while held. */
  reply: Reply | undefined;
  /** The connection closed before an answer was written (the sender died or gave up). */
  aborted: boolean;
}

export interface ReceiverOptions {
  /** Every answer waits this long first (the request stays in flight meanwhile). */
  delayMs?: number;
}

export class Receiver {
  readonly received: Received[] = [];
  /** Most requests in flight at the same moment, overall. */
  maxInFlight = 0;
  /** Most requests in flight at the same moment, per webhook-id. */
  readonly maxInFlightById = new Map<string, number>();
  private inFlight = 0;
  private readonly inFlightById = new Map<string, number>();
  private readonly plan: Reply[] = [];
  private holding = false;
  private readonly held: ((reply: Reply | undefined) => void)[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly delayMs: number,
  ) {}

  static async start(options: ReceiverOptions = {}): Promise<Receiver> {
    const handlers: { handle?: (req: IncomingMessage, res: ServerResponse) => Promise<void> } = {};
    const server = createServer((req, res) => void handlers.handle!(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, options.delayMs ?? 0);
    handlers.handle = (req, res) => receiver.handle(req, res);
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The next requests get these answers (then 200 again). */
  failNext(...replies: Reply[]): void {
    this.plan.push(...replies);
  }

  /** Keep requests waiting until released. */
  hold(): void {
    this.holding = true;
  }

  get waiting(): number {
    return this.held.length;
  }

  /** Answers the oldest held request (with `reply`, else the plan, else 200). */
  release(reply?: Reply): void {
    const next = this.held.shift();
    if (next === undefined) throw new Error('no request is being held');
    next(reply);
  }

  /** Stops holding and answers everything held. */
  open(): void {
    this.holding = false;
    while (this.held.length > 0) this.held.shift()!(undefined);
  }

  /** Requests answered 2xx on a connection that was still open. */
  get accepted(): Received[] {
    return this.received.filter((entry) => !entry.aborted && typeof entry.reply === 'number' && entry.reply >= 200 && entry.reply < 300);
  }

  /** Events of the requests answered 2xx, in arrival order. */
  acceptedEvents(): PushedEvent[] {
    return this.accepted.flatMap((entry) => entry.batch.data.events);
  }

  async close(): Promise<void> {
    this.open();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const webhookId = String(req.headers['webhook-id'] ?? '');
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const sameId = (this.inFlightById.get(webhookId) ?? 0) + 1;
    this.inFlightById.set(webhookId, sameId);
    this.maxInFlightById.set(webhookId, Math.max(this.maxInFlightById.get(webhookId) ?? 0, sameId));
    const request: { entry?: Received } = {};
    // 'close' comes once the answer is written, or earlier when the connection goes away.
    res.once('close', () => {
      this.inFlight--;
      this.inFlightById.set(webhookId, this.inFlightById.get(webhookId)! - 1);
      if (request.entry !== undefined && !res.writableEnded) request.entry.aborted = true;
    });

    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]));
    const entry: Received = { headers, body, batch: JSON.parse(body) as Batch, receivedAt: Date.now(), reply: undefined, aborted: false };
    request.entry = entry;
    this.received.push(entry);
    let reply: Reply | undefined;
    if (this.holding) reply = await new Promise<Reply | undefined>((resolve) => this.held.push(resolve));
    reply ??= this.plan.shift() ?? 200;
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    entry.reply = reply;
    if (entry.aborted) return; // nobody is listening any more
    if (reply === 'drop') {
      req.socket.destroy();
      return;
    }
    res.writeHead(reply, { 'content-type': 'application/json' }).end('{}');
  }
}

/** Throws unless a Standard Webhooks verifier accepts the request under `secret`. */
export function verifySignature(secret: string, entry: Received): void {
  new Webhook(secret).verify(entry.body, {
    'webhook-id': entry.headers['webhook-id']!,
    'webhook-timestamp': entry.headers['webhook-timestamp']!,
    'webhook-signature': entry.headers['webhook-signature']!,
  });
}
