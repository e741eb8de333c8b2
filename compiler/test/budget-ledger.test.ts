/**
 * LANGUAGE.md §9.1, "A preview that the ledger agrees with" (issue 47, item 9): `check`, `preview`
 * and `diff` judge a cost budget by the ledger's worst case — every step's reservation — and one
 * step whose reservation alone exceeds an enforced budget is E0908 (W0502 for a `warn` budget).
 * Before, a priced model step reserving 0.000269 against a 0.0002 budget previewed "ok".
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check, compile, diffPlans, preview, renderPlanDiff, renderPreviewText } from '../index.js';
import { ledgerWorstCase } from '../budget-ledger.js';
import { diskHost } from '../load.js';
import { covered } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'orch-ledger-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function project(source: string): string {
  const sub = mkdtempSync(join(dir, 'p-'));
  writeFileSync(join(sub, 'orch.config.json'), JSON.stringify({ endpoints: { cloud: { api: 'openai' } }, prices: { 'gpt-test': { input_per_mtok: 1, output_per_mtok: 2 } } }));
  writeFileSync(join(sub, 'main.orch'), source);
  return join(sub, 'main.orch');
}

const names = (budget: string, steps = 'step names = name(text: "a fox")') => `
capability name { kind llm  input { text: string }  output { text: string }  prompt "Name: \${input.text}"  model "gpt-test"  endpoint "cloud"  max_tokens 100  cost 0.00002usd }
policy tight { ${budget} }
plan p {
  policy tight
  ${steps}
}
`;

describe('budget verdicts on the ledger’s worst case (§9.1)', () => {
  it('one model step whose reservation alone exceeds an enforced budget is E0908 at the step, and preview says OVER BUDGET naming it', () => {
    const entry = project(names('budget cost <= 0.0002usd'));
    const diags = check({ entry, host: diskHost });
    const e = diags.filter((d) => d.code === 'E0908');
    expect(e).toHaveLength(1);
    expect(e[0]!.severity).toBe('error');
    expect(e[0]!.message).toMatch(/^step "names" alone reserves \S+ per attempt, more than the budget \S+ of policy tight/);
    // The IR is what preview reads: compile it as with errors set aside.
    const ir = compile({ entry: project(names('budget cost <= 0.0002usd warn')), host: diskHost }).plans[0]!;
    const p = preview(ir);
    expect(p.budgets.cost).toMatchObject({ estimate: 0.00002, ok: false, over: [{ step: 'names' }] });
    expect(p.budgets.cost!.worst_case).toBeGreaterThan(0.0002);
    expect(p.budgets.cost!.headroom).toBeLessThan(0);
    const text = renderPreviewText(p, false);
    expect(text).toMatch(/budget ledger's worst case .* OVER BUDGET/);
    expect(text).toMatch(/step names alone reserves .* more than the budget/);
  });

  it('under a cost budget preview says what every step reserves, a step that reserves its estimate too (§8.2)', () => {
    const entry = project(`
capability fetch { kind service  input { id: string }  output { text: string }  cost 0.01usd }
policy tight { budget cost <= 1usd }
plan p {
  policy tight
  step a = fetch(id: "x")
}
`);
    const p = preview(compile({ entry, host: diskHost }).plans[0]!);
    expect(p.steps[0]!.reservation).toMatchObject({ cost: 0.01, model: null });
    expect(renderPreviewText(p, false)).toMatch(/\+ a = fetch\n(?:.*\n)*?\s+reserves: 0\.01usd per attempt\n/);
  });

  it('against a warn budget it is W0502, not an error', () => {
    const diags = check({ entry: project(names('budget cost <= 0.0002usd warn')), host: diskHost });
    expect(diags.filter((d) => d.code === 'E0908')).toEqual([]);
    expect(diags.filter((d) => d.code === 'W0502').map((d) => d.message)).toEqual([expect.stringMatching(/step "names" alone reserves/)]);
  });

  it('steps each within the budget whose reservations together exceed it: W0502 on the worst case, preview not ok', () => {
    const two = 'step a = name(text: "x")\n  step b = name(text: "y")';
    const entry = project(names('budget cost <= 0.0004usd', two));
    const diags = check({ entry, host: diskHost });
    expect(diags.filter((d) => d.code === 'E0908')).toEqual([]);
    expect(diags.filter((d) => d.code === 'W0502').map((d) => d.message)).toEqual([expect.stringMatching(/budget ledger's worst case .* exceeds the budget/)]);
    const p = preview(compile({ entry, host: diskHost }).plans[0]!);
    expect(p.budgets.cost).toMatchObject({ ok: false, over: [] });
    // Ample budget: ok, and no E0908 / W0502.
    const fine = project(names('budget cost <= 0.01usd', two));
    expect(check({ entry: fine, host: diskHost }).filter((d) => d.code === 'E0908' || d.code === 'W0502')).toEqual([]);
    expect(preview(compile({ entry: fine, host: diskHost }).plans[0]!).budgets.cost).toMatchObject({ ok: true });
  });

  it('a for each over an unbounded list: the worst case is per item, and the preview says so', () => {
    const entry = project(names('budget cost <= 0.01usd', 'input { items: list<string> }\n  for each it in input.items parallel 2 { step n = name(text: it) }'));
    const p = preview(compile({ entry, host: diskHost }).plans[0]!);
    expect(p.budgets.cost).toMatchObject({ per_item: true, ok: true });
    expect(renderPreviewText(p, false)).toMatch(/budget ledger's worst case \S+ per for-each item/);
  });

  it('a for each over a list the file gives counts every item: check, preview and diff agree (not "per item")', () => {
    // 3 × 0.000238 = 0.000714 over 0.0007; by the estimate (3 × 0.00002) it fits.
    const each = (n: number) => `for each it in [${Array.from({ length: n }, (_, i) => `"${i}"`).join(', ')}] { step n = name(text: it) }`;
    const entry = project(names('budget cost <= 0.0007usd', each(3)));
    expect(check({ entry, host: diskHost }).filter((d) => d.code === 'W0502').map((d) => d.message)).toEqual([expect.stringMatching(/budget ledger's worst case 0\.000714usd of plan "p"/)]);
    const three = compile({ entry, host: diskHost }).plans[0]!;
    const p3 = preview(three);
    expect(p3.budgets.cost).toMatchObject({ worst_case: 0.000714, per_item: false, ok: false });
    expect(renderPreviewText(p3, false)).not.toMatch(/per for-each item/);
    const two = compile({ entry: project(names('budget cost <= 0.0007usd', each(2))), host: diskHost }).plans[0]!;
    const p2 = preview(two);
    expect(p2.budgets.cost).toMatchObject({ worst_case: 0.000476, ok: true });
    expect(diffPlans(two, three, p2, p3).consequences.budgets).toEqual([{ budget: 'cost', before: 'ok', after: 'over' }]);
    // Nested: 2 × 3 items, and inside a loop of max 2, 12 attempts.
    const nested = project(names('budget cost <= 1usd', `for each a in ["x", "y"] { for each b in [1, 2, 3] { repeat r max 2 until t.output.text == "ok" { step t = name(text: a) } } }`));
    expect(preview(compile({ entry: nested, host: diskHost }).plans[0]!).budgets.cost).toMatchObject({ worst_case: 0.002856, per_item: false });
  });

  it('with --input, a for each over the input counts the items it gives: the verdict is on them, not per item (§9.1)', () => {
    const entry = project(names('budget cost <= 0.0007usd', 'input { items: list<string> }\n  for each it in input.items { step n = name(text: it) }'));
    const ir = compile({ entry, host: diskHost }).plans[0]!;
    expect(preview(ir).budgets.cost).toMatchObject({ per_item: true, ok: true });
    // 3 × 0.000238 = 0.000714 over 0.0007; 2 items fit.
    expect(preview(ir, undefined, { input: { items: ['a', 'b', 'c'] } }).budgets.cost).toMatchObject({ worst_case: 0.000714, per_item: false, ok: false });
    expect(preview(ir, undefined, { input: { items: ['a', 'b'] } }).budgets.cost).toMatchObject({ worst_case: 0.000476, per_item: false, ok: true });
    // Nested over the input: 1 + 2 inner items in all.
    const nested = compile({ entry: project(names('budget cost <= 1usd', 'input { groups: list<list<string>> }\n  for each g in input.groups { for each it in g { step n = name(text: it) } }')), host: diskHost }).plans[0]!;
    expect(preview(nested, undefined, { input: { groups: [['a'], ['b', 'c']] } }).budgets.cost).toMatchObject({ worst_case: 0.000714, per_item: false });
  });

  it('a for each over an unbounded list, each step reserving its estimate: check and preview still say the verdict is per item', () => {
    const plain = (budget: string) => `
capability pricey { kind service  input { n: int }  output { ok: bool }  cost 0.02usd }
capability cheap { kind service  input { n: int }  output { ok: bool }  cost 0.015usd }
policy soft { ${budget} }
plan p {
  input { xs: list<int> }
  policy soft
  step z = cheap(n: 0)
  for each x in input.xs { step a = pricey(n: x) }
}
`;
    const over = project(plain('budget cost <= 0.03usd warn'));
    expect(check({ entry: over, host: diskHost }).filter((d) => d.code === 'W0502').map((d) => d.message)).toEqual([expect.stringMatching(/^estimated cost 0\.035usd \(per item of each for each\) of plan "p" exceeds the budget 0\.03usd/)]);
    const fits = preview(compile({ entry: project(plain('budget cost <= 0.05usd')), host: diskHost }).plans[0]!);
    expect(fits.budgets.cost).toMatchObject({ per_item: true, ok: true, worst_case: 0.035, estimate: 0.035 });
    expect(renderPreviewText(fits, false)).toMatch(/cost: 0\.035usd per for-each item \/ budget 0\.05usd ok/);
  });

  it('a loop counts at its max: four iterations of a step within the budget exceed it', () => {
    // 0.000238 per iteration: one fits 0.0006, four (the loop's max) do not.
    const loop = 'repeat tries max 4 until t.output.text == "ok" {\n    step t = name(text: "x")\n  }';
    const diags = check({ entry: project(names('budget cost <= 0.0006usd', loop)), host: diskHost });
    expect(diags.filter((d) => d.code === 'W0502').map((d) => d.message)).toEqual([expect.stringMatching(/budget ledger's worst case 0\.000952usd .*loops at their max.* exceeds the budget 0\.0006usd/)]);
    expect(check({ entry: project(names('budget cost <= 0.001usd', loop)), host: diskHost }).filter((d) => d.code === 'W0502')).toEqual([]);
  });

  it('diff judges the budget on the worst case too: a step added within the estimate turns the verdict over', () => {
    const version = (steps: string) => {
      const plan = compile({ entry: project(names('budget cost <= 0.0006usd', steps)), host: diskHost }).plans[0]!;
      return { plan, p: preview(plan) };
    };
    const two = version('step a = name(text: "x")\n  step b = name(text: "y")');
    const three = version('step a = name(text: "x")\n  step b = name(text: "y")\n  step c = name(text: "z")');
    // By the estimate (0.00006) both fit; by the reservations (3 × 0.000238) the second does not.
    expect(three.p.budgets.cost!.estimate).toBeLessThan(0.0006);
    const d = diffPlans(two.plan, three.plan, two.p, three.p);
    expect(d.consequences.budgets).toEqual([{ budget: 'cost', before: 'ok', after: 'over' }]);
    expect(renderPlanDiff(d)).toContain('budget cost: ok → over');
  });

  it('a sub-plan reserves in its caller’s ledger (§8.2): its steps count in the worst case, and one of them alone over the budget is E0908 naming it through the run step', () => {
    const src = (budget: string) => `
capability big { kind tool  input { x: string }  output { ok: bool }  cost 1usd }
capability small { kind tool  input { x: string }  output { ok: bool }  cost 0.1usd }
policy tight { ${budget} }
plan inner {
  step s = small(x: "1")
  step b = big(x: "2")
}
plan outer {
  policy tight
  step r = run inner()
}
`;
    const entry = project(src('budget cost <= 0.5usd'));
    const diags = check({ entry, host: diskHost });
    expect(diags.filter((d) => d.code === 'E0908').map((d) => d.message)).toEqual([
      'step "r/b" alone reserves 1usd per attempt, more than the budget 0.50usd of policy tight: the budget ledger refuses it before it starts, in every run',
    ]);
    // Reported at the run step, in the caller; its related information points at the sub-plan's step (§9.5).
    const e = diags.find((d) => d.code === 'E0908')!;
    const text = readFileSync(entry, 'utf8');
    expect(covered(text, e)).toBe('r');
    expect(e.related?.map((r) => [r.message, r.file, covered(text, { ...e, range: r.range })])).toEqual([['step r/b of plan inner', entry, 'b']]);
    expect(e.related![0]!.range.start.line).toBe(text.split('\n').findIndex((l) => l.includes('step b = big')) + 1);
    const ir = compile({ entry: project(src('budget cost <= 1.05usd')), host: diskHost }).plans.find((p) => p.plan === 'outer')!;
    expect(preview(ir).budgets.cost).toMatchObject({ worst_case: 1.1, ok: false, over: [] });
    expect(check({ entry: project(src('budget cost <= 1.05usd')), host: diskHost }).filter((d) => d.code === 'W0502').map((d) => d.message)).toEqual([
      expect.stringMatching(/estimated cost 1\.10usd of plan "outer" exceeds the budget 1\.05usd/),
    ]);
  });

  it('a fallback call whose reservation alone exceeds an enforced budget is E0908 at its step (the ledger refuses it whenever it is needed); preview names it', () => {
    const src = (budget: string) => `
capability big { kind tool  input { x: string }  output { ok: bool }  cost 1usd }
capability small { kind tool  input { x: string }  output { ok: bool }  cost 0.1usd }
policy tight { ${budget} }
plan p {
  policy tight
  step s = small(x: "1") { fallback big(x: "2") }
}
`;
    const diags = check({ entry: project(src('budget cost <= 0.5usd')), host: diskHost });
    expect(diags.filter((d) => d.code === 'E0908').map((d) => d.message)).toEqual([
      'step "s" (its fallback main.big) alone reserves 1usd per attempt, more than the budget 0.50usd of policy tight: the budget ledger refuses it before it starts, whenever it is needed',
    ]);
    const p = preview(compile({ entry: project(src('budget cost <= 0.5usd warn')), host: diskHost }).plans[0]!);
    expect(p.budgets.cost).toMatchObject({ worst_case: 0.1, ok: false, over: [{ step: 's', reservation: 1, call: 'fallback main.big' }] });
  });

  it('so is a compensation, which a rollback reserves as an attempt (§7.2)', () => {
    const src = `
capability big { kind tool  input { x: string }  output { ok: bool }  cost 1usd }
capability small { kind tool  input { x: string }  output { ok: bool }  cost 0.1usd }
policy tight { budget cost <= 0.5usd }
plan p {
  policy tight
  on_failure rollback
  step s = small(x: "1") { compensate big(x: "2") }
}
`;
    const diags = check({ entry: project(src), host: diskHost });
    expect(diags.filter((d) => d.code === 'E0908').map((d) => d.message)).toEqual([
      'step "s" (its compensate main.big) alone reserves 1usd per attempt, more than the budget 0.50usd of policy tight: the budget ledger refuses it before it starts, whenever it is needed',
    ]);
    expect(covered(readFileSync(project(src), 'utf8'), diags.find((d) => d.code === 'E0908')!)).toBe('s');
  });

  it('counts loops at their max and a for each of unknown length per item', () => {
    const w = ledgerWorstCase([{ id: 'a', reservation: 0.1, times: 3, perItem: false }, { id: 'b', reservation: 0.2, times: 1, perItem: true }], 0.15);
    expect(w).toEqual({ cost: 0.5, per_item: true, over: [{ step: 'b', reservation: 0.2 }], largest: { step: 'b', reservation: 0.2 } });
  });
});
