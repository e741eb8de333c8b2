/**
 * The runs page's spend (LANGUAGE.md §8.2): actual cost and tokens of the finished runs, summed
 * by plan, by capability and by model from the totals `/metrics` counts (`GET /spend`).
 */
import { h } from './dom.js';

export interface SpendTotal {
  plan: string;
  capability: string;
  model: string | null;
  cost: number;
  input_tokens: number;
  output_tokens: number;
}

type By = 'plan' | 'capability' | 'model';
const BY: readonly [By, string][] = [
  ['plan', 'Plan'],
  ['capability', 'Capability'],
  ['model', 'Model'],
];

/** The totals summed over everything but `by`, the most spent first. */
function sumBy(totals: readonly SpendTotal[], by: By): [string, SpendTotal][] {
  const sums = new Map<string, SpendTotal>();
  for (const t of totals) {
    const key = (by === 'model' ? t.model : t[by]) ?? '';
    const s = sums.get(key) ?? { plan: '', capability: '', model: null, cost: 0, input_tokens: 0, output_tokens: 0 };
    s.cost += t.cost;
    s.input_tokens += t.input_tokens;
    s.output_tokens += t.output_tokens;
    sums.set(key, s);
  }
  return [...sums].sort(([a, x], [b, y]) => y.cost - x.cost || a.localeCompare(b));
}

export function spendCard(totals: readonly SpendTotal[]): HTMLElement {
  const body =
    totals.length === 0
      ? h('p', { class: 'muted' }, 'No spend recorded by finished runs yet.')
      : h(
          'div',
          { class: 'spend' },
          ...BY.map(([by, title]) =>
            h(
              'table',
              { class: 'spend', 'data-by': by },
              h('thead', {}, h('tr', {}, h('th', {}, title), h('th', {}, 'Cost'), h('th', {}, 'Tokens in'), h('th', {}, 'Tokens out'))),
              h(
                'tbody',
                {},
                ...sumBy(totals, by).map(([key, s]) =>
                  h(
                    'tr',
                    { 'data-key': key },
                    h('td', {}, key === '' ? '(no model)' : key),
                    h('td', { class: 'num' }, s.cost.toFixed(3)),
                    h('td', { class: 'num' }, s.input_tokens),
                    h('td', { class: 'num' }, s.output_tokens),
                  ),
                ),
              ),
            ),
          ),
        );
  return h('section', { class: 'card' }, h('h3', {}, 'Spend by plan, capability and model'), body);
}
