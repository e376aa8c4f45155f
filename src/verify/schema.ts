// Request and response schemas of POST /v1/keys/verify.
import { Type, type Static } from '@sinclair/typebox';
import { ENVIRONMENTS } from '../domain/token.js';
import { IdPattern, Nullable, StringEnum, Timestamp } from '../http/schemas.js';
import { MAX_COST, Scopes } from '../keys/schema.js';
import { VERIFY_CODES } from './service.js';

export const VerifyBody = Type.Object(
  {
    key: Type.String({ description: 'The token presented to your API, or `username:password` of an identity key' }),
    scopes: Type.Optional(Scopes),
    host: Type.Optional(Type.String({ maxLength: 300, description: 'Host or IP the request came from (checked against the key’s host binding)' })),
    environment: Type.Optional(StringEnum(ENVIRONMENTS, { description: 'Require a key of this environment' })),
    projectId: Type.Optional(Type.String({ pattern: IdPattern('proj'), description: 'Accept only keys of this project' })),
    cost: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_COST, default: 1, description: 'Quota units this call uses' })),
  },
  { additionalProperties: false },
);
export type VerifyInput = Static<typeof VerifyBody>;

export const VerifyReply = Type.Object(
  {
    valid: Type.Boolean(),
    code: StringEnum(VERIFY_CODES),
    key: Type.Optional(
      Type.Object(
        {
          id: Type.String(),
          name: Type.String(),
          projectId: Type.String(),
          accountId: Type.String(),
          environment: StringEnum(ENVIRONMENTS),
          type: StringEnum(['token', 'identity'] as const),
          scopes: Type.Array(Type.String(), { description: 'Scopes the key can use now (its own, bounded by its account and project)' }),
          meta: Nullable(Type.Object({}, { additionalProperties: true })),
          expiresAt: Nullable(Timestamp),
        },
        { additionalProperties: false },
      ),
    ),
    missingScopes: Type.Optional(Type.Array(Type.String())),
    usage: Type.Optional(
      Type.Object(
        {
          limit: Type.Integer(),
          used: Type.Integer(),
          remaining: Type.Integer(),
          refillAt: Type.Optional(Type.String({ format: 'date-time', description: 'When a daily or monthly quota starts again from zero (absent: no refill)' })),
        },
        { additionalProperties: false },
      ),
    ),
    rateLimit: Type.Optional(
      Type.Object({ limit: Type.Integer(), remaining: Type.Integer(), resetAt: Timestamp }, { additionalProperties: false }),
    ),
    cacheForMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'VALID only: how long a client may reuse this answer without asking again (never past the key’s expiry). 0 for keys with a quota or rate limit: every use must reach the server. Absent: do not cache.',
      }),
    ),
  },
  { additionalProperties: false },
);
