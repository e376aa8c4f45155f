// POST /v1/keys/verify: public (the token is the credential). An invalid key is a normal 200
// answer with valid:false and a code, never an error.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { responses } from '../http/schemas.js';
import { VerifyBody, VerifyReply } from './schema.js';

export const verifyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // The hot path logs nothing per request (only failures), so it shares the app's logger instead
  // of building a child logger for every request; that child measured ~20% of verify throughput.
  app.setChildLoggerFactory((logger) => logger);

  app.post(
    '/v1/keys/verify',
    {
      schema: {
        tags: ['verify'],
        operationId: 'verifyKey',
        summary: 'Verify a key',
        description: 'Checks, in order: checksum, existence, enabled, expiry, environment, host, scopes, rate limit, quota.',
        body: VerifyBody,
        response: responses({ 200: VerifyReply }, [], { open: true }),
      },
    },
    async (request) => app.services.verify.verify(request.body, request.ip),
  );
};
