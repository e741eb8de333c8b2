/**
 * Plan tests in the editor (LANGUAGE.md §9.2): a "Run test" lens on each `test` block, and the
 * command it runs, `orch.runTest` — `[uri]` runs every test of the file, `[uri, name]` the one
 * so named — on the runtime with mocks and a virtual clock, as `orch test` does, over the text
 * the editor shows (open buffers, saved or not; handlers are read from disk). The VS Code
 * extension's Testing view runs the same
 * command and marks each failure at its `expect`.
 */
import type { CodeLens } from 'vscode-languageserver';
import type { SourceHost } from '../../compiler/index.js';
import type { Module } from '../../language/index.js';
import { failureValues, runTestFiles } from '../../verify/index.js';
import { toLspRange } from '../convert.js';

export const RUN_TEST_COMMAND = 'orch.runTest';

/** The name of each `test` block of a module and where it is written. */
export function testBlocks(module: Module): { readonly name: string; readonly range: ReturnType<typeof toLspRange> }[] {
  return module.declarations.flatMap((d) =>
    d.kind === 'TestDecl' ? [{ name: d.name.parts.filter((p): p is string => typeof p === 'string').join(''), range: toLspRange(d.name.range) }] : [],
  );
}

export function testLenses(module: Module | undefined, uri: string): CodeLens[] {
  return (module ? testBlocks(module) : []).map((t) => ({ range: t.range, command: { title: '$(beaker) Run test', command: RUN_TEST_COMMAND, arguments: [uri, t.name] } }));
}

/** What `orch.runTest` answers: each test run, with its failures at their lines (1-based). */
export interface RunTestsSummary {
  readonly ok: boolean;
  /** Set when nothing could run: the file has errors, or no such test. */
  readonly error?: string;
  readonly tests: readonly {
    readonly name: string;
    readonly line: number;
    readonly passed: boolean;
    readonly failures: readonly { readonly message: string; readonly line?: number }[];
  }[];
}

/** Runs the tests of `path` (one, by name) over `host`: the editor's buffers, saved or not. */
export async function runTests(path: string, name: string | undefined, host?: SourceHost): Promise<RunTestsSummary> {
  const run = await runTestFiles([path], { ...(name !== undefined ? { filter: name } : {}), ...(host ? { host } : {}) });
  if (run.kind === 'errors') return { ok: false, error: run.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'), tests: [] };
  const results = run.results.filter((r) => r.file === path && (name === undefined || r.name === name));
  if (results.length === 0) return { ok: false, error: name === undefined ? 'no test in this file' : `no test named "${name}" in this file`, tests: [] };
  return {
    ok: results.every((r) => r.passed),
    tests: results.map((r) => ({
      name: r.name,
      line: r.line,
      passed: r.passed,
      // With the values the condition read, as `orch test` prints them: why it did not hold. A line
      // in another file (an invariant the imported plan declares) is no line of this one.
      failures: r.failures.map((f) => ({
        message: [f.message, ...failureValues(f, r.currency)].join('\n'),
        ...(f.line !== undefined && (f.file ?? r.file) === r.file ? { line: f.line } : {}),
      })),
    })),
  };
}

/** `orch.runTest`'s arguments, `[uri]` or `[uri, test name]` (the lens's); null when they are not. */
export function runTestCommand(args: readonly unknown[] | undefined, pathOf: (uri: string) => string, host?: SourceHost): Promise<RunTestsSummary> | null {
  const [uri, name] = args ?? [];
  return typeof uri === 'string' ? runTests(pathOf(uri), typeof name === 'string' ? name : undefined, host) : null;
}
