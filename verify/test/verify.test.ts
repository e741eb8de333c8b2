import { describe, expect, it } from 'vitest';
import { verify } from '../verify.js';
import { BUILTIN } from '../monitor.js';
import { formatResult } from '../report.js';
import { approvalGate, skippedBlockStep, withSubplan, guardedOutreach, waitWithTimeout, parallelReviews, pricedByModel, retryStorm, sendBeforeApprove, throttledRender, waitForever } from './fixtures/ir-plans.js';

describe('verify finds minimal counterexamples', () => {
  it('a send that runs before approve when the when is false', async () => {
    const result = await verify(sendBeforeApprove(), { seed: 7, runs: 200 });
    expect(result.ok).toBe(false);
    const [v] = result.violations;
    expect(v?.invariant).toBe('never send without approval');
    expect(v?.builtin).toBe(false);
    // Minimal: approval turned off, no failure needed, and the trace stops at send starting.
    expect(v?.input).toEqual({ review: false });
    expect(v?.choices).toEqual([]);
    const steps = v!.trace.filter((e) => e.type === 'step_started').map((e) => e.step);
    expect(steps).toEqual(['draft', 'send']);
    expect(v!.trace.at(-1)).toMatchObject({ type: 'step_started', step: 'send' });
    expect(v!.trace.some((e) => e.type === 'step_skipped' && e.step === 'approve')).toBe(true);
    expect(v?.state.steps).toMatchObject({ approve: 'skipped', send: 'running' });
    expect(v?.state.values).toEqual({ 'send.started': true, 'approve.completed': false });
    expect(result.invariants.find((i) => i.name === 'never send without approval')?.status).toBe('violated');
  });

  it('a budget that a retry storm exceeds, shrunk to the single failure that breaks it', async () => {
    const result = await verify(retryStorm(), { seed: 3, runs: 300 });
    expect(result.ok).toBe(false);
    const v = result.violations.find((x) => x.invariant === BUILTIN.budget);
    expect(v).toBeDefined();
    // 0.1 per attempt, budget 0.25: one failed attempt plus the two needed calls would be 0.3;
    // the budget holds at run time (§7.2), so the third attempt never starts and the run stops.
    expect(v!.choices).toHaveLength(1);
    expect(v!.choices[0]).toMatchObject({ outcome: 'fail', attempt: 1 });
    expect(v!.state.run.cost).toBeCloseTo(0.2, 6);
    expect(v!.trace.filter((e) => e.type === 'step_started')).toHaveLength(2);
    expect(v!.message).toContain('budget');
  });

  it("writes the budget's amounts as Orch writes money (moneyText), in the plan's currency", async () => {
    const storm = retryStorm();
    const result = await verify({ ...storm, policy: { ...storm.policy!, currency: 'eur' } }, { seed: 3, runs: 300 });
    const v = result.violations.find((x) => x.invariant === BUILTIN.budget);
    expect(v!.message).toBe('budget cost <= 0.25eur of policy tight stops the run: step notify would take the run cost from 0.20eur past it');
    expect(formatResult(result, 'orch verify storm.orch')).toContain('state that broke it (at 2000ms): run running, cost 0.20\n');
  });

  it('a warn budget lets the run go past it (§7.2), so the same retry storm breaks no built-in budget invariant', async () => {
    const storm = retryStorm();
    const warned = { ...storm, policy: { ...storm.policy!, budgets: { ...storm.policy!.budgets, cost_warn: true } } };
    const result = await verify(warned, { seed: 3, runs: 300 });
    expect(result.invariants.map((i) => i.name)).not.toContain(BUILTIN.budget);
    expect(result.violations.filter((x) => x.invariant === BUILTIN.budget)).toEqual([]);
  });

  it('shrinks to one failure and three items whatever the seed', async () => {
    for (const seed of [1, 2, 8, 13, 21]) {
      const storm = await verify(retryStorm(), { seed, runs: 300 });
      expect(storm.violations.find((x) => x.invariant === BUILTIN.budget)?.choices).toHaveLength(1);
      const reviews = await verify(parallelReviews(), { seed, runs: 200 });
      expect((reviews.violations[0]?.input as { docs: unknown[] }).docs).toHaveLength(3);
    }
  });

  it('the same plan holds its budget when failures are not explored', async () => {
    const result = await verify(retryStorm(), { seed: 3, runs: 100, failures: false });
    expect(result.ok).toBe(true);
    expect(result.invariants.find((i) => i.name === BUILTIN.budget)?.status).toBe('holds');
  });

  it('a for each over a one-person team: the scheduler queues the reviews, the fan-out breaks the budget invariant (three items)', async () => {
    const result = await verify(parallelReviews(), { seed: 11, runs: 200 });
    expect(result.invariants.find((i) => i.name === BUILTIN.concurrency)?.status).toBe('holds');
    const v = result.violations.find((x) => x.invariant === 'reviews within budget');
    expect(v).toBeDefined();
    expect(v!.input).toEqual({ docs: ['', '', ''] });
    expect(v!.choices).toEqual([]);
    expect(v!.state.running).toEqual(['summary[0]', 'summary[1]', 'summary[2]']);
  });

  it('a simulated cost range breaks a budget the estimates keep, shrunk to just over the ceiling', async () => {
    const result = await verify(pricedByModel(), { seed: 7, runs: 200 });
    const v = result.violations.find((x) => x.invariant === 'within budget');
    expect(v).toBeDefined();
    expect(v!.choices).toEqual([]);
    // Both calls drawn from 0.05..0.20 (estimate 0.01): the smallest sum over 0.25 the shrinker finds.
    expect(v!.state.run.cost).toBeGreaterThan(0.25);
    expect(v!.state.run.cost).toBeLessThanOrEqual(0.26);
    const modelOnly = await verify({ ...pricedByModel(), simulations: {} }, { seed: 7, runs: 100 });
    expect(modelOnly.violations).toEqual([]);
  });

  it('a run that waits forever for a signal, shrunk to the boundary value', async () => {
    const result = await verify(waitForever(), { seed: 5, runs: 200 });
    const v = result.violations.find((x) => x.invariant === BUILTIN.terminates);
    expect(v).toBeDefined();
    expect(v!.context).toEqual({ temperature: 20 });
    expect(v!.contextChanges).toEqual([]);
    expect(v!.message).toContain('cool');
  });
});

