// Renders the SDK's generated files from the server's own OpenAPI document: the app is built
// in-process exactly as the tests build it (temporary SQLite data dir, silent log), never served.
// Shared by scripts/generate.ts (writes the files) and test/generated.test.ts (checks them).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';

export const SDK_ROOT = join(import.meta.dirname, '..');

export interface GeneratedFile {
  /** Relative to packages/sdk. */
  path: string;
  contents: string;
}

const SCHEMA_HEADER = `// Generated from Keyward's OpenAPI document (src/openapi.json) by openapi-typescript.
// Do not edit: change the route schemas in the server, then run \`npm run sdk:generate\`.
`;

/** The document GET /openapi.json serves, as pretty JSON (two spaces, in route order). */
export async function renderOpenApiJson(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-sdk-generate-'));
  try {
    const built = await buildApp(loadConfig({ KEYWARD_DATA_DIR: dataDir, KEYWARD_LOG_LEVEL: 'silent' }));
    try {
      await built.app.ready();
      return `${JSON.stringify(built.app.swagger(), null, 2)}\n`;
    } finally {
      await built.app.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function renderSchemaTs(openApiJson: string): Promise<string> {
  const ast = await openapiTS(JSON.parse(openApiJson) as Parameters<typeof openapiTS>[0]);
  return SCHEMA_HEADER + astToString(ast);
}

export async function renderGeneratedFiles(): Promise<GeneratedFile[]> {
  const openApiJson = await renderOpenApiJson();
  return [
    { path: 'src/openapi.json', contents: openApiJson },
    { path: 'src/generated/schema.ts', contents: await renderSchemaTs(openApiJson) },
  ];
}
