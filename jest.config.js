/**
 * Two layers, one run (`npm test` runs both, each test once):
 * - unit: every `*.spec.ts` (src/ next to the code, and the pure checks in test/) — no database,
 *   no Redis, no global setup; `npm run test:unit` runs it alone, in seconds;
 * - integration: every `*.int-spec.ts` and `*.e2e-spec.ts`, on the per-worker databases the global
 *   setup clones from a migrated template (a project's global setup runs only when one of its
 *   tests is selected).
 */
const shared = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }],
  },
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  maxWorkers: 2,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testRegex: '(src|test)/.*\\.spec\\.ts$',
    },
    {
      ...shared,
      displayName: 'integration',
      testRegex: '(src|test)/.*\\.(e2e-spec|int-spec)\\.ts$',
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['<rootDir>/test/support/worker-env.ts'],
    },
  ],
};