describe('eventually, guardrails and context signals', () => {
  it('a blocking guardrail the scheduler enforces holds, and the run it stops is the eventually counterexample', async () => {
    const result = await verify(guardedOutreach(), { seed: 17, runs: 200 });
    const byName = new Map(result.invariants.map((i) => [i.name, i.status]));
    expect(byName.get(BUILTIN.guardrails)).toBe('holds');
    expect(byName.get('never send without approval')).toBe('holds');
    const v = result.violations.find((x) => x.invariant === 'sends eventually');
    expect(v).toBeDefined();
    // Minimal: the review is skipped and there is one recipient; the guardrail stops the send.
    expect(v!.input).toEqual({ review: false });
    expect(v!.choices).toEqual([]);
    expect(v!.trace.some((e) => e.type === 'guardrail_violation' && e.step === 'send')).toBe(true);
    expect(v!.state.run.status).toBe('failed');
  });

  it('approvals are sometimes rejected: the minimal counterexample is one rejection', async () => {
    const result = await verify(approvalGate(), { seed: 4, runs: 200 });
    const v = result.violations.find((x) => x.invariant === 'always sends');
    expect(v?.choices).toEqual([{ step: 'approve', item: null, attempt: 1, outcome: 'reject' }]);
    expect(v!.trace.some((e) => e.step === 'approve' && e.type === 'step_failed' && /rejected/.test(e.detail ?? ''))).toBe(true);
    const granted = await verify(approvalGate(), { seed: 4, runs: 100, failures: false });
    expect(granted.ok).toBe(true);
  });

  it('context signals change during a run: the window opens when cool, then it warms up', async () => {
    const result = await verify(waitWithTimeout(), { seed: 8, runs: 200 });
    expect(result.violations.map((v) => v.invariant)).toEqual(['opens only when cool']);
    const v = result.violations[0]!;
    // Minimal: cool from the start, and one change back to exactly the threshold while open runs.
    expect(v.context).toEqual({ temperature: 0 });
    expect(v.contextChanges).toEqual([{ at_ms: 0, signal: 'temperature', value: 20 }]);
    expect(v.trace.at(-1)).toMatchObject({ type: 'context_updated', detail: 'temperature = 20' });
    expect(result.invariants.find((i) => i.name === BUILTIN.terminates)?.status).toBe('holds');
  });
});

