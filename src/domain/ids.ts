// Public ids: a type prefix plus a ULID (48-bit millisecond time + 80 random bits, Crockford base32),
// so ids sort by creation time as strings. Within one millisecond ids are monotonic per process.
import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_MAX = (1n << 80n) - 1n;

interface Monotonic {
  time: number;
  random: bigint;
}
/** Per id kind, so ids minted for other times in between (e.g. usage events stamped with their
 * verification time) do not break the order of, say, audit entries made in one millisecond. */
const states = new Map<string, Monotonic>();

function encodeBase32(value: bigint, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = CROCKFORD[Number(value & 31n)]! + out;
    value >>= 5n;
  }
  return out;
}

/** A ULID for the given time. Same-millisecond calls (per `stream`) increment the random part so order is kept. */
export function ulid(now: number = Date.now(), stream = ''): string {
  let state = states.get(stream);
  if (state === undefined) states.set(stream, (state = { time: -1, random: 0n }));
  if (now === state.time && state.random < RANDOM_MAX) state.random += 1n;
  else state.random = BigInt('0x' + randomBytes(10).toString('hex'));
  state.time = now;
  return encodeBase32(BigInt(now), 10) + encodeBase32(state.random, 16);
}

export type IdKind = 'ws' | 'acc' | 'proj' | 'key' | 'evt' | 'aud';

export function newId(kind: IdKind, now?: number): string {
  return `${kind}_${ulid(now, kind)}`;
}

const ID_PATTERN = /^(ws|acc|proj|key|evt|aud)_[0-9A-HJKMNP-TV-Z]{26}$/;

/** True when `value` has the shape of an id of that kind (it may still not exist). */
export function isId(kind: IdKind, value: string): boolean {
  const match = ID_PATTERN.exec(value);
  return match !== null && match[1] === kind;
}
