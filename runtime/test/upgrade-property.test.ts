/**
 * `orch upgrade`'s compatibility rules (LANGUAGE.md §8.6) against the scheduler itself: random
 * plans (steps reading fields of their dependencies' outputs), random edits (arguments, reads of
 * fields a step never returns, new and removed steps and dependencies) and random points in a run
 * (the journal a crash left). An accepted upgrade always completes under the new IR without
 * running a completed step again and without any step reading a missing output; every refusal
 * names a reason that holds of the journal and the two plans.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stepAspects, type ExprIR, type PlanIR, type StepIR } from '../../compiler/index.js';
import { replay, Run, VirtualClock, type JournalSink, type RunEvent } from '../scheduler/index.js';
import { baseId } from '../scheduler/core/state.js';
import { checkUpgrade, outputFieldReads } from '../upgrade.js';
import { capability, lit, out, plan, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';

/**
 * Every step returns `by`. Under the old version only steps with an even number also return `x`;
 * the new version's capability returns `x` everywhere — so a new read of `x` is safe exactly
 * when the step it reads had not completed under the old version, or is even.
 */
const outputOf = (id: string, version: 'old' | 'new') => (version === 'new' || Number(id.slice(1)) % 2 === 0 ? { by: id, x: 1 } : { by: id });

interface Shape {
  readonly deps: number[][];
  /** Per step, the fields it reads of each dependency (same order as deps). */
  readonly fields: ('by' | 'x')[][];
  readonly tag: number[];
}

function build(shape: Shape): PlanIR {
  const steps: StepIR[] = shape.deps.map((ds, i) =>
    step({
      id: `s${i}`,
      capability: 'c',
      deps: ds.map((d) => `s${d}`),
      args: { tag: lit(shape.tag[i]!), in: { op: 'list', items: ds.map((d, k) => out(`s${d}`, shape.fields[i]![k]!)) } as ExprIR },
    }),
  );
  return plan({ name: 'p', capabilities: [capability('c')], steps });
}

/** Only fields every step returns: the original plans read `by` (so they complete). */
const genShape = fc.integer({ min: 1, max: 8 }).chain((n) =>
  fc.record({
    deps: fc.tuple(...Array.from({ length: n }, (_, i) => fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, i - 1) }), { maxLength: Math.min(i, 3) }).map((a) => (i === 0 ? [] : a)))),
    tag: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
  }).map(({ deps, tag }) => ({ deps: deps.map((d) => [...d]), fields: deps.map((d) => d.map(() => 'by' as const)), tag })),
);

type Edit =
  | { kind: 'tag'; at: number; value: number }
  | { kind: 'read_x'; at: number }
  | { kind: 'add_dep'; at: number; on: number }
  | { kind: 'drop_deps'; at: number }
  | { kind: 'add_step'; on: number }
  | { kind: 'remove_last' };

const genEdit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('tag' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('read_x' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('add_dep' as const), at: fc.nat(), on: fc.nat() }),
  fc.record({ kind: fc.constant('drop_deps' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('add_step' as const), on: fc.nat() }),
  fc.record({ kind: fc.constant('remove_last' as const) }),
);

function edit(shape: Shape, edits: readonly Edit[]): Shape {
  const s: Shape = { deps: shape.deps.map((d) => [...d]), fields: shape.fields.map((f) => [...f]), tag: [...shape.tag] };
  for (const e of edits) {
    const n = s.deps.length;
    if (n === 0) break;
    if (e.kind === 'tag') s.tag[e.at % n] = e.value;
    else if (e.kind === 'read_x') {
      const i = e.at % n;
      if (s.fields[i]!.length) s.fields[i]![0] = 'x';
    } else if (e.kind === 'add_dep') {
      const i = e.at % n;
      const on = i === 0 ? -1 : e.on % i;
      if (on >= 0 && !s.deps[i]!.includes(on)) {
        s.deps[i]!.push(on);
        s.fields[i]!.push('by');
      }
    } else if (e.kind === 'drop_deps') {
      s.deps[e.at % n] = [];
      s.fields[e.at % n] = [];
    } else if (e.kind === 'add_step') {
      s.deps.push([e.on % n]);
      s.fields.push([e.on % 2 === 0 ? 'x' : 'by']);
      s.tag.push(0);
    } else if (n > 1) {
      // The last step: nothing depends on it (steps depend only on earlier ones).
      s.deps.pop();
      s.fields.pop();
      s.tag.pop();
    }
  }
  return s;
}

