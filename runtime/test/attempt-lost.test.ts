/**
 * A cluster re-dispatch is a new attempt (LANGUAGE.md §7.5, issue 34): an executor that reports an
 * attempt `lost` (its worker died) makes the core journal `attempt_lost { attempt, worker }` and
 * start the step again as the next attempt at once — no retry spent, so a step without `retry`
 * still completes — and a journal replayed after it folds to the same attempt counts.
 */
import { describe, expect, it } from 'vitest';
import { replay, Run, VirtualClock, type JournalSink, type RunEvent } from '../scheduler/index.js';
import type { RunEventOf } from '../scheduler/types.js';
import { capability, plan, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';

const p = plan({ capabilities: [capability('work')], steps: [step('a', 'work'), step('b', 'work', { deps: ['a'] })] });

function harness(journal: RunEvent[], lostAttempts: number) {
  const clock = new VirtualClock(0);
  let lost = 0;
  const exec = new SimExecutor(clock, (req) =>
    req.stepId === 'a' && lost < lostAttempts
      ? { latency: 100, outcome: { ok: false, error: 'worker died', lost: { worker: `w${++lost}` } } }
      : { latency: 10, outcome: { ok: true, output: { attempt: req.attempt } } },
  );
  const sink: JournalSink = { commit: (_s, evs) => void journal.push(...evs), load: (id) => journal.filter((e) => e.runId === id) };
  const restored = journal.length ? replay(journal) : undefined;
  const run = new Run(p, { clock, executor: exec, journal: sink }, { runId: 'lost', restored });
  return { clock, exec, run };
}

describe('an attempt lost with its worker', () => {
  it('is journaled with the worker, and the step runs again as the next attempt without spending a retry', async () => {
    const events: RunEvent[] = [];
    const h = harness(events, 2);
    const done = h.run.start();
    h.clock.runAll();
    const r = await done;
    expect(r.status).toBe('completed');
    expect(h.exec.starts.filter((s) => s.stepId === 'a').map((s) => s.attempt)).toEqual([1, 2, 3]);
    const ofA = events.filter((e) => e.stepId === 'a' && e.type !== 'step_queued').map((e) => {
      const d: { readonly [field: string]: unknown } = e.data;
      return [e.type, d.attempt, d.worker];
    });
    expect(ofA).toEqual([
      ['step_started', 1, undefined],
      ['attempt_lost', 1, 'w1'],
      ['step_started', 2, undefined],
      ['attempt_lost', 2, 'w2'],
      ['step_started', 3, undefined],
      ['step_completed', 3, undefined],
    ]);
    expect(r.steps.find((s) => s.stepId === 'a')?.output).toEqual({ attempt: 3 });
    // No retry was spent: each start is the first of its phase.
    expect(events.filter((e): e is RunEventOf<'step_started'> => e.stepId === 'a' && e.type === 'step_started').map((e) => e.data.phaseAttempt)).toEqual([1, 1, 1]);
    expect(replay(events).steps.get('a')).toMatchObject({ status: 'completed', attempts: 3 });
  });

  it('a run resumed right after the loss starts the next attempt', async () => {
    const events: RunEvent[] = [];
    const first = harness(events, 1);
    void first.run.start();
    // Up to the loss: the process running the run dies right after journaling it.
    while (!events.some((e) => e.type === 'attempt_lost') && first.clock.step());
    const cut = events.findIndex((e) => e.type === 'attempt_lost') + 1;
    expect(cut).toBeGreaterThan(0);
    const journal = events.slice(0, cut);
    expect(replay(journal).steps.get('a')).toMatchObject({ status: 'queued', attempts: 1, phaseAttempts: 0 });
    const again = harness(journal, 0);
    const done = again.run.start();
    again.clock.runAll();
    expect((await done).status).toBe('completed');
    expect(again.exec.starts.filter((s) => s.stepId === 'a').map((s) => s.attempt)).toEqual([2]);
  });
});
