// A scripted HTTP server on loopback for the transport's tests: each request takes the next
// planned answer (then the fallback), and every request is recorded. An answer can also hang
// (no reply at all), send its headers and then hang, or drop the connection.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Answer =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | 'hang'
  | 'hang-after-headers'
  | 'drop';

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export class StubServer {
  readonly requests: Recorded[] = [];
  private readonly plan: Answer[] = [];

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    private readonly fallback: Answer,
  ) {}

  static async start(fallback: Answer = { status: 200, body: { ok: true } }): Promise<StubServer> {
    const handlers: { handle?: (req: IncomingMessage, res: ServerResponse) => Promise<void> } = {};
    const server = createServer((req, res) => void handlers.handle!(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const stub = new StubServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, fallback);
    handlers.handle = (req, res) => stub.handle(req, res);
    return stub;
  }

  /** The next requests get these answers, in order. */
  answer(...answers: Answer[]): this {
    this.plan.push(...answers);
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    const answer = this.plan.shift() ?? this.fallback;
    if (answer === 'hang') return;
    if (answer === 'drop') {
      req.socket.destroy();
      return;
    }
    if (answer === 'hang-after-headers') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
      return;
    }
    const body = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status, { ...(body !== '' && { 'content-type': 'application/json' }), ...answer.headers }).end(body);
  }
}

/** Keyward's error envelope. */
export function envelope(type: string, message: string, field?: string) {
  return { status: 'error', type, error: field === undefined ? { message } : { message, field } };
}