function drive(p: PlanIR, version: 'old' | 'new', opts: { journal?: JournalSink; restored?: readonly RunEvent[]; at?: number }) {
  const clock = new VirtualClock(opts.at ?? 1_000);
  const exec = new SimExecutor(clock, (req) => ({ latency: 5 + (Number(req.stepId.slice(1)) % 3) * 7, outcome: { ok: true, output: outputOf(req.stepId, version) } }));
  const events: RunEvent[] = [];
  const run = new Run(p, { clock, executor: exec, journal: opts.journal, observe: (e) => events.push(e) }, { runId: 'up', restored: opts.restored ? replay(opts.restored) : undefined });
  const done = run.start();
  clock.runAll(100_000);
  return { done, events, exec };
}

describe('orch upgrade compatibility', () => {
  it('accepts only upgrades that complete without re-running a completed step or reading a missing output; every refusal holds', async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(genShape, fc.array(genEdit, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 12 }), async (shape, edits, crashAt) => {
        const oldPlan = build(shape);
        const newPlan = build(edit(shape, edits));
        const stored: RunEvent[] = [];
        let commits = 0;
        const crashing: JournalSink = {
          commit(_s, events) {
            if (++commits >= crashAt) throw new Error('simulated crash');
            stored.push(...events);
          },
        };
        await drive(oldPlan, 'old', { journal: crashing }).done.catch(() => undefined);
        if (stored.length === 0) return;
        const restored = replay(stored);
        if (restored.terminal) return;
        const check = checkUpgrade(oldPlan, newPlan, restored);
        if (check.compatible) {
          accepted++;
          const resumed = drive(newPlan, 'new', { restored: stored, at: stored[stored.length - 1]!.ts });
          const result = await resumed.done;
          expect(result.status).toBe('completed');
          const completed = [...restored.steps].filter(([, r]) => r.status === 'completed').map(([k]) => k);
          for (const k of completed) expect(resumed.exec.starts.some((r) => r.stepId === k), `${k} ran again`).toBe(false);
          for (const req of resumed.exec.starts)
            for (const v of req.input.in as unknown[]) expect(v, `${req.stepId} read a missing output`).not.toBeNull();
          return;
        }
        refused++;
        expect(check.reasons.length).toBeGreaterThan(0);
        const oldSteps = new Map(oldPlan.steps.map((s) => [s.id, s]));
        const newSteps = new Map(newPlan.steps.map((s) => [s.id, s]));
        const startedIds = new Set([...restored.steps].filter(([, r]) => r.status !== 'pending' && r.status !== 'queued').map(([k]) => baseId(k)));
        for (const r of check.reasons) {
          expect(r.step).not.toBeNull();
          const id = r.step!;
          const changed = /its (.*) changed$/.exec(r.reason);
          const missing = /output field "(.*)"/.exec(r.reason);
          if (changed) {
            expect(startedIds.has(id)).toBe(true);
            const aspects = stepAspects(oldPlan, oldSteps.get(id)!, newPlan, newSteps.get(id)!);
            for (const a of changed[1]!.split(', ')) expect(aspects).toContain(a);
          } else if (missing) {
            expect(restored.steps.get(id)?.status).toBe('completed');
            expect(Object.hasOwn(restored.steps.get(id)!.output as object, missing[1]!)).toBe(false);
            expect(outputFieldReads(newPlan).get(id)?.has(missing[1]!)).toBe(true);
          } else throw new Error(`unexpected reason: ${r.reason}`);
        }
      }),
      { numRuns: 200 },
    );
    // Both sides were exercised.
    expect(accepted).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  });
});

describe('outputFieldReads', () => {
  it('counts a field read with a literal index (`X.output["f"]`, `X.output[0]["g"]`) as a read of it; `X.output["h"]["deeper"]` reads h only', () => {
    const lit = (value: unknown) => ({ op: 'lit', value }) as ExprIR;
    const idx = (object: ExprIR, index: ExprIR) => ({ op: 'index', object, index }) as ExprIR;
    const p = plan({
      capabilities: [capability('c')],
      steps: [
        step({ id: 'a', capability: 'c', args: {} }),
        step({ id: 'b', capability: 'c', deps: ['a'], args: { x: idx(out('a'), lit('f')), y: idx(idx(out('a'), lit(0)), lit('g')), z: idx(idx(out('a'), lit('h')), lit('deeper')) } }),
      ],
    });
    expect([...(outputFieldReads(p).get('a') ?? [])].sort()).toEqual(['f', 'g', 'h']);
  });
});
