// Schemas of the usage-log and usage-aggregate routes.
import { Type, type Static } from '@sinclair/typebox';
import { IdPattern, Nullable, StringEnum, Timestamp } from '../http/schemas.js';
import { VERIFY_CODES } from '../verify/service.js';

export const CursorPattern = '^[0-9]{1,19}\\.[0-9]{1,19}(\\.[0-9]{1,19})?$';

export const ListLogsQuery = Type.Object(
  {
    keyId: Type.Optional(Type.String({ pattern: IdPattern('key') })),
    outcome: Type.Optional(StringEnum(VERIFY_CODES)),
    from: Type.Optional(Timestamp),
    to: Type.Optional(Timestamp),
    cursor: Type.Optional(Type.String({ pattern: CursorPattern, description: 'nextCursor of the previous page' })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);
export type ListLogsInput = Static<typeof ListLogsQuery>;

export const UsageLog = Type.Object(
  {
    id: Type.String(),
    time: Timestamp,
    keyId: Nullable(Type.String()),
    outcome: StringEnum(VERIFY_CODES),
    scopes: Type.Array(Type.String(), { description: 'Scopes the request asked for' }),
    host: Nullable(Type.String()),
    ip: Nullable(Type.String({ description: 'Address of the service that called verify' })),
    cost: Type.Integer(),
    latencyUs: Type.Integer({ description: 'Time spent deciding, in microseconds' }),
  },
  { additionalProperties: false, title: 'UsageLog' },
);
export type UsageLogResource = Static<typeof UsageLog>;

export const LogListReply = Type.Object({
  logs: Type.Array(UsageLog),
  nextCursor: Nullable(Type.String({ description: 'Pass as cursor for the next (older) page; null on the last page' })),
});

export const UsageQuery = Type.Object(
  {
    granularity: StringEnum(['hour', 'day'] as const, { default: 'hour' }),
    from: Type.Optional(Timestamp),
    to: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type UsageInput = Static<typeof UsageQuery>;

export const UsageReply = Type.Object({
  usage: Type.Array(
    Type.Object(
      {
        time: Timestamp,
        total: Type.Integer(),
        outcomes: Type.Record(Type.String(), Type.Integer()),
      },
      { additionalProperties: false },
    ),
  ),
});
