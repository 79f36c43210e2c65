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
  },
);
