// The rows bench/seed.ts inserts, made in a worker thread one batch ahead of the inserts (making a
// token, its hash and the ULIDs costs about as much as inserting the rows): accounts with
// `perAccount` keys each, realistic varied key names, real tokens from src/domain/token.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { generateToken, hashToken, tokenStart, type Environment } from '../src/domain/token.js';
import { newId } from '../src/domain/ids.js';

export interface RowsRequest {
  keyCount: number;
  perAccount: number;
  prefix: string;
  /** Creation time of the first account; every later row is `stepMs` after the one before. */
  firstAt: number;
  stepMs: number;
  batchKeys: number;
  sampleSize: number;
}

/** [id, email, name, createdAt] */
export type AccountRow = [string, string, string, number];
/** [keyId, accountId, name, start, environment, scopes JSON, createdAt, secret hash] */
export type KeyRow = [string, string, string, string, Environment, string, number, string];

export interface RowsBatch {
  accounts: AccountRow[];
  keys: KeyRow[];
  /** With the last batch: tokens of randomly chosen keys (reservoir sample). */
  sampleTokens?: string[];
}

/** Deterministic PRNG (mulberry32), so every run seeds the same names. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const TEAMS = ['billing', 'payments', 'checkout', 'search', 'analytics', 'inventory', 'notifications', 'reporting', 'shipping', 'onboarding', 'fraud detection', 'recommendations', 'support', 'identity', 'pricing'];
const KINDS = ['service', 'worker', 'backend', 'gateway', 'exporter', 'importer', 'sync job', 'dashboard', 'cron', 'webhook handler'];
const TOOLS = ['ci-runner', 'deploy-bot', 'etl-worker', 'log-shipper', 'backup-agent', 'metrics-exporter', 'webhook-relay', 'load-tester', 'cache-warmer', 'nightly-build'];
const PLATFORMS = ['iOS app', 'Android app', 'web app', 'desktop client', 'CLI', 'browser extension', 'smart TV app'];
const STAGES = ['prod', 'staging', 'dev', 'qa', 'sandbox', 'canary'];
const PARTNERS = ['Acme Corp', 'Globex', 'Initech', 'Umbrella Health', 'Hooli', 'Stark Industries', 'Wayne Enterprises', 'Wonka Foods', 'Cyberdyne', 'Soylent', 'Tyrell', 'Vandelay Imports'];
const PEOPLE = ['Maria', 'Kenji', 'Aisha', 'Lars', 'Priya', 'Tomás', 'Chloé', 'Dmitri', 'Fatima', 'Noah', 'Mei', 'Oluwaseun'];
const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2', 'ap-south-1', 'sa-east-1', 'eu-central-1'];

/** A plausible key name: several shapes over several word pools, so fuzzy search has work to do. */
function keyName(random: () => number): string {
  const pick = <T>(pool: readonly T[]) => pool[Math.floor(random() * pool.length)]!;
  const n = 1 + Math.floor(random() * 9999);
  switch (Math.floor(random() * 6)) {
    case 0:
      return `${pick(TEAMS)} ${pick(KINDS)} ${n}`; // billing service 123
    case 1:
      return `${pick(TOOLS)}-${n}`; // ci-runner-4567
    case 2:
      return `${pick(PLATFORMS)} (${pick(STAGES)}) ${n}`; // iOS app (prod) 42
    case 3:
      return `${pick(PARTNERS)} integration ${n}`; // Acme Corp integration 17
    case 4:
      return `${pick(PEOPLE)}'s laptop ${n}`; // Maria's laptop 7
    default:
      return `${pick(REGIONS)} ${pick(TEAMS)} ${pick(STAGES)} ${n}`; // eu-west-1 checkout prod 88
  }
}

/** Yields the rows batch by batch; keys are numbered 0… and every `perAccount` keys get a new account. */
export function* generateRows(request: RowsRequest): Generator<RowsBatch> {
  const { keyCount, perAccount, prefix, stepMs, batchKeys, sampleSize } = request;
  const random = prng(keyCount);
  const sample: string[] = [];
  let at = request.firstAt;
  let accountId = '';
  let accounts = 0;
  let names = new Set<string>();
  for (let from = 0; from < keyCount; from += batchKeys) {
    const batch: RowsBatch = { accounts: [], keys: [] };
    for (let i = from; i < Math.min(keyCount, from + batchKeys); i++) {
      if (i % perAccount === 0) {
        at += stepMs;
        accountId = newId('acc', at);
        accounts++;
        batch.accounts.push([accountId, `member-${accounts}@scale.bench.keyward.local`, `${PEOPLE[accounts % PEOPLE.length]} ${accounts}`, at]);
        names = new Set();
      }
      at += stepMs;
      let name = keyName(random);
      while (names.has(name)) name = keyName(random); // unique per (project, account)
      names.add(name);
      const environment: Environment = random() < 0.15 ? 'test' : 'live';
      const scopes = random() < 0.3 ? ['inference', 'data_extraction'] : ['inference'];
      const token = generateToken(prefix, environment);
      batch.keys.push([newId('key', at), accountId, name, tokenStart(token), environment, JSON.stringify(scopes), at, hashToken(token)]);
      // Reservoir sampling: every key is equally likely to end up in the sample.
      if (sample.length < sampleSize) sample.push(token);
      else {
        const slot = Math.floor(random() * (i + 1));
        if (slot < sampleSize) sample[slot] = token;
      }
    }
    if (from + batchKeys >= keyCount) batch.sampleTokens = sample;
    yield batch;
  }
}

// As a worker: each message from the parent asks for the next batch.
if (parentPort !== null) {
  const port = parentPort;
  const batches = generateRows(workerData as RowsRequest);
  port.on('message', () => {
    const next = batches.next();
    port.postMessage(next.done === true ? null : next.value);
  });
}
