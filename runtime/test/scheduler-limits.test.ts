/**
 * What the limits count, on the scheduler core with a virtual clock: `for each … parallel N`
 * limits items (an item is in flight until all its steps, waits included, are terminal), a
 * resource's concurrency counts every step bound to it while in progress (approvals included),
 * and plan `concurrency` does not count waits or approvals.
 */
import { describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { InProcessLimits, InRunLimits, rateWindow, Run, VirtualClock, type JournalSink, type LimitsService, type RunEvent } from '../scheduler/index.js';
import { capability, input, lit, plan, policy, resource, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';

function harness(p: PlanIR, runInput: unknown, opts: { suspendOnApproval?: boolean } = {}) {
  const clock = new VirtualClock(0);
  const exec = new SimExecutor(clock, () => ({ latency: 10, outcome: { ok: true, output: {} } }));
  const events: RunEvent[] = [];
  const journal: JournalSink = { commit: (_s, evs) => void events.push(...evs), load: () => [] };
  const run = new Run(p, { clock, executor: exec, journal }, { runId: 'r', input: runInput, suspendOnApproval: opts.suspendOnApproval });
  return { clock, exec, events, run };
}

/** Virtual time at which each instance started / ended. */
function spans(events: readonly RunEvent[]) {
  const start = new Map<string, number>();
  const end = new Map<string, number>();
  for (const e of events) {
    if (!e.stepId) continue;
    if (e.type === 'step_started' && !start.has(e.stepId)) start.set(e.stepId, e.ts);
    if (e.type === 'step_completed' || e.type === 'step_failed') end.set(e.stepId, e.ts);
  }
  return { start, end };
}

const approval = capability('std.capabilities.approval', { kind: 'human', handler: { builtin: 'approval' } });

describe('for each … parallel N limits items, not step instances', () => {
  const eachItem = { group: 'g', item: 'r', list: input('xs'), parallel: 1 };
  const p = plan({
    capabilities: [capability('send')],
    steps: [
      step({ id: 'send', capability: 'send', for_each: eachItem }),
      step({ id: 'pause', capability: null, action: { type: 'wait', duration_ms: lit(1000) }, after: ['send'], for_each: eachItem }),
    ],
  });

  it('does not start send[1] while pause[0] waits', async () => {
    const h = harness(p, { xs: ['a', 'b', 'c'] });
    const done = h.run.start();
    h.clock.runAll();
    expect((await done).status).toBe('completed');
    const { start, end } = spans(h.events);
    for (const i of [1, 2]) expect(start.get(`send[${i}]`)!).toBeGreaterThanOrEqual(end.get(`pause[${i - 1}]`)!);
    expect(h.exec.starts.map((s) => s.stepId)).toEqual(['send[0]', 'send[1]', 'send[2]']);
  });

  it('parallel 2 keeps two items in flight, each until its wait is over', async () => {
    const p2 = plan({ ...{ capabilities: [capability('send')] }, steps: p.steps.map((s) => ({ ...s, for_each: { ...eachItem, parallel: 2 } })) });
    const h = harness(p2, { xs: ['a', 'b', 'c', 'd'] });
    const done = h.run.start();
    h.clock.runAll();
    expect((await done).status).toBe('completed');
    const { start, end } = spans(h.events);
    // Items 0 and 1 run together; item 2 starts only when one of them finished its pause.
    expect(start.get('send[1]')).toBe(start.get('send[0]'));
    expect(start.get('send[2]')!).toBeGreaterThanOrEqual(Math.min(end.get('pause[0]')!, end.get('pause[1]')!));
  });
});

describe('resource concurrency counts approvals bound to a human resource', () => {
  const legal = resource('legal', { kind: 'human', tier: 'human', concurrency: 1 });
  const p = plan({
    capabilities: [approval],
    resources: [legal],
    steps: [
      step({
        id: 'review',
        capability: approval.name,
        resource: 'legal',
        args: { approver: lit('legal') },
        for_each: { group: 'g', item: 'd', list: input('docs'), parallel: null },
      }),
    ],
  });

  it('starts the second review only after the first was decided', async () => {
    const h = harness(p, { docs: ['a', 'b'] });
    const done = h.run.start();
    h.clock.runAll();
    expect(h.run.running()).toEqual(['review[0]']);
    expect(h.run.signal('review[0]', 'approve', 'ann')).toBe('ok');
    h.clock.runAll();
    expect(h.run.running()).toEqual(['review[1]']);
    expect(h.run.signal('review[1]', 'approve', 'ann')).toBe('ok');
    h.clock.runAll();
    expect((await done).status).toBe('completed');
  });

  it('suspends (paused) with the second review still queued behind the first', async () => {
    const h = harness(p, { docs: ['a', 'b'] }, { suspendOnApproval: true });
    const done = h.run.start();
    h.clock.runAll();
    const result = await done;
    expect(result.status).toBe('paused');
    expect(h.events.find((e) => e.type === 'execution_paused')!.data.waiting).toEqual(['review[0]']);
  });

  it('plan concurrency does not count a pending approval', async () => {
    const open = plan({
      capabilities: [approval, capability('c')],
      steps: [
        step({ id: 'ok', capability: approval.name, args: { approver: lit('lead') } }),
        step({ id: 'work', capability: 'c' }),
      ],
      over: { concurrency: 1 },
    });
    const h = harness(open, {});
    const done = h.run.start();
    h.clock.runAll();
    expect(h.run.stepView('work')!.status).toBe('completed');
    h.run.signal('ok', 'approve', 'lead');
    h.clock.runAll();
    expect((await done).status).toBe('completed');
  });
});

describe('the limits are a pluggable service', () => {
  it('a run asks the LimitsService it is given, waits out a full rate window and releases every slot it took', async () => {
    const p = plan({ capabilities: [capability('c')], steps: [step({ id: 'a', capability: 'c' }), step({ id: 'b', capability: 'c' })] });
    const inner = new InRunLimits(p);
    const log: string[] = [];
    let asked = 0;
    const limits: LimitsService = {
      // The first request (a) and every later one before t=100 find the window full; the second (b) does not.
      tryAcquire(req, now) {
        if (++asked !== 2 && now < 100) {
          log.push(`refused at ${now}`);
          return { kind: 'rate_limited', window: 'c', retryAt: 100 };
        }
        const g = inner.tryAcquire(req, now);
        if (g.kind === 'granted') log.push(`granted at ${now}`);
        return g;
      },
      release(lease) {
        log.push('released');
        inner.release(lease);
      },
      itemFinished: (group, index) => inner.itemFinished(group, index),
      itemsResumed: (items) => inner.itemsResumed(items),
      heldBack: (req) => inner.heldBack(req),
    };
    const clock = new VirtualClock(0);
    const exec = new SimExecutor(clock, () => ({ latency: 10, outcome: { ok: true, output: {} } }));
    const run = new Run(p, { clock, executor: exec }, { runId: 'r', limits });
    const done = run.start();
    clock.runAll();
    expect((await done).status).toBe('completed');
    // `a` was refused; `b` went ahead; `a` started once the window it was told about had passed.
    expect(log[0]).toBe('refused at 0');
    expect(log.filter((l) => !l.startsWith('refused'))).toEqual(['granted at 0', 'released', 'granted at 100', 'released']);
    expect(log).toContain('refused at 10'); // b's end freed nothing a was waiting for
  });
});

describe('rate limits count per policy (LANGUAGE.md §7.2: the calls of CAP under that policy)', () => {
  const under = (name: string) =>
    plan({ name: `p_${name}`, capabilities: [capability('work')], steps: [step({ id: 'a', capability: 'work' })], over: { policy: policy({ name, rate_limits: [{ capability: 'work', count: 1, per_ms: 1000 }] }) } });
  const call = { occupies: true, resource: null, item: null, capability: 'work' } as const;

  it('runs under one policy share its window; another policy limiting the same capability keeps its own', () => {
    const limits = new InProcessLimits();
    const wake = () => undefined;
    expect(limits.forRun(under('strict'), 'r1', wake).tryAcquire(call, 0).kind).toBe('granted');
    expect(limits.forRun(under('roomy'), 'r2', wake).tryAcquire(call, 10).kind).toBe('granted');
    expect(limits.forRun(under('strict'), 'r3', wake).tryAcquire(call, 20)).toMatchObject({ kind: 'rate_limited', window: rateWindow('strict', 'work'), retryAt: 1000 });
    expect(limits.forRun(under('strict'), 'r4', wake).tryAcquire(call, 1001).kind).toBe('granted');
  });
});

describe('resource concurrency across runs (LANGUAGE.md §7.2)', () => {
  it("a step waiting for another run's slot on its resource stays queued, and starts when the slot is freed", async () => {
    const p = plan({
      capabilities: [capability('work')],
      resources: [resource('gpu', { concurrency: 1 })],
      steps: [step({ id: 'a', capability: 'work', resource: 'gpu' })],
    });
    const limits = new InProcessLimits();
    const clock = new VirtualClock(0);
    const exec = new SimExecutor(clock, () => ({ latency: 100, outcome: { ok: true, output: {} } }));
    const one = new Run(p, { clock, executor: exec, limits }, { runId: 'one' });
    const two = new Run(p, { clock, executor: exec, limits }, { runId: 'two' });
    const done = [one.start(), two.start()];
    let during: (string | undefined)[] = [];
    clock.setTimer(50, () => (during = [one.stepView('a')?.status, two.stepView('a')?.status]));
    for (let i = 0; i < 100 && exec.starts.length < 2; i++) {
      clock.runAll();
      await new Promise((r) => setImmediate(r));
    }
    clock.runAll();
    const results = await Promise.all(done);
    expect(during).toEqual(['running', 'queued']);
    expect(results.map((r) => r.status)).toEqual(['completed', 'completed']);
    expect(exec.starts.map((s) => s.runId)).toEqual(['one', 'two']);
  });
});

describe('cancelling a queued step (LANGUAGE.md §7.1)', () => {
  it('a step queued for a resource slot is cancelled and never starts; its run completes', async () => {
    const p = plan({
      capabilities: [capability('work')],
      resources: [resource('gpu', { concurrency: 1 })],
      steps: [step({ id: 'a', capability: 'work', resource: 'gpu' }), step({ id: 'b', capability: 'work', resource: 'gpu' })],
    });
    const clock = new VirtualClock(0);
    const exec = new SimExecutor(clock, () => ({ latency: 100, outcome: { ok: true, output: {} } }));
    const run = new Run(p, { clock, executor: exec }, { runId: 'r' });
    const done = run.start();
    const seen: unknown[] = [];
    clock.setTimer(50, () => {
      seen.push(run.stepView('b')?.status);
      seen.push(run.cancelStep('b'));
    });
    clock.runAll();
    const result = await done;
    expect(seen).toEqual(['queued', 'ok']);
    expect(result.status).toBe('completed');
    expect(Object.fromEntries(result.steps.map((s) => [s.stepId, s.status]))).toEqual({ a: 'completed', b: 'cancelled' });
    expect(exec.starts.map((s) => s.stepId)).toEqual(['a']);
  });
});

describe("a sub-plan's calls count against its parent's limits (LANGUAGE.md §7.2)", () => {
  // The sub-plan has no policy of its own, or another one: its call of `work` is made for the
  // parent, under the parent's policy, as its budgets and guardrails are.
  const SOURCE = `
capability work { kind tool  input { n: int }  output { n: int } }
policy strict { rate_limit work 1 per 1m }
policy other { rate_limit work 5 per 1m }
plan bare { step i = work(n: 1) }
plan own { policy other
  step i = work(n: 1) }
plan same { policy strict
  step i = work(n: 1) }
plan outer_bare { policy strict
  step a = work(n: 0)
  step s = run bare() }
plan outer_own { policy strict
  step a = work(n: 0)
  step s = run own() }
plan outer_same { policy strict
  step a = work(n: 0)
  step s = run same() }
capability render { kind tool  input { n: int }  output { n: int }  requires gpu }
resource gpu { kind local_device  provides gpu  concurrency 1 }
plan draw { step i = render(n: 1) }
plan outer_gpu {
  step a = render(n: 0)
  step s = run draw() }
`;
  const ENTRY = '/virtual/limits/sub.orch';
  const plans = new Map(compile({ entry: ENTRY, host: { readFile: (f) => (f === ENTRY ? SOURCE : undefined) } }).plans.map((p) => [p.plan, p]));

  async function workStarts(name: string, limits?: InProcessLimits): Promise<number[]> {
    const clock = new VirtualClock(0);
    const starts: number[] = [];
    const exec = new SimExecutor(clock, (req) => {
      starts.push(clock.now());
      return { latency: 10, outcome: { ok: true, output: { n: (req.input as { n: number }).n } } };
    });
    const journal: JournalSink = { commit: () => undefined, load: () => [] };
    const run = new Run(plans.get(name)!, { clock, executor: exec, journal, ...(limits ? { limits } : {}) }, { runId: name });
    const done = run.start();
    clock.runAll();
    expect((await done).status).toBe('completed');
    return starts;
  }

  it('waits out the window for a sub-plan without a policy, in a run alone and among runs of one process', async () => {
    expect(await workStarts('outer_bare')).toEqual([0, 60_000]);
    expect(await workStarts('outer_bare', new InProcessLimits())).toEqual([0, 60_000]);
  });

  it('holds the parent’s limit besides the sub-plan’s own, and counts a call once when both are the same policy', async () => {
    expect(await workStarts('outer_own')).toEqual([0, 60_000]);
    expect(await workStarts('outer_same')).toEqual([0, 60_000]);
  });

  it('a run alone (orch test, orch verify) shares its resource slots with its sub-plans', async () => {
    expect(await workStarts('outer_gpu')).toEqual([0, 10]);
  });
});

describe('a compensation is a call: it waits for its rate window and resource slot (LANGUAGE.md §7.2)', () => {
  const SOURCE = `
capability work { kind tool  input { n: int }  output { n: int }  requires cpu }
capability undo { kind tool  input { n: int }  output { n: int }  requires cpu }
resource cpu { kind local_device  provides cpu }
capability hold_gpu { kind tool  input { n: int }  output { n: int }  requires gpu }
capability undo_gpu { kind tool  input { n: int }  output { n: int }  requires gpu }
resource gpu { kind local_device  provides gpu  concurrency 1 }
policy strict { rate_limit undo 1 per 1m }
plan paced { policy strict
  on_failure rollback
  step a = work(n: 1) { compensate undo(n: 1) }
  step b = work(n: 2) { compensate undo(n: 2) }
  step c = work(n: -1) { after a, b } }
plan busy { step g = hold_gpu(n: 500) }
plan undoes_on_gpu {
  on_failure rollback
  step a = work(n: 1) { compensate undo_gpu(n: 1) }
  step c = work(n: -1) { after a } }
`;
  const ENTRY = '/virtual/limits/compensate.orch';
  const out = compile({ entry: ENTRY, host: { readFile: (f) => (f === ENTRY ? SOURCE : undefined) } });
  const plans = new Map(out.plans.map((p) => [p.plan, p]));

  /** Runs the plans at once on one clock; `n` < 0 fails, `n` > 1 is the call's latency. */
  async function runAll(names: readonly string[], limits: InProcessLimits, cancelAt?: number) {
    const clock = new VirtualClock(0);
    const calls: string[] = [];
    const exec = new SimExecutor(clock, (req) => {
      const n = (req.input as { n: number }).n;
      calls.push(`${clock.now()} ${req.capability.name.split(".").pop()}`);
      return n < 0 ? { latency: 10, outcome: { ok: false, error: 'boom', permanent: true } } : { latency: n > 2 ? n : 10, outcome: { ok: true, output: { n } } };
    });
    const events: RunEvent[] = [];
    const journal: JournalSink = { commit: (_s, evs) => void events.push(...evs), load: () => [] };
    const runs = names.map((name) => new Run(plans.get(name)!, { clock, executor: exec, journal, limits }, { runId: name }));
    const done = runs.map((r) => r.start());
    if (cancelAt !== undefined) clock.setTimer(cancelAt, () => runs[0]!.cancel('stop'));
    clock.runAll();
    const results = await Promise.all(done);
    return { calls, events, results };
  }

  it('the second compensation of a rollback waits out the rate window of its capability', async () => {
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const { calls, events } = await runAll(['paced'], new InProcessLimits());
    // c fails at 20; the first compensation runs then, the second a window after it.
    expect(calls.filter((x) => x.endsWith(' undo'))).toEqual(['20 undo', '60020 undo']);
    expect(events.filter((e) => e.type === 'step_compensated').map((e) => e.data)).toEqual([{ ok: true }, { ok: true }]);
  });

  it("waits for another run's slot on its resource, and gives its own back", async () => {
    const limits = new InProcessLimits();
    const { calls, results } = await runAll(['busy', 'undoes_on_gpu', 'busy'], limits);
    // busy holds the gpu 0–500; the compensation (ready at 20) runs once it is free; the second busy after it.
    expect(calls.filter((x) => !x.endsWith(' work'))).toEqual(['0 hold_gpu', '500 undo_gpu', '510 hold_gpu']);
    expect(results.map((r) => r.status)).toEqual(['completed', 'failed', 'completed']);
  });

  it('a run cancelled while its compensation waits ends without running it', async () => {
    const { calls, results } = await runAll(['undoes_on_gpu', 'busy'], new InProcessLimits(), 100);
    expect(results[0]!.status).toBe('cancelled');
    expect(calls.some((x) => x.endsWith('undo_gpu'))).toBe(false);
  });
});
