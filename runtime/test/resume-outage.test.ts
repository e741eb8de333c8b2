/**
 * Runs interrupted where the other crash tests do not reach (LANGUAGE.md §7.1, §7.4), in process on
 * a virtual clock: the journal stops taking commits (the process died) after a chosen event, and a
 * fresh `Run` resumes from what was committed, later.
 * - Time spans the outage: a step waiting for its retry's backoff or in `wait D` waits only what
 *   was left, measured from when the wait began, not from the resume.
 * - A rollback cut short carries on after the resume, and runs each compensation at most once.
 * - A fallback switched to stays switched; spend before the crash is counted once.
 * - A retried sub-plan step runs its sub-plan again; a resume continues the attempt in flight.
 * - Warnings (a warn budget, a warning guardrail) journaled before the crash are not journaled again.
 */
import { describe, expect, it } from 'vitest';
import { replay, Run, VirtualClock, type AttemptRequest, type JournalSink, type RunEvent } from '../scheduler/index.js';
import { bin, capability, lit, plan, policy, retry, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';
import type { PlanIR } from '../../compiler/index.js';

interface Drive {
  readonly at: number;
  readonly restored?: readonly RunEvent[];
  /** Stop journaling (the process died) once an event matching this was committed. */
  readonly crashAfter?: (e: RunEvent) => boolean;
  /** How long an attempt takes (10 ms unless said). */
  readonly latency?: (req: AttemptRequest) => number;
}

function drive(p: PlanIR, fail: (stepId: string, attempt: number, purpose: string) => boolean, o: Drive) {
  const clock = new VirtualClock(o.at);
  const exec = new SimExecutor(clock, (req) => ({ latency: o.latency?.(req) ?? 10, outcome: fail(req.stepId, req.attempt, req.purpose) ? { ok: false, error: 'boom' } : { ok: true, output: { at: clock.now() } } }));
  const stored: RunEvent[] = [];
  let dead = false;
  const journal: JournalSink = {
    commit(_s, events) {
      if (dead) throw new Error('simulated crash');
      stored.push(...events);
      if (o.crashAfter && events.some(o.crashAfter)) dead = true;
    },
    // A sub-plan's run reads its own journal on a resume.
    load: (runId) => [...(o.restored ?? []), ...stored].filter((e) => e.runId === runId),
  };
  const starts: { stepId: string; at: number }[] = [];
  const run = new Run(
    p,
    { clock, executor: exec, journal, random: () => 0.5, observe: (e) => void (e.type === 'step_started' && starts.push({ stepId: e.stepId!, at: e.ts })) },
    { runId: 'timing', restored: o.restored ? replay(o.restored.filter((e) => e.runId === 'timing')) : undefined },
  );
  const done = run.start().catch(() => null);
  clock.runAll(10_000);
  return { stored, starts, done, clock, exec };
}

describe('waits that span an outage', () => {
  const p = plan({ capabilities: [capability('c')], steps: [step('a', 'c', { retry: retry(2, 1000) })] });
  const failFirst = (_s: string, attempt: number) => attempt === 1;

  it('a retry interrupted in its backoff runs when it was due, not at the resume', async () => {
    const crashed = drive(p, failFirst, { at: 1_000, crashAfter: (e) => e.type === 'step_retried' });
    const retriedAt = crashed.stored.find((e) => e.type === 'step_retried')!.ts;
    expect(crashed.stored.some((e) => e.type === 'step_started' && e.data.attempt === 2)).toBe(false);
    const resumed = drive(p, failFirst, { at: retriedAt + 300, restored: crashed.stored });
    expect((await resumed.done)?.status).toBe('completed');
    expect(resumed.starts).toEqual([{ stepId: 'a', at: retriedAt + 1000 }]);
  });

  it('a retry whose backoff ended during the outage runs at once', async () => {
    const crashed = drive(p, failFirst, { at: 1_000, crashAfter: (e) => e.type === 'step_retried' });
    const retriedAt = crashed.stored.find((e) => e.type === 'step_retried')!.ts;
    const resumed = drive(p, failFirst, { at: retriedAt + 5_000, restored: crashed.stored });
    expect((await resumed.done)?.status).toBe('completed');
    expect(resumed.starts).toEqual([{ stepId: 'a', at: retriedAt + 5_000 }]);
  });

  it('`wait D` interrupted part way waits only the rest', async () => {
    const w = plan({ capabilities: [capability('c')], steps: [step({ id: 'w', action: { type: 'wait', duration_ms: lit(5_000) } }), step('b', 'c', { deps: ['w'] })] });
    const crashed = drive(w, () => false, { at: 1_000, crashAfter: (e) => e.type === 'step_started' && e.stepId === 'w' });
    const resumed = drive(w, () => false, { at: 3_000, restored: crashed.stored });
    expect((await resumed.done)?.status).toBe('completed');
    expect(resumed.starts.find((s) => s.stepId === 'b')?.at).toBe(6_000);
  });
});

describe('a rollback cut short', () => {
  // a and b complete, x fails: the plan rolls back b, then a.
  const rollbackPlan = (idempotent: boolean) =>
    plan({
      capabilities: [capability('c'), capability('undo', { idempotent })],
      steps: [
        step('a', 'c', { compensate: { capability: 'undo', args: {} } }),
        step('b', 'c', { deps: ['a'], compensate: { capability: 'undo', args: {} } }),
        step('x', 'c', { deps: ['b'] }),
      ],
      over: { on_failure: 'rollback' },
    });
  const failX = (stepId: string, _a: number, purpose: string) => stepId === 'x' && purpose !== 'compensate';
  const ran = (d: { exec: SimExecutor }) => d.exec.starts.filter((r) => r.purpose === 'compensate').map((r) => r.stepId);
  const journaled = (events: readonly RunEvent[]) => events.filter((e) => e.type === 'step_compensated').map((e) => `${e.stepId} ${String(e.data.ok)}`);

  it('resumed before any compensation ended: the rollback carries on; the one in flight, not idempotent, is failed-unknown', async () => {
    const p = rollbackPlan(false);
    const crashed = drive(p, failX, { at: 1_000, crashAfter: (e) => e.type === 'compensation_started' });
    expect(ran(crashed)).toEqual(['b']);
    const resumed = drive(p, failX, { at: 2_000, restored: crashed.stored });
    expect((await resumed.done)?.status).toBe('failed');
    expect(ran(resumed)).toEqual(['a']);
    expect(journaled(resumed.stored)).toEqual(['b false', 'a true']);
    expect(resumed.stored.find((e) => e.type === 'step_compensated' && e.stepId === 'b')?.data).toMatchObject({ error: expect.stringMatching(/^failed-unknown/) });
  });

  it('resumed after the first compensation: it does not run again, an idempotent one in flight does', async () => {
    const p = rollbackPlan(true);
    const crashed = drive(p, failX, { at: 1_000, crashAfter: (e) => e.type === 'step_compensated' });
    expect(ran(crashed)).toEqual(['b', 'a']);
    const resumed = drive(p, failX, { at: 2_000, restored: crashed.stored });
    expect((await resumed.done)?.status).toBe('failed');
    expect(ran(resumed)).toEqual(['a']);
    expect(journaled([...crashed.stored, ...resumed.stored])).toEqual(['b true', 'a true']);
  });
});

describe('what was done before the crash', () => {
  it('a step that moved to its fallback call stays there: the primary never runs again', async () => {
    const p = plan({ capabilities: [capability('c'), capability('f')], steps: [step('a', 'c', { retry: retry(1, 100), fallback: { capability: 'f', args: {} } })] });
    const primaryFails = (_s: string, _a: number, purpose: string) => purpose !== 'fallback';
    // The switch and the fallback's start are one commit; the crash comes before its outcome.
    const crashed = drive(p, primaryFails, { at: 1_000, crashAfter: (e) => e.type === 'step_retried' && e.data.phase === 'fallback' });
    const resumed = drive(p, primaryFails, { at: 2_000, restored: crashed.stored });
    expect((await resumed.done)?.status).toBe('completed');
    expect(resumed.exec.starts.map((r) => `${r.purpose} #${r.attempt}`)).toEqual(['fallback #4']);
  });

  it('spend before the crash is counted once; the attempt the crash cut short stays charged (it may have run)', async () => {
    const p = plan({ capabilities: [capability('c', { cost: 0.1 })], steps: [step('a', 'c'), step('b', 'c', { deps: ['a'] })] });
    const live = drive(p, () => false, { at: 1_000 });
    await live.done;
    const crashed = drive(p, () => false, { at: 1_000, crashAfter: (e) => e.type === 'step_started' && e.stepId === 'b' });
    const resumed = drive(p, () => false, { at: 2_000, restored: crashed.stored });
    await resumed.done;
    const cost = (events: readonly RunEvent[]) => (events.at(-1)!.data as { cost: number }).cost;
    expect(cost(live.stored)).toBe(0.2);
    expect(cost(resumed.stored)).toBe(0.3);
  });
});

describe('a sub-plan step retried', () => {
  // Each attempt of `sub` runs the child afresh under the same run id; k1 fails the first time.
  const child = plan({ name: 'child', capabilities: [capability('c')], steps: [step('k1', 'c'), step('k2', 'c', { deps: ['k1'] })] });
  const p = plan({
    capabilities: [capability('c')],
    steps: [step({ id: 'sub', capability: null, kind: null, timeout_ms: 1000, retry: retry(1, 500), action: { type: 'run', plan: 'child', args: {} } })],
    over: { subplans: { child } },
  });
  const k1FailsOnce = () => {
    let runs = 0;
    return (s: string) => s === 'k1' && ++runs === 1;
  };

  it('runs the sub-plan again, not the first attempt\'s outcome', async () => {
    const live = drive(p, k1FailsOnce(), { at: 1_000 });
    expect((await live.done)?.status).toBe('completed');
    expect(live.exec.starts.map((r) => r.stepId)).toEqual(['k1', 'k1', 'k2']);
    const childSeqs = live.stored.filter((e) => e.runId === 'timing/sub').map((e) => e.seq);
    expect(childSeqs).toEqual(childSeqs.map((_, i) => i + 1));
  });

  it('interrupted in its second attempt, continues that attempt\'s sub-plan, timed from that attempt\'s start', async () => {
    const crashed = drive(p, k1FailsOnce(), { at: 1_000, crashAfter: (e) => e.type === 'step_completed' && e.stepId === 'k1' });
    const second = crashed.stored.filter((e) => e.type === 'step_started' && e.stepId === 'sub').at(-1)!;
    expect(second.data).toMatchObject({ attempt: 2 });
    // 600 ms into the attempt's 1000 ms, but 1100 ms after the step first started.
    const resumed = drive(p, () => false, { at: second.ts + 600, restored: crashed.stored });
    expect((await resumed.done)?.status).toBe('completed');
    expect(resumed.exec.starts.map((r) => r.stepId)).toEqual(['k2']);
  });
});

describe('warnings journaled once a run', () => {
  const count = (events: readonly RunEvent[], type: string) => events.filter((e) => e.runId === 'timing' && e.type === type).length;

  it('a warn budget past its limit before the crash is not journaled again', async () => {
    const p = plan({
      capabilities: [capability('c', { cost: 0.3 })],
      steps: [step('a', 'c'), step('b', 'c', { deps: ['a'] }), step({ id: 'w', deps: ['b'], action: { type: 'wait', duration_ms: lit(2_000) } })],
      policy: policy({ budgets: { cost: 0.5, duration_ms: 500, cost_warn: true, duration_warn: true } }),
    });
    const live = drive(p, () => false, { at: 1_000 });
    await live.done;
    expect(count(live.stored, 'budget_exceeded')).toBe(2);
    const crashed = drive(p, () => false, { at: 1_000, crashAfter: (e) => e.type === 'budget_exceeded' && e.data.budget === 'duration' });
    const resumed = drive(p, () => false, { at: 1_600, restored: crashed.stored });
    expect((await resumed.done)?.status).toBe('completed');
    expect(count(resumed.stored, 'budget_exceeded')).toBe(0);
  });

  it('a warning guardrail seen before the crash is not journaled again when its step starts again', async () => {
    const p = plan({
      capabilities: [capability('c')],
      steps: [step('a', 'c', { data: 'secret' })],
      guardrails: [
        {
          name: 'careful',
          severity: 'warning',
          category: null,
          message: 'secret data',
          rules: [{ type: 'forbid', condition: bin('==', lit(1), lit(1)) }],
          static_verdict: 'runtime',
        },
      ],
    });
    const crashed = drive(p, () => false, { at: 1_000, crashAfter: (e) => e.type === 'step_started' });
    expect(count(crashed.stored, 'guardrail_violation')).toBe(1);
    const resumed = drive(p, () => false, { at: 1_005, restored: crashed.stored });
    expect((await resumed.done)?.status).toBe('completed');
    expect(resumed.exec.starts).toHaveLength(1);
    expect(count(resumed.stored, 'guardrail_violation')).toBe(0);
  });
});
