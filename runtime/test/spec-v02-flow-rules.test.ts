/**
 * LANGUAGE.md §7.1 rules that control-flow.test.ts (real threads, one happy path per construct)
 * leaves out, on the scheduler with a virtual clock: a `join first` step is skipped only when
 * every dependency ended without completing; a race whose branches all end without completing
 * fails; `after RACE` waits for the race; a loop with `on_failure continue` does not fail the
 * run when exhausted; `??` over two skipped branches is `null`; a cancelled `wait` is
 * `cancelled`, and the run goes on. And §7.2: `budget duration` is the deadline unless the plan's is
 * shorter.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { Run, VirtualClock } from '../scheduler/index.js';
import type { ExecutionResult, RunEvent } from '../scheduler/types.js';
import { tempDir } from './helpers.js';
import { SimExecutor, type Behaviour } from './sim-executor.js';

const CAPS = `
capability work {
  kind tool
  idempotent true
  input { name: string }
  output { text: string }
}
`;

function planOf(body: string): PlanIR {
  const entry = join(tempDir('orch-flow-rules-'), 'flow.orch');
  writeFileSync(entry, `${CAPS}\n${body}\n`);
  const out = compile({ entry });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!;
}

/** `name` argument → behaviour: `fail`, or a latency in ms (default 10). */
function byName(spec: Record<string, number | 'fail'>): Behaviour {
  return (req) => {
    const name = String(req.input.name);
    const b = spec[name] ?? 10;
    if (b === 'fail') return { latency: 10, outcome: { ok: false, error: `${name} broke` } };
    return { latency: b, outcome: { ok: true, output: { text: name } } };
  };
}

async function run(p: PlanIR, behaviour: Behaviour, input: Record<string, unknown> = {}, during?: (r: Run, clock: VirtualClock) => void) {
  const clock = new VirtualClock(0);
  const exec = new SimExecutor(clock, behaviour);
  const events: RunEvent[] = [];
  const r = new Run(p, { clock, executor: exec, observe: (e) => events.push(e) }, { runId: 'flow-rules', input });
  const done = r.start();
  during?.(r, clock);
  let finished = false;
  void done.finally(() => (finished = true));
  for (let i = 0; i < 1000 && !finished; i++) {
    clock.runAll();
    await new Promise((res) => setImmediate(res));
  }
  const result: ExecutionResult = await done;
  return { result, events, exec, status: Object.fromEntries(result.steps.map((s) => [s.stepId, s.status])) };
}

describe('join first', () => {
  const p = planOf(`plan p {
  input { a: string, b: string }
  step a = work(name: input.a) { on_failure continue }
  step b = work(name: input.b) { on_failure continue }
  step first = work(name: a.output.text ?? b.output.text ?? "none") { join first }
  output { first: first.output.text ?? null }
}`);

  it('starts once, on the first completion, even when the other dependency then fails', async () => {
    const { result, status, exec } = await run(p, byName({ fast: 5, late: 'fail' }), { a: 'late', b: 'fast' });
    expect(result.status).toBe('completed');
    expect(status).toMatchObject({ a: 'failed', b: 'completed', first: 'completed' });
    expect(exec.starts.filter((s) => s.stepId === 'first')).toHaveLength(1);
    expect(result.output).toEqual({ first: 'fast' });
  });

  it('is skipped only when every dependency ended without completing', async () => {
    const { status } = await run(p, byName({ x: 'fail', y: 'fail' }), { a: 'x', b: 'y' });
    expect(status).toMatchObject({ a: 'failed', b: 'failed', first: 'skipped' });
  });
});

describe('race', () => {
  const p = planOf(`plan p {
  input { a: string, b: string }
  race pick {
    step left = work(name: input.a)
    step right = work(name: input.b)
  }
  step after_race = work(name: "after") { after pick }
  step reads = work(name: pick.output.text)
  output { winner: pick.winner, text: pick.output.text, loser: right.output.text ?? "none" }
}`);

  it('NAME.winner and NAME.output are the winner’s; dependants of NAME start only after the race ended', async () => {
    const { result, events, status } = await run(p, byName({ quick: 5, slow: 500 }), { a: 'quick', b: 'slow' });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ winner: 'left', text: 'quick', loser: 'none' });
    expect(status).toMatchObject({ left: 'completed', right: 'cancelled', after_race: 'completed', reads: 'completed' });
    const won = events.find((e) => e.type === 'race_won')!;
    const started = events.find((e) => e.type === 'step_started' && e.stepId === 'after_race')!;
    expect(won.seq).toBeLessThan(started.seq);
  });

  it('a branch that fails does not end the race: a later completion wins and the run completes', async () => {
    const { result, status } = await run(p, byName({ x: 'fail', slow: 500 }), { a: 'x', b: 'slow' });
    expect(result.status).toBe('completed');
    expect(status).toMatchObject({ left: 'failed', right: 'completed', after_race: 'completed' });
    expect(result.output).toMatchObject({ winner: 'right', text: 'slow' });
  });

  it('fails when every branch ends without completing', async () => {
    const { result, status, exec } = await run(p, byName({ x: 'fail', y: 'fail' }), { a: 'x', b: 'y' });
    expect(result.status).toBe('failed');
    expect(status).toMatchObject({ left: 'failed', right: 'failed' });
    expect(exec.starts.some((s) => s.stepId === 'after_race' || s.stepId === 'reads')).toBe(false);
  });
});

