// `npm run sdk:generate`: rewrites src/openapi.json and src/generated/schema.ts from the server's
// route schemas. Commit both; test/generated.test.ts fails while they are stale.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderGeneratedFiles, SDK_ROOT } from './openapi.js';

for (const file of await renderGeneratedFiles()) {
  const target = join(SDK_ROOT, file.path);
  let current: string | null = null;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // not generated yet
  }
  if (current === file.contents) {
    console.log(`unchanged  packages/sdk/${file.path}`);
    continue;
  }
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, file.contents);
  console.log(`written    packages/sdk/${file.path}`);
}
