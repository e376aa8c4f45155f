// The verify body as SDKs and most clients send it, JSON.stringify's compact text of `{ key }` or
// `{ key, scopes }`, read straight from the request's bytes: no decoding of the whole body, no
// JSON.parse, no member scan (the two names are fixed, so none repeats and none is forbidden), and
// the strings come out flat (a substring of the body text would be a slice, slower to check and
// hash). Any other body (another member, whitespace, an escape, a byte outside printable ASCII,
// any malformation) is left to parseJsonBody, so this answers only where it and JSON.parse agree
// exactly (checked by src/http/compact-verify-body.test.ts). The value still goes through the
// route's schema.

const OPEN = Buffer.from('{"key":"');
const SCOPES = Buffer.from(',"scopes":[');

/** `{ key }` or `{ key, scopes }` when `body` is exactly their compact JSON, else undefined. */
export function readCompactVerifyBody(body: Buffer): { key: string; scopes?: string[] } | undefined {
  if (!bytesAt(body, OPEN, 0)) return undefined;
  const keyEnd = plainStringEnd(body, OPEN.length);
  if (keyEnd === -1) return undefined;
  const last = body.length - 1;
  if (body[last] !== 0x7d) return undefined; // }
  const key = body.toString('latin1', OPEN.length, keyEnd);
  if (keyEnd + 1 === last) return { key };
  if (!bytesAt(body, SCOPES, keyEnd + 1)) return undefined;
  const scopes: string[] = [];
  let i = keyEnd + 1 + SCOPES.length;
  if (body[i] !== 0x5d) {
    // ]: the empty list; else strings separated by commas, then ]
    for (;;) {
      if (body[i] !== 0x22) return undefined;
      const end = plainStringEnd(body, i + 1);
      if (end === -1) return undefined;
      scopes.push(body.toString('latin1', i + 1, end));
      i = end + 1;
      const next = body[i];
      if (next === 0x5d) break;
      if (next !== 0x2c) return undefined;
      i++;
    }
  }
  return i + 1 === last ? { key, scopes } : undefined;
}

function bytesAt(body: Buffer, expected: Buffer, at: number): boolean {
  if (body.length < at + expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (body[at + i] !== expected[i]) return false;
  return true;
}

/** Where the string whose text starts at `from` ends (its closing quote), if every byte before it
 * is printable ASCII other than a backslash: then the bytes are the value. Else -1. */
function plainStringEnd(body: Buffer, from: number): number {
  for (let i = from; i < body.length; i++) {
    const c = body[i]!;
    if (c === 0x22) return i;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return -1;
  }
  return -1;
}
