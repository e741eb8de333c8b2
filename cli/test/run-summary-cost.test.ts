/**
 * `orch run`'s closing line writes what the run spent as money, with the plan's currency, as
 * Orch writes money elsewhere (`0.002usd`, a test report's `run.cost = 0.002usd`): it printed a
 * bare `cost 0.002`. In-process CLI, a real run of a plan with a handler.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../serve/test/serve-process.js';
import { runCli } from '../../test/support/cli-in-process.js';

const PLAN = (policy: string) => `
capability charge {
  input { x: int }
  output { value: int }
  cost 0.25usd
  handler "./h.js#charge"
}
policy tight {
  budget cost <= 10usd
}
plan p {
  ${policy}
  step a = charge(x: 1)
  step b = charge(x: 2)
  output { v: b.output.value }
}
`;

/** The closing line of `orch run` of the plan with `policy` written in it. */
async function closingLine(policy: string): Promise<string> {
  const dir = tempDir('orch-run-cost-');
  writeFileSync(join(dir, 'h.js'), 'export async function charge(i) { return { value: i.x }; }\n');
  writeFileSync(join(dir, 'p.orch'), PLAN(policy));
  const ran = await runCli(['run', 'p.orch', '--db', join(dir, 'runs.db'), '--quiet'], dir);
  expect(ran.code, ran.stderr).toBe(0);
  return ran.stdout.split('\n')[0]!;
}

describe("orch run's closing line", () => {
  it('prints the cost with the currency of the plan’s budget', async () => {
    expect(await closingLine('policy tight')).toMatch(/^run \S+ \(p\): completed in \S+ — 2\/2 steps completed, 0 failed, 0 skipped, cost 0\.50usd$/);
  });

  it('a plan without a budget has no currency in its IR: the cost stays a bare amount', async () => {
    expect(await closingLine('')).toMatch(/, cost 0\.50$/);
  });
});
