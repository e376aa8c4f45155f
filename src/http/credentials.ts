// Reads the caller's credential from request headers: `Authorization: Bearer <token>`,
// `X-API-Key: <token>`, or `Authorization: Basic base64(keyId:token)` (SmartExtract style) —
// Basic with an identity key's `username:password` works too.
import type { IncomingHttpHeaders } from 'node:http';

export type Credential =
  | { kind: 'token'; token: string; keyId: string | null }
  | { kind: 'identity'; username: string; password: string };

/** null = no credential sent; 'malformed' = a credential header we cannot read. */
export function parseCredential(headers: IncomingHttpHeaders): Credential | null | 'malformed' {
  const authorization = headers.authorization;
  if (authorization !== undefined) return parseAuthorization(authorization);
  const apiKey = headers['x-api-key'];
  if (apiKey === undefined) return null;
  if (typeof apiKey !== 'string' || apiKey.trim() === '') return 'malformed';
  return { kind: 'token', token: apiKey.trim(), keyId: null };
}

export function parseAuthorization(value: string): Credential | 'malformed' {
  const space = value.indexOf(' ');
  if (space === -1) return 'malformed';
  const scheme = value.slice(0, space).toLowerCase();
  const rest = value.slice(space + 1).trim();
  if (rest === '') return 'malformed';
  if (scheme === 'bearer') return { kind: 'token', token: rest, keyId: null };
  if (scheme !== 'basic') return 'malformed';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(rest)) return 'malformed';
  const decoded = Buffer.from(rest, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return 'malformed';
  const user = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  return user.startsWith('key_') ? { kind: 'token', token: secret, keyId: user } : { kind: 'identity', username: user, password: secret };
}
