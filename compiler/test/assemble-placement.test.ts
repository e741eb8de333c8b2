/**
 * The `placement` stage (compiler/assemble/placement.ts) on its own: every step gets a binding by
 * the plan's policy, steps with the same needs share one, a pinned step goes where it is pinned,
 * a step no resource can host is E0501 and a hole, and a fallback call is placed by its own
 * capability's needs.
 */
import { describe, expect, it } from 'vitest';
import { BASE } from './helpers.js';
import { planFactsThrough } from './stage-facts.js';

const PLAN = `${BASE}
capability shout { kind tool input { text: string } output { text: string } requires megaphone }
capability think { kind llm handler "./h.js#think" input { text: string } output { text: string } requires llm }
plan p {
  input { url: string }
  step a = fetch(url: input.url)
  step b = fetch(url: input.url)
  step c = fetch(url: input.url) { on cloud }
  step d = shout(text: a.output.body)
  step e = fetch(url: input.url) { fallback think(text: "x") }
}
`;

describe('the placement stage', () => {
  const { facts, reported } = planFactsThrough(PLAN, 'p', 'placement');
  const at = (id: string) => facts.bindings[facts.steps.findIndex((s) => s.id === id)];

  it('binds steps with the same needs to one shared binding, and a pinned step where it is pinned', () => {
    expect(at('a')).toBeDefined();
    expect(at('b')).toBe(at('a'));
    expect(at('c')!.resource).toBe('cloud');
    expect(at('c')).not.toBe(at('a'));
  });

  it('leaves a hole and reports E0501 at the step where no resource can host it', () => {
    expect(at('d')).toBeUndefined();
    expect(reported.map((d) => d.code)).toEqual(['E0501']);
    expect(reported[0]!.message).toContain('no resource can host step "d"');
  });

  it('places a fallback call by what its own capability requires', () => {
    expect(facts.callBindings.get('e')?.fallback?.resource).toBe('cloud');
    expect(facts.callBindings.has('a')).toBe(false);
  });

  it('runs before any estimate: the stage after it has not', () => {
    expect(facts.costs).toEqual([]);
  });
});
