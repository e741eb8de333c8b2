import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'vscode-extension/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most of the suite's time is spent waiting on child processes, worker threads, Postgres and
    // commits, so two test files at a time keep even a 2-core machine busy (vitest's own default
    // there is one file: the whole suite took 17 minutes on such a machine instead of 12).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    globalSetup: ['test/build-dist.ts', 'test/temp-root.ts'],
  },
});
