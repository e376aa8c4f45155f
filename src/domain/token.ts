// The token format: `<prefix>_<env>_<body>` where body = 29 random base62 chars + 6-char base62 CRC32
// of everything before it (35 chars, as SensorsData's keys). The checksum lets anyone reject a
// mistyped or made-up token without a database look-up and lets secret scanners recognise ours.
import { hash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const ENVIRONMENTS = ['live', 'test'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 29 base62 chars carry 29 * log2(62) ≈ 172.7 bits of randomness (≥ 128 required). */
export const RANDOM_LENGTH = 29;
export const CHECKSUM_LENGTH = 6; // 62^6 > 2^32, so any CRC32 fits
export const BODY_LENGTH = RANDOM_LENGTH + CHECKSUM_LENGTH;
/** Characters of the body kept for display after the `<prefix>_<env>_` part. */
const START_BODY_CHARS = 4;

/** Project key prefixes: lowercase, start with a letter, no `_` (it separates the parts). */
export const PREFIX_PATTERN = '^[a-z][a-z0-9]{1,15}$';
const PREFIX_REGEX = new RegExp(PREFIX_PATTERN);
export const DEFAULT_PREFIX = 'kw';

/** The shape of a token, as isWellFormedToken checks it. */
export const TOKEN_PATTERN = '^[a-z][a-z0-9]{1,15}_(?:live|test)_[0-9A-Za-z]{35}$';

export function isValidPrefix(prefix: string): boolean {
  return PREFIX_REGEX.test(prefix);
}

/** Fixed-width base62 of a non-negative integer below 62^width. */
export function base62Fixed(value: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = BASE62[value % 62]! + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** Uniform random base62 string (rejection sampling: bytes ≥ 248 would bias `% 62`). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(length * 2);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const byte = bytes[i]!;
      if (byte < 248) out += BASE62[byte % 62];
    }
  }
  return out;
}

export function checksumOf(payload: string): string {
  return base62Fixed(crc32(payload), CHECKSUM_LENGTH);
}

export function generateToken(prefix: string, environment: Environment): string {
  if (!isValidPrefix(prefix)) throw new Error(`invalid key prefix: ${prefix}`);
  const payload = `${prefix}_${environment}_${randomBase62(RANDOM_LENGTH)}`;
  return payload + checksumOf(payload);
}

/** True for a well-formed token whose checksum matches; no I/O. Verify asks this of every token it
 * is shown, so the shape (TOKEN_PATTERN) is checked by hand, in the pass that computes the
 * checksum, and the checksum is compared as a number (no regex, no substrings, no call into zlib). */
export function isWellFormedToken(token: string): boolean {
  const length = token.length;
  // `<prefix>_<env>_<body>`: the prefix is 2 to 16 characters, `_live_` or `_test_` is 6.
  const prefixLength = length - 6 - BODY_LENGTH;
  if (prefixLength < 2 || prefixLength > 16) return false;
  if (token.charCodeAt(prefixLength) !== 0x5f || token.charCodeAt(prefixLength + 5) !== 0x5f) return false;
  if (!isEnvironmentAt(token, prefixLength + 1)) return false;
  let c = -1; // CRC-32 of everything before the checksum, as zlib's crc32
  for (let i = 0; i < prefixLength; i++) {
    const code = token.charCodeAt(i);
    if (code >= 128 || (CHAR_CLASS[code]! & (i === 0 ? LOWER : LOWER | DIGIT)) === 0) return false;
    c = CRC_TABLE[(c ^ code) & 0xff]! ^ (c >>> 8);
  }
  for (let i = prefixLength; i < prefixLength + 6; i++) c = CRC_TABLE[(c ^ token.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  const split = length - CHECKSUM_LENGTH;
  for (let i = prefixLength + 6; i < split; i++) {
    const code = token.charCodeAt(i);
    if (code >= 128 || CHAR_CLASS[code] === 0) return false;
    c = CRC_TABLE[(c ^ code) & 0xff]! ^ (c >>> 8);
  }
  let written = 0;
  for (let i = split; i < length; i++) {
    const code = token.charCodeAt(i);
    if (code >= 128 || CHAR_CLASS[code] === 0) return false;
    written = written * 62 + BASE62_VALUE[code]!;
  }
  return written === (c ^ -1) >>> 0;
}

/** `live` or `test` at `at`. */
function isEnvironmentAt(token: string, at: number): boolean {
  const a = token.charCodeAt(at);
  const b = token.charCodeAt(at + 1);
  const c = token.charCodeAt(at + 2);
  const d = token.charCodeAt(at + 3);
  return (a === 0x6c && b === 0x69 && c === 0x76 && d === 0x65) || (a === 0x74 && b === 0x65 && c === 0x73 && d === 0x74);
}

const LOWER = 1;
const DIGIT = 2;
const UPPER = 4;
/** Which of the token's character classes each ASCII code is in (0: none of them). */
const CHAR_CLASS = new Uint8Array(128);
for (let code = 0x61; code <= 0x7a; code++) CHAR_CLASS[code] = LOWER;
for (let code = 0x30; code <= 0x39; code++) CHAR_CLASS[code] = DIGIT;
for (let code = 0x41; code <= 0x5a; code++) CHAR_CLASS[code] = UPPER;

/** Each base62 digit's value, by character code. */
const BASE62_VALUE = new Uint8Array(128);
for (let i = 0; i < BASE62.length; i++) BASE62_VALUE[BASE62.charCodeAt(i)] = i;

/** The CRC-32 table (IEEE polynomial, as zlib's crc32). */
const CRC_TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c;
}

/** What we store instead of the token. Tokens carry ≥ 128 random bits, so a fast hash is enough. */
export function hashToken(token: string): string {
  // The one-shot form: no Hash object per call.
  return hash('sha256', token, 'hex');
}

/** The same SHA-256 as 32 one-byte characters: verify's name for a token in its cache (half the
 * hex digest's length: cheaper to make, to hash as a map key and to keep). */
export function tokenDigest(token: string): string {
  return hash('sha256', token, 'binary'); // 'binary' is latin1: one character per byte
}

/** hashToken's text of a tokenDigest: what the database has. */
export function digestHex(digest: string): string {
  return Buffer.from(digest, 'latin1').toString('hex');
}

/** The displayable beginning of a token: `kw_live_3fA9`. */
export function tokenStart(token: string): string {
  const bodyAt = token.lastIndexOf('_') + 1;
  return token.slice(0, bodyAt + START_BODY_CHARS);
}

/** Identity keys (AceData "Identity", for proxies) get a username; their password is a token. */
export function generateUsername(prefix: string): string {
  return `${prefix}u${randomBase62(20)}`;
}
