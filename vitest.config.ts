import { defineConfig } from 'vitest/config';

// One suite, two backends: every test that touches storage runs on SQLite and on PostgreSQL
// (each app in its own schema of the `test` database). Pure unit tests run once.
const PURE = ['bench/**/*.test.ts', 'src/domain/**/*.test.ts', 'src/storage/usage-batch.test.ts', 'src/http/json-body.test.ts', 'src/http/tick-warm-up.test.ts', 'src/verify/cache.test.ts'];
// The dashboard in a browser: it checks the UI, not the storage, so it runs once (on SQLite).
const BROWSER = ['test/e2e/**'];
// A real nginx in front of Keyward: it checks the gateway config, not the storage (runs on SQLite).
const GATEWAY = ['test/gateway-nginx.test.ts'];
// The remote CLI (`keyward keys|projects`) through the SDK: it checks the commands, not the storage (runs on SQLite).
const REMOTE_CLI = ['test/cli-remote.test.ts'];
// With Redis the counters and the invalidation channel change; these suites exercise them.
const COUNTERS = [
  'src/verify/**/*.test.ts',
  'src/keys/**/*.test.ts',
  'src/accounts/**/*.test.ts',
  'src/projects/**/*.test.ts',
  'src/leaks/**/*.test.ts',
  'test/concurrency.test.ts',
  'test/cluster.test.ts',
  'test/multi-node.test.ts',
  'test/multi-node-push.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        // Clusters need a shared database: those suites run in the postgres and redis projects.
        // The SDK's tests check the client, not the storage: they run here only.
        test: {
          name: 'sqlite',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'packages/sdk/test/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: ['test/cluster.test.ts', 'test/multi-node.test.ts', 'test/multi-node-push.test.ts'],
          env: { KEYWARD_TEST_BACKEND: 'sqlite' },
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...PURE, ...BROWSER, ...GATEWAY, ...REMOTE_CLI],
          env: { KEYWARD_TEST_BACKEND: 'postgres' },
        },
      },
      {
        extends: true,
        test: { name: 'redis', include: COUNTERS, env: { KEYWARD_TEST_BACKEND: 'postgres', KEYWARD_TEST_REDIS: '1' } },
      },
    ],
  },
});
