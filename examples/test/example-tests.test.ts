/**
 * The examples' own tests (LANGUAGE.md §9.2, issue #52's acceptance): one `orch test examples/
 * --coverage --reporter json` process runs every `*.test.orch` of the examples; every test passes
 * and every outcome of every example plan — each step run, each `when` seen true and false, each
 * approval approved and rejected, retries exhausted, fallbacks taken, compensations run,
 * loops left by their condition and by `max` — is covered. Every example plan has tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { orchAsync, REPO_ROOT } from './cli.js';

interface JsonReport {
  readonly ok: boolean;
  readonly passed: number;
  readonly failed: number;
  readonly tests: readonly { readonly name: string; readonly passed: boolean; readonly failures: readonly { readonly message: string }[] }[];
  readonly coverage: {
    readonly percent: number;
    readonly plans: readonly { readonly plan: string; readonly file: string; readonly outcomes: readonly { kind: string; step: string; outcome: string; seen: boolean }[] }[];
  };
}

/** Every plan file of the examples (not a test file). */
function planFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'test' ? [] : planFiles(p);
    return e.name.endsWith('.orch') && !e.name.endsWith('.test.orch') ? [p] : [];
  });
}

describe('the examples are tested', () => {
  it('orch test examples/ --coverage: every test passes and every outcome of every example plan is covered', async () => {
    const r = await orchAsync(['test', 'examples/', '--coverage', '--coverage-min', '100', '--reporter', 'json']);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.tests.filter((t) => !t.passed).map((t) => `${t.name}: ${t.failures.map((f) => f.message).join('; ')}`)).toEqual([]);
    const missed = report.coverage.plans.flatMap((p) => p.outcomes.filter((o) => !o.seen).map((o) => `${p.plan}: ${o.kind} ${o.step} ${o.outcome}`));
    expect(missed).toEqual([]);
    expect(report.coverage.percent).toBe(100);
    expect(r.code).toBe(0);
    // Each file of the examples that declares a plan is among the tested.
    const tested = new Set(report.coverage.plans.map((p) => path.relative(REPO_ROOT, p.file)));
    const withPlans = planFiles(path.join(REPO_ROOT, 'examples'))
      .filter((f) => /^plan\s/m.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(REPO_ROOT, f));
    expect(withPlans.filter((f) => !tested.has(f))).toEqual([]);
    expect(report.passed).toBeGreaterThanOrEqual(80);
  });
});
