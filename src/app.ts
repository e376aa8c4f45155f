// Builds the Fastify app from a config: storage, counters, cache, writers and services once,
// then plugins and routes in one flat list. Never listens (main.ts and tests decide how to serve).
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ValidateFunction } from 'ajv';
import { AppError, validationError } from './errors.js';
import { fastVerify, VERIFY_PATH } from './http/fast-verify.js';
import { VerifyBody } from './verify/schema.js';
import { migrate, openStorage, type Storage } from './storage/storage.js';
import { checkMasterKey, loadMasterKey } from './secrets/master-key.js';
import { embeddedCounters } from './counters/embedded.js';
import { sqlCounters } from './counters/sql.js';
import { RedisCounters } from './counters/redis.js';
import type { Counters } from './counters/counters.js';
import { RedisBus } from './cluster/redis-bus.js';
import { PostgresBus } from './cluster/postgres-bus.js';
import { ClusterInvalidation } from './verify/invalidation.js';
import type { KeyInvalidation } from './verify/cache.js';
import { KeyCache } from './verify/cache.js';
import { UsageWriter } from './verify/usage-writer.js';
import { VerifyService } from './verify/service.js';
import { UsageLogWriter } from './logs/writer.js';
import { scheduleRetention } from './logs/retention.js';
import { PushDispatcher } from './push/dispatcher.js';
import { Metrics } from './metrics/metrics.js';
import { KeyService } from './keys/service.js';
import { ProjectService } from './projects/service.js';
import { AccountService } from './accounts/service.js';
import { LogService } from './logs/service.js';
import { AuditService } from './audit/service.js';
import { PushService } from './push/service.js';
import { LeakService } from './leaks/service.js';
import { AdminAuthenticator } from './http/admin-auth.js';
import { registerErrorHandling, sendError } from './http/error-handler.js';
import { parseJsonBody } from './http/json-body.js';
import { validatorCompiler } from './http/validation.js';
import { ErrorEnvelope } from './http/schemas.js';
import type { Services } from './http/types.js';
import { operationsRoutes } from './operations/routes.js';
import { verifyRoutes } from './verify/routes.js';
import { workspaceRoutes } from './workspaces/routes.js';
import { projectRoutes } from './projects/routes.js';
import { accountRoutes } from './accounts/routes.js';
import { keyRoutes } from './keys/routes.js';
import { logRoutes } from './logs/routes.js';
import { auditRoutes } from './audit/routes.js';
import { pushRoutes } from './push/routes.js';
import { leakRoutes } from './leaks/routes.js';
import { authRoutes } from './auth/routes.js';
import { forwardAuthRoutes } from './verify/forward-auth.js';
import { SessionService } from './auth/service.js';
import { registerDashboard, type Dashboard } from './http/dashboard.js';

export const BODY_LIMIT_BYTES = 64 * 1024;

export function storageOptions(config: Config) {
  return { dataDir: config.dataDir, databaseUrl: config.databaseUrl, schema: config.databaseSchema, poolSize: config.databasePoolSize };
}

export interface BuildOptions {
  /** Injected time source (tests move time forward to expire keys and refill quotas). */
  clock?: () => number;
  /** Use this storage instead of opening the one the config names. */
  storage?: Storage;
  /** Dispatcher tuning (tests shorten retry delays). */
  push?: { retryBaseMs?: number; tickMs?: number; timeoutMs?: number; batchSize?: number };
}

