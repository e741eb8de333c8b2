/**
 * `orch verify --cancels` (a user cancelling one step is among the outside events explored) and
 * `--concurrent-runs K` (K runs of the plan at once against the same resource limits).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { InRunLimits } from '../../runtime/index.js';
import { loadPlansForVerify } from '../load.js';
import { BUILTIN } from '../monitor.js';
import { formatResult } from '../report.js';
import { runCase } from '../run-case.js';
import type { Scenario } from '../scenario.js';
import { verify } from '../verify.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function load(name: string): PlanIR {
  const loaded = loadPlansForVerify(fixture(name));
  if (loaded.kind !== 'plans') throw new Error(`${name}: ${JSON.stringify(loaded)}`);
  return loaded.plans[0]!.plan;
}

describe('verify explores step cancellation', () => {
  it('holds when nobody cancels anything, even with failures explored', async () => {
    const result = await verify(load('cancel-gate.orch'), { seed: 5, runs: 200 });
    expect(result.ok).toBe(true);
  });

  it('with --cancels, reports the invariant only a cancelled step breaks, with the cancel in the counterexample', async () => {
    const plan = load('cancel-gate.orch');
    const result = await verify(plan, { seed: 5, runs: 200, cancels: true });
    const v = result.violations.find((x) => x.invariant === 'notify only after the check ran');
    expect(v).toBeDefined();
    expect(v!.cancels).toHaveLength(1);
    expect(v!.cancels[0]!.step).toBe('check');
    // Shrunk: no failure is needed, the cancel alone breaks it.
    expect(v!.choices).toEqual([]);
    expect(v!.trace.some((e) => e.type === 'step_cancelled' && e.step === 'check')).toBe(true);
    expect(v!.trace.at(-1)).toMatchObject({ type: 'step_started', step: 'notify' });
    expect(formatResult(result, 'orch verify cancel-gate.orch --cancels')).toContain('cancel at');

    // Replay: the same seed and path give the same counterexample.
    const again = await verify(plan, { seed: v!.seed, path: v!.path, cancels: true });
    expect(again.violations[0]?.cancels).toEqual(v!.cancels);
    expect(again.violations[0]?.trace).toEqual(v!.trace);
  });
});

describe('verify --concurrent-runs K', () => {
  it('one run never waits for the printer; two runs share its single slot and queue for it', async () => {
    const plan = load('shared-printer.orch');
    const single = await verify(plan, { seed: 9, runs: 50 });
    expect(single.ok).toBe(true);
    expect(single.slotWaits).toBe(0);

    const two = await verify(plan, { seed: 9, runs: 50, concurrentRuns: 2 });
    expect(two.concurrentRuns).toBe(2);
    expect(two.invariants.find((i) => i.name === BUILTIN.concurrency)?.status).toBe('holds');
    expect(two.ok).toBe(true);
    // The runs really competed: in (almost) every case one print waited for the other's slot.
    expect(two.slotWaits).toBeGreaterThan(25);
  });

  it('the checker catches two runs that do not share the limit (each keeps its own slots)', async () => {
    const plan = load('shared-printer.orch');
    const scenario: Scenario = {
      input: { page: 'p' },
      context: {},
      contextChanges: [],
      cancels: [],
      outcomes: { print: [{ attempts: ['ok'], latency_ms: 2000, output: { sheets: 1 }, cost: null }] },
    };
    const options = { invariants: [], builtins: new Set([BUILTIN.concurrency]) };
    const shared = await runCase(plan, [scenario, scenario], options);
    expect(shared.violation).toBeNull();
    expect(shared.slotWaits).toBe(1);
    // Broken sharing: every run gets its own in-memory limits.
    const separate = await runCase(plan, [scenario, scenario], options, { limits: { forRun: (p) => new InRunLimits(p) } });
    expect(separate.violation?.invariant).toBe(BUILTIN.concurrency);
    expect(separate.violation?.message).toContain('across the concurrent runs');
    expect(separate.violation?.message).toContain('run 1: print');
    expect(separate.violation?.message).toContain('run 2: print');
  });
});
