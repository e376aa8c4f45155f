// The warm-up gets process.nextTick optimised by V8's top tier (TurboFan), checked in a process
// of its own with V8's natives syntax: before the warm-up it is not, after it (and a moment for the
// concurrent compile to land) it is.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** V8's OptimizationStatus bit for code optimised by TurboFan (src/runtime/runtime.h). */
const TURBOFANNED = 1 << 6;

const CHILD = `
const status = new Function('f', 'return %GetOptimizationStatus(f)');
const { warmUpNextTick } = await import(process.argv[2]);
const before = status(process.nextTick);
await warmUpNextTick();
let after = status(process.nextTick);
for (let i = 0; i < 200 && !(after & ${TURBOFANNED}); i++) {
  await new Promise((resolve) => setTimeout(resolve, 10));
  after = status(process.nextTick);
}
console.log(JSON.stringify({ before, after }));
`;

describe('warmUpNextTick', () => {
  it('leaves process.nextTick optimised by TurboFan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-warm-up-'));
    try {
      const script = join(dir, 'child.mjs');
      writeFileSync(script, CHILD);
      const module = new URL('./tick-warm-up.ts', import.meta.url).href;
      const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', script, module]);
      const { before, after } = JSON.parse(stdout) as { before: number; after: number };
      expect(before & TURBOFANNED).toBe(0);
      expect(after & TURBOFANNED).toBe(TURBOFANNED);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
