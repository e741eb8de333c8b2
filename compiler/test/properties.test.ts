/**
 * Property tests of the compiler on generated plans: stage/DAG invariants and estimates for
 * acyclic plans, a real cycle named for cyclic ones, schema-valid IR, and `check` never throwing
 * on garbled input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validatePlanIR } from '../ir/validate.js';
import { checkText, compileText } from './helpers.js';

const LATENCIES = [100, 250, 1000, 3000];

const HEADER = `
${LATENCIES.map((l, i) => `capability w${i} { kind tool input { v: string } output { v: string } latency ${l}ms cost 0.01usd }`).join('\n')}
resource box { kind local_device }
`;

interface GenStep {
  readonly cap: number;
  /** Indices of earlier steps read through data. */
  readonly data: number[];
  /** Indices of earlier steps in `after`. */
  readonly after: number[];
}

const acyclic = fc
  .integer({ min: 1, max: 25 })
  .chain((n) =>
    fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.record({
          cap: fc.integer({ min: 0, max: LATENCIES.length - 1 }),
          data: i ? fc.uniqueArray(fc.integer({ min: 0, max: i - 1 }), { maxLength: 3 }) : fc.constant([] as number[]),
          after: i ? fc.uniqueArray(fc.integer({ min: 0, max: i - 1 }), { maxLength: 2 }) : fc.constant([] as number[]),
        }),
      ),
    ),
  )
  .map((steps) => steps as GenStep[]);

function source(steps: readonly GenStep[], extraAfter: ReadonlyMap<number, number> = new Map(), shuffle = false): string {
  const lines = steps.map((s, i) => {
    const v = s.data.length ? s.data.map((d) => `\${s${d}.output.v}`).join('-') : 'seed';
    const after = [...s.after, ...(extraAfter.has(i) ? [extraAfter.get(i)!] : [])];
    return `  step s${i} = w${s.cap}(v: "${v}")${after.length ? ` { after ${after.map((a) => `s${a}`).join(', ')} }` : ''}`;
  });
  if (shuffle) lines.reverse();
  return `${HEADER}\nplan gen {\n${lines.join('\n')}\n  output { n: 1 }\n}\n`;
}

