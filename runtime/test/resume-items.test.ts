/**
 * `for each … parallel N` across a resume (LANGUAGE.md §7.1): an item counts from its first step's
 * start until its steps all end, also when the run was interrupted in between. A fresh process
 * knows nothing of which items had begun, so it must learn it from the journal before anything
 * starts — else an item that had not begun took the slot, and the begun item's approval, decided
 * while no process ran the run, found its step queued behind it and was lost.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { replay, Run, VirtualClock, type JournalSink, type RunEvent } from '../scheduler/index.js';
import { tempDir } from './helpers.js';
import { SimExecutor } from './sim-executor.js';

function itemsPlan(): PlanIR {
  const dir = tempDir('orch-resume-items-');
  const entry = join(dir, 'items.orch');
  writeFileSync(
    entry,
    `capability work {
  kind tool
  idempotent true
  input { item: string }
  output { item: string }
}
plan items {
  input { items: list<string> }
  for each it in input.items parallel 1 {
    step each = work(item: it)
    step ask = approval(approver: "ops", summary: "ok \${it}?") { after each }
  }
}
`,
  );
  const out = compile({ entry });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!;
}

function harness(p: PlanIR, journal: RunEvent[]) {
  const clock = new VirtualClock(0);
  const exec = new SimExecutor(clock, (req) => ({ latency: 10, outcome: { ok: true, output: { item: req.stepId } } }));
  const sink: JournalSink = { commit: (_s, evs) => void journal.push(...evs), load: (id) => journal.filter((e) => e.runId === id) };
  const restored = journal.length ? replay(journal) : undefined;
  const run = new Run(p, { clock, executor: exec, journal: sink }, { runId: 'r', input: { items: ['a', 'b'] }, restored });
  return { clock, exec, run };
}

describe('for each … parallel 1 resumed while an item waits on its approval', () => {
  it('the begun item keeps its slot: its approval is decided and the next item waits for it', async () => {
    const p = itemsPlan();
    const events: RunEvent[] = [];
    const first = harness(p, events);
    void first.run.start();
    first.clock.runAll();
    expect(first.run.approvalsWaiting()).toEqual(['ask[0]']);
    expect(first.exec.starts.map((s) => s.stepId)).toEqual(['each[0]']);

    // The process is gone; another resumes the run from its journal.
    const second = harness(p, events);
    const done = second.run.start();
    second.clock.runAll();
    expect(second.exec.starts.map((s) => s.stepId)).toEqual([]);
    expect(second.run.approvalsWaiting()).toEqual(['ask[0]']);

    expect(second.run.signal('ask[0]', 'approve', 'ops')).toBe('ok');
    second.clock.runAll();
    expect(second.exec.starts.map((s) => s.stepId)).toEqual(['each[1]']);
    expect(second.run.approvalsWaiting()).toEqual(['ask[1]']);
    expect(second.run.signal('ask[1]', 'approve', 'ops')).toBe('ok');
    second.clock.runAll();
    expect((await done).status).toBe('completed');
    const decided = events.filter((e) => e.type === 'step_completed' && e.stepId?.startsWith('ask')).map((e) => e.stepId);
    expect(decided).toEqual(['ask[0]', 'ask[1]']);
  });
});
