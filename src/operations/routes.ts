// Operations: /healthz answers while the process runs; /readyz also checks the database;
// /metrics is Prometheus text, behind admin credentials unless KEYWARD_METRICS_PUBLIC=true.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { responses } from '../http/schemas.js';
import type { Metrics } from '../metrics/metrics.js';

const Health = Type.Object({ status: Type.Literal('ok') });

export interface OperationsOptions {
  metrics: Metrics;
  /** Null when /metrics is public. */
  authenticate: ((request: FastifyRequest) => Promise<unknown>) | null;
}

export const operationsRoutes: FastifyPluginAsyncTypebox<OperationsOptions> = async (app, { metrics, authenticate }) => {
  app.get('/healthz', { schema: { tags: ['operations'], operationId: 'liveness', summary: 'Liveness', response: { 200: Health } } }, async () => ({ status: 'ok' as const }));
  app.get(
    '/readyz',
    { schema: { tags: ['operations'], operationId: 'readiness', summary: 'Readiness (database reachable)', response: responses({ 200: Health }, [503]) } },
    async (request) => {
      try {
        await app.services.storage.ping();
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        throw new AppError('serviceUnavailableError', 503, 'Database unavailable');
      }
      return { status: 'ok' as const };
    },
  );
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        description: 'Needs an admin credential unless KEYWARD_METRICS_PUBLIC=true.',
        response: responses({ 200: Type.String() }),
      },
      onRequest: authenticate === null ? [] : [async (request) => void (await authenticate(request))],
    },
    async (_request, reply) => {
      const text = await metrics.render();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
};
