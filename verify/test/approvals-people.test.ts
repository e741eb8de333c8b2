/**
 * "Approved by someone other than the starter" (LANGUAGE.md §8.8) as an invariant `orch verify`
 * proves or refutes: simulated runs are started by a person who approves whenever the plan lets
 * them (verify/simulated-people.ts), so only `not_starter` makes the invariant hold.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { verify } from '../verify.js';

const INVARIANT = 'approved by someone other than the starter';

function planWith(args: string): PlanIR {
  const dir = mkdtempSync(join(tmpdir(), 'orch-verify-people-'));
  const file = join(dir, 'pay.orch');
  writeFileSync(
    file,
    `plan pay {
  step ok = approval(approver: "group:finance", summary: "pay?"${args})
  step pay = log(message: "paid") { after ok }
  invariant "${INVARIANT}" { always pay.started implies not contains(ok.output.approvers, run.started_by) }
}
`,
  );
  const out = compile({ entry: file });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!;
}

describe('verify: approvals bound to people', () => {
  it('refutes the invariant when the starter may approve, with the run in which they did', async () => {
    const result = await verify(planWith(''), { seed: 5, runs: 50 });
    expect(result.invariants.find((i) => i.name === INVARIANT)?.status).toBe('violated');
    const v = result.violations.find((x) => x.invariant === INVARIANT)!;
    // What the invariant read when it broke: the starter is among the approvers.
    expect(v.state.values).toMatchObject({ 'run.started_by': 'starter', 'ok.output.approvers': ['starter'] });
    expect(v.trace.some((e) => e.type === 'step_started' && e.step === 'pay')).toBe(true);
  });

  it('refutes it for approvals: 2 without not_starter (the starter can be one of the two)', async () => {
    const result = await verify(planWith(', approvals: 2'), { seed: 5, runs: 50 });
    expect(result.invariants.find((i) => i.name === INVARIANT)?.status).toBe('violated');
  });

  it('proves it with not_starter, also with two approvals', async () => {
    for (const args of [', not_starter: true', ', approvals: 2, not_starter: true']) {
      const result = await verify(planWith(args), { seed: 5, runs: 50 });
      expect(result.invariants.find((i) => i.name === INVARIANT)?.status).toBe('holds');
      expect(result.violations).toEqual([]);
    }
  });
});
