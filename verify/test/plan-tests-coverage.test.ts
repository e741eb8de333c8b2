/**
 * `orch test --coverage` (LANGUAGE.md §9.2) in this process: the outcomes a plan can show, and
 * which of them real test runs on the scheduler saw — a `when` true and false, an approval
 * approved and rejected (one that times out is no outcome of its own), retries exhausted, a fallback taken, a compensation run, a
 * loop left by its condition and by `max` — merged per plan, with the share `--coverage-min` judges.
 */
import { describe, expect, it } from 'vitest';
import { compile, diskHost, type CompiledTest } from '../../compiler/index.js';
import { coverageReport, coverageText, parseCoverageMin, planOutcomes, runPlanTest, type TestResult } from '../index.js';

const DIR = '/virtual/coverage';

const PLANS = `
capability lookup {
  kind tool
  input { order_id: string }
  output { total: money }
}
capability charge {
  kind tool
  input { amount: money }
  output { ok: bool }
  retry 2 backoff exponential 1s
}
capability refund_card {
  kind tool
  input { amount: money }
  output { ok: bool }
}
capability bank_transfer {
  kind tool
  input { amount: money }
  output { ok: bool }
}
capability draft {
  kind tool
  input { n: int }
  output { good: bool }
}
plan refund_flow {
  input { order_id: string, amount: money }
  on_failure rollback
  step order = lookup(order_id: input.order_id)
  step sign_off = approval(approver: "ops", summary: "refund?") { timeout 2d }
  step pay = charge(amount: input.amount) {
    after sign_off
    fallback bank_transfer(amount: input.amount)
    compensate refund_card(amount: input.amount)
  }
  step big = lookup(order_id: "audit") when order.output.total > 100usd
  repeat polish max 2 until write.output.good {
    step write = draft(n: 1)
  }
  step last = lookup(order_id: "last") { after pay, big, polish }
}
plan audit_child {
  input { total: money }
  step note = lookup(order_id: "note") when input.total > 100usd
}
plan never_run_child {
  step idle = lookup(order_id: "idle")
}
plan audited {
  input { order_id: string }
  step order = lookup(order_id: input.order_id)
  step audit = run audit_child(total: order.output.total)
  step spare = run never_run_child() when order.output.total > 1000000usd
}
`;

function compileTests(body: string): CompiledTest[] {
  const files: Record<string, string> = { [`${DIR}/plans.orch`]: PLANS, [`${DIR}/main.test.orch`]: `import "./plans.orch" as r\n${body}` };
  const out = compile({ entry: `${DIR}/main.test.orch`, host: { readFile: (p) => files[p] ?? (p.startsWith(DIR) ? undefined : diskHost.readFile(p)) }, tests: true, navigation: false });
  const errors = out.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((d) => `${d.code} ${d.range.start.line}: ${d.message}`).join('\n'));
  return out.tests;
}

const HAPPY = `test "happy" {
  plan r.refund_flow
  input { order_id: "o-1", amount: 800usd }
  mock r.lookup returns { total: 800usd }
  mock r.charge returns { ok: true }
  mock r.draft returns { good: false } then { good: true }
  approve sign_off by "alice"
  expect run.status == "completed"
}`;
const UNHAPPY = `test "rejected" {
  plan r.refund_flow
  input { order_id: "o-2", amount: 8usd }
  mock r.lookup returns { total: 8usd }
  mock r.charge returns { ok: true }
  mock r.draft returns { good: true }
  reject sign_off by "carol" at 1h
  expect run.status == "failed" and sign_off.failed
}
test "timed out" {
  plan r.refund_flow
  input { order_id: "o-3", amount: 8usd }
  mock r.lookup returns { total: 8usd }
  mock r.draft returns { good: true }
  expect sign_off.status == "timeout"
}
test "fallback, then a later failure compensates" {
  plan r.refund_flow
  input { order_id: "o-4", amount: 800usd }
  mock r.lookup returns { total: 800usd } then { total: 800usd } then { total: 800usd }
  mock r.lookup where input.order_id == "last" fails "down"
  mock r.charge fails "declined"
  mock r.bank_transfer returns { ok: true }
  mock r.refund_card returns { ok: true }
  mock r.draft returns { good: true }
  approve sign_off by "alice"
  expect pay.completed and last.failed
}
test "the draft never gets good" {
  plan r.refund_flow
  input { order_id: "o-5", amount: 8usd }
  mock r.lookup returns { total: 8usd }
  mock r.draft returns { good: false }
  expect polish.failed and run.status == "failed"
}`;

async function runAll(body: string): Promise<{ tests: CompiledTest[]; results: TestResult[] }> {
  const tests = compileTests(body);
  const results: TestResult[] = [];
  for (const t of tests) results.push(await runPlanTest(t, { real: null }));
  return { tests, results };
}