describe('a race that failed while its branches continue', () => {
  const p = planOf(`plan p {
  input { a: string, b: string }
  race pick {
    step left = work(name: input.a) { on_failure continue }
    step right = work(name: input.b) { on_failure continue }
  }
  step after_race = work(name: "after") { after pick }
  step reads = work(name: pick.output.text)
  step soft = work(name: pick.output.text ?? "none")
  step branches = work(name: left.output.text ?? right.output.text ?? "none")
}`);

  it('a step reading NAME.output outside ?? is skipped like one after NAME; soft reads still run', async () => {
    const { result, status, exec } = await run(p, byName({ x: 'fail', y: 'fail' }), { a: 'x', b: 'y' });
    expect(result.status).toBe('completed');
    expect(status).toMatchObject({ left: 'failed', right: 'failed', after_race: 'skipped', reads: 'skipped', soft: 'completed', branches: 'completed' });
    expect(exec.starts.some((s) => s.stepId === 'reads')).toBe(false);
    expect(exec.starts.find((s) => s.stepId === 'soft')!.input).toEqual({ name: 'none' });
  });

  it('the IR keeps a hard read of NAME.output out of soft_reads, and ?? reads in', () => {
    const byId = new Map(p.steps.map((s) => [s.id, s]));
    expect(byId.get('reads')!.soft_reads).toEqual([]);
    expect(byId.get('reads')!.skip_if_skipped).toEqual([]);
    expect(byId.get('soft')!.soft_reads).toEqual(['left', 'right']);
    expect(byId.get('branches')!.soft_reads).toEqual(['left', 'right']);
  });
});

describe('compensate reads its own step (§4 rollback)', () => {
  it('compiles without a self-cycle, and the compensation gets the output of the step it undoes, per item too', async () => {
    const p = planOf(`plan p {
  on_failure rollback
  step sent = work(name: "s1") { compensate work(name: "undo \${sent.output.text}") }
  for each x in ["p", "q"] {
    step each = work(name: x) { compensate work(name: "undo \${each.output.text}") }
  }
  step bad = work(name: "bad") { after sent, each }
}`);
    expect(p.steps.find((s) => s.id === 'sent')!.deps).toEqual([]);
    const { result, exec } = await run(p, byName({ bad: 'fail' }));
    expect(result.status).toBe('failed');
    const undone = exec.starts.map((s) => String(s.input.name)).filter((n) => n.startsWith('undo'));
    expect(undone.sort()).toEqual(['undo p', 'undo q', 'undo s1']);
  });
});

describe('for each over an optional list', () => {
  const p = planOf(`plan p {
  input { xs: list<string>? }
  for each x in input.xs {
    step each = work(name: x)
  }
  step after_each = work(name: "n=\${len(each.output)}")
  output { outs: each.output }
}`);

  it('an absent list has no items, as an empty one: the block completes with [] and its readers run', async () => {
    for (const input of [{}, { xs: null }, { xs: [] }]) {
      const { result, status, exec } = await run(p, byName({}), input);
      expect(result.status).toBe('completed');
      expect(status).toMatchObject({ each: 'completed', after_each: 'completed' });
      expect(result.output).toEqual({ outs: [] });
      expect(exec.starts.map((s) => s.input.name)).toEqual(['n=0']);
    }
    const { result } = await run(p, byName({}), { xs: ['a'] });
    expect(result.output).toEqual({ outs: [{ text: 'a' }] });
  });
});

describe('repeat … on_failure continue', () => {
  it('an exhausted loop does not fail the run; NAME.iterations counts max', async () => {
    const p = planOf(`plan p {
  repeat tries max 3 until attempt.output.text == "never" on_failure continue {
    step attempt = work(name: "try \${tries.index}")
  }
  step next = work(name: "next \${tries.iterations}") { after tries }
  output { next: next.output.text }
}`);
    const { result, events, status } = await run(p, byName({}));
    expect(events.filter((e) => e.type === 'loop_iteration').map((e) => e.data.index)).toEqual([0, 1, 2]);
    expect(result.status).toBe('completed');
    expect(status.next).toBe('completed');
    expect(result.output).toEqual({ next: 'next 3' });
  });
});

