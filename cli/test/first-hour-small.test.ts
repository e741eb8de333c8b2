/**
 * Issue 34 item 7, the smaller things a newcomer meets: `--plan helo` gets a did-you-mean, budget
 * messages keep their units, and `orch serve --help` lists every run and step route.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { loadPlan, Runtime } from '../../runtime/index.js';
import { orch } from '../../examples/test/cli.js';
import { compileSelectedPlan } from '../commands/compiled-plan.js';

const dir = mkdtempSync(path.join(tmpdir(), 'orch-small-'));
writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
writeFileSync(path.join(dir, 'h.mjs'), 'export function work() { return {}; }\n');
const file = path.join(dir, 'two.orch');
writeFileSync(
  file,
  `capability work {
  kind tool
  output { }
  handler "./h.mjs#work"
  cost 0.3usd
}
policy tight {
  budget cost <= 0.5usd
}
plan hello {
  policy tight
  step a = work()
  step c = work() { after a }
}
plan other {
  step b = work()
}
plan inner {
  step a = work()
  step c = work() { after a }
}
plan outer {
  policy tight
  step r = run inner()
}
`,
);

const runtimes: Runtime[] = [];
afterAll(async () => {
  for (const rt of runtimes) await rt.close();
});

describe('the smaller things', () => {
  it('--plan helo: did you mean "hello"? (orch run, and orch compile/preview/graph)', async () => {
    const loaded = await loadPlan(file, 'helo');
    expect(loaded.kind).toBe('usage');
    if (loaded.kind === 'usage') expect(loaded.message).toMatch(/no plan named "helo" .*; did you mean "hello"\? \(plans: hello, other, inner, outer\)/);
    await expect(compileSelectedPlan(file, 'helo')).rejects.toThrow(/did you mean "hello"\?/);
  });

  it('budget messages keep their units', async () => {
    const plan = compile({ entry: file, plan: 'hello' }).plans.find((p) => p.plan === 'hello')!;
    expect(plan.policy?.currency).toBe('usd');
    const rt = await Runtime.open({ db: path.join(dir, 'runs.db'), workers: 1 });
    runtimes.push(rt);
    const result = await (await rt.start(plan, {})).result;
    expect(result.status).toBe('failed');
    // Each step alone fits (one over on its own is E0908 since issue 47 item 9): the second is refused.
    expect(result.error).toBe('budget exceeded: budget cost <= 0.50usd of policy tight (spent 0.30usd, step c would add 0.30usd)');
    // A sub-plan without a policy of its own spends under its caller's budget, in that budget's
    // units; refused by it, it stops its caller on that budget (§7.2: the run fails with it).
    const outer = compile({ entry: file, plan: 'outer' }).plans.find((p) => p.plan === 'outer')!;
    const nested = await (await rt.start(outer, {})).result;
    expect(nested.error).toBe('budget exceeded: budget cost <= 0.50usd of policy tight (spent 0.30usd, step c would add 0.30usd)');
  });

  it('orch serve --help lists the step-cancel and retry routes', () => {
    const r = orch(['serve', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('POST /runs/ID/steps/STEP/cancel');
    expect(r.stdout).toContain('POST /runs/ID/pause|resume|cancel|retry');
  });
});
