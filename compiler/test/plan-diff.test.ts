/**
 * `orch diff`'s pure core (compiler/diff): steps added, removed and changed with what changed,
 * and the consequences read from both previews — estimates, budget verdicts, consent scopes,
 * data classes reaching a new tier, triggers — from two versions of one source.
 */
import { describe, expect, it } from 'vitest';
import { compile, diffPlans, irHash, preview, renderPlanDiff, stepAspects, type PlanIR } from '../index.js';
import { BASE, DIR, compileText, memoryHost } from './helpers.js';

function version(body: string, extra = ''): { plan: PlanIR; p: ReturnType<typeof preview> } {
  const out = compileText(`${BASE}
capability post {
  kind tool
  input { text: string }
  output { ok: bool }
  cost 0.035usd
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

  it('names a renamed plan among the plan-level changes (same: false said by a change, not only by the headers)', () => {
    const a = version(OLD);
    const b = version(OLD);
    const d = diffPlans(a.plan, { ...b.plan, plan: 'launch_v2' }, a.p, b.p);
    expect(d).toMatchObject({ same: false, steps: [], plan: ['name'] });
    expect(renderPlanDiff(d)).toContain('~ plan: name');
  });

  it('a changed priority (of the plan or of a step) or goal is a difference, not "the same" (exit 0)', () => {
    const a = version(OLD);
    const b = version(`  priority low\n  goal "Sum a page"${OLD.replace('step sum = summarize(text: get.output.body)', 'step sum = summarize(text: get.output.body) { priority critical }')}`);
    const d = diffPlans(a.plan, b.plan, a.p, b.p);
    expect(d).toMatchObject({ same: false, steps: [{ step: 'sum', change: 'changed', what: ['priority'] }], plan: ['goal', 'priority'] });
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
      { step: 'get', change: 'changed', what: ['arguments', 'retry'], arguments: { added: [], removed: [], changed: ['url'] } },
      { step: 'tell', change: 'added', what: [] },
    ]);
    const c = d.consequences;
    expect(c.estimates.cost.after.best).toBeGreaterThan(c.estimates.cost.before.best);
    expect(c.budgets).toEqual([{ budget: 'cost', before: 'ok', after: 'over' }]);
    expect(c.consent).toEqual({ added: ['posting'], removed: [] });
    expect(c.triggers).toEqual({ compared: true, added: ['nightly'], removed: [], changed: [] });
    expect(c.data_tiers.map((t) => t.data)).toContain('internal');
    const text = renderPlanDiff(d);
    expect(text).toMatch(/- step sum/);
    // Which arguments, not only that some did (issue 47 item 12).
    expect(text).toMatch(/~ step get: arguments \(changed url\), retry/);
    expect(text).toMatch(/\+ step tell/);
    expect(text).toMatch(/budget cost: ok → over/);
    expect(text).toMatch(/consent needed now: posting/);
  });

  it("lists a sub-plan's steps added, removed and changed as SUBPLAN/STEP, beside `plan: subplans`", () => {
    const kid = (body: string) => `plan kid {\n${body}\n}`;
    const a = version('  step k = run kid()', kid('  step one = post(text: "a")\n  step two = post(text: "b")'));
    const b = version('  step k = run kid()', kid('  step one = post(text: "c")\n  step three = post(text: "d")'));
    const d = diffPlans(a.plan, b.plan, a.p, b.p);
    expect(d.plan).toEqual(['subplans']);
    expect(d.steps).toEqual([
      { step: 'kid/two', change: 'removed', what: [] },
      { step: 'kid/one', change: 'changed', what: ['arguments'], arguments: { added: [], removed: [], changed: ['text'] } },
      { step: 'kid/three', change: 'added', what: [] },
    ]);
    expect(renderPlanDiff(d)).toMatch(/~ step kid\/one: arguments \(changed text\)/);
  });

  it('names each aspect of a changed step: capability, dependencies, when, join, timeout, binding, fallbacks, blocks (§8.6)', () => {
    const aspects = (before: string, after: string) => {
      const a = version(before);
      const b = version(after);
      return diffPlans(a.plan, b.plan, a.p, b.p).steps.filter((s) => s.change === 'changed').map((s) => [s.step, s.what]);
    };
    const two = (second: string, opts = '') => `
  step get = fetch(url: "https://a")
  step other = fetch(url: "https://b")
  step sum = ${second}${opts ? ` {\n${opts}\n  }` : ''}`;
    const base = 'summarize(text: get.output.body)';
    expect(aspects(two(base), two('post(text: get.output.body)'))).toEqual([['sum', expect.arrayContaining(['capability'])]]);
    expect(aspects(two(base), two(base, 'after other'))).toEqual([['sum', ['dependencies']]]);
    expect(aspects(two(base), two(`${base} when get.output.size > 0`))).toEqual([['sum', ['when']]]);
    expect(aspects(two(base, 'after other'), two(base, 'after other\n    join all_done'))).toEqual([['sum', ['join']]]);
    expect(aspects(two(base), two(base, 'timeout 5s'))).toEqual([['sum', ['timeout']]]);
    expect(aspects(two('fetch(url: "x")'), two('fetch(url: "x")', 'on cloud'))).toEqual([['sum', expect.arrayContaining(['binding'])]]);
    expect(aspects(two(base), two(base, 'fallback post(text: "none")'))).toEqual([['sum', expect.arrayContaining(['fallbacks'])]]);
    const loop = (inner: string) => `
  step get = fetch(url: "https://a")
  for each u in ["a", "b"] {
    step each = ${inner}
  }`;
    expect(aspects(loop('fetch(url: u)'), loop('fetch(url: u)').replace('["a", "b"]', '["a", "b", "c"]'))).toEqual([['each', ['blocks']]]);
  });

  it('a step added to a repeat leaves its siblings\' blocks as they were (a run parked in the loop may take it, §8.6); a changed max does not', () => {
    const a = version(`
  repeat again max 3 until get.output.body == "ok" {
    step get = fetch(url: "https://a")
  }`);
    const more = (max: number) => version(`
  repeat again max ${max} until get.output.body == "ok" {
    step get = fetch(url: "https://a")
    step sum = summarize(text: get.output.body)
  }`);
    const get = (p: PlanIR) => p.steps.find((s) => s.id === 'get')!;
    expect(stepAspects(a.plan, get(a.plan), more(3).plan, get(more(3).plan))).toEqual([]);
    expect(stepAspects(a.plan, get(a.plan), more(4).plan, get(more(4).plan))).toEqual(['blocks']);
  });

  it('reports a guardrail whose verdict changed, before → after', () => {
    const cheap = 'guardrail cheap { severity warning  assert plan.cost <= 0.05usd }';
    const a = version(OLD, cheap);
    const b = version(`${OLD}\n  step tell = post(text: get.output.body)`, cheap);
    const d = diffPlans(a.plan, b.plan, a.p, b.p);
    expect(d.consequences.guardrails).toEqual([{ name: expect.stringMatching(/(^|\.)cheap$/), before: 'holds', after: 'violated' }]);
    expect(renderPlanDiff(d)).toMatch(/guardrail \S*cheap: holds → violated/);
  });

  it('compares triggers only when both versions know theirs (an IR or a run records none)', () => {
    const withTrigger = version(OLD, 'trigger nightly { schedule "0 2 * * *" run launch }');
    // The run's recorded IR: its preview has no model, so no triggers.
    const d = diffPlans(withTrigger.plan, withTrigger.plan, preview(withTrigger.plan), withTrigger.p, { triggers: false });
    expect(d.same).toBe(true);
    expect(d.consequences.triggers).toEqual({ compared: false, added: [], removed: [], changed: [] });
    expect(renderPlanDiff(d)).toMatch(/the plans are the same\ntriggers not compared/);
  });
});

/** A plan saved as `file` (its entry module named after the file), with `others` beside it. */
function saved(file: string, text: string, others: Record<string, string> = {}): { plan: PlanIR; p: ReturnType<typeof preview> } {
  const files: Record<string, string> = { [`${DIR}/${file}`]: text };
  for (const [k, v] of Object.entries(others)) files[`${DIR}/${k}`] = v;
  const out = compile({ entry: `${DIR}/${file}`, host: memoryHost(files) });
  const errors = out.diagnostics.filter((d) => d.severity === 'error');
  expect(errors, JSON.stringify(errors)).toEqual([]);
  const plan = out.plans.find((p) => p.plan === 'main')!;
  return { plan, p: preview(plan, out.model) };
}

const FETCH = `capability fetch { input { url: string } output { body: string } handler "./h.mjs#fetch" cost 0.01usd }
capability fetch2 { input { url: string } output { body: string } handler "./h.mjs#fetch" cost 0.01usd }
guardrail no_fetch_on_x { forbid step where step.capability == fetch and input.url == "x" }`;
const MAIN = (first = 'fetch', done = 'done') => `plan main {
  input { url: string }
  step a = ${first}(url: input.url)
  step b = log(message: a.output.body)
  step ok = approval(approver: "alice", summary: "go?")
  step c = log(message: "${done}") { after ok }
}`;

describe('diffPlans across files of different names', () => {
  it('finds the same plan in v1.orch and a copy named otherwise the same, though their IR names differ', () => {
    const a = saved('v1.orch', `${FETCH}\n${MAIN()}`);
    const b = saved('v1copy.orch', `${FETCH}\n${MAIN()}`);
    expect(a.plan.capabilities['v1.fetch']).toBeDefined();
    expect(b.plan.capabilities['v1copy.fetch']).toBeDefined();
    // Renaming a file does not change the plan's version (issue 47 item 12): one hash, not two.
    expect(irHash(a.plan)).toBe(irHash(b.plan));
    const d = diffPlans(a.plan, b.plan, a.p, b.p);
    expect(d).toMatchObject({ same: true, steps: [], plan: [] });
    expect(d.old.hash).toBe(d.new.hash);
    expect(stepAspects(a.plan, a.plan.steps.find((s) => s.id === 'a')!, b.plan, b.plan.steps.find((s) => s.id === 'a')!)).toEqual([]);
  });

  it('still reports a step switched to another capability, and a capability whose definition changed', () => {
    const a = saved('v1.orch', `${FETCH}\n${MAIN()}`);
    const switched = saved('v2.orch', `${FETCH}\n${MAIN('fetch2')}`);
    expect(diffPlans(a.plan, switched.plan, a.p, switched.p).steps).toEqual([{ step: 'a', change: 'changed', what: ['capability'] }]);
    const redefined = saved('v2.orch', `${FETCH.replace('cost 0.01usd', 'cost 0.02usd')}\n${MAIN()}`);
    const d = diffPlans(a.plan, redefined.plan, a.p, redefined.p);
    expect(d.same).toBe(false);
    expect(d.plan).toEqual(['capabilities']);
    expect(d.steps).toEqual([]);
  });

  it('keeps the names of an imported module and of a module line as they are', () => {
    const lib = { 'lib.orch': 'capability fetch { input { url: string } output { body: string } handler "./h.mjs#fetch" }' };
    // v1's step calls its own fetch, v2's the imported lib.fetch: another capability.
    const own = saved('v1.orch', `import "./lib.orch" as lib\n${FETCH}\n${MAIN()}`, lib);
    const imported = saved('v2.orch', `import "./lib.orch" as lib\n${FETCH}\n${MAIN('lib.fetch')}`, lib);
    expect(diffPlans(own.plan, imported.plan, own.p, imported.p).steps).toEqual([{ step: 'a', change: 'changed', what: ['capability'] }]);
    // A module renamed in its `module` line is a change of names.
    const x = saved('v1.orch', `module sales\n${FETCH}\n${MAIN()}`);
    const y = saved('v2.orch', `module marketing\n${FETCH}\n${MAIN()}`);
    expect(diffPlans(x.plan, y.plan, x.p, y.p).steps).toEqual([{ step: 'a', change: 'changed', what: ['capability'] }]);
  });
});
