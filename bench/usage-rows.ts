// The usage-log writer's own work per entry, in this process: usageRows() (storage/usage-batch.ts)
// turning a full batch of one key's entries (the one-key verify load's) into its chunk row and
// rollups, which the SQLite writer thread does for every batch before inserting. Not part of
// `npm run bench`; for before/after figures of a change to usageRows.
//
//   npx tsx bench/usage-rows.ts [rounds]
import { UsageBatch, usageRows } from '../src/storage/usage-batch.js';

const ENTRIES = 2_000; // logs/writer.ts's batch
const CALLS = 500;
const rounds = Number(process.argv[2] ?? 5);

const key = { id: 'key_01ARZ3NDEKTSV4RRFFQ69G5FAV', workspaceId: 'wks_01ARZ3NDEKTSV4RRFFQ69G5FAV', projectId: 'prj_01ARZ3NDEKTSV4RRFFQ69G5FAV', accountId: null };
const batch = new UsageBatch(ENTRIES);
const start = Date.now();
// As a busy caller makes them: a few entries per millisecond, latencies of a few microseconds.
for (let i = 0; i < ENTRIES; i++) {
  batch.add({ time: start + Math.floor(i / 3), key, outcome: 'VALID', scopes: ['inference'], host: undefined, ip: '127.0.0.1', cost: 1, latencyUs: 1 + (i % 3) });
}
const message = structuredClone(batch.message); // as the writer thread receives it

for (let round = 0; round < rounds; round++) {
  const started = performance.now();
  let chars = 0;
  for (let i = 0; i < CALLS; i++) chars += usageRows(message).events[0]!.data!.length;
  const microseconds = ((performance.now() - started) * 1000) / CALLS / ENTRIES;
  console.log(`usageRows: ${microseconds.toFixed(3)} µs per entry (${ENTRIES}-entry batch, one chunk row of ${Math.round(chars / CALLS)} characters)`);
}
