// Lint: typescript-eslint's recommended rules on every TypeScript source, plus a few that catch
// real mistakes in an async, event-driven codebase. Layer rules live in .dependency-cruiser.cjs.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '**/node_modules/**', 'vscode-extension/dist/**', 'vscode-extension/server/**', 'examples/**/*.js', '**/*.vsix', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Unused names are noise at best and a forgotten call at worst; `_name` marks a deliberate one.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Equality that coerces hides type bugs; `== null` is the one idiom kept.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['vscode-extension/scripts/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['vscode-extension/media/**/*.js'],
    languageOptions: { globals: { ...globals.browser, acquireVsCodeApi: 'readonly' } },
  },
  {
    // The dashboard runs in the browser (bundled by serve/ui/build.mjs).
    files: ['serve/ui/**/*.ts'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Small modules with one job: a file that grows past 600 lines of code, or a function past
    // 150, is split where a part has a job a name can say. Tests are exempt.
    files: ['**/*.ts'],
    ignores: ['**/test/**', '**/*.test.ts'],
    rules: {
      'max-lines': ['error', { max: 600, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 150, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Tests build deliberately malformed IR and JSON; `any` is how they reach past the types.
    files: ['**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
