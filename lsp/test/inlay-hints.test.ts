/**
 * `inlayHints` formats each compiled step's label once per compile (cached by the step summary)
 * and skips plans outside the asked range: neither may change an answer.
 */
import { describe, expect, it } from 'vitest';
import { parse } from '../../language/index.js';
import type { PlanSteps } from '../estimate-worker.js';
import { inlayHints } from '../features/inlay-hints.js';

const TEXT = `plan a {
  step one = fetch(url: "x")
  step two = fetch(url: one.output)
}

plan b {
  step three = fetch(url: "y")
}
`;
const module = parse({ file: '/work/hints.orch', text: TEXT }).module;
const lines = TEXT.split('\n');

const compiled = (cost: number): PlanSteps[] => [
  { plan: 'a', steps: ['one', 'two'].map((id) => ({ id, capability: 'fetch', resource: 'edge', estimates: { cost, duration_ms: 340 } })) },
  { plan: 'b', steps: [{ id: 'three', capability: 'fetch', resource: null, estimates: { cost, duration_ms: 1500 } }] },
];

describe('inlay hints', () => {
  it('labels each step by its compile: a new compile or another currency gives new labels', () => {
    const first = compiled(0.0005);
    expect(inlayHints({ module, plans: first, currency: 'usd', lines }).map((h) => h.label)).toEqual([
      '→ edge · 0.0005usd · 340ms', '→ edge · 0.0005usd · 340ms', '→ 0.0005usd · 1.5s',
    ]);
    // Asked again (the cached labels), in another currency, and after a compile with other values.
    expect(inlayHints({ module, plans: first, currency: 'usd', lines }).map((h) => h.label)[2]).toBe('→ 0.0005usd · 1.5s');
    expect(inlayHints({ module, plans: first, currency: 'eur', lines }).map((h) => h.label)[2]).toBe('→ 0.0005eur · 1.5s');
    expect(inlayHints({ module, plans: compiled(0.25), currency: 'usd', lines }).map((h) => h.label)[2]).toBe('→ 0.25usd · 1.5s');
  });

  it('writes money as orch preview does (moneyText): cents kept, an unknown amount as ?', () => {
    expect(inlayHints({ module, plans: compiled(0.5), currency: 'usd', lines }).map((h) => h.label)[2]).toBe('→ 0.50usd · 1.5s');
    expect(inlayHints({ module, plans: compiled(0.1 + 0.2), currency: 'eur', lines }).map((h) => h.label)[2]).toBe('→ 0.30eur · 1.5s');
    expect(inlayHints({ module, plans: compiled(Number.NaN), currency: 'usd', lines }).map((h) => h.label)[2]).toBe('→ ?usd · 1.5s');
  });

  it('answers a range with the hints of the whole file on its lines', () => {
    const plans = compiled(0.001);
    const all = inlayHints({ module, plans, currency: 'usd', lines });
    expect(all.map((h) => h.position.line)).toEqual([1, 2, 6]);
    for (let start = 0; start < lines.length; start++) {
      for (let end = start; end < lines.length; end++) {
        const range = { start: { line: start, character: 0 }, end: { line: end, character: 0 } };
        expect(inlayHints({ module, plans, currency: 'usd', lines }, range)).toEqual(all.filter((h) => h.position.line >= start && h.position.line <= end));
      }
    }
  });
});
