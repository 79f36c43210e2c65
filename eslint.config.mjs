// ESLint: typescript-eslint's type-checked recommended rules over the whole TypeScript tree.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'data/**',
      'temporal-dev/.bin*/**',
      'temporal-dev/.java/**',
      'temporal-dev/data/**',
      'test/.cache/**',
      '.venv-fuzz/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Temporal activities, payload codecs and Fastify handlers must return promises. `async` is how this
      // code says so, and it turns a throw into a rejection; dropping it where nothing is awaited would
      // make such a throw synchronous, which changes what the caller sees.
      '@typescript-eslint/require-await': 'off',
      // `_`-prefixed names are deliberately unused (a required parameter, a destructured-away field).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Tests, the bench and the chaos suite read the API's JSON answers untyped on purpose: they check the
    // shape at run time with expect(), and typing every answer would restate the API's schemas. The
    // type-safety rules about `any` stay on for the product folders.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'chaos/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Tests hand activity functions to MockActivityEnvironment.run, which calls them unbound as the worker
      // does; the activity factories build closures that never read `this`.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
