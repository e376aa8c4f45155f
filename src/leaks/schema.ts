// Schemas of POST /v1/leaks.
import { Type } from '@sinclair/typebox';

export const LeakBody = Type.Object(
  { tokens: Type.Array(Type.String({ maxLength: 512 }), { minItems: 1, maxItems: 1000, description: 'Tokens found where they should not be' }) },
  { additionalProperties: false },
);

export const LeakReply = Type.Object({
  revoked: Type.Array(Type.String(), { description: 'Ids of the keys now disabled with reason `leaked`' }),
  alreadyRevoked: Type.Array(Type.String(), { description: 'Ids of keys that were already revoked as leaked' }),
  inactive: Type.Integer({ description: 'Tokens of this workspace that no longer worked (rotated out)' }),
  unknown: Type.Integer({ description: 'Well-formed tokens that match no key of this workspace' }),
  malformed: Type.Integer({ description: 'Strings that are not Keyward tokens (checksum fails)' }),
});
