/**
 * The `emit-ir` stage (compiler/assemble/emit-ir.ts): the IR is made from the facts record alone
 * — what the stages before it decided (bindings, estimates, order) is what the IR says — and a
 * check never runs it.
 */
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { emitIR } from '../assemble/emit-ir.js';
import { validatePlanIR } from '../ir/validate.js';
import { compileProgram } from '../program.js';
import { StageTimer } from '../stages.js';
import { BASE, compileText, DIR, memoryHost } from './helpers.js';
import { planFactsThrough } from './stage-facts.js';

const TEXT = `${BASE}
plan p {
  input { url: string, tries: int = 2 }
  step b = summarize(text: a.output.body)
  step a = fetch(url: input.url)
}
`;

describe('the emit-ir stage', () => {
  it('builds the IR compile returns, from the facts of the stages before it', () => {
    const { facts } = planFactsThrough(TEXT, 'p', 'emit-ir');
    const ir = facts.ir!;
    expect(validatePlanIR(ir).ok).toBe(true);
    expect(JSON.stringify(ir)).toBe(JSON.stringify(compileText(TEXT).plans[0]));
    expect(ir.steps.map((s) => s.id)).toEqual(['a', 'b']);
    expect(ir.estimates.duration_ms).toBe(facts.duration);
    // A handler module is named relative to the plan's folder.
    expect(Object.values(ir.capabilities).find((c) => c.kind === 'llm')!.handler).toEqual({ module: './handlers.js', export: 'summarize' });
  });

  it('writes into the IR what the stages before it put in the record', () => {
    const { facts } = planFactsThrough(TEXT, 'p', 'bound-resources');
    const a = facts.steps.findIndex((s) => s.id === 'a');
    const b = facts.steps.findIndex((s) => s.id === 'b');
    facts.durations[a] = 42;
    facts.bindings[b] = { resource: 'laptop', tier: 'local', rationale: 'test', fallbacks: [] };
    emitIR(facts);
    expect(facts.ir!.steps.find((s) => s.id === 'a')!.estimates.duration_ms).toBe(42);
    expect(facts.ir!.steps.find((s) => s.id === 'b')!.binding.rationale).toBe('test');
  });

  it('is not run by a check', () => {
    const entry = `${DIR}/main.orch`;
    const ran = (checkOnly: boolean) => {
      const timer = new StageTimer();
      compileProgram({ entry, host: memoryHost({ [entry]: TEXT }), checkOnly, timer });
      return timer.timings().map((t) => t.name);
    };
    expect(ran(true)).toContain('bound-resources');
    expect(ran(true)).not.toContain('emit-ir');
    expect(ran(false)).toContain('emit-ir');
  });

  it('gives the steps of a plan one hidden class, labelled steps too', () => {
    // A 100,000-step `orch run` keeps its IR alive: on Node 20 a step made as `{ ...step, labels }`
    // had a hidden class of its own (~1.1 KB a step with its descriptors and enum cache).
    setFlagsFromString('--allow-natives-syntax');
    const sameShape = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
    const steps = Array.from({ length: 40 }, (_, i) => `  step s${i} = fetch(url: ${i === 0 ? 'input.url' : `s${i - 1}.output.body`})`);
    const ir = compileText(`${BASE}\nplan p {\n  input { url: string }\n${steps.join('\n')}\n}\n`).plans[0]!;
    expect(ir.steps).toHaveLength(40);
    expect(ir.steps.every((s) => s.labels !== undefined)).toBe(true);
    expect(ir.steps.filter((s) => !sameShape(s, ir.steps[0]!)).map((s) => s.id)).toEqual([]);
  });
});
