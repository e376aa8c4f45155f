// Express 5: `keyward(options)` gives a factory of route middleware, `guard(route)`; the verified
// key is set as `req.keyward`. Only Express's types are imported: it is no dependency of the SDK.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createGuard, type Guard, type GuardOptions, type RouteOptions, type VerifiedKey } from './core.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by the Keyward middleware: the verified key; null only when failing open. */
      keyward?: VerifiedKey | null;
    }
  }
}

export type KeywardExpress = ((route?: RouteOptions) => RequestHandler) & { guard: Guard };

export function keyward(options: GuardOptions): KeywardExpress {
  const guard = createGuard(options);
  const factory = (route?: RouteOptions): RequestHandler =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      // Express 5 passes a rejected promise to the error handlers itself.
      const outcome = await guard.check(req.headers, route);
      if (!outcome.ok) {
        res.status(outcome.status).set(outcome.headers).json(outcome.body);
        return;
      }
      req.keyward = outcome.key;
      next();
    };
  return Object.assign(factory, { guard });
}

export { createGuard, type CheckResult, type Failure, type Guard, type GuardOptions, type RouteOptions, type VerifiedKey } from './core.js';
