// node:http: `protect(handler, route)` wraps a request handler, and `middleware(route)` is a
// connect-style `(req, res, next)` function. The verified key is set as `req.keyward`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGuard, type CheckResult, type Failure, type Guard, type GuardOptions, type RouteOptions, type VerifiedKey } from './core.js';

export type KeywardRequest = IncomingMessage & {
  /** The verified key; null only when Keyward was unreachable and `failOpen` let the request through. */
  keyward: VerifiedKey | null;
};

export interface NodeKeyward {
  guard: Guard;
  /** Runs `handler` only for requests whose key passes; others get the error envelope. */
  protect<R extends ServerResponse>(
    handler: (req: KeywardRequest, res: R) => unknown,
    route?: RouteOptions,
  ): (req: IncomingMessage, res: R) => Promise<void>;
  /** `(req, res, next)`: calls `next()` when the key passes, `next(error)` if the check itself threw. */
  middleware(route?: RouteOptions): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;
}

/** Writes a refusal: its status, headers and JSON envelope. */
export function sendFailure(res: ServerResponse, failure: Failure): void {
  const body = JSON.stringify(failure.body);
  res.writeHead(failure.status, { ...failure.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function admit(req: IncomingMessage, res: ServerResponse, outcome: CheckResult): req is KeywardRequest {
  if (!outcome.ok) {
    sendFailure(res, outcome);
    return false;
  }
  (req as KeywardRequest).keyward = outcome.key;
  return true;
}

export function keyward(options: GuardOptions): NodeKeyward {
  const guard = createGuard(options);
  return {
    guard,
    protect: (handler, route) => async (req, res) => {
      if (admit(req, res, await guard.check(req.headers, route))) await handler(req, res);
    },
    middleware: (route) => (req, res, next) => {
      guard.check(req.headers, route).then(
        (outcome) => {
          if (admit(req, res, outcome)) next();
        },
        (error: unknown) => next(error),
      );
    },
  };
}

export { createGuard, type CheckResult, type Failure, type Guard, type GuardOptions, type RouteOptions, type VerifiedKey } from './core.js';
