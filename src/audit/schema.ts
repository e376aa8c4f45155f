// Schemas of GET /v1/audit-log.
import { Type, type Static } from '@sinclair/typebox';
import { IdPattern, Nullable, StringEnum, Timestamp } from '../http/schemas.js';

export const ListAuditQuery = Type.Object(
  {
    action: Type.Optional(Type.String({ pattern: '^[a-z_]+\\.[a-z_]+$', maxLength: 64, description: 'e.g. key.created' })),
    actorId: Type.Optional(Type.String({ pattern: IdPattern('acc') })),
    targetType: Type.Optional(StringEnum(['key', 'project', 'account', 'push'] as const)),
    targetId: Type.Optional(Type.String({ maxLength: 64, pattern: '^[a-z]+_[0-9A-Z]{26}$' })),
    projectId: Type.Optional(Type.String({ pattern: IdPattern('proj') })),
    from: Type.Optional(Timestamp),
    to: Type.Optional(Timestamp),
    cursor: Type.Optional(Type.String({ pattern: IdPattern('aud'), description: 'nextCursor of the previous page' })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);
export type ListAuditInput = Static<typeof ListAuditQuery>;

export const AuditEntry = Type.Object(
  {
    id: Type.String(),
    time: Timestamp,
    actor: Type.Object(
      {
        accountId: Nullable(Type.String()),
        credential: StringEnum(['key', 'root', 'session'] as const),
        keyId: Nullable(Type.String({ description: 'The key that authenticated the call (never its secret)' })),
      },
      { additionalProperties: false },
    ),
    action: Type.String(),
    target: Type.Object({ type: Type.String(), id: Type.String() }, { additionalProperties: false }),
    projectId: Nullable(Type.String()),
    changes: Nullable(Type.Record(Type.String(), Type.Object({ before: Type.Unknown(), after: Type.Unknown() }))),
    ip: Nullable(Type.String()),
  },
  { additionalProperties: false, title: 'AuditEntry' },
);
export type AuditEntryResource = Static<typeof AuditEntry>;

export const AuditListReply = Type.Object({ entries: Type.Array(AuditEntry), nextCursor: Nullable(Type.String()) });
