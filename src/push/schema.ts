// Schemas of the push routes (Supametas "data push").
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum, Timestamp } from '../http/schemas.js';

export const PutPushBody = Type.Object(
  { webhookUrl: Type.String({ minLength: 1, maxLength: 2048, description: 'http:// or https:// address that receives the events' }) },
  { additionalProperties: false },
);

export const RealtimeBody = Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false });

export const Push = Type.Object(
  {
    webhookUrl: Nullable(Type.String()),
    realtime: Type.Boolean({ description: 'Whether new events are being pushed as they happen' }),
    history: Type.Object(
      {
        state: StringEnum(['idle', 'running', 'completed'] as const),
        total: Type.Integer(),
        delivered: Type.Integer(),
        progress: Type.Integer({ minimum: 0, maximum: 100, description: 'Percent of the historical events delivered' }),
      },
      { additionalProperties: false },
    ),
    delivery: Type.Object(
      {
        lastDeliveryAt: Nullable(Timestamp),
        lastError: Nullable(Type.String()),
        failedEvents: Type.Integer({ description: 'Events given up on (the receiver answered 4xx)' }),
        pendingRetry: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, title: 'Push' },
);
export type PushResource = Static<typeof Push>;

export const PushReply = Type.Object({ push: Push });
export const PushWithSecretReply = Type.Object({
  push: Type.Object(
    { ...Push.properties, secret: Type.String({ description: 'Signing secret (whsec_…) for Standard Webhooks verification. Shown once.' }) },
    { additionalProperties: false },
  ),
});