describe('?? merges', () => {
  it('is null when both branches were skipped, and the reader is not skipped', async () => {
    const p = planOf(`plan p {
  input { go: bool }
  step left = work(name: "left") when input.go
  step right = work(name: "right") when input.go
  step merged = work(name: left.output.text ?? right.output.text ?? "neither")
  output { merged: merged.output.text, raw: left.output.text ?? right.output.text }
}`);
    const { result, status } = await run(p, byName({}), { go: false });
    expect(status).toMatchObject({ left: 'skipped', right: 'skipped', merged: 'completed' });
    expect(result.output).toEqual({ merged: 'neither', raw: null });
  });
});

describe('cancelling one step', () => {
  it('a waiting step is cancelled; a none_failed dependant is skipped, an all_done one runs; the run completes', async () => {
    const p = planOf(`plan p {
  step hold = wait 1h
  step strict = work(name: "strict") { after hold }
  step lenient = work(name: "lenient") { after hold join all_done }
}`);
    const { result, status, events } = await run(p, byName({}), {}, (r, clock) => {
      clock.setTimer(1000, () => expect(r.cancelStep('hold')).toBe('ok'));
    });
    expect(result.status).toBe('completed');
    expect(status).toEqual({ hold: 'cancelled', strict: 'skipped', lenient: 'completed' });
    expect(result.metadata.cancelledSteps).toBe(1);
    expect(events.find((e) => e.type === 'step_cancelled')).toMatchObject({ stepId: 'hold' });
  });
});

describe('budget duration is the deadline when the plan has none shorter (§7.2)', () => {
  const timed = (deadline: string, budget: string) =>
    planOf(`policy quick { budget duration <= ${budget} }
plan p {
  policy quick
  deadline ${deadline}
  step hold = wait 1h
}`);

  it('a shorter budget ends the run (timeout, naming the budget); a shorter plan deadline wins over a longer budget', async () => {
    const byBudget = await run(timed('30m', '2s'), byName({}));
    expect(byBudget.result.status).toBe('timeout');
    expect(byBudget.result.error).toContain('budget duration');
    expect(byBudget.events.some((e) => e.type === 'budget_exceeded')).toBe(true);
    const byDeadline = await run(timed('2s', '30m'), byName({}));
    expect(byDeadline.result.status).toBe('timeout');
    expect(byDeadline.result.error).toBe('deadline of 2000ms exceeded');
    expect(byDeadline.events.some((e) => e.type === 'budget_exceeded')).toBe(false);
  });
});

describe('a block read from outside the loops around it sees their last iteration (§7.1)', () => {
  it('a race and a loop nested in loops: winner, output, iterations and status as in the last iteration', async () => {
    const p = planOf(`plan p {
  repeat outer max 2 until outer.index == 1 {
    repeat inner max 3 until inner.index == 2 {
      race r {
        step quick = work(name: "quick")
        step slow = work(name: "slow")
      }
    }
    step mid = work(name: "mid \${r.winner} \${inner.iterations}")
  }
  output { winner: r.winner, text: r.output.text, mid: mid.output.text, inner: inner.iterations, status: inner.status, outer: outer.iterations }
}`);
    const { result } = await run(p, byName({ slow: 1000 }));
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ winner: 'quick', text: 'quick', mid: 'mid quick 3', inner: 3, status: 'completed', outer: 2 });
  });
});

describe("a loop step's result is its last iteration's (§7.1)", () => {
  it('an iteration that failed before the one that completed leaves no error on the completed step', async () => {
    const p = planOf(`plan p {
  repeat again max 3 until attempt.status == "completed" {
    step attempt = work(name: "try \${again.index}") { on_failure continue }
  }
}`);
    const { result } = await run(p, byName({ 'try 0': 'fail', 'try 1': 'fail' }));
    expect(result.status).toBe('completed');
    expect(result.steps[0]).toMatchObject({ stepId: 'attempt', status: 'completed', output: { text: 'try 2' }, error: null });
    const failedLast = await run(p, byName({ 'try 0': 'fail', 'try 1': 'fail', 'try 2': 'fail' }));
    expect(failedLast.result.steps[0]).toMatchObject({ status: 'failed', error: 'try 2 broke' });
  });
});

describe('cancelling a block by name (§7.1)', () => {
  it('is refused in the live run, naming the steps inside; the race goes on', async () => {
    const p = planOf(`plan p {
  race r {
    step quick = work(name: "quick")
    step slow = work(name: "slow")
  }
}`);
    let answer: string | undefined;
    const { result } = await run(p, byName({ quick: 500, slow: 1000 }), {}, (r, clock) => {
      clock.setTimer(100, () => (answer = r.cancelStep('r')));
    });
    expect(answer).toBe('r is a race block, not a step: cancel the steps inside it (quick, slow)');
    expect(result.status).toBe('completed');
  });
});
