// One HTTP call with a timeout per attempt, retried with exponential backoff and jitter only
// where a second attempt cannot do the work twice, and every failure turned into a KeywardError.
import { KeywardError } from './errors.js';
import type { HttpMethod } from './operations.js';

export const RETRY_BASE_MS = 100;
export const RETRY_CAP_MS = 2_000;

export interface TransportOptions {
  baseUrl: string;
  token: string | undefined;
  timeoutMs: number;
  retries: number;
  maxRetryAfterSeconds: number;
  fetch: typeof globalThis.fetch;
  userAgent: string;
}

export interface HttpRequest {
  method: HttpMethod;
  /** Path and query string, e.g. `/v1/keys/key_…`. */
  path: string;
  body?: unknown;
  authenticated: boolean;
}

/** Methods whose repetition leaves the server as one call would (RFC 9110 §9.2.2). */
const IDEMPOTENT: ReadonlySet<HttpMethod> = new Set(['GET', 'PUT', 'DELETE']);

/**
 * Whether another attempt is safe after `error`.
 * - 429 or 503 with Retry-After, any method: the server refused before doing anything and said when to come back.
 * - GET, PUT, DELETE: also after a network error, a timeout or any 5xx, where the first attempt may or may not have
 *   been carried out. POST and PATCH never are: a verify with a quota, a key create or a rotate must not run twice.
 * A 429 without Retry-After (a key's usage quota is spent) is final for every method.
 */
export function isRetryable(method: HttpMethod, error: KeywardError): boolean {
  if ((error.status === 429 || error.status === 503) && error.retryAfterSeconds !== undefined) return true;
  if (!IDEMPOTENT.has(method)) return false;
  return error.type === 'networkError' || error.type === 'timeoutError' || error.status >= 500;
}

/** "Full jitter": a random wait up to base·2^attempt, capped. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** attempt));
}

/** HTTP's date format (IMF-fixdate), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** Retry-After as seconds, or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!HTTP_DATE.test(trimmed)) return undefined;
  return Math.max(0, Math.ceil((Date.parse(trimmed) - now) / 1000));
}

export class Transport {
  private readonly baseUrl: string;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async send(request: HttpRequest): Promise<unknown> {
    // A DELETE answered 404 after an attempt whose fate is unknown was most likely carried out by it.
    let outcomeUnknown = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(request);
      } catch (error) {
        if (!(error instanceof KeywardError)) throw error;
        if (outcomeUnknown && request.method === 'DELETE' && error.status === 404) return undefined;
        const delayMs = this.retryDelayMs(request.method, error, attempt);
        if (delayMs === null) throw error;
        // A 503 with Retry-After says the server did nothing; other 5xx, timeouts and network errors do not.
        outcomeUnknown ||= error.status === 0 || (error.status >= 500 && error.retryAfterSeconds === undefined);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  private retryDelayMs(method: HttpMethod, error: KeywardError, attempt: number): number | null {
    if (attempt >= this.options.retries || !isRetryable(method, error)) return null;
    if (error.retryAfterSeconds === undefined) return backoffMs(attempt);
    // Waiting longer than this inside one call helps nobody: the caller gets the error and its retryAfterSeconds.
    if (error.retryAfterSeconds > this.options.maxRetryAfterSeconds) return null;
    return error.retryAfterSeconds * 1000;
  }

  private async attempt(request: HttpRequest): Promise<unknown> {
    const url = this.baseUrl + request.path;
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.options.userAgent };
    if (request.authenticated && this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    // One signal for the whole attempt: the answer's body must arrive within the timeout too.
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const response = await this.options.fetch(url, {
        method: request.method,
        headers,
        signal,
        ...(request.body !== undefined && { body: JSON.stringify(request.body) }),
      });
      const text = await response.text();
      if (!response.ok) throw errorFromAnswer(response, text);
      if (text === '') return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        const { status } = response;
        throw new KeywardError({ type: 'invalidResponseError', status, message: `${request.method} ${request.path} answered ${status} with a body that is not JSON` });
      }
    } catch (error) {
      if (error instanceof KeywardError) throw error;
      if (signal.aborted) {
        throw new KeywardError(
          { type: 'timeoutError', status: 0, message: `${request.method} ${url}: no answer within ${this.options.timeoutMs} ms` },
          { cause: error },
        );
      }
      throw new KeywardError({ type: 'networkError', status: 0, message: `${request.method} ${url}: ${describeNetworkError(error)}` }, { cause: error });
    }
  }
}

function errorFromAnswer(response: Response, text: string): KeywardError {
  const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
  const envelope = readEnvelope(text);
  if (envelope !== null) {
    return new KeywardError({ type: envelope.type, status: response.status, message: envelope.message, field: envelope.field, retryAfterSeconds });
  }
  const reason = response.statusText === '' ? '' : ` ${response.statusText}`;
  return new KeywardError({ type: 'httpError', status: response.status, message: `HTTP ${response.status}${reason} (not a Keyward error envelope)`, retryAfterSeconds });
}

/** `{"status":"error","type":…,"error":{"message":…,"field"?:…}}`, or null for anything else. */
function readEnvelope(text: string): { type: string; message: string; field: string | undefined } | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const { status, type, error } = body as Record<string, unknown>;
  if (status !== 'error' || typeof type !== 'string' || typeof error !== 'object' || error === null) return null;
  const { message, field } = error as Record<string, unknown>;
  if (typeof message !== 'string') return null;
  return { type, message, field: typeof field === 'string' ? field : undefined };
}

/** Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, socket closed) is in its cause. */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error && cause.message !== '') return `${error.message} (${cause.message})`;
  return error.message;
}
