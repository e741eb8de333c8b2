/** The editor knows the v0.3 model properties (LANGUAGE.md §8.1): completion and hover facts. */
import { describe, expect, it } from 'vitest';
import { parse, type CapabilityDecl, type ResourceDecl } from '../../language/index.js';
import { factsOf } from '../describe.js';
import { complete } from '../features/completion.js';

function labelsAt(src: string): string[] {
  const offset = src.indexOf('|');
  const text = src.slice(0, offset) + src.slice(offset + 1);
  return complete(text, offset, { index: undefined, stdModules: () => [] }).map((i) => i.label);
}

describe('model properties in the editor', () => {
  it('completes prompt, system, model, temperature, max_tokens in a capability; endpoint and model in a resource', () => {
    expect(labelsAt('capability c {\n  kind llm\n  |')).toEqual(expect.arrayContaining(['prompt', 'system', 'model', 'temperature', 'max_tokens']));
    expect(labelsAt('resource r {\n  kind local_device\n  |')).toEqual(expect.arrayContaining(['endpoint', 'model']));
  });

  it('hover lists the model, limits and prompt of a kind llm capability, and the endpoint of a resource', () => {
    const ast = parse({ file: 'm.orch', text: 'capability c { kind llm  input { t: string }  output { text: string }  prompt "Hi ${input.t}"  model "gpt-4o-mini"  max_tokens 50 }\nresource r { kind local_device  provides llm  endpoint "ollama"  model "llama3.2" }' }).module;
    const [cap, res] = ast.declarations as [CapabilityDecl, ResourceDecl];
    const facts = factsOf({ node: cap } as never);
    expect(facts).toEqual(expect.arrayContaining(['model: "gpt-4o-mini"', 'max_tokens: 50', 'answered by: the built-in model handler']));
    expect(facts.some((f) => f.startsWith('prompt: "Hi ${input.t}"'))).toBe(true);
    expect(factsOf({ node: res } as never)).toEqual(expect.arrayContaining(['endpoint: "ollama"', 'model: "llama3.2"']));
  });

  it('hover writes a cost or budget as the literal reads (moneyText: `0.50usd`, not 0.5usd)', () => {
    const ast = parse({ file: 'm.orch', text: 'capability c { kind tool  input { t: string }  cost 0.50usd }\nresource r { kind local_device  provides c  cost 0.1eur }\npolicy p { budget cost <= 1.5usd }' }).module;
    const [cap, res, pol] = ast.declarations;
    expect(factsOf({ node: cap } as never)).toContain('cost: 0.50usd');
    expect(factsOf({ node: res } as never)).toContain('cost: 0.10eur');
    expect(factsOf({ node: pol } as never)).toContain('budget: cost <= 1.50usd');
  });
});
