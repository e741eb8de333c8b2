/**
 * LANGUAGE.md §9.4 in a run (virtual clock, the context store as its live signals): a stale signal
 * never satisfies a `when` (the step is skipped with the reason), never lets a `forbid` pass (fail
 * closed), and keeps a `wait until` waiting.
 */
import { describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { ContextStore } from '../context/store.js';
import { replay, Run, VirtualClock, type RunEvent } from '../scheduler/index.js';
import { SimExecutor } from './sim-executor.js';

const SOURCE = `
context {
  motion: bool max_age 2m
  temperature: number max_age 15m
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
guardrail not_when_hot {
  severity blocking
  forbid step where step.capability == "heat" and context.temperature > 25
}
plan p {
  guardrails not_when_hot
  step a = heat(t: 1) when context.motion
  step b = heat(t: context.temperature ?? 20) { on_failure continue }
}
`;

function planIR(src: string): PlanIR {
  const host = { readFile: (p: string) => (p === '/v/main.orch' ? src : undefined) };
  const out = compile({ entry: '/v/main.orch', host });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!;
}

async function runWith(ir: PlanIR, setup: (store: ContextStore, clock: VirtualClock) => void) {
  const clock = new VirtualClock(1_000_000);
  const store = new ContextStore({ signals: ir.context_signals ?? {}, clock });
  setup(store, clock);
  const events: RunEvent[] = [];
  const run = new Run(ir, { clock, executor: new SimExecutor(clock), signal: (n) => store.read(n), journal: { commit: (_s, evs) => void events.push(...evs) } }, { runId: 'ctx' });
  const done = run.start();
  clock.runAll();
  const result = await done;
  store.close();
  return { result, events };
}

const statusOf = (r: { readonly steps: readonly { readonly stepId: string; readonly status: string }[] }, id: string) => r.steps.find((s) => s.stepId === id)?.status;
const skipOf = (events: readonly RunEvent[], step: string) => (events.find((e) => e.type === 'step_skipped' && e.stepId === step)?.data as { reason?: string } | undefined)?.reason;
const failOf = (events: readonly RunEvent[], step: string) => events.find((e) => e.type === 'step_failed' && e.stepId === step)?.data;

describe('a run over an always-fresh context', () => {
  const ir = planIR(SOURCE);

  it('fresh signals: the when holds and the forbid rule does not', async () => {
    const { result } = await runWith(ir, (s) => {
      s.set('motion', true, { source: 'api' });
      s.set('temperature', 20, { source: 'api' });
    });
    expect(statusOf(result, 'a')).toBe('completed');
    expect(statusOf(result, 'b')).toBe('completed');
  });

  it('a stale signal skips a when with the reason and forbids (fail closed)', async () => {
    const { result, events } = await runWith(ir, (s, clock) => {
      s.set('motion', true, { source: 'api', at: clock.now() - 192_000 });
      s.set('temperature', 20, { source: 'api', at: clock.now() - 3_600_000 });
    });
    expect(statusOf(result, 'a')).toBe('skipped');
    expect(skipOf(events, 'a')).toBe('context.motion is stale: 3m12s > 2m');
    expect(statusOf(result, 'b')).toBe('failed');
    expect(JSON.stringify(failOf(events, 'b'))).toContain('context.temperature is stale');
  });

  it('a signal never set is unknown too', async () => {
    const { result, events } = await runWith(ir, () => {});
    expect(skipOf(events, 'a')).toBe('context.motion was never set');
    expect(statusOf(result, 'b')).toBe('failed');
  });
});

describe('what else unknown does (§9.4)', () => {
  const WAITS = `
context {
  motion: bool max_age 2m
  temperature: number max_age 15m
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
guardrail cool_enough {
  severity blocking
  assert context.temperature < 30
}
plan p {
  guardrails cool_enough
  step seen = wait until context.motion timeout 10m
  step a = heat(t: 1) {
    after seen
  }
}
`;
  const ir = planIR(WAITS);

  it('a wait until over a fresh true signal passes; over a stale true one it keeps waiting, to its timeout', async () => {
    const fresh = await runWith(ir, (s) => {
      s.set('motion', true, { source: 'api' });
      s.set('temperature', 20, { source: 'api' });
    });
    expect(statusOf(fresh.result, 'seen')).toBe('completed');
    expect(fresh.result.status).toBe('completed');
    const stale = await runWith(ir, (s, clock) => {
      s.set('motion', true, { source: 'api', at: clock.now() - 192_000 });
      s.set('temperature', 20, { source: 'api' });
    });
    expect(statusOf(stale.result, 'seen')).toBe('timeout');
    expect(statusOf(stale.result, 'a')).not.toBe('completed');
  });

  it('an assert over an unknown signal is violated (fail closed): the run fails naming the guardrail', async () => {
    const { result, events } = await runWith(ir, (s, clock) => {
      s.set('motion', true, { source: 'api' });
      s.set('temperature', 20, { source: 'api', at: clock.now() - 3_600_000 });
    });
    expect(result.status).toBe('failed');
    const violations = events.filter((e) => e.type === 'guardrail_violation').map((e) => JSON.stringify(e.data));
    expect(violations.some((v) => v.includes('cool_enough'))).toBe(true);
  });
});

describe('a wait until that changes with time alone (§9.4)', () => {
  it('goes on the moment age(context.door) passes 2m, with no message; not before', async () => {
    const ir = planIR(`
context {
  door: bool
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
plan p {
  step quiet = wait until age(context.door) > 2m timeout 10m
  step a = heat(t: 1) {
    after quiet
  }
}
`);
    const { result, events } = await runWith(ir, (s) => void s.set('door', true, { source: 'api' }));
    expect(statusOf(result, 'quiet')).toBe('completed');
    // Set at 1000000: its age passes 2m one ms after 1120000.
    expect(events.find((e) => e.type === 'step_completed' && e.stepId === 'quiet')!.ts).toBe(1_120_001);
  });
});

describe('orch signal RUN --context under a live context (§9.4)', () => {
  it("the run's own values count for it, as a sample set then, until the live context has a newer one", async () => {
    const ir = planIR(`
context {
  door: bool  max_age 10m
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
plan p {
  step opened = wait until context.door timeout 1h
  step a = heat(t: 1) {
    after opened
  }
}
`);
    const clock = new VirtualClock(1_000_000);
    const store = new ContextStore({ signals: ir.context_signals ?? {}, clock });
    store.set('door', false, { source: 'api' });
    const events: RunEvent[] = [];
    const run = new Run(ir, { clock, executor: new SimExecutor(clock), signal: (n) => store.read(n), journal: { commit: (_s, evs) => void events.push(...evs) } }, { runId: 'own' });
    clock.setTimer(60_000, () => run.updateOwnContext({ door: true }));
    const done = run.start();
    clock.runAll();
    const result = await done;
    store.close();
    expect(statusOf(result, 'opened')).toBe('completed');
    expect(events.find((e) => e.type === 'step_completed' && e.stepId === 'opened')!.ts).toBe(1_060_000);
  });
});

describe('a run with only its own context (orch run, an in-process run without a live context)', () => {
  it('computes a derived signal from the signals it reads, and sees it change when they do', async () => {
    const ir = planIR(`
context {
  motion: bool max_age 2m
  phone_home: bool max_age 10m
  occupied: bool = context.motion or context.phone_home
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
plan p {
  step a = heat(t: 1) when context.occupied
  step b = heat(t: 2) when not context.occupied
  step w = wait until context.occupied timeout 1h
}
`);
    const clock = new VirtualClock(1_000_000);
    const events: RunEvent[] = [];
    const run = new Run(ir, { clock, executor: new SimExecutor(clock), journal: { commit: (_s, evs) => void events.push(...evs) } }, { runId: 'own', context: { motion: false } });
    clock.setTimer(60_000, () => run.updateContext({ phone_home: true }));
    const done = run.start();
    clock.runAll();
    const result = await done;
    // motion false, phone_home never set: false or unknown is unknown — both whens skip, saying why.
    expect(skipOf(events, 'a')).toBe('context.occupied is unknown: a signal it is derived from is not known');
    expect(skipOf(events, 'b')).toBe('context.occupied is unknown: a signal it is derived from is not known');
    // phone_home set: occupied is true, and the wait that reads it goes on then.
    expect(statusOf(result, 'w')).toBe('completed');
    expect(events.find((e) => e.type === 'step_completed' && e.stepId === 'w')!.ts).toBe(1_060_000);
  });
});

const SUB = `
context {
  motion: bool max_age 2m
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
plan inner {
  step b = heat(t: 2) when context.motion
}
plan outer {
  step w = wait 3m
  step s = run inner() {
    after w
  }
}
`;

describe("a run's own context goes stale without a context store (orch run, the runtime's runs)", () => {
  const ir = planIR(`
context {
  motion: bool max_age 2m
  plain: bool
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
plan p {
  step a = heat(t: 1) when context.motion and context.plain
  step w = wait 3m
  step b = heat(t: 2) when context.motion {
    after w
  }
  step c = heat(t: 3) when context.plain {
    after w
  }
  step d = heat(t: 4) when age(context.motion) > 2m {
    after w
  }
  step gone = wait until not known(context.motion) timeout 1h
}
`);
  const own = (clock: VirtualClock, events: RunEvent[], restored?: ReturnType<typeof replay>) =>
    new Run(ir, { clock, executor: new SimExecutor(clock), contextAges: true, journal: { commit: (_s, evs) => void events.push(...evs) } }, { runId: 'own', context: restored ? {} : { motion: true, plain: true }, ...(restored ? { restored } : {}) });

  it('a value older than its max_age is unknown: a when skips saying so, a signal without max_age stays, age() reads it, a wait sees it go stale', async () => {
    const clock = new VirtualClock(1_000_000);
    const events: RunEvent[] = [];
    const done = own(clock, events).start();
    clock.runAll();
    const result = await done;
    expect(statusOf(result, 'a')).toBe('completed');
    expect(skipOf(events, 'b')).toBe('context.motion is stale: 3m > 2m');
    expect(statusOf(result, 'c')).toBe('completed');
    expect(statusOf(result, 'd')).toBe('completed');
    // Stale one ms after its age reached 2m, with no message: the wait goes on at that instant.
    expect(events.find((e) => e.type === 'step_completed' && e.stepId === 'gone')!.ts).toBe(1_120_001);
  });

  it("a sub-plan's copy of the context keeps the ages its parent's values had", async () => {
    const host = { readFile: (p: string) => (p === '/v/main.orch' ? SUB : undefined) };
    const out = compile({ entry: '/v/main.orch', host });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const parent = out.plans.find((p) => p.plan === 'outer')!;
    const clock = new VirtualClock(1_000_000);
    const events: RunEvent[] = [];
    const journal = { commit: (_s: unknown, evs: readonly RunEvent[]) => void events.push(...evs), load: (id: string) => events.filter((e) => e.runId === id) };
    const done = new Run(parent, { clock, executor: new SimExecutor(clock), contextAges: true, journal }, { runId: 'outer', context: { motion: true } }).start();
    clock.runAll();
    expect((await done).status).toBe('completed');
    const skipped = events.find((e) => e.type === 'step_skipped' && e.stepId === 'b' && e.runId !== 'outer');
    expect((skipped?.data as { reason?: string } | undefined)?.reason).toBe('context.motion is stale: 3m > 2m');
  });

  it('a resumed run counts the age from when the value was journaled, not from the resume', async () => {
    const clock = new VirtualClock(1_000_000);
    const events: RunEvent[] = [];
    const first = own(clock, events);
    void first.start();
    first.detach();
    // Interrupted as it began (nothing started yet), resumed ten minutes later.
    const later = new VirtualClock(1_000_000 + 10 * 60_000);
    const resumed: RunEvent[] = [];
    const done = own(later, resumed, replay(events.filter((e) => e.type === 'plan_created' || e.type === 'execution_started'))).start();
    later.runAll();
    const result = await done;
    expect(skipOf(resumed, 'a')).toBe('context.motion is stale: 10m > 2m');
    expect(skipOf(resumed, 'b')).toMatch(/^context\.motion is stale: \d+m(\d+s)? > 2m$/);
    expect(statusOf(result, 'c')).toBe('completed');
  });
});

describe("a run's own context honours hold as orch serve does (orch run)", () => {
  const ir = planIR(`
context {
  motion: bool max_age 2m
  occupied: bool = context.motion  hold 10m
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
plan p {
  step w = wait until not context.occupied timeout 1h
  step a = heat(t: 1) when context.occupied {
    after w
  }
}
`);

  it('a false is held true for 10m after the last true: the wait goes on when the hold ends, not when motion turns false', async () => {
    const clock = new VirtualClock(1_000_000);
    const events: RunEvent[] = [];
    const run = new Run(ir, { clock, executor: new SimExecutor(clock), contextAges: true, journal: { commit: (_s, evs) => void events.push(...evs) } }, { runId: 'own', context: { motion: true } });
    // motion turns false a minute in, and the sensor reports false every minute after (fresh).
    const report = (): void => {
      run.updateContext({ motion: false });
      if (clock.now() < 2_000_000) clock.setTimer(60_000, report);
    };
    clock.setTimer(60_000, report);
    const done = run.start();
    clock.runAll();
    const result = await done;
    expect(events.find((e) => e.type === 'step_completed' && e.stepId === 'w')!.ts).toBe(1_060_000 + 600_000);
    expect(skipOf(events, 'a')).toBeDefined();
    expect(statusOf(result, 'a')).toBe('skipped');
  });

  it('unknown is not false: with motion stale, occupied is unknown (the wait keeps waiting to its timeout), not false', async () => {
    const clock = new VirtualClock(1_000_000);
    const events: RunEvent[] = [];
    const run = new Run(ir, { clock, executor: new SimExecutor(clock), contextAges: true, journal: { commit: (_s, evs) => void events.push(...evs) } }, { runId: 'own', context: { motion: true } });
    const done = run.start();
    clock.runAll();
    const result = await done;
    // motion stale at 2m: the wait never sees occupied false, so it times out at 1h
    expect(statusOf(result, 'w')).toBe('timeout');
    expect(events.some((e) => e.type === 'step_completed' && e.stepId === 'w')).toBe(false);
  });
  it('a resumed run keeps a hold that was in progress when it stopped: its store is rebuilt from the journaled values at their instants', async () => {
    const run = (clock: VirtualClock, events: RunEvent[], restored?: ReturnType<typeof replay>) =>
      // Copies, as a durable journal keeps them (the run's context changes in place).
      new Run(ir, { clock, executor: new SimExecutor(clock), contextAges: true, journal: { commit: (_s, evs) => void events.push(...structuredClone(evs)) } }, { runId: 'own', ...(restored ? { restored } : { context: { motion: true } }) });
    // motion true from the start, false a minute in (reported each minute, fresh); the process stops two minutes in.
    const clock = new VirtualClock(1_000_000);
    const events: RunEvent[] = [];
    const first = run(clock, events);
    const report = (r: Run, c: VirtualClock): void => {
      r.updateContext({ motion: false });
      if (c.now() < 2_000_000) c.setTimer(60_000, () => report(r, c));
    };
    clock.setTimer(60_000, () => report(first, clock));
    void first.start();
    clock.advanceTo(1_120_000);
    first.detach();
    expect(events.some((e) => e.type === 'step_completed' && e.stepId === 'w')).toBe(false);
    // Resumed a minute later: occupied is still held true until 10m after motion turned false.
    const later = new VirtualClock(1_180_000);
    const resumed: RunEvent[] = [];
    const second = run(later, resumed, replay(events));
    later.setTimer(0, () => report(second, later));
    const done = second.start();
    later.runAll();
    const result = await done;
    expect(resumed.find((e) => e.type === 'step_completed' && e.stepId === 'w')!.ts).toBe(1_060_000 + 600_000);
    expect(statusOf(result, 'a')).toBe('skipped');
  });
});

describe('a run over the live context: a held derived signal gone unknown (§9.4)', () => {
  const ir = planIR(`
context {
  motion: bool max_age 2m
  occupied: bool = context.motion  hold 10m
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
guardrail only_when_away {
  severity blocking
  forbid step where step.capability == "heat" and context.occupied
}
plan p {
  guardrails only_when_away
  step w = wait 3m
  step a = heat(t: 1) when context.occupied { after w }
  step b = heat(t: 2) { after w  on_failure continue }
  step u = wait until not context.occupied timeout 5m { after w }
}
`);

  it('motion stale: occupied is unknown, not held true — a when skips saying so, a forbid forbids (fail closed), a wait until keeps waiting', async () => {
    const { result, events } = await runWith(ir, (s) => s.set('motion', true, { source: 'api' }));
    expect(skipOf(events, 'a')).toMatch(/^context\.occupied is (unknown|stale)/);
    expect(JSON.stringify(failOf(events, 'b'))).toContain('only_when_away');
    expect(statusOf(result, 'u')).not.toBe('completed');
  });
});
