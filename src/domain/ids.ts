// Public ids: a type prefix plus a ULID (48-bit millisecond time + 80 random bits, Crockford base32),
// so ids sort by creation time as strings. Within one millisecond ids are monotonic per process.
import { randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
// The 80 random bits as two 40-bit halves in plain numbers (exact below 2^53): one id per
// verification is minted for the usage log, and BigInt arithmetic cost ~2 µs of that.
const HALF = 2 ** 40;

interface Monotonic {
  time: number;
  high: number;
  low: number;
}
/** Per id kind, so ids minted for other times in between (e.g. usage events stamped with their
 * verification time) do not break the order of, say, audit entries made in one millisecond. */
const states = new Map<string, Monotonic>();

/** Random bytes drawn 4 KB at a time: a `randomBytes(10)` call costs ~5 µs, more than the rest of
 * an id, and ids for the usage log are minted by the thousand (each new millisecond takes 10 bytes;
 * the ids are public, so bytes waiting here for later ids reveal nothing secret). */
const pool = Buffer.alloc(4_090);
let poolOffset = pool.length;

/** Two base32 digits for every 10-bit value. */
const PAIRS = Array.from({ length: 1024 }, (_, value) => CROCKFORD[value >> 5]! + CROCKFORD[value & 31]!);

/** `length` (even) Crockford base32 digits of `value` (an integer below 2^53), most significant first. */
function encodeBase32(value: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 2) {
    const pair = value % 1024;
    out = PAIRS[pair]! + out;
    value = (value - pair) / 1024;
  }
  return out;
}

/** The 26 characters of a ULID: 10 for the time, 16 for the random part (high then low half). */
export function encodeUlid(time: number, high: number, low: number): string {
  return encodeBase32(time, 10) + encodeBase32(high, 8) + encodeBase32(low, 8);
}

/** A ULID for the given time. Same-millisecond calls (per `stream`) increment the random part so order is kept. */
export function ulid(now: number = Date.now(), stream = ''): string {
  let state = states.get(stream);
  if (state === undefined) states.set(stream, (state = { time: -1, high: 0, low: 0 }));
  if (now === state.time && !(state.high === HALF - 1 && state.low === HALF - 1)) {
    state.low++;
    if (state.low === HALF) {
      state.low = 0;
      state.high++;
    }
  } else {
    [state.high, state.low] = randomHalves();
  }
  state.time = now;
  return encodeUlid(now, state.high, state.low);
}

/** The random part of a ULID as two 40-bit halves, for a run of `count` ids that share it: the
 * low half leaves room to add 0 .. count - 1 to it without a carry (usage-log chunks derive each
 * entry's id that way, see storage/usage-chunk.ts). */
export function randomUlidParts(count: number): [high: number, low: number] {
  const [high, low] = randomHalves();
  return [high, low % (HALF - count)];
}

/** 80 random bits from the pool, as two 40-bit halves. */
function randomHalves(): [high: number, low: number] {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const high = pool.readUIntBE(poolOffset, 5);
  const low = pool.readUIntBE(poolOffset + 5, 5);
  poolOffset += 10;
  return [high, low];
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