const keysOf = (tests: readonly CompiledTest[], results: readonly TestResult[]) =>
  coverageReport(tests.map((t, i) => ({ plan: t.plan, covered: results[i]!.covered })));

describe('coverage of test runs', () => {
  it('lists every outcome the plan can show', () => {
    const [t] = compileTests(HAPPY);
    const keys = planOutcomes(t!.plan).map((o) => `${o.kind}:${o.step}:${o.outcome}`);
    expect(keys).toEqual([
      'step:order:ran',
      'step:sign_off:ran',
      'approval:sign_off:approved',
      'approval:sign_off:rejected',
      'step:write:ran',
      'step:pay:ran',
      'retries:pay:exhausted',
      'fallback:pay:taken',
      'compensation:pay:run',
      'step:big:ran',
      'when:big:true',
      'when:big:false',
      'step:last:ran',
      'loop:polish:until',
      'loop:polish:max',
    ]);
  });

  it('one happy test covers the happy outcomes only', async () => {
    const { tests, results } = await runAll(HAPPY);
    expect(results[0]!.failures).toEqual([]);
    const report = keysOf(tests, results);
    const missed = report.plans[0]!.outcomes.filter((o) => !o.seen).map((o) => `${o.kind}:${o.step}:${o.outcome}`);
    expect(missed).toEqual(['approval:sign_off:rejected', 'retries:pay:exhausted', 'fallback:pay:taken', 'compensation:pay:run', 'when:big:false', 'loop:polish:max']);
    expect(report).toMatchObject({ seen: 9, total: 15, percent: 60 });
    expect(coverageText(report, DIR)).toContain('not covered: sign_off never rejected');
    // §9.2 counts approvals approved and rejected; one that times out is no outcome of its own.
    expect(coverageText(report, DIR)).not.toContain('timed out');
  });

  it('the tests together cover every outcome, merged per plan', async () => {
    const { tests, results } = await runAll(`${HAPPY}\n${UNHAPPY}`);
    for (const r of results) expect({ name: r.name, failures: r.failures }).toEqual({ name: r.name, failures: [] });
    const report = keysOf(tests, results);
    expect(report.plans).toHaveLength(1);
    expect(report.plans[0]!.outcomes.filter((o) => !o.seen)).toEqual([]);
    expect(report).toMatchObject({ seen: 15, total: 15, percent: 100 });
    expect(report.plans[0]!.tests).toBe(5);
  });

  it('an approval with a timeout is covered once approved and rejected (§9.2: --coverage-min 100 holds without a test that lets it time out)', async () => {
    const timedOut = UNHAPPY.indexOf('test "timed out"');
    const { tests, results } = await runAll(`${HAPPY}\n${UNHAPPY.slice(0, timedOut)}${UNHAPPY.slice(UNHAPPY.indexOf('test "fallback'))}`);
    expect(results.map((r) => r.name)).not.toContain('timed out');
    expect(keysOf(tests, results)).toMatchObject({ seen: 15, total: 15, percent: 100 });
  });

  it('reports each sub-plan the tests reach as a plan of its own, and one they never reach as unseen (§9.2: per plan)', async () => {
    const { tests, results } = await runAll(`test "small" {
  plan r.audited
  input { order_id: "o-1" }
  mock r.lookup returns { total: 8usd }
  expect run.status == "completed"
}
test "big" {
  plan r.audited
  input { order_id: "o-2" }
  mock r.lookup returns { total: 800usd }
  expect run.status == "completed"
}`);
    for (const r of results) expect({ name: r.name, failures: r.failures }).toEqual({ name: r.name, failures: [] });
    expect(results[0]!.covered_subplans).toEqual([{ plan: 'audit_child', file: `${DIR}/plans.orch`, covered: ['when:note:false'] }]);
    const report = coverageReport(tests.map((t, i) => ({ plan: t.plan, covered: results[i]!.covered, subplans: results[i]!.covered_subplans })));
    const byName = new Map(report.plans.map((p) => [p.plan, p]));
    expect([...byName.keys()].sort()).toEqual(['audit_child', 'audited', 'never_run_child']);
    // The child's `when` was seen false by one test and true by the other: merged across tests.
    expect(byName.get('audit_child')).toMatchObject({ tests: 2, seen: 3, total: 3, percent: 100 });
    expect(byName.get('never_run_child')).toMatchObject({ tests: 0, seen: 0, total: 1 });
    expect(coverageText(report, DIR)).toContain('not covered: idle never ran');
    expect(report.total).toBe(byName.get('audited')!.total + 3 + 1);
  });

  it('reads --coverage-min as a share', () => {
    expect(parseCoverageMin('90')).toBe(90);
    expect(parseCoverageMin('87.5%')).toBe(87.5);
    expect(parseCoverageMin('101')).toBeNull();
    expect(parseCoverageMin('most')).toBeNull();
  });
});
