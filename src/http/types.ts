// What the app hangs on Fastify: the services (built once in app.ts) and the caller of an admin
// request (set by the admin guard; only admin-scope routes read it).
import type { Actor } from '../domain/actor.js';
import type { KeyService } from '../keys/service.js';
import type { ProjectService } from '../projects/service.js';
import type { AccountService } from '../accounts/service.js';
import type { VerifyService } from '../verify/service.js';
import type { Storage } from '../storage/storage.js';
import type { LogService } from '../logs/service.js';
import type { AuditService } from '../audit/service.js';
import type { PushService } from '../push/service.js';
import type { LeakService } from '../leaks/service.js';

export interface Services {
  storage: Storage;
  keys: KeyService;
  projects: ProjectService;
  accounts: AccountService;
  verify: VerifyService;
  logs: LogService;
  audit: AuditService;
  push: PushService;
  leaks: LeakService;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
  interface FastifyRequest {
    actor: Actor;
  }
}

/** Security requirement of every admin route, for the OpenAPI document. */
export const ADMIN_SECURITY: readonly Record<string, readonly string[]>[] = [{ bearerAuth: [] }, { apiKeyHeader: [] }, { basicAuth: [] }];
