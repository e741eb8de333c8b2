/**
 * Controls and resume on the scheduler core with a virtual clock: pause/resume/cancel semantics,
 * approval decisions that arrive early, resuming paused runs, remaining wait time and sub-plan
 * runs after an interruption.
 */
import { describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { replay, Run, VirtualClock, type JournalSink, type RunEvent } from '../scheduler/index.js';
import { capability, input, lit, out, plan, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';

function harness(p: PlanIR, opts: { restored?: RunEvent[]; clock?: VirtualClock; suspendOnApproval?: boolean; latency?: number } = {}) {
  const clock = opts.clock ?? new VirtualClock(0);
  const exec = new SimExecutor(clock, (req) => ({ latency: opts.latency ?? 10, outcome: { ok: true, output: { id: req.stepId, input: req.input } } }));
  const events: RunEvent[] = [...(opts.restored ?? [])];
  const journal: JournalSink = { commit: (_s, evs) => void events.push(...evs), load: (id) => events.filter((e) => e.runId === id) };
  const run = new Run(p, { clock, executor: exec, journal }, {
    runId: 'r',
    restored: opts.restored ? replay(opts.restored.filter((e) => e.runId === 'r')) : undefined,
    suspendOnApproval: opts.suspendOnApproval,
  });
  return { clock, exec, events, run };
}

const chain = (n: number) =>
  plan({
    capabilities: [capability('c')],
    steps: Array.from({ length: n }, (_, i) => step({ id: `s${i}`, capability: 'c', deps: i ? [`s${i - 1}`] : [] })),
  });

describe('pause, resume, cancel', () => {
  it('pause lets running steps finish but starts nothing new until resumed', async () => {
    const h = harness(chain(3));
    const done = h.run.start();
    expect(h.run.running()).toEqual(['s0']);
    h.run.pause();
    h.clock.runAll();
    expect(h.run.status()).toBe('paused');
    expect(h.exec.starts.map((s) => s.stepId)).toEqual(['s0']);
    expect(h.run.stepView('s0')!.status).toBe('completed');
    h.run.resume();
    h.clock.runAll();
    expect((await done).status).toBe('completed');
    const types = h.events.map((e) => e.type);
    expect(types.indexOf('execution_paused')).toBeLessThan(types.indexOf('execution_resumed'));
  });

  it('cancel aborts running attempts and ends the run as cancelled', async () => {
    const h = harness(chain(3));
    const done = h.run.start();
    h.run.cancel('stop');
    h.clock.runAll();
    const result = await done;
    expect(result.status).toBe('cancelled');
    expect(h.exec.aborted).toEqual(['s0:run cancelled']);
    expect(h.events.at(-1)!.type).toBe('execution_cancelled');
    // The running step is journaled step_cancelled (§7.4), the unstarted ones stand under the
    // run's end event; in the result all three are cancelled, and replay agrees.
    expect(h.events.filter((e) => e.stepId === 's0').map((e) => e.type)).toEqual(['step_queued', 'step_started', 'step_cancelled']);
    expect(h.events.some((e) => e.type === 'step_failed')).toBe(false);
    expect(result.steps.map((s) => s.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(result.metadata.cancelledSteps).toBe(3);
    expect(replay(h.events).steps.get('s0')?.status).toBe('cancelled');
  });
});

describe('approvals', () => {
  const approval = capability('std.capabilities.approval', { kind: 'human', handler: { builtin: 'approval' } });
  const p = plan({
    capabilities: [approval, capability('c')],
    steps: [
      step({ id: 'prep', capability: 'c' }),
      step({ id: 'ok', capability: 'std.capabilities.approval', deps: ['prep'], args: { approver: lit('lead') } }),
      step({ id: 'go', capability: 'c', deps: ['ok'], args: { who: out('ok', 'approver') } }),
    ],
  });

  it('a decision sent before the approval step starts is applied when it starts', async () => {
    const h = harness(p);
    const done = h.run.start();
    expect(h.run.signal('ok', 'approve', 'ada')).toBe('ok');
    h.clock.runAll();
    const r = await done;
    expect(r.status).toBe('completed');
    expect(h.exec.starts.find((s) => s.stepId === 'go')!.input).toEqual({ who: 'ada' });
  });

  it('suspends when only approvals are left, and a resumed run picks the decision up', async () => {
    const h = harness(p, { suspendOnApproval: true });
    const done = h.run.start();
    h.clock.runAll();
    const first = await done;
    expect(first.status).toBe('paused');
    expect(h.events.at(-1)).toMatchObject({ type: 'execution_paused', data: { waiting: ['ok'] } });
    const again = harness(p, { restored: h.events, clock: new VirtualClock(1000) });
    const resumed = again.run.start();
    again.run.signal('ok', 'approve', null);
    again.clock.runAll();
    const r = await resumed;
    expect(r.status).toBe('completed');
    expect(again.exec.starts.map((s) => s.stepId)).toEqual(['go']);
    expect(again.exec.starts[0]!.input).toEqual({ who: 'lead' });
    expect(r.steps.find((s) => s.stepId === 'ok')!.attempts).toBe(1);
    const types = again.events.map((e) => e.type);
    expect(types.slice(types.lastIndexOf('execution_started'))).toContain('execution_resumed');
    expect(again.events.map((e) => e.seq)).toEqual(again.events.map((_, i) => i + 1));
  });

  it('an answer given to a resumed run before it starts is kept for its approval step (the run does not end early)', async () => {
    const h = harness(p, { suspendOnApproval: true });
    const first = h.run.start();
    h.clock.runAll();
    expect((await first).status).toBe('paused');
    const again = harness(p, { restored: h.events, clock: new VirtualClock(1000) });
    expect(again.run.signal('ok', 'approve', 'ada')).toBe('ok');
    const resumed = again.run.start();
    again.clock.runAll();
    const r = await resumed;
    expect(r.status).toBe('completed');
    expect(again.exec.starts.map((s) => s.stepId)).toEqual(['go']);
    expect(again.exec.starts[0]!.input).toEqual({ who: 'ada' });
  });

  // A sub-plan whose only step left is an approval: its parent waits for that approval too (§7.4).
  const withSub = plan({
    capabilities: [approval, capability('c')],
    steps: [
      step({ id: 'sub', capability: null, kind: null, action: { type: 'run', plan: 'child', args: {} } }),
      step({ id: 'go', capability: 'c', deps: ['sub'], args: { who: out('sub') } }),
    ],
    over: { subplans: { child: { ...p, plan: 'child', output: out('ok', 'approver') } } },
  });
  const parentEvents = (events: readonly RunEvent[]) => events.filter((e) => e.runId === 'r');

  it('a run whose sub-plan waits only for an approval is paused, naming it sub/ok, and runs on once it is answered', async () => {
    const h = harness(withSub);
    const done = h.run.start();
    h.clock.runAll();
    expect(h.run.status()).toBe('paused');
    expect(h.run.approvalsWaiting()).toEqual(['sub/ok']);
    expect(parentEvents(h.events).at(-1)).toMatchObject({ type: 'execution_paused', data: { reason: 'waiting for approval', waiting: ['sub/ok'], held: true } });
    expect(h.run.signal('sub/ok', 'approve', 'ada')).toBe('ok');
    while (!parentEvents(h.events).some((e) => e.type === 'step_completed' && e.stepId === 'sub')) if (!h.clock.step()) break;
    // The sub-plan has ended: nothing of it can be answered or cancelled any more.
    expect(h.run.signal('sub/ok', 'approve', 'ada')).toBe('step sub has already finished (completed)');
    expect(h.run.cancelStep('sub/go')).toBe('step sub has already finished (completed)');
    h.clock.runAll();
    const r = await done;
    expect(r.status).toBe('completed');
    expect(parentEvents(h.events).map((e) => e.type)).toContain('execution_resumed');
    expect(h.exec.starts.find((s) => s.stepId === 'go')!.input).toEqual({ who: 'ada' });
  });

  it('suspends a run whose sub-plan waits for an approval; the answer given before the resume reaches the sub-plan', async () => {
    const h = harness(withSub, { suspendOnApproval: true });
    const done = h.run.start();
    h.clock.runAll();
    const first = await done;
    expect(first).toMatchObject({ status: 'paused', waiting: ['sub/ok'] });
    // The sub-plan stopped as it stood, waiting: not failed, not finished.
    expect(h.events.some((e) => e.type === 'step_failed' || e.type === 'execution_failed')).toBe(false);
    const again = harness(withSub, { restored: h.events, clock: new VirtualClock(h.clock.now() + 1000) });
    expect(again.run.signal('sub/ok', 'approve', 'grace')).toBe('ok');
    const resumed = again.run.start();
    again.clock.runAll();
    const r = await resumed;
    expect(r.status).toBe('completed');
    // The sub-plan's `prep` completed before the suspension and does not run again; its `go`, then the parent's, run now.
    expect(again.exec.starts.map((s) => `${s.runId}:${s.stepId}`)).toEqual(['r/sub:go', 'r:go']);
    expect(again.exec.starts.at(-1)!.input).toEqual({ who: 'grace' });
  });

  it('several answers for a sub-plan given before the resume all reach it, in order: the first decides (none replaces another)', async () => {
    const h = harness(withSub, { suspendOnApproval: true });
    const done = h.run.start();
    h.clock.runAll();
    expect((await done).status).toBe('paused');
    const again = harness(withSub, { restored: h.events, clock: new VirtualClock(h.clock.now() + 1000) });
    expect(again.run.signal('sub/ok', 'approve', 'grace')).toBe('ok');
    expect(again.run.signal('sub/ok', 'reject', 'ada')).toBe('ok');
    const resumed = again.run.start();
    again.clock.runAll();
    const r = await resumed;
    expect(r.status).toBe('completed');
    expect(again.exec.starts.at(-1)!.input).toEqual({ who: 'grace' });
  });

  it('a step cancel for a sub-plan given before the resume reaches it once it runs again', async () => {
    const h = harness(withSub, { suspendOnApproval: true });
    const done = h.run.start();
    h.clock.runAll();
    expect((await done).status).toBe('paused');
    const again = harness(withSub, { restored: h.events, clock: new VirtualClock(h.clock.now() + 1000) });
    expect(again.run.cancelStep('sub/go')).toBe('ok');
    expect(again.run.signal('sub/ok', 'approve', 'grace')).toBe('ok');
    const resumed = again.run.start();
    again.clock.runAll();
    const r = await resumed;
    expect(r.status).toBe('completed');
    expect(again.exec.starts.map((s) => `${s.runId}:${s.stepId}`)).toEqual(['r:go']);
    expect(again.events.filter((e) => e.runId === 'r/sub' && e.type === 'step_cancelled').map((e) => e.stepId)).toEqual(['go']);
  });

  it('a decision for a step of no sub-plan is refused', () => {
    const h = harness(withSub, { suspendOnApproval: true });
    expect(h.run.signal('go/ok', 'approve', null)).toBe('unknown step go/ok');
  });
});

describe('resume details', () => {
  it('a wait that was running continues with the remaining time only', async () => {
    const p = plan({ steps: [step({ id: 'w', capability: null, kind: null, action: { type: 'wait', duration_ms: lit(1000) } })] });
    const h = harness(p);
    void h.run.start();
    h.clock.setTimer(400, () => undefined);
    h.clock.step(); // 400 ms pass, then the process "dies"
    const started = h.events.find((e) => e.type === 'step_started')!.ts;
    const clock = new VirtualClock(started + 400);
    const again = harness(p, { restored: [...h.events], clock });
    const done = again.run.start();
    clock.runAll();
    await done;
    const completed = again.events.find((e) => e.type === 'step_completed')!;
    expect(completed.ts).toBe(started + 1000);
  });

  it('a sub-plan run interrupted midway resumes its own journal instead of starting over', async () => {
    const child = plan({ name: 'child', capabilities: [capability('c')], steps: chain(4).steps, over: { output: out('s3', 'id') } });
    const p = plan({
      capabilities: [capability('c')],
      steps: [
        step({ id: 'sub', capability: null, kind: null, action: { type: 'run', plan: 'child', args: { x: input('x') } } }),
        step({ id: 'after', capability: 'c', deps: ['sub'], args: { got: out('sub') } }),
      ],
      over: { subplans: { child } },
    });
    const h = harness(p);
    void h.run.start();
    // let two child steps complete, then "crash"
    while (h.events.filter((e) => e.runId === 'r/sub' && e.type === 'step_completed').length < 2) if (!h.clock.step()) break;
    const again = harness(p, { restored: [...h.events], clock: new VirtualClock(h.clock.now()) });
    const done = again.run.start();
    again.clock.runAll();
    const r = await done;
    expect(r.status).toBe('completed');
    expect(again.exec.starts.map((s) => s.stepId)).toEqual(['s2', 's3', 'after']);
    expect(again.exec.starts.at(-1)!.input).toEqual({ got: 's3' });
  });
});

describe('ordering and backoff', () => {
  it('among ready steps the lower priority number starts first', async () => {
    const p = plan({
      capabilities: [capability('c')],
      steps: [
        step({ id: 'low', capability: 'c', priority: 4 }),
        step({ id: 'critical', capability: 'c', priority: 0 }),
        step({ id: 'normal', capability: 'c', priority: 2 }),
      ],
      over: { concurrency: 1 },
    });
    const h = harness(p);
    const done = h.run.start();
    h.clock.runAll();
    await done;
    expect(h.exec.starts.map((s) => s.stepId)).toEqual(['critical', 'normal', 'low']);
  });

  it('retries wait fixed or exponentially growing delays, capped by max', async () => {
    const clock = new VirtualClock(0);
    const exec = new SimExecutor(clock, () => ({ latency: 0, outcome: { ok: false, error: 'nope' } }));
    const p = plan({
      capabilities: [capability('c')],
      steps: [
        step({ id: 'fixed', capability: 'c', on_failure: 'continue', retry: { max: 2, backoff: 'fixed', delay_ms: 100, max_delay_ms: null, jitter: false } }),
        step({ id: 'expo', capability: 'c', on_failure: 'continue', retry: { max: 4, backoff: 'exponential', delay_ms: 100, max_delay_ms: 300, jitter: false } }),
      ],
    });
    const starts: RunEvent[] = [];
    const run = new Run(p, { clock, executor: exec, observe: (e) => void (e.type === 'step_started' && starts.push(e)) }, { runId: 'b' });
    const done = run.start();
    clock.runAll();
    await done;
    const at = (id: string) => starts.filter((e) => e.stepId === id).map((e) => e.ts);
    expect(at('fixed')).toEqual([0, 100, 200]);
    expect(at('expo')).toEqual([0, 100, 300, 600, 900]);
  });
});
