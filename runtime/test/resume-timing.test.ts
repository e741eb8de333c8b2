/**
 * Time across an outage (LANGUAGE.md §7.1, §7.4): a run interrupted while a step waits — for its
 * retry's backoff, for `wait D` — and resumed later waits only what was left, measured from when
 * the wait began, not from the resume; a wait already due runs at once.
 */
import { describe, expect, it } from 'vitest';
import { replay, Run, VirtualClock, type JournalSink, type RunEvent } from '../scheduler/index.js';
import { capability, lit, plan, retry, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';
import type { PlanIR } from '../../compiler/index.js';

interface Drive {
  readonly at: number;
  readonly restored?: readonly RunEvent[];
  /** Stop journaling (the process died) once an event matching this was committed. */
  readonly crashAfter?: (e: RunEvent) => boolean;
}

function drive(p: PlanIR, fail: (stepId: string, attempt: number) => boolean, o: Drive) {
  const clock = new VirtualClock(o.at);
  const exec = new SimExecutor(clock, (req) => ({ latency: 10, outcome: fail(req.stepId, req.attempt) ? { ok: false, error: 'boom' } : { ok: true, output: { at: clock.now() } } }));
  const stored: RunEvent[] = [];
  let dead = false;
  const journal: JournalSink = {
    commit(_s, events) {
      if (dead) throw new Error('simulated crash');
      stored.push(...events);
      if (o.crashAfter && events.some(o.crashAfter)) dead = true;
    },
  };
  const starts: { stepId: string; at: number }[] = [];
  const run = new Run(
    p,
    { clock, executor: exec, journal, random: () => 0.5, observe: (e) => void (e.type === 'step_started' && starts.push({ stepId: e.stepId!, at: e.ts })) },
    { runId: 'timing', restored: o.restored ? replay(o.restored) : undefined },
  );
  const done = run.start().catch(() => null);
  clock.runAll(10_000);
  return { stored, starts, done, clock };
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
