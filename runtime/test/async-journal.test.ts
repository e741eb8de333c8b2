/**
 * A journal that commits asynchronously (a network database): the run hands it one commit at a
 * time and carries out a state change's effects only once that change is durable. On generated
 * plans, with commits settling after random delays, every attempt starts after its
 * `step_started` was committed, the journal holds every event once and in order, and the run
 * decides exactly what it decides with a synchronous journal.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Run, VirtualClock, type AttemptRequest, type JournalSink, type RunEvent, type RunSummary } from '../scheduler/index.js';
import { genTimingFreePlan, type Gen } from './plan-gen.js';
import { SimExecutor } from './sim-executor.js';

/** Events without timestamps, per step, in order. */
function perStep(events: readonly RunEvent[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of events) {
    if (!e.stepId) continue;
    const list = out.get(e.stepId) ?? [];
    list.push(`${e.type} ${JSON.stringify({ ...e.data, at: undefined, durationMs: undefined })}`);
    out.set(e.stepId, list);
  }
  return out;
}

async function drive(gen: Gen, journal?: JournalSink, onStart?: (req: AttemptRequest) => void, busy: () => boolean = () => false) {
  const clock = new VirtualClock(1_000);
  const index = new Map(gen.plan.steps.map((s, i) => [s.id, i]));
  const exec = new SimExecutor(clock, (req) => {
    onStart?.(req);
    const o = gen.outcomes[((index.get(req.baseStepId) ?? 0) * 7 + req.attempt * 3) % gen.outcomes.length]!;
    const fail = o.fail && req.purpose !== 'compensate';
    return { latency: o.latency, outcome: fail ? { ok: false, error: 'simulated failure' } : { ok: true, output: { by: req.stepId } } };
  });
  const events: RunEvent[] = [];
  const run = new Run(gen.plan, { clock, executor: exec, journal, random: () => 0.5, observe: (e) => events.push(e) }, { runId: 'async-journal' });
  let settled = false;
  const done = run.start();
  done.then(
    () => (settled = true),
    () => (settled = true),
  );
  // Virtual time moves only while no commit is in flight (they settle on real timers), so the
  // effects waiting for a commit happen at the instant they would with a synchronous journal.
  for (let guard = 0; !settled && guard < 100_000; guard++) {
    await new Promise((r) => setTimeout(r, 0));
    if (!settled && !busy()) clock.step();
  }
  return { result: await done, events };
}

describe('a journal that commits asynchronously', () => {
  it('gets one commit at a time, durable before its effects, and the run decides as with a synchronous one', async () => {
    await fc.assert(
      fc.asyncProperty(genTimingFreePlan, fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 16 }), async (gen, delays) => {
        const sync = await drive(gen);

        const stored: RunEvent[] = [];
        const summaries: RunSummary[] = [];
        let inFlight = 0;
        let commits = 0;
        const journal: JournalSink = {
          commit(summary, events) {
            expect(inFlight).toBe(0);
            inFlight++;
            const ms = delays[commits++ % delays.length]!;
            return new Promise<void>((resolve) =>
              setTimeout(() => {
                stored.push(...events);
                summaries.push(summary);
                inFlight--;
                resolve();
              }, ms),
            );
          },
        };
        const durableStart = (req: AttemptRequest) => {
          if (req.purpose === 'compensate') return;
          const started = stored.some((e) => e.type === 'step_started' && e.stepId === req.stepId && e.data.attempt === req.attempt);
          expect(started, `${req.stepId} attempt ${req.attempt} started before its step_started was durable`).toBe(true);
        };
        const async = await drive(gen, journal, durableStart, () => inFlight > 0);

        expect(async.result.status).toBe(sync.result.status);
        expect(async.result.steps.map((s) => [s.stepId, s.status, s.output])).toEqual(sync.result.steps.map((s) => [s.stepId, s.status, s.output]));
        expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
        expect(stored.map((e) => e.type)).toEqual(async.events.map((e) => e.type));
        expect(perStep(stored)).toEqual(perStep(sync.events));
        expect(summaries[summaries.length - 1]!.status).toBe(async.result.status);
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('a commit that fails ends the run with the journal error and starts nothing after it', async () => {
    const gen = fc.sample(genTimingFreePlan, { numRuns: 1, seed: 7 })[0]!;
    let commits = 0;
    const starts: string[] = [];
    const journal: JournalSink = {
      commit: () => (++commits === 2 ? Promise.reject(new Error('connection lost')) : Promise.resolve()),
    };
    await expect(drive(gen, journal, (req) => starts.push(req.stepId))).rejects.toThrow(/journal write failed: connection lost/);
    expect(commits).toBe(2);
  });
});
