/**
 * A run let go of (`detach`) while a commit is still in flight never leaves a hole in its journal
 * (issue #49's nemesis, schedule seed 990951435): the owner's commit of events 35–41 hung on a cut
 * link, the run was let go after the heal with 42–43 not yet flushed, and those two were written
 * at once on another connection — then 35–41 were refused (the run had been taken over), and the
 * new owner resumed from a journal with seven events missing.
 *
 * In-process: a journal whose commits answer when the test says; a `defer` the test runs by hand,
 * so that outcomes wait in the run's outbox as they do between a result and its turn's flush.
 */
import { describe, expect, it } from 'vitest';
import { Run, VirtualClock, type JournalSink, type RunEvent } from '../scheduler/index.js';
import { capability, plan, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';

const p = plan({
  capabilities: [capability('work')],
  steps: ['a', 'b', 'c', 'd'].map((id) => step({ id, capability: 'work' })),
});

function world() {
  const clock = new VirtualClock(0);
  const exec = new SimExecutor(clock, (req) => ({ latency: req.stepId === 'a' ? 10 : 20, outcome: { ok: true, output: {} } }));
  /** What the database holds: a commit's events land when it is answered with success. */
  const durable: RunEvent[] = [];
  const answers: { events: readonly RunEvent[]; settle: (ok: boolean) => void }[] = [];
  const journal: JournalSink = {
    commit: (_summary, events) =>
      new Promise<void>((resolve, reject) => {
        answers.push({
          events,
          settle: (ok) => {
            if (ok) durable.push(...events);
            if (ok) resolve();
            else reject(new Error('Connection terminated unexpectedly'));
          },
        });
      }),
    load: () => durable,
  };
  const deferred: (() => void)[] = [];
  const run = new Run(p, { clock, executor: exec, journal, defer: (fn) => void deferred.push(fn) }, { runId: 'r' });
  return { clock, run, durable, answers, deferred };
}

const seqs = (events: readonly RunEvent[]) => events.map((e) => e.seq);

describe('a run let go of with a commit in flight', () => {
  it('writes nothing behind it: the journal stays a prefix of the run', async () => {
    const w = world();
    void w.run.start().catch(() => undefined);
    const flushAll = () => {
      while (w.deferred.length) w.deferred.shift()!();
    };
    flushAll();
    // The run's start lands: its four steps are dispatched.
    w.answers[0]!.settle(true);
    await new Promise((r) => setImmediate(r));
    // a's outcome is flushed: that commit is in flight, and stays so (its link was cut).
    w.clock.step();
    flushAll();
    expect(w.answers).toHaveLength(2);
    // The other outcomes arrive: their events wait in the outbox for the deferred flush.
    w.clock.runAll();
    expect(w.deferred.length).toBeGreaterThan(0);
    w.run.detach('taken-over');
    // The commit in flight fails (refused once the run was taken over, or its connection died).
    w.answers[1]!.settle(false);
    for (const a of w.answers.slice(2)) a.settle(true);
    await new Promise((r) => setImmediate(r));
    expect(w.durable.length).toBeGreaterThan(0);
    expect(seqs(w.durable)).toEqual(w.durable.map((_, i) => i + 1));
  });

  it('with nothing in flight, writes what the run had not flushed yet', async () => {
    const w = world();
    void w.run.start().catch(() => undefined);
    while (w.deferred.length) w.deferred.shift()!();
    w.answers[0]!.settle(true);
    await new Promise((r) => setImmediate(r));
    const before = w.durable.length;
    w.clock.runAll();
    w.run.detach();
    for (const a of w.answers.slice(1)) a.settle(true);
    await new Promise((r) => setImmediate(r));
    expect(w.durable.length).toBeGreaterThan(before);
    expect(seqs(w.durable)).toEqual(w.durable.map((_, i) => i + 1));
  });
});
