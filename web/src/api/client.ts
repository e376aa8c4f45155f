// The one way the dashboard talks to the server: same-origin JSON with the session cookie, the
// CSRF token on every change, the error envelope turned into ApiError, and a 401 on any call
// reported once so the app can return to the login page.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The envelope's camelCase `type` (`duplicateNameError`, …); `networkError` when the server was not reached. */
    readonly type: string,
    message: string,
    /** The request field at fault (`name`, `rateLimit.limit`, `scopes[1]`), when the server named one. */
    readonly field?: string,
    /** Seconds from a Retry-After header (429). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type QueryValue = string | number | boolean | undefined | null;

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, QueryValue>;
  /** Calls where a 401 is an expected answer (log-in, session probe) and does not end the session. */
  expectUnauthorized?: boolean;
  signal?: AbortSignal;
}

let csrfToken: string | null = null;
let sessionEnded: () => void = () => undefined;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function onSessionEnded(handler: () => void): void {
  sessionEnded = handler;
}

function withQuery(path: string, query: RequestOptions['query']): string {
  if (query === undefined) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(name, String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

interface ErrorEnvelope {
  type?: unknown;
  error?: { message?: unknown; field?: unknown };
}

async function errorFrom(response: Response): Promise<ApiError> {
  let envelope: ErrorEnvelope = {};
  try {
    envelope = (await response.json()) as ErrorEnvelope;
  } catch {
    // Not JSON (a proxy's error page): fall back to the status line below.
  }
  const message = typeof envelope.error?.message === 'string' ? envelope.error.message : `The server answered ${response.status} ${response.statusText}`.trim();
  const type = typeof envelope.type === 'string' ? envelope.type : 'httpError';
  const field = typeof envelope.error?.field === 'string' ? envelope.error.field : undefined;
  const retryHeader = response.headers.get('retry-after');
  const retryAfter = retryHeader === null ? undefined : Number.parseInt(retryHeader, 10);
  return new ApiError(response.status, type, message, field, Number.isFinite(retryAfter) ? retryAfter : undefined);
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;

  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'networkError', 'Cannot reach the Keyward server. Check your connection and try again.');
  }

  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && options.expectUnauthorized !== true) sessionEnded();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** The message to show for any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return 'Something went wrong';
}

/** The first segment of an error's field path: `rateLimit.limit` → `rateLimit`, `scopes[1]` → `scopes`. */
export function fieldOf(error: unknown): string | undefined {
  if (!(error instanceof ApiError) || error.field === undefined) return undefined;
  return error.field.split(/[.[]/)[0];
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
