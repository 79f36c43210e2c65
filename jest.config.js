/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/dist/'],
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
