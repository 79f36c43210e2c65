/**
 * Test files that run on the Java time-skipping server for whole simulated days. Under CPU contention
 * (another test file in the second jest worker) a workflow task there can run long enough for a poll
 * timer to come due during it, and the server then rejects that task on every retry: the file hangs
 * until its timeout (docs/testing.md, "The Java time-skipping server's two traps"). `npm test` runs
 * the rest first (JEST_ALONE=skip), then these one at a time (JEST_ALONE=only); plain `jest` runs all.
 */
const ALONE = ['fourthline-continue-as-new', 'fourthline-deadlines', 'fourthline-windows'].map(
  (name) => `<rootDir>/test/${name}.test.ts`,
);
const alone = process.env.JEST_ALONE === 'only';
const skip = process.env.JEST_ALONE === 'skip';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: alone ? ALONE : ['<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/dist/', ...(skip ? ALONE : [])],
  transform: {
    // Transpile only (no per-file type-check; `npx tsc --noEmit` does that). isolatedModules in the tsconfig
    // override is ts-jest 29's non-deprecated switch to transpileModule (its own `isolatedModules` option is
    // deprecated).
    '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }],
  },
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 120000,
  maxWorkers: alone ? 1 : 2,
};
