// The client covers the whole API: every operation of the OpenAPI document (but the dashboard's
// sessions and the probes) has a method in OPERATIONS, and every entry there is a real method.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ErrorType } from '../../../src/errors.js';
import { Keyward, OPERATIONS, SDK_VERSION, SERVER_ERROR_TYPES, type ServerErrorType } from '../src/index.js';
import { NOT_IN_CLIENT } from '../src/operations.js';
import { SDK_ROOT } from '../scripts/openapi.js';

interface DocumentOperation {
  security?: unknown[];
}
const document = JSON.parse(readFileSync(join(SDK_ROOT, 'src/openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, DocumentOperation>>;
  components: { schemas: { ErrorEnvelope: { properties: { type: { enum: string[] } } } } };
};
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];
const documentOperations = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => METHODS.includes(method))
    .map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })),
);
const table = Object.entries(OPERATIONS);

describe('operations', () => {
  it('every operation of the OpenAPI document has a client method', () => {
    const missing = documentOperations
      .filter(({ path }) => !NOT_IN_CLIENT.includes(path))
      .filter(({ path, method }) => !table.some(([, definition]) => definition.path === path && definition.method === method))
      .map(({ path, method }) => `${method} ${path}`);
    expect(missing, 'operations without a client method (add them to OPERATIONS and Keyward)').toEqual([]);
    for (const path of NOT_IN_CLIENT) expect(Object.keys(document.paths), 'NOT_IN_CLIENT names a path the API no longer has').toContain(path);
  });

  it('every entry of OPERATIONS is in the document, sends the credential where the document asks for one, and is a method of Keyward', () => {
    const client = new Keyward({ baseUrl: 'http://127.0.0.1:1' }) as unknown as Record<string, unknown>;
    for (const [name, definition] of table) {
      const operation = documentOperations.find(({ path, method }) => path === definition.path && method === definition.method);
      expect(operation, `${name}: ${definition.method} ${definition.path}`).toBeDefined();
      expect(definition.authenticated, `${name}: authenticated`).toBe(operation!.operation.security !== undefined);
      const method = name.split('.').reduce<unknown>((holder, part) => (holder as Record<string, unknown> | undefined)?.[part], client);
      expect(typeof method, `Keyward.${name}`).toBe('function');
    }
  });

  it('knows the error types the server has, and its own version', () => {
    // Fails to compile when src/errors.ts and SERVER_ERROR_TYPES disagree.
    type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
    const same: Same<ErrorType, ServerErrorType> = true;
    expect(same).toBe(true);
    expect(new Set(SERVER_ERROR_TYPES).size).toBe(SERVER_ERROR_TYPES.length);
    expect([...SERVER_ERROR_TYPES].sort()).toEqual([...document.components.schemas.ErrorEnvelope.properties.type.enum].sort());
    const manifest = JSON.parse(readFileSync(join(SDK_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(SDK_VERSION).toBe(manifest.version);
  });
});
