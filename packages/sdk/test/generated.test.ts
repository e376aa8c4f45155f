// CI fails while the committed OpenAPI document or the types generated from it lag behind the
// server's route schemas: both are rendered again in memory and compared with the files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { renderGeneratedFiles, SDK_ROOT } from '../scripts/openapi.js';

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

it('src/openapi.json and src/generated/schema.ts match the server (else: run npm run sdk:generate)', async () => {
  const stale: string[] = [];
  for (const file of await renderGeneratedFiles()) {
    const committed = read(join(SDK_ROOT, file.path));
    if (committed === file.contents) continue;
    const lines = committed?.split('\n') ?? [];
    const fresh = file.contents.split('\n');
    const line = fresh.findIndex((text, index) => text !== lines[index]) + 1;
    stale.push(committed === null ? `packages/sdk/${file.path} is missing` : `packages/sdk/${file.path} differs from line ${line}: ${fresh[line - 1]?.trim()}`);
  }
  if (stale.length > 0) expect.fail(`Generated SDK files are stale; run npm run sdk:generate and commit the result.\n${stale.join('\n')}`);
});
