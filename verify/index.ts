/**
 * The verifier's public surface (docs/language.md, "Verification"): `verify(plan, options)`
 * explores simulated executions of a compiled plan on the runtime scheduler and reports each
 * invariant with, when violated, a minimal counterexample. Editors call `verifyFile` (or
 * `loadPlansForVerify` + `verify`) and show `violations` as diagnostics at `range`.
 */
import type { PlanIR, SourceHost } from '../compiler/index.js';
import { loadPlansForVerify } from './load.js';
import { verify, type VerifyOptions, type VerifyResult } from './verify.js';

export { verify, applicableBuiltins, DEFAULT_RUNS, VerifyUsageError } from './verify.js';
export type { VerifyOptions, VerifyProgress, VerifyResult, Counterexample, InvariantReport, ScenarioChoice, UpgradeSummary } from './verify.js';
export type { UpgradePoint } from './upgrade-case.js';
export { loadPlansForVerify, invariantLocator, type LoadedPlans, type VerifiablePlan } from './load.js';
export { formatResult, replayFlags, shellWord, type SearchShape, type TextStyle } from './report.js';
export { BUILTIN, BUILTIN_NAMES } from './monitor.js';
export { DEFAULT_FAIL_RATE, DEFAULT_MAX_LIST_SIZE } from './scenario.js';
export type { TraceEvent, StateSnapshot } from './trace.js';

/**
 * Compiles FILE (through `host` when given, e.g. an editor's open buffers) and verifies each
 * plan (or only `plan`). Resolves to the results, or to the
 * reason nothing could be verified (compile errors, unreadable file, unknown plan).
 */
export async function verifyFile(
  file: string,
  options: VerifyOptions & {
    readonly plan?: string;
    readonly host?: SourceHost;
    /** `--against`: the older version of each plan (by name) its runs start on. */
    readonly againstOf?: (planName: string) => Promise<PlanIR>;
  } = {},
): Promise<{ ok: true; results: VerifyResult[] } | { ok: false; reason: Exclude<ReturnType<typeof loadPlansForVerify>, { kind: 'plans' }> }> {
  const loaded = loadPlansForVerify(file, options.plan, options.host);
  if (loaded.kind !== 'plans') return { ok: false, reason: loaded };
  const results: VerifyResult[] = [];
  for (const { plan, locate } of loaded.plans) {
    const against = options.againstOf ? await options.againstOf(plan.plan) : options.against;
    results.push(await verify(plan, { ...options, locate: options.locate ?? locate, ...(against ? { against } : {}) }));
  }
  return { ok: true, results };
}
export { runTestFiles, testFiles, TestUsageError, type TestRun, type TestFilesOptions } from './plan-tests/run-files.js';
export { runPlanTest, type TestResult, type TestFailure } from './plan-tests/run-test.js';
export { failureValues, jsonReport, junitReport, textReport } from './plan-tests/report.js';
export { captureTest, CaptureError, type CaptureOptions, type CaptureSource } from './plan-tests/capture.js';
export { updateCapturedTests, type UpdatedTest } from './plan-tests/update.js';
export { LazyWorkers } from './plan-tests/lazy-workers.js';
export { coverageReport, coverageText, parseCoverageMin, type CoverageReport, type PlanCoverage } from './plan-tests/coverage-report.js';
export { planOutcomes, OutcomeRecorder, type Outcome } from './plan-tests/coverage.js';
