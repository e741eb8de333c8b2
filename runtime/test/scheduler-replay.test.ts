/**
 * Replay and the live scheduler fold the same events the same way: the state replay rebuilds
 * from any prefix of a journal is the state the live run had at that event, and a run resumed
 * from any committed prefix ends exactly like the run that was never interrupted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replay, Run, VirtualClock, type JournalSink, type RunEvent, type RunReader } from '../scheduler/index.js';
import { genPlan, genTimingFreePlan, type Gen } from './plan-gen.js';
import { SimExecutor } from './sim-executor.js';

interface Snapshot {
  readonly status: string;
  readonly attempts: number;
  readonly output: unknown;
  readonly cost: number;
  readonly resource: string | null;
  readonly started: boolean;
}

/** What the live run shows of every step right now. */
function snapshot(gen: Gen, run: RunReader): Map<string, Snapshot> {
  const out = new Map<string, Snapshot>();
  for (const s of gen.plan.steps) {
    const v = run.stepView(s.id)!;
    out.set(s.id, { status: v.status, attempts: v.attempts, output: v.output, cost: v.cost, resource: v.resource, started: v.started });
  }
  return out;
}

/**
 * Runs `gen` on a virtual clock. Each attempt's latency and outcome are a function of the step
 * and its attempt on the current phase (`phaseAttempt` of its `step_started`), so an attempt
 * re-run after a resume behaves as the interrupted one would have.
 */
function drive(gen: Gen, opts: { journal?: JournalSink; restored?: readonly RunEvent[]; at?: number; onEvent?: (e: RunEvent, r: RunReader) => void } = {}) {
  const clock = new VirtualClock(opts.at ?? 1_000);
  const phaseAttempt = new Map<string, number>();
  const index = new Map(gen.plan.steps.map((s, i) => [s.id, i]));
  const exec = new SimExecutor(clock, (req) => {
    const o = gen.outcomes[((index.get(req.stepId) ?? 0) * 7 + (phaseAttempt.get(req.stepId) ?? 1) * 3) % gen.outcomes.length]!;
    const fail = o.fail && req.purpose !== 'compensate';
    return { latency: o.latency, outcome: fail ? { ok: false, error: 'simulated failure' } : { ok: true, output: { by: req.stepId } } };
  });
  const events: RunEvent[] = [];
  const run = new Run(
    gen.plan,
    {
      clock,
      executor: exec,
      journal: opts.journal,
      random: () => 0.5,
      observe(e, r) {
        events.push(e);
        if (e.type === 'step_started') phaseAttempt.set(e.stepId!, Number(e.data.phaseAttempt));
        opts.onEvent?.(e, r);
      },
    },
    { runId: 'replay-prop', restored: opts.restored ? replay(opts.restored) : undefined },
  );
  const done = run.start();
  clock.runAll(100_000);
  return { run, done, events };
}

/** A step's decisions in order: attempts (phase, resource), retries and its end; no timestamps. */
function decisions(events: readonly RunEvent[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of events) {
    if (!e.stepId || e.type === 'step_queued' || e.type === 'guardrail_violation') continue;
    const line =
      e.type === 'step_started'
        ? `started ${e.data.phase} #${e.data.phaseAttempt} on ${String(e.data.resource)}`
        : e.type === 'step_completed'
          ? `completed ${JSON.stringify(e.data.output)}`
          : e.type === 'step_failed'
            ? `failed ${e.data.status} ${String(e.data.error)}`
            : e.type;
    const list = out.get(e.stepId) ?? [];
    // An attempt cut short by the crash runs again with the same budget: it is one decision.
    if (!(e.type === 'step_started' && list[list.length - 1] === line)) list.push(line);
    out.set(e.stepId, list);
  }
  return out;
}

describe('journal replay and the live scheduler agree', () => {
  it('replaying any prefix of the journal rebuilds the state the live run had at that event', () => {
    fc.assert(
      fc.property(genPlan, (gen) => {
        const seen: { event: RunEvent; live: Map<string, Snapshot> }[] = [];
        drive(gen, { onEvent: (event, r) => seen.push({ event, live: snapshot(gen, r) }) });
        const events = seen.map((s) => s.event);
        seen.forEach(({ live }, i) => {
          const restored = replay(events.slice(0, i + 1));
          for (const [id, v] of live) {
            const r = restored.steps.get(id);
            expect({ id, status: r?.status ?? 'pending', attempts: r?.attempts ?? 0, cost: r?.cost ?? 0, resource: r?.resource ?? null }).toEqual({
              id,
              status: v.status,
              attempts: v.attempts,
              cost: v.cost,
              resource: v.resource,
            });
            if (v.status === 'completed') expect(r!.output).toEqual(v.output);
          }
          expect(restored.lastSeq).toBe(i + 1);
        });
      }),
      { numRuns: 100 },
    );
  });

  it('a run resumed from any committed prefix ends like the uninterrupted run', async () => {
    await fc.assert(
      fc.asyncProperty(genTimingFreePlan, fc.integer({ min: 1, max: 40 }), async (gen, crashAt) => {
        const live = drive(gen);
        const liveResult = await live.done;

        const stored: RunEvent[] = [];
        let commits = 0;
        const crashing: JournalSink = {
          commit(_s, events) {
            if (++commits >= crashAt) throw new Error('simulated crash');
            stored.push(...events);
          },
        };
        await drive(gen, { journal: crashing }).done.catch(() => undefined);
        if (stored.length === 0 || replay(stored).terminal) return;

        const resumed = drive(gen, { restored: stored, at: stored[stored.length - 1]!.ts });
        const result = await resumed.done;
        expect(result.status).toBe(liveResult.status);
        expect(result.steps.map((s) => [s.stepId, s.status, s.output])).toEqual(liveResult.steps.map((s) => [s.stepId, s.status, s.output]));
        expect(decisions([...stored, ...resumed.events])).toEqual(decisions(live.events));
      }),
      { numRuns: 150 },
    );
  });
});
