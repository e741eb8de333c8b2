/**
 * `orch verify NEW --against OLD` (LANGUAGE.md §8.6) in-process: runs start on OLD, are upgraded
 * to NEW at random points `orch upgrade` accepts, and NEW's invariants are judged on them.
 */
import { describe, expect, it } from 'vitest';
import type { PlanIR, StepIR } from '../../compiler/index.js';
import { approvalCapability, bin, get, lit, plan, simulatedCapability, step, stepRef } from '../../runtime/test/ir-builder.js';
import { formatResult } from '../report.js';
import { verify } from '../verify.js';

const approved = (id: string) => ({ name: `${id} only after approval`, modality: 'always' as const, condition: bin('implies', get(stepRef(id), 'started'), get(stepRef('approve'), 'completed')) });

/** draft → approve (a human) → send; `extra` steps and invariants make the other versions. */
function release(sendTag: number, extra: StepIR[] = [], invariants = [approved('send')]): PlanIR {
  return plan({
    plan: 'release',
    capabilities: [simulatedCapability('draft_copy'), simulatedCapability('send_email'), approvalCapability],
    steps: [
      step('draft', 'draft_copy'),
      step('approve', 'std.capabilities.approval', { kind: 'human', deps: ['draft'], stage: 1 }),
      step('send', 'send_email', { deps: ['approve'], stage: 2, args: { tag: lit(sendTag) } }),
      ...extra,
    ],
    stages: [['draft'], ['approve'], ['send'], ...(extra.length ? [extra.map((s) => s.id)] : [])],
    invariants,
  });
}

describe('orch verify NEW --against OLD', () => {
  it('a compatible change whose invariant holds: runs are upgraded, points after send started are refused, not failures', async () => {
    const oldPlan = release(1);
    const newPlan = release(2, [step('notify', 'send_email', { deps: ['send'], stage: 3 })]);
    const result = await verify(newPlan, { against: oldPlan, seed: 5, runs: 80 });
    expect(result.ok).toBe(true);
    expect(result.violations).toEqual([]);
    const u = result.upgrades!;
    expect(u.upgraded).toBeGreaterThan(10);
    // send's arguments changed: once it has started under OLD the upgrade is refused.
    expect(u.refused).toBeGreaterThan(0);
    expect(u.reasons[0]).toMatchObject({ step: 'send' });
    expect(u.reasons[0]!.reason).toContain('arguments');
    expect(u.upgraded + u.refused + u.ended).toBe(result.runs);
    expect(u.from_hash).not.toBe(u.to_hash);
    // The new step ran in upgraded runs.
    expect(result.coverage['notify']).toContain('completed');
    expect(formatResult(result, 'orch verify new.orch --against old.orch')).toMatch(/upgrades: \d+ runs upgraded from .* to .*; \d+ upgrade points refused as incompatible/);
  });

  it('a new step that breaks an invariant after the upgrade: the counterexample names the upgrade point', async () => {
    const oldPlan = release(1);
    // `announce` needs only the draft: under NEW it can start before the approval.
    const newPlan = release(1, [step('announce', 'send_email', { deps: ['draft'], stage: 1 })], [approved('send'), approved('announce')]);
    const result = await verify(newPlan, { against: oldPlan, seed: 9, runs: 100 });
    expect(result.ok).toBe(false);
    const v = result.violations.find((x) => x.invariant === 'announce only after approval');
    expect(v).toBeDefined();
    const point = v!.upgrade!;
    expect(point).toBeDefined();
    expect(v!.trace[point.event]).toMatchObject({ type: 'plan_upgraded' });
    // announce started after the upgrade, while the approval had not completed.
    const started = v!.trace.findIndex((e) => e.type === 'step_started' && e.step === 'announce');
    expect(started).toBeGreaterThan(point.event);
    expect(v!.trace.slice(0, point.event).some((e) => e.step === 'announce')).toBe(false);
    expect(point.completed).not.toContain('approve');
    expect(v!.state.steps['approve']).not.toBe('completed');
    expect(result.invariants.find((i) => i.name === 'send only after approval')?.status).toBe('holds');
    const text = formatResult(result, 'orch verify new.orch --against old.orch');
    expect(text).toMatch(/upgraded to the new version after event \d+/);
    expect(text).toContain('upgraded to the new version');
  });

  it('refuses --concurrent-runs with --against', async () => {
    await expect(verify(release(1), { against: release(1), concurrentRuns: 2, runs: 1 })).rejects.toThrow(/one run at a time/);
  });
});