describe('generated acyclic plans', () => {
  it('list every step once, in stage order, in the earliest stage, with the critical path as duration', () => {
    fc.assert(
      fc.property(acyclic, fc.boolean(), (steps, shuffle) => {
        const out = compileText(source(steps, new Map(), shuffle));
        expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const plan = out.plans[0]!;
        const ids = plan.steps.map((s) => s.id);
        expect(new Set(ids).size).toBe(steps.length);
        expect([...ids].sort()).toEqual(steps.map((_, i) => `s${i}`).sort());
        const pos = new Map(ids.map((id, i) => [id, i]));
        const stage = new Map(plan.steps.map((s) => [s.id, s.stage]));
        for (const s of plan.steps) {
          const expected = steps[Number(s.id.slice(1))]!;
          const deps = [...new Set([...expected.data, ...expected.after])].map((d) => `s${d}`).sort();
          expect(s.deps).toEqual(deps);
          for (const d of s.deps) {
            expect(pos.get(d)!).toBeLessThan(pos.get(s.id)!);
            expect(stage.get(d)!).toBeLessThan(s.stage);
          }
          // earliest stage its deps allow
          expect(s.stage).toBe(s.deps.length ? Math.max(...s.deps.map((d) => stage.get(d)!)) + 1 : 0);
        }
        // stages partition the steps; each is an antichain
        expect(plan.stages.flat().sort()).toEqual([...ids].sort());
        plan.stages.forEach((st, k) => st.forEach((id) => expect(stage.get(id)).toBe(k)));
        for (const st of plan.stages) {
          const set = new Set(st);
          for (const id of st) for (const d of plan.steps.find((s) => s.id === id)!.deps) expect(set.has(d)).toBe(false);
        }
        // critical path: longest latency-weighted chain, computed independently
        const finish = new Map<number, number>();
        steps.forEach((s, i) => {
          const start = Math.max(0, ...[...s.data, ...s.after].map((d) => finish.get(d)!));
          finish.set(i, start + LATENCIES[s.cap]!);
        });
        expect(plan.estimates.duration_ms).toBe(Math.max(...finish.values()));
        const cp = plan.estimates.critical_path;
        const cpSum = cp.reduce((a, id) => a + plan.steps.find((s) => s.id === id)!.estimates.duration_ms, 0);
        expect(cpSum).toBe(plan.estimates.duration_ms);
        for (let i = 1; i < cp.length; i++) expect(plan.steps.find((s) => s.id === cp[i])!.deps).toContain(cp[i - 1]);
        expect(plan.estimates.cost).toBeCloseTo(steps.length * 0.01, 9);
        // and the IR is schema-valid
        expect(validatePlanIR(JSON.parse(JSON.stringify(plan))).ok).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

describe('generated cyclic plans', () => {
  it('E0301 names a real cycle', () => {
    const cyclic = acyclic
      .filter((steps) => steps.length >= 2)
      .chain((steps) => fc.tuple(fc.constant(steps), fc.integer({ min: 0, max: steps.length - 2 }), fc.integer({ min: 1, max: steps.length - 1 })))
      .filter(([, a, b]) => a < b)
      .map(([steps, a, b]) => {
        // make b depend on a (data), and a wait for b: a cycle through a and b
        const copy = steps.map((s) => ({ ...s, data: [...s.data], after: [...s.after] }));
        if (!copy[b]!.data.includes(a)) copy[b]!.data.push(a);
        return { steps: copy, back: new Map([[a, b]]) };
      });
    fc.assert(
      fc.property(cyclic, ({ steps, back }) => {
        const diags = checkText(source(steps, back)).filter((d) => d.code === 'E0301');
        expect(diags.length).toBeGreaterThanOrEqual(1);
        const m = /^dependency cycle: (.*)$/.exec(diags[0]!.message);
        expect(m).not.toBeNull();
        const names = m![1]!.split(' → ');
        expect(names[0]).toBe(names[names.length - 1]);
        const depsOf = (i: number): number[] => [...steps[i]!.data, ...steps[i]!.after, ...(back.has(i) ? [back.get(i)!] : [])];
        for (let k = 1; k < names.length; k++) {
          const from = Number(names[k - 1]!.slice(1));
          const to = Number(names[k]!.slice(1));
          expect(depsOf(to)).toContain(from);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('robustness', () => {
  const valid = source([{ cap: 0, data: [], after: [] }, { cap: 1, data: [0], after: [] }]);
  it('check never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        expect(Array.isArray(checkText(text))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
  it('check and compile never throw on garbled valid programs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length), fc.nat(12), fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 6 }),
        (edits) => {
          let text = valid;
          for (const [at, del, ins] of edits) {
            const i = at % (text.length + 1);
            text = text.slice(0, i) + ins + text.slice(i + del);
          }
          expect(Array.isArray(checkText(text))).toBe(true);
          const out = compileText(text);
          expect(out.diagnostics.some((d) => d.message.startsWith('internal compiler error'))).toBe(false);
          for (const p of out.plans) expect(validatePlanIR(JSON.parse(JSON.stringify(p))).ok).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('deep plans', () => {
  it('a 5,000-step chain compiles without exhausting the stack', () => {
    const n = 5000;
    const lines = Array.from({ length: n }, (_, i) => `  step s${i} = w0(v: ${i ? `s${i - 1}.output.v` : '"x"'})`);
    const out = compileText(`${HEADER}\nplan chain {\n${lines.join('\n')}\n  output { last: s${n - 1}.output.v }\n}\n`);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const plan = out.plans[0]!;
    expect(plan.stages).toHaveLength(n);
    expect(plan.estimates.critical_path).toHaveLength(n);
    expect(plan.estimates.duration_ms).toBe(n * LATENCIES[0]!);
  });
});
