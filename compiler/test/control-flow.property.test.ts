/**
 * Properties of generated plans with `repeat` and `race` blocks (LANGUAGE.md §7.1): they check
 * clean, their IR validates, the best case never exceeds the worst and equals it when every loop
 * has `max 1`, a step outside a loop that reads into it waits for the whole loop, and the
 * critical path is a chain of dependencies.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validatePlanIR } from '../ir/validate.js';
import { compileText } from './helpers.js';

const RUNS = Math.max(20, Math.round(Number(process.env.ORCH_PROPERTY_RUNS ?? 300) / 3));
const LATENCIES = [100, 250, 1000, 3000];
const HEADER = `${LATENCIES.map((l, i) => `capability w${i} { kind tool input { v: string } output { v: string } latency ${l}ms cost 0.01usd }`).join('\n')}\n`;

type Segment =
  | { kind: 'step'; caps: number[] }
  | { kind: 'repeat'; caps: number[]; max: number }
  | { kind: 'race'; caps: number[] };

const segment: fc.Arbitrary<Segment> = fc.oneof(
  fc.record({ kind: fc.constant('step' as const), caps: fc.array(fc.nat(LATENCIES.length - 1), { minLength: 1, maxLength: 1 }) }),
  fc.record({ kind: fc.constant('repeat' as const), caps: fc.array(fc.nat(LATENCIES.length - 1), { minLength: 1, maxLength: 3 }), max: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('race' as const), caps: fc.array(fc.nat(LATENCIES.length - 1), { minLength: 2, maxLength: 3 }) }),
);

/** Each step reads up to two earlier steps (inside `??`, so race branches may be read from after their race). */
const plan = fc.tuple(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 40 }));

function source(segments: readonly Segment[], picks: readonly number[]): { text: string; loops: Map<string, string[]> } {
  const lines: string[] = [];
  const loops = new Map<string, string[]>();
  let n = 0;
  let pick = 0;
  // `seen`: the steps a new step may read — a race branch none of its siblings (that is E0303).
  const step = (cap: number, indent: string, seen = n): string => {
    const reads: string[] = [];
    for (let k = 0; k < 2 && seen > 0; k++) {
      const p = picks[pick++];
      if (p !== undefined && p % 3 !== 0) reads.push(`s${p % seen}`);
    }
    const v = reads.map((r) => `\${${r}.output.v ?? ""}`).join('-') || 'seed';
    return `${indent}step s${n++} = w${cap}(v: "${v}")`;
  };
  segments.forEach((seg, i) => {
    if (seg.kind === 'step') lines.push(step(seg.caps[0]!, '  '));
    else if (seg.kind === 'race') {
      const first = n;
      lines.push(`  race r${i} {`, ...seg.caps.map((c) => step(c, '    ', first)), '  }');
    } else {
      const first = n;
      const body = seg.caps.map((c) => step(c, '    '));
      loops.set(`l${i}`, body.map((_, k) => `s${first + k}`));
      lines.push(`  repeat l${i} max ${seg.max} until s${first}.output.v == "done" {`, ...body, '  }');
    }
  });
  return { text: `${HEADER}\nplan gen {\n${lines.join('\n')}\n}\n`, loops };
}

describe('generated plans with loops and races', () => {
  it('check clean, validate, and estimate best ≤ worst (= when every max is 1), with a dependency chain as critical path', () => {
    fc.assert(
      fc.property(plan, ([segments, picks]) => {
        const { text, loops } = source(segments, picks);
        const out = compileText(text);
        expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const ir = out.plans[0]!;
        expect(validatePlanIR(JSON.parse(JSON.stringify(ir))).ok).toBe(true);
        const e = ir.estimates;
        expect(e.duration_ms).toBeLessThanOrEqual(e.duration_ms_max! + 1e-9);
        expect(e.cost).toBeLessThanOrEqual(e.cost_max! + 1e-9);
        if (segments.every((s) => s.kind !== 'repeat' || s.max === 1)) {
          expect(e.duration_ms_max).toBeCloseTo(e.duration_ms, 9);
          expect(e.cost_max).toBeCloseTo(e.cost, 9);
        }
        const byId = new Map(ir.steps.map((s) => [s.id, s]));
        for (let k = 1; k < e.critical_path.length; k++) expect(byId.get(e.critical_path[k]!)!.deps).toContain(e.critical_path[k - 1]);
        for (const s of ir.steps)
          for (const [loop, members] of loops) {
            if (members.includes(s.id) || !s.deps.some((d) => members.includes(d))) continue;
            expect(s.waits_for).toContain(loop);
            for (const m of members) expect(s.deps).toContain(m);
          }
      }),
      { numRuns: RUNS },
    );
  });
});