export interface Built {
  app: FastifyInstance;
  services: Services;
  cache: KeyCache;
  usage: UsageWriter;
  logs: UsageLogWriter;
  dispatcher: PushDispatcher;
  metrics: Metrics;
  /** Cross-node invalidation (null for a single embedded node). */
  cluster: ClusterInvalidation | null;
  counters: Counters;
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<Built> {
  const clock = options.clock ?? Date.now;
  const storage = options.storage ?? openStorage(storageOptions(config));
  let masterKey: Buffer;
  try {
    await migrate(storage);
    masterKey = loadMasterKey(config.masterKey, config.dataDir);
    await checkMasterKey(storage.db, masterKey);
  } catch (error) {
    if (options.storage === undefined) await storage.close();
    throw error;
  }
  const { db } = storage;

  // The verify hot path answers in front of Fastify (src/http/fast-verify.ts) once it is wired below.
  let entry: ((request: IncomingMessage, response: ServerResponse) => void) | null = null;
  let fastifyHandler: ((request: IncomingMessage, response: ServerResponse) => void) | null = null;
  const app = Fastify({
    serverFactory: (handler, options) => {
      fastifyHandler = handler;
      const server = createServer((request, response) => (entry ?? handler)(request, response));
      // What Fastify sets on the servers it creates itself (its defaults filled in by then).
      const timeouts = options as { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number };
      server.keepAliveTimeout = timeouts.keepAliveTimeout ?? 72_000;
      server.requestTimeout = timeouts.requestTimeout ?? 0;
      server.setTimeout(timeouts.connectionTimeout ?? 0);
      return server;
    },
    logger:
      config.logLevel === 'silent'
        ? false
        : { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers["proxy-authorization"]'] },
    // Admin calls are logged; the verify hot path, probes and docs are not (they would drown the log).
    logController: new LogController({
      disableRequestLogging: (request) => !request.url.startsWith('/v1/') || request.url.startsWith('/v1/keys/verify'),
    }),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy,
    // Closing is answered below with our own envelope (Fastify's 503 body is not it).
    return503OnClosing: false,
    // Malformed URLs and over-long path parameters get the same envelope as every other error.
    frameworkErrors: (error, request, reply) => {
      void sendError(error, request, reply);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  const logError = (message: string) => (error: unknown) => app.log.error({ err: error }, message);

  // What varies with the deployment: where counters live and how caches hear of changes.
  //   embedded (SQLite):           quota in the database (charged by its writer thread), rate limits in memory, no bus
  //   PostgreSQL without Redis:    both in the database (exact across nodes), LISTEN/NOTIFY
  //   Redis (with any database):   both in Redis (atomic scripts), Redis pub/sub
  const cache = new KeyCache({ maxEntries: config.keyCacheMaxEntries, ttlMs: config.keyCacheTtlMs });
  const counters: Counters =
    config.redisUrl !== undefined
      ? new RedisCounters(db, { url: config.redisUrl, prefix: config.redisPrefix, flushIntervalMs: config.usageFlushIntervalMs, onError: logError('redis counter write-back failed') })
      : storage.dialect === 'postgres'
        ? sqlCounters(db, logError('rate-limit reset failed'))
        : embeddedCounters(db, storage.chargeQuota?.bind(storage));
  const bus =
    config.redisUrl !== undefined
      ? new RedisBus(config.redisUrl, config.redisPrefix, logError('redis invalidation channel error'))
      : storage.postgres !== undefined
        ? new PostgresBus(db, storage.postgres.connectionString, storage.postgres.schema, logError('postgres invalidation channel error'))
        : null;
  const cluster =
    bus === null
      ? null
      : new ClusterInvalidation(cache, bus, {
          fallbackTtlMs: config.clusterFallbackTtlMs,
          onConnectionChange: (connected) =>
            connected ? app.log.info('invalidation channel up') : app.log.warn('invalidation channel down: caching briefly until it is back'),
        });
  if (cluster !== null) await cluster.start();
  const invalidation: KeyInvalidation = cluster ?? cache;
  const usage = new UsageWriter(storage, { flushIntervalMs: config.usageFlushIntervalMs, onError: logError('usage write-behind failed; will retry') });
  const dispatcher = new PushDispatcher({
    db,
    dialect: storage.dialect,
    masterKey,
    clock,
    allowPrivate: config.webhookAllowPrivate,
    timeoutMs: config.pushTimeoutMs,
    leaseMs: 3 * config.pushTimeoutMs,
    ...options.push,
    onError: logError('push dispatch failed'),
  });
  const logs = new UsageLogWriter(storage, {
    enabled: config.usageLogs,
    flushIntervalMs: config.usageFlushIntervalMs,
    maxBuffered: config.usageLogBuffer,
    onError: logError('usage log write failed; will retry'),
    onFlushed: () => dispatcher.wake(),
  });
  const metrics = new Metrics({ cache, usage, logs, push: dispatcher });

  const verify = new VerifyService({ db, cache, counters, usage, logs, clock, metrics, cacheHintMs: config.verifyCacheHintMs });
  const services: Services = {
    storage,
    verify,
    keys: new KeyService({ db, readDb: storage.readDb, countNameMatches: storage.countNameMatches, dialect: storage.dialect, clock, invalidation, counters, masterKey }),
    projects: new ProjectService({ db, clock, invalidation }),
    accounts: new AccountService({ db, clock, invalidation }),
    logs: new LogService({ db, readDb: storage.readDb, clock }),
    audit: new AuditService({ db }),
    push: new PushService({ db, dialect: storage.dialect, clock, masterKey, allowPrivate: config.webhookAllowPrivate, wake: () => dispatcher.wake() }),
    leaks: new LeakService({ db, clock, invalidation }),
  };
  const sessions = new SessionService(db, { ttlMs: config.sessionTtlMs, clock });
  const auth = new AdminAuthenticator(db, verify, config.rootKey, sessions);

  app.setValidatorCompiler(validatorCompiler);
  // JSON only (anything else is 415), parsed strictly; an empty body means "no body" (DELETE and
  // POST clients often send the content type anyway).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    const parsed = parseJsonBody(body as string);
    if ('error' in parsed) return done(validationError(parsed.field, parsed.error));
    done(null, parsed.value);
  });
  app.addSchema(ErrorEnvelope);
  let dashboard: Dashboard | null = null;
  registerErrorHandling(app, () => dashboard);
  app.decorate('services', services);
  app.decorateRequest('actor', null as never);
  // Once close() starts, requests still arriving on open connections get a 503 telling the client to
  // retry (another node, or this one after its restart), and the connection is closed.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    void reply.header('connection', 'close');
    done(new AppError('serviceUnavailableError', 503, 'Keyward is shutting down; retry shortly', undefined, { 'retry-after': '1' }));
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.request(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode);
  });
  entry = fastVerify(
    {
      verify,
      validate: validatorCompiler({ schema: VerifyBody, method: 'POST', url: VERIFY_PATH, httpPart: 'body' }) as ValidateFunction,
      bodyLimit: BODY_LIMIT_BYTES,
      trustProxy: config.trustProxy,
      log: app.log,
      countRequest: metrics.requestCounter('POST', VERIFY_PATH),
      closing: () => closing,
    },
    fastifyHandler!,
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Keyward',
        version: '1',
        description: 'API key management: create, scope, limit, rotate, revoke and verify API keys.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An admin-scoped key, or KEYWARD_ROOT_KEY' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          basicAuth: { type: 'http', scheme: 'basic', description: 'keyId as user, token as password' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url }) => ({ schema: documentedSchema(schema), url }),
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  await app.register(operationsRoutes, { metrics, authenticate: config.metricsPublic ? null : (request) => auth.authenticate(request) });
  await app.register(verifyRoutes);
  await app.register(forwardAuthRoutes);
  await app.register(authRoutes, { sessions, secureCookies: config.secureCookies });
  dashboard = await registerDashboard(app);
  await app.register(async (admin) => {
    admin.addHook('onRequest', async (request) => {
      request.actor = await auth.authenticate(request);
    });
    await admin.register(workspaceRoutes);
    await admin.register(projectRoutes);
    await admin.register(accountRoutes);
    await admin.register(keyRoutes);
    await admin.register(logRoutes);
    await admin.register(auditRoutes);
    await admin.register(pushRoutes);
    await admin.register(leakRoutes);
  });

  dispatcher.start();
  const stopRetention = scheduleRetention(db, config.logRetentionDays, clock, logError('log retention failed'));
  const pruneSessions = setInterval(() => void sessions.prune().catch(logError('session pruning failed')), 3_600_000);
  pruneSessions.unref();
  app.addHook('onClose', async () => {
    stopRetention();
    clearInterval(pruneSessions);
    await dispatcher.stop();
    await cluster?.close();
    await usage.close();
    await logs.close();
    await counters.close();
    await storage.close();
  });
  return { app, services, cache, usage, logs, dispatcher, metrics, cluster, counters };
}

/**
 * The route schema as the OpenAPI document shows it: a query parameter with a default is optional
 * to the caller (validation fills it in), so it is not listed as required.
 */
function documentedSchema<T>(schema: T): T {
  const querystring = (schema as { querystring?: { properties?: Record<string, { default?: unknown }>; required?: string[] } } | undefined)?.querystring;
  if (querystring?.required === undefined || querystring.properties === undefined) return schema;
  const properties = querystring.properties;
  const required = querystring.required.filter((name) => properties[name]?.default === undefined);
  return { ...schema, querystring: { ...querystring, required } };
}
