/**
 * The `proofs` stage (compiler/assemble/proofs.ts) and the stages it needs and feeds: data
 * classes flow along the DAG (a check without guardrails skips them), a binding's candidates a
 * blocking rule forbids are dropped, each guardrail gets its static verdict, and the resources
 * left bound are what `bound-resources` collects.
 */
import { describe, expect, it } from 'vitest';
import { planFactsThrough } from './stage-facts.js';

const TEXT = `
resource laptop { kind local_device provides llm cost 0.01usd }
resource big_cloud { kind cloud_region provides llm cost 0.001usd }
resource spare { kind cloud_region provides backup cost 0.001usd }
capability read { kind tool input { id: string } output { text: string } data personal }
capability summarize { kind llm handler "./h.js#s" input { text: string } output { summary: string } requires llm }
policy cheap { strategy cost max_fallbacks 3 }
guardrail local_personal {
  severity blocking
  forbid step where step.data >= personal and step.placement == cloud_region
}
plan notes {
  policy cheap
  step r = read(id: "1")
  step s = summarize(text: r.output.text)
}
plan plain {
  step s = summarize(text: "x")
}
`;

describe('the data-classes stage', () => {
  it('gives a step the class of the outputs it reads', () => {
    const { facts } = planFactsThrough(TEXT, 'notes', 'data-classes');
    expect(facts.steps.map((s) => s.data)).toEqual(['personal', 'personal']);
  });

  it('is skipped by a check of a plan no guardrail applies to (nothing reads the classes)', () => {
    const text = TEXT.replace(/guardrail local_personal \{[^}]*\}/, '');
    const { facts } = planFactsThrough(text, 'notes', 'data-classes', { checkOnly: true });
    // (each step keeps the class of its own arguments)
    expect(facts.steps.map((s) => s.data)).toEqual(['public', 'public']);
    expect(planFactsThrough(text, 'notes', 'data-classes').facts.steps.map((s) => s.data)).toEqual(['personal', 'personal']);
  });
});

describe('the proofs stage', () => {
  const { facts, reported } = planFactsThrough(TEXT, 'notes', 'proofs');
  const s = facts.bindings[1]!;

  it('drops the forbidden candidate and promotes the allowed one', () => {
    expect(s.resource).toBe('laptop');
    expect(s.dropped).toEqual([{ resource: 'big_cloud', reason: 'forbidden by guardrail "local_personal"' }]);
    expect(reported).toEqual([]);
  });

  it('leaves the verdicts to the verdicts stage, which gives each guardrail its static verdict', () => {
    expect(facts.guardrails).toEqual([]);
    const after = planFactsThrough(TEXT, 'notes', 'verdicts').facts;
    expect(after.guardrails.map((g) => [g.name, g.static_verdict])).toEqual([['local_personal', 'holds']]);
  });

  it('leaves the bound resources to bound-resources: only those still bound', () => {
    const after = planFactsThrough(TEXT, 'notes', 'bound-resources').facts;
    expect([...after.boundResources]).toEqual(['laptop']);
    expect(facts.boundResources.size).toBe(0);
  });
});
