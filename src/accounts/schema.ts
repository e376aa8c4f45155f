// Request and response schemas of the account (member) routes.
import { Type, type Static } from '@sinclair/typebox';
import { ROLES } from '../domain/permissions.js';
import { IdPattern, StringEnum, Timestamp } from '../http/schemas.js';

const Email = Type.String({ format: 'email', maxLength: 254 });
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001F\\u007F-\\u009F]*$' });
const Role = StringEnum(ROLES);
const Password = Type.String({ minLength: 10, maxLength: 200, description: 'Write-only; for dashboard login' });

export const AccountIdParams = Type.Object({ accountId: Type.String({ pattern: IdPattern('acc') }) }, { additionalProperties: false });

export const CreateAccountBody = Type.Object(
  { email: Email, name: Name, role: Role, password: Type.Optional(Password) },
  { additionalProperties: false },
);
export type CreateAccountInput = Static<typeof CreateAccountBody>;

export const UpdateAccountBody = Type.Object(
  {
    email: Type.Optional(Email),
    name: Type.Optional(Name),
    role: Type.Optional(Role),
    password: Type.Optional(Password),
    currentPassword: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Required with `password` when a dashboard session changes its own password' }),
    ),
  },
  { additionalProperties: false },
);
export type UpdateAccountInput = Static<typeof UpdateAccountBody>;

export const Account = Type.Object(
  { id: Type.String(), email: Type.String(), name: Type.String(), role: Role, createdAt: Timestamp, updatedAt: Timestamp },
  { additionalProperties: false, title: 'Account' },
);
export type AccountResource = Static<typeof Account>;

export const AccountReply = Type.Object({ account: Account });
export const AccountListReply = Type.Object({ accounts: Type.Array(Account) });
