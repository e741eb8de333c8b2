/**
 * Property tests of the scheduler core over generated DAGs, random outcomes and latencies, on a
 * virtual clock with a simulated executor — the same `Run` code `orch run` uses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replay, Run, VirtualClock, type JournalSink, type RunEvent, type RunSummary } from '../scheduler/index.js';
import { genPlan, type Gen } from './plan-gen.js';
import { SimExecutor } from './sim-executor.js';

function simulate(gen: Gen, journal?: JournalSink, clock = new VirtualClock(1_000), restoreFrom?: readonly RunEvent[]) {
  let k = 0;
  const exec = new SimExecutor(clock, (req) => {
    const o = gen.outcomes[k++ % gen.outcomes.length]!;
    return { latency: o.latency, outcome: o.fail && req.purpose !== 'compensate' ? { ok: false, error: 'simulated failure' } : { ok: true, output: { by: req.stepId } } };
  });
  const events: RunEvent[] = [];
  const violations: string[] = [];
  const byId = new Map(gen.plan.steps.map((s) => [s.id, s]));
  const finished = new Set<string>();
  const started = new Map<string, number>();
  const inFlight = new Set<string>();
  const resLoad = new Map<string, number>();
  const run = new Run(
    gen.plan,
    {
      clock,
      executor: exec,
      journal,
      random: () => 0.5,
      observe(e) {
        events.push(e);
        const id = e.stepId;
        if (!id) return;
        const s = byId.get(id)!;
        if (e.type === 'step_started') {
          for (const d of s.deps) if (!finished.has(d)) violations.push(`${id} started before its dependency ${d} finished`);
          if (s.data === 'secret') violations.push(`${id} (secret data) started despite a blocking guardrail`);
          started.set(id, (started.get(id) ?? 0) + 1);
          inFlight.add(id);
          const r = String(e.data.resource);
          resLoad.set(r, (resLoad.get(r) ?? 0) + 1);
          if (gen.plan.concurrency !== null && inFlight.size > gen.plan.concurrency) violations.push(`plan concurrency exceeded (${inFlight.size})`);
          const lim = gen.plan.resources[r]?.concurrency;
          if (lim != null && resLoad.get(r)! > lim) violations.push(`resource ${r} concurrency exceeded`);
        }
        if (e.type === 'step_completed' || e.type === 'step_failed' || e.type === 'step_retried') {
          if (inFlight.delete(id)) {
            const started = [...events].reverse().find((x) => x.type === 'step_started' && x.stepId === id);
            const r = started?.type === 'step_started' ? (started.data.resource ?? '') : '';
            resLoad.set(r, resLoad.get(r)! - 1);
          }
        }
        if (e.type === 'step_completed' || e.type === 'step_skipped' || (e.type === 'step_failed' && e.data.final)) finished.add(id);
      },
    },
    { runId: 'prop', restored: restoreFrom ? replay(restoreFrom) : undefined },
  );
  const done = run.start();
  clock.runAll(100_000);
  return { run, done, events, violations, started, exec };
}

describe('scheduler properties (virtual clock, simulated executor)', () => {
  it('respects dependencies, retries, concurrency limits and blocking guardrails, and always terminates', async () => {
    await fc.assert(
      fc.asyncProperty(genPlan, async (gen) => {
        const { run, done, violations, started } = simulate(gen);
        expect(violations).toEqual([]);
        expect(['completed', 'failed', 'cancelled', 'timeout']).toContain(run.status());
        const result = await done;
        for (const s of gen.plan.steps) expect(started.get(s.id) ?? 0).toBeLessThanOrEqual(1 + s.retry.max);
        for (const s of result.steps) expect(['completed', 'failed', 'skipped', 'cancelled', 'timeout', 'pending']).toContain(s.status);
        if (result.status === 'completed')
          for (const s of result.steps) expect(['completed', 'skipped', 'failed']).toContain(s.status);
      }),
      { numRuns: 150 },
    );
  });

  it('after a crash at any commit, resuming never re-runs a completed step and journals without gaps', async () => {
    await fc.assert(
      fc.asyncProperty(genPlan, fc.integer({ min: 1, max: 60 }), async (gen, crashAt) => {
        const stored: RunEvent[] = [];
        let commits = 0;
        const crashing: JournalSink = {
          commit(_s: RunSummary, events: readonly RunEvent[]) {
            if (++commits >= crashAt) throw new Error('simulated crash');
            stored.push(...events);
          },
        };
        const first = simulate(gen, crashing);
        await first.done.catch(() => undefined);
        if (replay(stored).terminal || stored.length === 0) return;
        const completedBefore = new Set(stored.filter((e) => e.type === 'step_completed').map((e) => e.stepId));
        const resumedStore: RunEvent[] = [...stored];
        const sink: JournalSink = { commit: (_s, events) => void resumedStore.push(...events) };
        const second = simulate(gen, sink, new VirtualClock(500_000), stored);
        const result = await second.done;
        expect(['completed', 'failed', 'cancelled', 'timeout']).toContain(result.status);
        for (const req of second.exec.starts)
          if (req.purpose !== 'compensate') expect(completedBefore.has(req.stepId)).toBe(false);
        expect(resumedStore.map((e) => e.seq)).toEqual(resumedStore.map((_, i) => i + 1));
        expect(second.violations.filter((v) => !v.includes('before its dependency'))).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it('is deterministic: the same plan and outcomes give the same event trace', () => {
    fc.assert(
      fc.property(genPlan, (gen) => {
        const a = simulate(gen).events.map((e) => `${e.ts} ${e.type} ${e.stepId}`);
        const b = simulate(gen).events.map((e) => `${e.ts} ${e.type} ${e.stepId}`);
        expect(a).toEqual(b);
      }),
      { numRuns: 50 },
    );
  });
});
