/**
 * Property (fast-check): generated plans whose steps use resources with random concurrency
 * limits, K runs of them at once against the same limits → the steps running on a resource never
 * exceed its limit, and every run completes. Once on the in-process provider with a virtual clock
 * (many cases, deterministic), once on the SQLite store in a real journal file (fewer cases, real
 * timers and transactions).
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { SharedLimits } from '../limits/shared-limits.js';
import { SqliteLimitStore } from '../backend/sqlite/limit-store.js';
import { InProcessLimits, Run, VirtualClock, realClock, type LimitsProvider, type RunEvent } from '../scheduler/index.js';
import { capability, plan, resource, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';
import { tempDir } from './helpers.js';

interface Shape {
  readonly limits: number[];
  readonly steps: { res: number; deps: number[]; latency: number }[];
  readonly runs: number;
}

const shape: fc.Arbitrary<Shape> = fc
  .record({
    limits: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
    steps: fc.array(fc.record({ res: fc.nat(), deps: fc.array(fc.nat(), { maxLength: 2 }), latency: fc.integer({ min: 1, max: 40 }) }), {
      minLength: 1,
      maxLength: 8,
    }),
    runs: fc.integer({ min: 2, max: 4 }),
  })
  .map((s) => ({
    ...s,
    steps: s.steps.map((st, i) => ({ ...st, res: st.res % s.limits.length, deps: i === 0 ? [] : [...new Set(st.deps.map((d) => d % i))] })),
  }));

function planOf(s: Shape): PlanIR {
  return plan({
    capabilities: [capability('work')],
    resources: s.limits.map((n, i) => resource(`r${i}`, { concurrency: n })),
    steps: s.steps.map((st, i) => step({ id: `s${i}`, capability: 'work', resource: `r${st.res}`, deps: st.deps.map((d) => `s${d}`) })),
  });
}

/** Follows every run's events and records the most steps running on each resource at once. */
function watcher() {
  const load = new Map<string, number>();
  const max = new Map<string, number>();
  const on = new Map<string, string>(); // runId/step → resource
  return {
    max,
    observe(e: RunEvent) {
      if (!e.stepId) return;
      const key = `${e.runId}/${e.stepId}`;
      if (e.type === 'step_started' && e.data.resource) {
        const r = String(e.data.resource);
        on.set(key, r);
        load.set(r, (load.get(r) ?? 0) + 1);
        max.set(r, Math.max(max.get(r) ?? 0, load.get(r)!));
      } else if ((e.type === 'step_completed' || e.type === 'step_failed' || e.type === 'step_retried') && on.has(key)) {
        const r = on.get(key)!;
        on.delete(key);
        load.set(r, load.get(r)! - 1);
      }
    },
  };
}

describe('shared limits hold across concurrent runs (property)', () => {
  it('in one process, virtual clock', async () => {
    await fc.assert(
      fc.asyncProperty(shape, async (s) => {
        const p = planOf(s);
        const clock = new VirtualClock(0);
        const exec = new SimExecutor(clock, (req) => ({ latency: s.steps[Number(req.stepId.slice(1))]!.latency, outcome: { ok: true, output: {} } }));
        const w = watcher();
        const limits: LimitsProvider = new InProcessLimits();
        const runs = Array.from({ length: s.runs }, (_, k) => new Run(p, { clock, executor: exec, limits, observe: (e) => w.observe(e) }, { runId: `run${k}` }));
        const done = runs.map((r) => r.start());
        clock.runAll();
        for (const r of await Promise.all(done)) expect(r.status).toBe('completed');
        s.limits.forEach((n, i) => expect(w.max.get(`r${i}`) ?? 0).toBeLessThanOrEqual(n));
      }),
      { numRuns: 150 },
    );
  });

  it('across a shared SQLite journal, real timers', async () => {
    const dir = tempDir();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(shape, async (s) => {
        const p = planOf(s);
        const exec = new SimExecutor(realClock, (req) => ({ latency: s.steps[Number(req.stepId.slice(1))]!.latency, outcome: { ok: true, output: {} } }));
        const w = watcher();
        // Two clients on one database file, as two processes would have.
        const db = join(dir, `limits-${n++}.db`);
        const a = new SharedLimits(new SqliteLimitStore(db), { pollMs: 5 });
        const b = new SharedLimits(new SqliteLimitStore(db), { pollMs: 5 });
        try {
          const runs = Array.from(
            { length: s.runs },
            (_, k) => new Run(p, { clock: realClock, executor: exec, limits: k % 2 ? a : b, observe: (e) => w.observe(e), defer: setImmediate }, { runId: `run${k}` }),
          );
          for (const r of await Promise.all(runs.map((r) => r.start()))) expect(r.status).toBe('completed');
          s.limits.forEach((lim, i) => expect(w.max.get(`r${i}`) ?? 0).toBeLessThanOrEqual(lim));
        } finally {
          await a.close();
          await b.close();
        }
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});
