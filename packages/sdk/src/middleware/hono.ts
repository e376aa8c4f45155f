// Hono 4 (on Node: the check hashes with node:crypto): `keyward(options)` gives a factory of
// middleware, `guard(route)`; the verified key is `c.get('keyward')`. Only Hono's types are
// imported: it is no dependency of the SDK.
import type { MiddlewareHandler } from 'hono';
import { createGuard, type Guard, type GuardOptions, type RouteOptions, type VerifiedKey } from './core.js';

/** For `new Hono<KeywardEnv>()`: types `c.get('keyward')`. */
export interface KeywardEnv {
  Variables: {
    /** The verified key; null only when failing open. */
    keyward: VerifiedKey | null;
  };
}

export type KeywardHono = ((route?: RouteOptions) => MiddlewareHandler<KeywardEnv>) & { guard: Guard };

export function keyward(options: GuardOptions): KeywardHono {
  const guard = createGuard(options);
  const factory =
    (route?: RouteOptions): MiddlewareHandler<KeywardEnv> =>
    async (c, next) => {
      const outcome = await guard.check(c.req.raw.headers, route);
      if (!outcome.ok) {
        return new Response(JSON.stringify(outcome.body), {
          status: outcome.status,
          headers: { ...outcome.headers, 'content-type': 'application/json; charset=utf-8' },
        });
      }
      c.set('keyward', outcome.key);
      await next();
    };
  return Object.assign(factory, { guard });
}

export { createGuard, type CheckResult, type Failure, type Guard, type GuardOptions, type RouteOptions, type VerifiedKey } from './core.js';
