// Heap per cached key, measured exactly where the server can only be measured roughly: the real
// KeyCache filled with real KeyRecords (loadKeyRecord) from a seeded store, heap used after full
// collections before and after. The cache is what a verified key leaves behind in the server; the
// write-behind buffers are emptied every second. Run by bench/scale.ts as
// `node --expose-gc --import tsx bench/cache-memory.ts <dataDir> <tokens.json>`; prints JSON.
import { readFileSync } from 'node:fs';
import { openSqlite } from '../src/storage/storage.js';
import { KeyCache } from '../src/verify/cache.js';
import { loadKeyRecord } from '../src/verify/record.js';
import { digestHex, tokenDigest } from '../src/domain/token.js';

export interface CacheMemory {
  cachedKeys: number;
  heapUsedBytes: number;
}

const [dataDir, tokensFile] = process.argv.slice(2);
const gc = globalThis.gc;
if (dataDir === undefined || tokensFile === undefined || gc === undefined) {
  throw new Error('usage: node --expose-gc --import tsx bench/cache-memory.ts <dataDir> <tokens.json>');
}
const tokens = JSON.parse(readFileSync(tokensFile, 'utf8')) as string[];
const storage = openSqlite(dataDir);
const cache = new KeyCache({ maxEntries: tokens.length, ttlMs: 3_600_000 });

/** Verify's way in: the digest is made per call, so the cache holds the only reference to it. */
async function fill(from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const digest = tokenDigest(tokens[i]!);
    const record = await loadKeyRecord(storage.db, digestHex(digest));
    if (record === null) throw new Error(`seeded key ${tokens[i]!.slice(0, 12)}… not found`);
    cache.set(digest, record, Date.now(), cache.currentGeneration());
  }
}

function heapUsed(): number {
  gc!();
  gc!(); // a second pass for what the first one only unlinked
  return process.memoryUsage().heapUsed;
}

await fill(0, 1); // compiled code and prepared statements go before the baseline
const before = heapUsed();
await fill(1, tokens.length);
const after = heapUsed();
const result: CacheMemory = { cachedKeys: cache.size - 1, heapUsedBytes: after - before };
await storage.close();
console.log(JSON.stringify(result));
