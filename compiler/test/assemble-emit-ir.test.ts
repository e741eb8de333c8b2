/**
 * The `emit-ir` stage (compiler/assemble/emit-ir.ts): the IR is made from the facts record alone
 * — what the stages before it decided (bindings, estimates, order) is what the IR says — and a
 * check never runs it.
 */
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
});
