/**
 * `orch diff`'s pure core (compiler/diff): steps added, removed and changed with what changed,
 * and the consequences read from both previews — estimates, budget verdicts, consent scopes,
 * data classes reaching a new tier, triggers — from two versions of one source.
 */
import { describe, expect, it } from 'vitest';
import { diffPlans, preview, renderPlanDiff, type PlanIR } from '../index.js';
import { BASE, compileText } from './helpers.js';

function version(body: string, extra = ''): { plan: PlanIR; p: ReturnType<typeof preview> } {
  const out = compileText(`${BASE}
capability post {
  kind tool
  input { text: string }
  output { ok: bool }
  cost 0.05usd
  consent "posting"
  data internal
}
policy lean { budget cost <= 0.04usd }
${extra}
plan launch {
  policy lean
${body}
}`);
  const errors = out.diagnostics.filter((d) => d.severity === 'error');
  expect(errors, JSON.stringify(errors)).toEqual([]);
  const plan = out.plans.find((p) => p.plan === 'launch')!;
  return { plan, p: preview(plan, out.model) };
}

const OLD = `
  step get = fetch(url: "https://a")
  step sum = summarize(text: get.output.body)`;

describe('diffPlans', () => {
  it('is empty for the same plan compiled twice', () => {
    const a = version(OLD);
    const b = version(OLD);
    const d = diffPlans(a.plan, b.plan, a.p, b.p);
    expect(d).toMatchObject({ same: true, steps: [], plan: [] });
    expect(renderPlanDiff(d)).toContain('the plans are the same');
  });

  it('lists steps added, removed and changed, and what follows from them', () => {
    const a = version(OLD);
    const b = version(
      `
  step get = fetch(url: "https://b") { retry 2 }
  step tell = post(text: get.output.body)`,
      'trigger nightly { schedule "0 2 * * *" run launch }',
    );
    const d = diffPlans(a.plan, b.plan, a.p, b.p);
    expect(d.same).toBe(false);
    expect(d.steps).toEqual([
      { step: 'sum', change: 'removed', what: [] },
      { step: 'get', change: 'changed', what: ['arguments', 'retry'] },
      { step: 'tell', change: 'added', what: [] },
    ]);
    const c = d.consequences;
    expect(c.estimates.cost.after.best).toBeGreaterThan(c.estimates.cost.before.best);
    expect(c.budgets).toEqual([{ budget: 'cost', before: 'ok', after: 'over' }]);
    expect(c.consent).toEqual({ added: ['posting'], removed: [] });
    expect(c.triggers).toEqual({ added: ['nightly'], removed: [], changed: [] });
    expect(c.data_tiers.map((t) => t.data)).toContain('internal');
    const text = renderPlanDiff(d);
    expect(text).toMatch(/- step sum/);
    expect(text).toMatch(/~ step get: arguments, retry/);
    expect(text).toMatch(/\+ step tell/);
    expect(text).toMatch(/budget cost: ok → over/);
    expect(text).toMatch(/consent needed now: posting/);
  });
});