describe('verify accepts sound plans', () => {
  it('a block step skipped as a whole satisfies the item-level dependencies of the next one', async () => {
    const result = await verify(skippedBlockStep(), { seed: 5, runs: 200 });
    expect(result.violations).toEqual([]);
    expect(result.coverage['reserve']).toContain('skipped');
    expect(result.coverage['confirm']).toContain('completed');
  });

  it('a throttled fan-out holds every invariant, user and built-in', async () => {
    const result = await verify(throttledRender(), { seed: 1, runs: 150 });
    expect(result.violations).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.runs).toBe(150);
    expect(result.paths).toBeGreaterThan(1);
    // Failures were explored: the fan-out was seen both completing and failing.
    expect(result.coverage['render']).toEqual(expect.arrayContaining(['completed', 'failed']));
    const names = result.invariants.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['publish after every frame', 'settles', BUILTIN.concurrency, BUILTIN.dependencies, BUILTIN.attempts, BUILTIN.terminates]));
    expect(result.invariants.every((i) => i.status === 'holds')).toBe(true);
  });
});

describe('sub-plans', () => {
  it('runs a sub-plan on the same virtual clock and sees it complete within the deadline', async () => {
    const result = await verify(withSubplan(), { seed: 2, runs: 100 });
    expect(result.violations).toEqual([]);
    expect(result.coverage['summary']).toContain('completed');
  });
});

describe('determinism and reporting', () => {
  it('the same seed gives the same result', async () => {
    const a = await verify(retryStorm(), { seed: 99, runs: 150 });
    const b = await verify(retryStorm(), { seed: 99, runs: 150 });
    expect(b).toEqual(a);
    const c = await verify(throttledRender(), { seed: 4, runs: 80 });
    const d = await verify(throttledRender(), { seed: 4, runs: 80 });
    expect(d).toEqual(c);
  });

  it('replaying a counterexample path gives that counterexample directly', async () => {
    const first = await verify(sendBeforeApprove(), { seed: 21, runs: 200 });
    const v = first.violations[0]!;
    const replay = await verify(sendBeforeApprove(), { seed: v.seed, path: v.path, runs: 200 });
    expect(replay.violations[0]?.input).toEqual(v.input);
    expect(replay.violations[0]?.trace).toEqual(v.trace);
  });

  it('prints a readable trace with the seed to replay', async () => {
    const result = await verify(sendBeforeApprove(), { seed: 7, runs: 200 });
    const text = formatResult(result, 'orch verify outreach.orch --plan outreach');
    expect(text).toContain('invariant "never send without approval" violated');
    expect(text).toContain('input:   {"review":false}');
    expect(text).toMatch(/approve\s+skipped \(when condition is false\)/);
    expect(text).toMatch(/send\s+started \(attempt 1\)/);
    expect(text).toContain('replay: orch verify outreach.orch --plan outreach --seed 7');
    expect(text).toContain('send.started = true, approve.completed = false');
  });
});
