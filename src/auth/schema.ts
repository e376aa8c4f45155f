// Schemas of the dashboard's session endpoints (/v1/auth/*).
import { Type, type Static } from '@sinclair/typebox';
import { StringEnum, Timestamp } from '../http/schemas.js';
import { ROLES } from '../domain/permissions.js';

export const LoginBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export type LoginBodyType = Static<typeof LoginBody>;

export const Session = Type.Object(
  {
    account: Type.Object(
      { id: Type.String(), email: Type.String(), name: Type.String(), role: StringEnum(ROLES) },
      { additionalProperties: false },
    ),
    workspace: Type.Object({ id: Type.String(), name: Type.String() }, { additionalProperties: false }),
    permissions: Type.Array(Type.String()),
    csrfToken: Type.String({ description: 'Send it as X-CSRF-Token on every POST, PUT, PATCH and DELETE made with this session' }),
    expiresAt: Timestamp,
  },
  { additionalProperties: false, title: 'Session' },
);

export const SessionReply = Type.Object({ session: Session });
