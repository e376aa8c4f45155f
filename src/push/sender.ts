// Sends one signed webhook request and classifies the outcome: delivered, retry later (network
// errors, timeouts, 5xx, 408, 429) or give up on this batch (any other 4xx, refused target).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkWebhookUrl, guardedLookup, TargetRefused } from './address-policy.js';

export type SendOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; reason: string; retryAfterMs: number | null }
  | { kind: 'failed'; reason: string };

export interface SendOptions {
  allowPrivate: boolean;
  timeoutMs: number;
}

/** Reads Retry-After as seconds or an HTTP date. */
function retryAfterMs(value: string | string[] | undefined): number | null {
  if (typeof value !== 'string') return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

export function sendWebhook(url: string, headers: Record<string, string>, body: string, options: SendOptions): Promise<SendOutcome> {
  let target: URL;
  try {
    target = checkWebhookUrl(url, options.allowPrivate);
  } catch (error) {
    return Promise.resolve({ kind: 'failed', reason: (error as Error).message });
  }
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Keyward-Webhooks/1' },
        lookup: guardedLookup(options.allowPrivate),
        timeout: options.timeoutMs,
      },
      (response) => {
        response.resume(); // the body does not matter; drain it so the socket is freed
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ kind: 'delivered', status });
          else if (status >= 500 || status === 408 || status === 429) {
            resolve({ kind: 'retry', reason: `HTTP ${status}`, retryAfterMs: retryAfterMs(response.headers['retry-after']) });
          } else resolve({ kind: 'failed', reason: `HTTP ${status}` });
        });
        response.on('error', (error) => resolve({ kind: 'retry', reason: error.message, retryAfterMs: null }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)));
    req.on('error', (error) => {
      if (error instanceof TargetRefused) resolve({ kind: 'failed', reason: error.message });
      else resolve({ kind: 'retry', reason: error.message, retryAfterMs: null });
    });
    req.end(body);
  });
}
