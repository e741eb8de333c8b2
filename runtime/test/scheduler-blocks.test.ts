/**
 * Property tests of the scheduler on generated v0.2 plans (nested `for each`, a race, a loop,
 * `join first`, soft reads): dependencies hold as each instance sees them, no instance completes
 * twice, a race has one winner and its losers never complete, a loop runs at most `max`
 * iterations in order, limits hold, every run terminates, replaying any journal prefix gives the
 * live state, and a run resumed from any committed prefix ends like the uninterrupted one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replay, Run, VirtualClock, type JournalSink, type RunEvent, type RunReader } from '../scheduler/index.js';
import { blockExecutor, genBlockPlan, type BlockGen } from './block-plan-gen.js';

const DONE = new Set(['completed', 'failed', 'skipped', 'cancelled', 'timeout']);
/** An instance key (not a block's key, not a whole `for each` step's). */
const isInstance = (key: string, gen: BlockGen) => {
  const s = gen.plan.steps.find((x) => x.id === key.replace(/[[#].*$/, ''));
  const dims = (s?.blocks ?? []).filter((b) => b !== 'r').length;
  return s !== undefined && (key.match(/\[\d+\]|#\d+/g) ?? []).length === dims;
};

function drive(gen: BlockGen, opts: { journal?: JournalSink; restored?: readonly RunEvent[]; at?: number; onEvent?: (e: RunEvent, r: RunReader) => void } = {}) {
  const clock = new VirtualClock(opts.at ?? 1_000);
  const { exec, observe } = blockExecutor(gen, clock);
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
        observe(e);
        opts.onEvent?.(e, r);
      },
    },
    { runId: 'blocks-prop', input: gen.input, restored: opts.restored ? replay(opts.restored) : undefined },
  );
  const done = run.start();
  clock.runAll(100_000);
  return { run, done, events, exec };
}

describe('scheduler on generated plans with blocks', () => {
  it('keeps dependencies, completes each instance at most once, races and loops by their rules, limits, and terminates', async () => {
    await fc.assert(
      fc.asyncProperty(genBlockPlan(false), async (gen) => {
        const violations: string[] = [];
        const completed = new Set<string>();
        const running = new Set<string>();
        const winners = new Map<string, string>();
        let lastIteration = -1;
        const byId = new Map(gen.plan.steps.map((s) => [s.id, s]));
        const { done, events } = drive(gen, {
          onEvent(e, r) {
            const key = e.stepId;
            if (!key) return;
            const id = key.replace(/[[#].*$/, '');
            if (e.type === 'step_started') {
              const s = byId.get(id)!;
              const seen = s.deps.map((d) => r.viewFrom!(key, d)?.status ?? 'unknown');
              const ok = s.join === 'first' ? seen.some((x) => x === 'completed') || seen.every((x) => DONE.has(x)) : seen.every((x) => DONE.has(x));
              if (!ok) violations.push(`${key} started with dependencies ${s.deps.join(',')} = ${seen.join(',')}`);
              running.add(key);
              if (gen.plan.concurrency !== null && running.size > gen.plan.concurrency) violations.push(`plan concurrency exceeded: ${[...running].join(',')}`);
              const p = gen.plan.blocks!.find((b) => b.id === 'fo')!;
              const q = gen.plan.blocks!.find((b) => b.id === 'fi')!;
              const outerNow = new Set([...running].filter((k) => /^[nm]\[/.test(k)).map((k) => k.slice(1, k.indexOf(']') + 1)));
              if (p.type === 'for_each' && p.parallel !== null && outerNow.size > p.parallel) violations.push(`outer parallel exceeded: ${[...running].join(',')}`);
              for (const o of outerNow) {
                const inner = [...running].filter((k) => k.startsWith(`n${o}[`)).length;
                if (q.type === 'for_each' && q.parallel !== null && inner > q.parallel) violations.push(`inner parallel exceeded in ${o}`);
              }
            }
            if (['step_completed', 'step_failed', 'step_retried', 'step_cancelled', 'step_skipped'].includes(e.type)) running.delete(key);
            if (e.type === 'step_completed') {
              if (completed.has(key)) violations.push(`${key} completed twice`);
              completed.add(key);
              if (id === 'b1' || id === 'b2') {
                const w = winners.get('r');
                if (w !== undefined && w !== id) violations.push(`loser ${id} completed after ${w} won`);
              }
            }
            if (e.type === 'race_won') {
              if (winners.has(key)) violations.push(`race ${key} won twice`);
              winners.set(key, String(e.data.winner));
              if (!completed.has(String(e.data.winner))) violations.push(`winner ${String(e.data.winner)} had not completed`);
            }
            if (e.type === 'loop_iteration') {
              const k = Number(e.data.index);
              if (k !== lastIteration + 1) violations.push(`iteration ${k} after ${lastIteration}`);
              const max = (gen.plan.blocks!.find((b) => b.id === 'L') as { max: number }).max;
              if (k >= max) violations.push(`iteration ${k} beyond max ${max}`);
              lastIteration = k;
            }
          },
        });
        const result = await done;
        expect(violations).toEqual([]);
        expect(['completed', 'failed']).toContain(result.status);
        expect(running.size).toBe(0);
        // Nested outputs: a list per outer item of a list per inner item, in order.
        const n = result.steps.find((s) => s.stepId === 'n')!;
        if (n.status === 'completed') {
          // (an item that did not complete reads null)
          const by = (n.output as unknown[][]).map((inner) => inner.map((o) => (o as { by: string } | null)?.by ?? null));
          expect(by.map((inner) => inner.length)).toEqual(gen.input.outer.map((o) => o.length));
          by.forEach((inner, i) => inner.forEach((b, j) => expect([null, `n[${i}][${j}]`]).toContain(b)));
        }
        expect(events.at(-1)!.type).toMatch(/^execution_(completed|failed)$/);
      }),
      { numRuns: 150 },
    );
  });

  it('replaying any prefix of the journal rebuilds the live state of every instance', () => {
    fc.assert(
      fc.property(genBlockPlan(false), (gen) => {
        const seen: { event: RunEvent; live: Map<string, string> }[] = [];
        const keys = new Set<string>();
        drive(gen, {
          onEvent: (event, r) => {
            if (event.stepId && isInstance(event.stepId, gen)) keys.add(event.stepId);
            seen.push({ event, live: new Map([...keys].map((k) => [k, r.stepView(k)?.status ?? 'pending'])) });
          },
        });
        const events = seen.map((s) => s.event);
        seen.forEach(({ live }, i) => {
          const restored = replay(events.slice(0, i + 1));
          for (const [k, status] of live) expect([k, restored.steps.get(k)?.status ?? 'pending']).toEqual([k, status]);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('a run resumed from any committed prefix ends like the uninterrupted run and never re-runs a completed instance', async () => {
    await fc.assert(
      fc.asyncProperty(genBlockPlan(true), fc.integer({ min: 1, max: 60 }), async (gen, crashAt) => {
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
        expect(result.output).toEqual(liveResult.output);
        expect(result.steps.map((s) => [s.stepId, s.status, s.output])).toEqual(liveResult.steps.map((s) => [s.stepId, s.status, s.output]));
        const completedBefore = new Set(stored.filter((e) => e.type === 'step_completed').map((e) => e.stepId));
        for (const req of resumed.exec.starts) expect(completedBefore.has(req.stepId), `${req.stepId} ran again`).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});
