/**
 * `orch cancel RUN --step KEY` for a `for each` instance that does not exist yet (LANGUAGE.md
 * §7.1): it is journaled when asked, so the instance is cancelled when it is made — in the same
 * process, and in a process that resumes the run after a crash in between — and never starts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { replay, Run, VirtualClock, type JournalSink, type RunEvent } from '../scheduler/index.js';
import { tempDir } from './helpers.js';
import { SimExecutor } from './sim-executor.js';

function itemsPlan(tail = ''): PlanIR {
  const dir = tempDir('orch-pending-cancel-');
  const entry = join(dir, 'items.orch');
  writeFileSync(
    entry,
    `capability make {
  kind tool
  idempotent true
  output { items: list<string> }
}
capability work {
  kind tool
  idempotent true
  input { item: string }
}
plan items {
  step list = make()
  // The items are known once \`list\` completed: until then no instance of w exists.
  for each item in list.output.items parallel 1 {
    step w = work(item: item)
  }
${tail}}
`,
  );
  const out = compile({ entry });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!;
}

function harness(p: PlanIR, journal: RunEvent[], at = 0) {
  const clock = new VirtualClock(at);
  const exec = new SimExecutor(clock, (req) => ({ latency: 10, outcome: { ok: true, output: req.stepId === 'list' ? { items: ['a', 'b', 'c'] } : { item: req.stepId } } }));
  const sink: JournalSink = { commit: (_s, evs) => void journal.push(...evs), load: (id) => journal.filter((e) => e.runId === id) };
  const restored = journal.length ? replay(journal) : undefined;
  const run = new Run(p, { clock, executor: exec, journal: sink }, { runId: 'r', restored });
  return { clock, exec, run };
}

const cancelsOf = (events: readonly RunEvent[], key: string) => events.filter((e) => e.type === 'step_cancelled' && e.stepId === key);

describe('cancelling an instance not made yet', () => {
  it('is journaled at once and ends the instance when it is made, which never starts', async () => {
    const p = itemsPlan();
    const events: RunEvent[] = [];
    const h = harness(p, events);
    const done = h.run.start();
    expect(h.run.running()).toEqual(['list']);
    // A key the step can never have is refused at once, and journals nothing.
    expect(h.run.cancelStep('w#2')).toBe('step w has no instance w#2: its instances are named like w[0]');
    expect(h.run.cancelStep('list[0]')).toBe('step list runs once: it has no instance list[0], name it list');
    expect(events.filter((e) => e.type === 'step_cancelled')).toEqual([]);
    expect(h.run.cancelStep('w[2]')).toBe('ok');
    expect(cancelsOf(events, 'w[2]')).toMatchObject([{ data: { reason: 'cancelled by user', ahead: true } }]);
    h.clock.runAll();
    const r = await done;
    expect(r.status).toBe('completed');
    expect(h.exec.starts.map((s) => s.stepId)).toEqual(['list', 'w[0]', 'w[1]']);
    expect(h.run.stepView('w[2]')?.status).toBe('cancelled');
    // One event says it, and the journal folds to what the run saw.
    expect(cancelsOf(events, 'w[2]')).toHaveLength(1);
    expect(replay(events).steps.get('w[2]')?.status).toBe('cancelled');
  });

  it('holds across a crash before the instance is made: the resumed run cancels it, and does not journal it twice', async () => {
    const p = itemsPlan();
    const events: RunEvent[] = [];
    const h = harness(p, events);
    void h.run.start();
    expect(h.run.cancelStep('w[2]')).toBe('ok');
    // The process dies while `list` runs: no instance of w was ever made here.
    const again = harness(p, events, h.clock.now());
    const done = again.run.start();
    again.clock.runAll();
    const r = await done;
    expect(r.status).toBe('completed');
    expect(again.exec.starts.map((s) => s.stepId)).toEqual(['list', 'w[0]', 'w[1]']);
    expect(again.run.stepView('w[2]')?.status).toBe('cancelled');
    expect(cancelsOf(events, 'w[2]')).toHaveLength(1);
    expect(events.some((e) => e.stepId === 'w[2]' && e.type === 'step_started')).toBe(false);
  });

  it('asked twice, it is journaled once', () => {
    const events: RunEvent[] = [];
    const h = harness(itemsPlan(), events);
    void h.run.start();
    expect(h.run.cancelStep('w[2]')).toBe('ok');
    expect(h.run.cancelStep('w[2]')).toBe('ok');
    h.clock.runAll();
    expect(h.exec.starts.map((s) => s.stepId)).toEqual(['list', 'w[0]', 'w[1]']);
    expect(cancelsOf(events, 'w[2]')).toHaveLength(1);
  });

  it('a step whose items have all ended has nothing left to cancel: refused, and nothing is journaled', async () => {
    const events: RunEvent[] = [];
    const h = harness(itemsPlan('  step last = work(item: "z") { after w }\n'), events);
    const done = h.run.start();
    const answers: string[] = [];
    // list 0–10 ms, w[0..2] one at a time 10–40, last 40–50: at 45 every item of w has ended.
    h.clock.setTimer(45, () => answers.push(h.run.cancelStep('w')));
    h.clock.runAll();
    expect((await done).status).toBe('completed');
    expect(answers).toEqual(['step w has already finished (completed)']);
    expect(events.filter((e) => e.type === 'step_cancelled')).toEqual([]);
  });
});
