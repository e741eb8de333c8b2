import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Two kinds of test file, as two vitest projects (see "Tests" in README.md):
 *
 * - `unit`: in-process tests — the language, the compiler, the scheduler core, verify, render,
 *   LSP features over in-memory connections. They start no process, no worker thread, no
 *   Postgres, no browser or editor, and wait on no real clock, so several run at once.
 * - `e2e`: end-to-end runs of the tools — `orch` commands, bundlers, ESLint, pre-commit, the
 *   language server over stdio — that assert only what they print and write: no lease, no
 *   deadline, no race with a clock, nothing a loaded machine changes. They run beside the unit
 *   files, two files at a time, rather than one at a time with the system files: about four
 *   minutes of CI's one-at-a-time tail (issue #47 item 14).
 * - `system`: everything else — spawned `orch` processes, worker threads, Postgres, HTTP servers,
 *   editors, browsers. They wait on a busy machine, so they run one file at a time, after the
 *   unit files (running two at once was tried: tests that wait on a busy machine failed).
 *
 * A file is `unit` or `e2e` only when it is listed here: a new test file is `system` until someone
 * who knows what it starts moves it, so a test added on another branch is never run in parallel
 * by surprise.
 */
export const UNIT = [
  'compiler/test/sources.test.ts',
  'compiler/test/stages-drawing.test.ts',
  'runtime/test/span-cost.test.ts',
  'runtime/test/run-detach-order.test.ts',
  'runtime/models/test/endpoint-tier.test.ts',
  'runtime/test/fork.test.ts',
  'runtime/test/split-lines.test.ts',
  'runtime/test/flow-runtime.test.ts',
  'compiler/test/budget-ledger.test.ts',
  'compiler/test/model-endpoints.test.ts',
  // `!(a|b)` (an extglob): every file of the folder but those, which spawn `orch`.
  // grammar.test.ts is left to `system` (a process of its own): it sets ORCH_VALIDATE_GRAMMAR before
  // importing the lexer, whose validation is decided as the module loads — in a shared module
  // graph it would get a lexer another file loaded unvalidated.
  'language/test/!(fmt.cli|grammar).test.ts',
  'compiler/test/!(cli|hardening|flow-corpus-cli).test.ts',
  'verify/test/!(cli|plan-tests-capture).test.ts',

  'lsp/test/ast-walk.test.ts',
  'lsp/test/completion-context.test.ts',
  'lsp/test/inlay-hints.test.ts',
  'lsp/test/step-estimates.test.ts',
  'lsp/test/v04-references.test.ts',

  // The scheduler core and the runtime's pure parts (over the simulated executor, in-memory and
  // SQLite journals in this process).
  'runtime/test/scheduler-*.test.ts',
  'runtime/test/abort-channel.test.ts',
  'runtime/test/async-journal.test.ts',
  'runtime/test/attempt-count.test.ts',
  'runtime/test/auth-config.test.ts',
  'runtime/test/passwords.test.ts',
  'runtime/test/attempt-lost.test.ts',
  'runtime/test/budget-ledger-property.test.ts',
  'runtime/test/cluster-batching.test.ts',
  'runtime/test/cluster-heartbeat.test.ts',
  'runtime/test/worker-core.test.ts',
  'runtime/test/cluster-timing.test.ts',
  'runtime/test/deep-chains.test.ts',
  'runtime/test/evaluate.test.ts',
  'runtime/test/context-kleene.test.ts',
  'runtime/test/context-store.test.ts',
  'serve/test/context-triggers.test.ts',
  'runtime/test/context-journaling.test.ts',
  'runtime/test/event-batches.test.ts',
  'runtime/test/fill-defaults.test.ts',
  'runtime/test/ir-blob.test.ts',
  'runtime/test/job-secrets.test.ts',
  'runtime/test/journal-controls.test.ts',
  'runtime/test/journal-events.test.ts',
  'runtime/test/journal-plans.test.ts',
  'runtime/test/json-output.test.ts',
  'runtime/test/live-logs.test.ts',
  'runtime/test/nested-fanout.test.ts',
  'runtime/test/oidc-people.test.ts',
  'runtime/test/pending-cancel.test.ts',
  'runtime/test/placed-steps.test.ts',
  'runtime/test/redact.test.ts',
  'runtime/test/secret-refs.test.ts',
  'runtime/test/shared-limits-property.test.ts',
  'runtime/test/shared-limits-leases.test.ts',
  'runtime/test/sqlite-limits-in-commit.test.ts',
  'runtime/test/upgrade-property.test.ts',

  'serve/test/approvals-inbox.test.ts',
  'serve/test/render.test.ts',
  'serve/test/trigger-engine.test.ts',
  'cli/test/progress.test.ts',
  'cli/test/ci-reports.test.ts',
  'test/fuzz/seeds.test.ts',
  'bench/test/history.test.ts',
  'bench/test/summary.test.ts',
];

