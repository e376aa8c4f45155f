// POST /v1/keys/verify without Fastify's per-request machinery: the hot path every request of our
// users' APIs goes through. It runs in front of Fastify's handler on the same server and answers
// exactly as the Fastify route would (the same JSON parser, or for the common compact body a reader
// giving the same value; the same compiled body schema, error envelope and headers); anything out
// of the ordinary (another content type, no Content-Length, a body over the limit, a node shutting
// down) is handed to Fastify untouched, before the body is read, so those answers stay Fastify's.
// Parity is checked by src/http/fast-verify.test.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { ValidateFunction } from 'ajv';
import { validationError } from '../errors.js';
import { envelope, toAppError } from './error-handler.js';
import { readCompactVerifyBody } from './compact-verify-body.js';
import { parseJsonBody } from './json-body.js';
import { validationErrorFrom } from './validation.js';
import type { VerifyRequest, VerifyResult, VerifyService } from '../verify/service.js';

export const VERIFY_PATH = '/v1/keys/verify';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export interface FastVerifyDeps {
  verify: VerifyService;
  /** The route's body validator (the same compiled schema Fastify uses). */
  validate: ValidateFunction;
  bodyLimit: number;
  trustProxy: boolean;
  log: FastifyBaseLogger;
  /** Counts the request like Fastify's onResponse hook does for every other route. */
  countRequest(status: number): void;
  /** True once the server is closing: Fastify answers then (503 with our envelope). */
  closing(): boolean;
}

const JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8']);

/** A request handler answering verify calls itself and passing everything else to `next` (Fastify). */
export function fastVerify(deps: FastVerifyDeps, next: Handler): Handler {
  return (request, response) => {
    if (request.method !== 'POST' || request.url !== VERIFY_PATH || deps.closing()) return next(request, response);
    const headers = request.headers;
    const type = headers['content-type'];
    const length = headers['content-length'];
    if (type === undefined || (type !== 'application/json' && !JSON_TYPES.has(type.toLowerCase())) || length === undefined || headers['transfer-encoding'] !== undefined) {
      return next(request, response);
    }
    const expected = Number(length);
    if (!(expected > 0 && expected <= deps.bodyLimit)) return next(request, response);

    // A body mostly comes in one chunk: the array is made for a second one only. An aborted
    // request needs no 'error' listener (IncomingMessage emits 'error' only to listeners) and
    // gets no answer ('end' never comes).
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      if (first === undefined) first = chunk;
      else (more ??= [first]).push(chunk);
      received += chunk.length;
    });
    request.on('end', () => {
      if (received !== expected) return fail(deps, response, validationError('body', 'Content-Length does not match the body'));
      const bytes = more === undefined ? first! : Buffer.concat(more);
      let body: unknown = readCompactVerifyBody(bytes);
      if (body === undefined) {
        const parsed = parseJsonBody(bytes.toString('utf8'));
        if ('error' in parsed) return fail(deps, response, validationError(parsed.field, parsed.error));
        body = parsed.value;
      }
      if (!deps.validate(body)) return fail(deps, response, validationErrorFrom(deps.validate.errors ?? [], 'body'));
      let decided: VerifyResult | Promise<VerifyResult>;
      try {
        decided = deps.verify.verifyNow(body as VerifyRequest, clientIp(request, deps.trustProxy));
      } catch (error) {
        return failWith(deps, response, error);
      }
      const answer = (result: VerifyResult) => send(deps, response, 200, replyText(result));
      if (!(decided instanceof Promise)) return answer(decided);
      decided.then(answer, (error: unknown) => failWith(deps, response, error));
    });
  };
}

/** The reply as VerifyReply declares it, as JSON (without the in-process fields, which Fastify's
 * serializer would drop). The key part is the same for every answer about a key: it is
 * serialised once per cached record. `code` is one of the VerifyCode names, `cacheForMs` a whole
 * number: neither needs escaping. */
function replyText(result: VerifyResult): string {
  let text = `{"valid":${result.valid},"code":"${result.code}"`;
  if (result.key !== undefined) {
    const record = result.record;
    const key = record === undefined || record.reply !== result.key ? JSON.stringify(result.key) : (record.replyJson ??= JSON.stringify(record.reply));
    text += `,"key":${key}`;
  }
  if (result.missingScopes !== undefined) text += `,"missingScopes":${JSON.stringify(result.missingScopes)}`;
  if (result.usage !== undefined) text += `,"usage":${JSON.stringify(result.usage)}`;
  if (result.rateLimit !== undefined) text += `,"rateLimit":${JSON.stringify(result.rateLimit)}`;
  if (result.cacheForMs !== undefined) text += `,"cacheForMs":${result.cacheForMs}`;
  return `${text}}`;
}

/** Fastify's request.ip: the socket's address, or with trustProxy the client's as X-Forwarded-For names it. */
function clientIp(request: IncomingMessage, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = request.headers['x-forwarded-for'];
    if (typeof forwarded === 'string' && forwarded !== '') {
      const first = forwarded.split(',')[0]!.trim();
      if (first !== '') return first;
    }
  }
  return request.socket.remoteAddress ?? null;
}

function failWith(deps: FastVerifyDeps, response: ServerResponse, error: unknown): void {
  fail(deps, response, error instanceof Error ? error : new Error(String(error)));
}

function fail(deps: FastVerifyDeps, response: ServerResponse, error: Error): void {
  const appError = toAppError(error);
  if (appError.status >= 500) deps.log.error({ err: error }, 'request failed');
  if (appError.headers !== undefined) for (const [name, value] of Object.entries(appError.headers)) response.setHeader(name, value);
  send(deps, response, appError.status, JSON.stringify(envelope(appError)));
}

function send(deps: FastVerifyDeps, response: ServerResponse, status: number, body: string): void {
  deps.countRequest(status);
  if (response.destroyed) return;
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
