// HTTP routes of webhook push.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { responses } from '../http/schemas.js';
import { ADMIN_SECURITY } from '../http/types.js';
import { KeyIdParam } from '../keys/schema.js';
import { PushReply, PushWithSecretReply, PutPushBody, RealtimeBody } from './schema.js';

export const pushRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const push = app.services.push;
  const common = { tags: ['push'], security: ADMIN_SECURITY, params: KeyIdParam };

  app.put(
    '/v1/keys/:keyId/push',
    {
      schema: {
        ...common,
        operationId: 'setPushWebhook',
        summary: 'Set the webhook address',
        description: 'Creates or replaces the address and issues a new signing secret (shown only in this reply).',
        body: PutPushBody,
        response: responses({ 200: PushWithSecretReply }, [404]),
      },
    },
    async (request) => ({ push: await push.configure(request.actor, request.params.keyId, request.body.webhookUrl) }),
  );

  app.get(
    '/v1/keys/:keyId/push',
    { schema: { ...common, operationId: 'getPush', summary: 'Push state and progress', response: responses({ 200: PushReply }, [404]) } },
    async (request) => ({ push: await push.get(request.actor, request.params.keyId) }),
  );

  app.delete(
    '/v1/keys/:keyId/push',
    { schema: { ...common, operationId: 'deletePush', summary: 'Remove the webhook and stop every push', response: responses({ 204: Type.Null() }, [404]) } },
    async (request, reply) => {
      await push.remove(request.actor, request.params.keyId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/keys/:keyId/push/realtime',
    {
      schema: {
        ...common,
        operationId: 'setRealtimePush',
        summary: 'Start or stop real-time push',
        description: 'Real-time push sends the project’s events (key lifecycle and usage) as they happen. Needs a webhook address.',
        body: RealtimeBody,
        response: responses({ 200: PushReply }, [404, 409]),
      },
    },
    async (request) => ({ push: await push.setRealtime(request.actor, request.params.keyId, request.body.enabled) }),
  );

  app.post(
    '/v1/keys/:keyId/push/history',
    {
      schema: {
        ...common,
        operationId: 'startHistoryPush',
        summary: 'Start the historical push (once)',
        description: 'Sends every event recorded before real-time push started; progress in `history`. A second start is refused (409).',
        response: responses({ 200: PushReply }, [404, 409]),
      },
    },
    async (request) => ({ push: await push.startHistory(request.actor, request.params.keyId) }),
  );
};