/**
 * Process tests that tolerate load (see `e2e` above). Before listing a file here, read it: no
 * `--take-over-after`, lease, heartbeat, SIGSTOP, job or step timeout that a slow machine could
 * reach, no wall-clock bound, no server whose clients race it.
 */
export const E2E = [
  'examples/test/examples.test.ts',
  'examples/test/wcp.test.ts',
  'examples/test/patterns.test.ts',
  'examples/test/example-tests.test.ts',
  'test/ci/action.test.ts',
  'test/ci/pre-commit.test.ts',
  'test/layers.test.ts',
  'test/electron-bundle.test.ts',
  'lsp/test/vsix.test.ts',
  'lsp/test/examples.test.ts',
  'cli/test/check-bundle.test.ts',
  'cli/test/diff-upgrade.test.ts',
  'cli/test/mcp-serve.test.ts',
  'cli/test/first-hour-small.test.ts',
  'cli/test/init.test.ts',
  'cli/test/draft.test.ts',
  'cli/test/check.test.ts',
  'cli/test/operators.test.ts',
  'cli/test/test-coverage.test.ts',
  'cli/test/runs-plan.test.ts',
  'cli/test/test-command.test.ts',
  'verify/test/cli.test.ts',
  'compiler/test/cli.test.ts',
  'compiler/test/flow-corpus-cli.test.ts',
  'compiler/test/hardening.test.ts',
  'compiler/explain/test/explain.test.ts',
  'language/test/fmt.cli.test.ts',
  // Crash safety: SIGKILLs at seeded random points, then resumes; what they assert (each step
  // completed once, no gap in the journal) holds however late a kill lands on a loaded machine.
  'runtime/test/crash.test.ts',
  'runtime/test/crash-blocks.test.ts',
  'runtime/test/consent-hooks.test.ts',
  // The language server over stdio: answers and diagnostics are awaited, never timed.
  'lsp/test/server.test.ts',
  'lsp/test/diagnostics.test.ts',
  'lsp/test/blocks.test.ts',
  'lsp/test/robustness.test.ts',
];

/**
 * `vitest run --exclude GLOB` (as .ci/run's matrix lines pass it): vitest adds it to the root
 * config only, not to projects that set their own `exclude`, so both projects take it from here.
 */
function cliExcludes(argv: readonly string[] = process.argv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--exclude' && i + 1 < argv.length) out.push(argv[++i]!);
    else if (a.startsWith('--exclude=')) out.push(a.slice('--exclude='.length));
  }
  return out;
}

const ALL = ['**/*.test.ts'];
const IGNORED = ['node_modules/**', 'dist/**', 'vscode-extension/node_modules/**', ...cliExcludes()];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Both projects: dist/ is built once, one temporary root, one Postgres cluster per run.
    globalSetup: ['test/build-dist.ts', 'test/temp-root.ts', 'test/pg-global.ts'],
    // Every file's wall time (ORCH_TEST_DURATIONS, ORCH_TEST_SLOWEST): test/durations-reporter.ts.
    reporters: ['default', './test/durations-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // One module graph per worker, shared by the files it runs, instead of a fresh import of
          // the compiler and runtime for each: 199 s → 82 s for these files here (import 110 s →
          // 15 s), the same 1,049 tests passing in file order and shuffled. It holds because these
          // files keep no state between them (nothing mocked, no env or clock left changed); one
          // that must is isolated by ORCH_UNIT_ISOLATE=1 while it is found.
          isolate: process.env.ORCH_UNIT_ISOLATE === '1',
          include: UNIT,
          exclude: IGNORED,
          // vitest's default leaves a core idle on a 2-core machine; these files only compute.
          maxWorkers: Math.max(2, availableParallelism()),
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: E2E,
          exclude: IGNORED,
          // The same group as the unit files (vitest runs a group's projects together, with one
          // worker count): both cores, before the system files.
          maxWorkers: Math.max(2, availableParallelism()),
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'system',
          include: ALL,
          // Every file the unit and e2e projects take, and nothing else.
          exclude: [...IGNORED, ...UNIT, ...E2E],
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
