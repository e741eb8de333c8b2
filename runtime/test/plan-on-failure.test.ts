/**
 * LANGUAGE.md §4 "A failed step … fails the run unless it has `on_failure continue`", and the plan's
 * `on_failure abort (default) | continue | rollback`, on the scheduler with a virtual clock.
 * docs/language.md ("Failures"): plan `continue` lets independent steps finish, then fails the run.
 */
import { describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { Run, VirtualClock } from '../scheduler/index.js';
import { SimExecutor } from './sim-executor.js';
import { capability, out, plan, step } from './ir-builder.js';

async function execute(p: PlanIR) {
  const clock = new VirtualClock(1000);
  const exec = new SimExecutor(clock, (req) =>
    req.stepId === 'bad'
      ? { latency: 5, outcome: { ok: false, error: 'boom' } }
      : { latency: req.stepId === 'slow' ? 50 : 5, outcome: { ok: true, output: { v: req.stepId } } },
  );
  const run = new Run(p, { clock, executor: exec, observe: () => {} }, { runId: 'r1' });
  const done = run.start();
  clock.runAll();
  const res = await done;
  return { res, status: Object.fromEntries(res.steps.map((s) => [s.stepId, s.status])), exec };
}

const steps = (badFailure: 'abort' | 'continue' = 'abort') => [
  step({ id: 'bad', capability: 'c', on_failure: badFailure }),
  step({ id: 'slow', capability: 'c' }),
  step({ id: 'reader', capability: 'c', deps: ['bad'], args: { x: out('bad', 'v') } }),
];

describe('plan and step on_failure', () => {
  it('abort (the default) cancels the running independent step and fails the run', async () => {
    const { res, status, exec } = await execute(plan({ capabilities: [capability('c')], steps: steps() }));
    expect(res.status).toBe('failed');
    expect(res.error).toMatch(/step bad failed: boom/);
    expect(status.slow).toBe('cancelled');
    expect(exec.aborted.some((a) => a.startsWith('slow:'))).toBe(true);
    expect(exec.starts.map((s) => s.stepId)).not.toContain('reader');
  });
  it('continue lets the independent step finish, skips the failed step\'s dependants, then fails the run', async () => {
    const { res, status } = await execute(plan({ capabilities: [capability('c')], steps: steps(), over: { on_failure: 'continue' } }));
    expect(status).toEqual({ bad: 'failed', slow: 'completed', reader: 'skipped' });
    expect(res.status).toBe('failed');
  });
  it('a step with on_failure continue never fails the run, whatever the plan says', async () => {
    const { res, status } = await execute(plan({ capabilities: [capability('c')], steps: steps('continue') }));
    expect(status).toEqual({ bad: 'failed', slow: 'completed', reader: 'skipped' });
    expect(res.status).toBe('completed');
  });
});
