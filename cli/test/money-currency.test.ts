/**
 * Money is written with its currency (§2: `0.05usd 12eur`) wherever the CLI shows an amount, as
 * `orch run`'s closing line does: `orch preview`'s estimates, reservations and budget verdict,
 * `orch runs`' COST column and `--stats` totals, `orch timeline`'s and `orch run`'s overrun lines. They printed bare
 * numbers. In-process CLI, one real run of a plan whose handler spends more than it reserved.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../serve/test/serve-process.js';
import { runCli } from '../../test/support/cli-in-process.js';

const PLAN = `
capability charge {
  input { x: int }
  output { value: int }
  cost 0.25eur
  handler "./h.js#charge"
}
policy tight {
  budget cost <= 10eur
}
plan p {
  policy tight
  step a = charge(x: 1)
  step b = charge(x: 2)
  output { v: b.output.value }
}
plan bare {
  input { x: int = 1 }
  output { y: input.x }
}
`;

const dir = tempDir('orch-money-');
const db = join(dir, 'runs.db');
let runId = '';

beforeAll(async () => {
  // Each attempt reserves its 0.25eur estimate and reports 0.4: a budget_overrun apiece.
  writeFileSync(join(dir, 'h.js'), 'export async function charge(i, ctx) { ctx.usage({ cost: 0.4 }); return { value: i.x }; }\n');
  writeFileSync(join(dir, 'p.orch'), PLAN);
  const ran = await runCli(['run', 'p.orch', '--plan', 'p', '--db', db, '--json', '--quiet'], dir);
  expect(ran.code, ran.stderr).toBe(0);
  runId = (JSON.parse(ran.stdout) as { runId: string }).runId;
  const other = await runCli(['run', 'p.orch', '--plan', 'bare', '--db', db, '--quiet'], dir);
  expect(other.code, other.stderr).toBe(0);
}, 60_000);

describe('money with its currency', () => {
  it('orch preview: estimates, reservations and the budget verdict', async () => {
    const r = await runCli(['preview', 'p.orch', '--plan', 'p'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('estimate: 0.25eur cost');
    expect(r.stdout).toContain('reserves: 0.25eur per attempt');
    expect(r.stdout).toMatch(/cost: 0\.50eur \/ budget 10eur ok, 9\.50eur headroom/);
  });

  it("orch runs: each run's cost in its plan's currency; a plan without a cost budget keeps none", async () => {
    const r = await runCli(['runs', '--db', db], dir);
    expect(r.code, r.stderr).toBe(0);
    const row = (id: string) => r.stdout.split('\n').find((l) => l.startsWith(id)) ?? `(no row for ${id})`;
    expect(row(runId)).toMatch(/\s0\.80eur\s/);
    expect(r.stdout.split('\n').find((l) => /\sbare\s/.test(l))).toMatch(/\s0\s/);
  });

  it('orch runs --stats: the totals and the spend by plan, capability and model', async () => {
    const r = await runCli(['runs', '--db', db, '--stats', '--plan', 'p'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/; cost 0\.80eur\n/);
    expect(r.stdout).toContain('spent by plan: p 0.80eur');
    expect(r.stdout).toMatch(/spent by capability: \S*charge 0\.80eur/);
  });

  it('orch runs --stats over runs of no one currency: bare amounts', async () => {
    const r = await runCli(['runs', '--db', db, '--stats'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/; cost 0\.80\n/);
  });

  it("orch run's progress lines: an overrun's actual and reserved cost", async () => {
    const r = await runCli(['run', 'p.orch', '--plan', 'p', '--db', db], dir);
    expect(r.code, r.stderr).toBe(0);
    // Progress goes to stderr, the result to stdout.
    // a and b run at once: either may end first.
    const overruns = r.stderr.split('\n').filter((l) => l.startsWith('overrun')).sort();
    expect(overruns).toEqual(['overrun   a: cost 0.40eur, reserved 0.25eur', 'overrun   b: cost 0.40eur, reserved 0.25eur']);
  });

  it("orch timeline: an overrun's actual and reserved cost", async () => {
    const r = await runCli(['timeline', runId, '--db', db], dir);
    expect(r.code, r.stderr).toBe(0);
    const overruns = r.stdout.split('\n').filter((l) => /\sbudget_overrun\s/.test(l));
    expect(overruns).toHaveLength(2);
    for (const l of overruns) expect(l).toMatch(/attempt 1 cost 0\.40eur, reserved 0\.25eur$/);
  });
});
