/**
 * `orch serve` started on a changed file (LANGUAGE.md §8.6): a run started on the old version
 * keeps it until an operator moves it; the server reports whether the loaded version is
 * compatible (with the diff) and moves the run it holds at its approval, whose view then follows.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { irHash, type PlanIR } from '../../compiler/index.js';
import { openBackend, loadPlan, Runtime } from '../../runtime/index.js';
import { FIXTURES, tempDir } from '../../runtime/test/helpers.js';
import type { RunStarter } from '../run-starter.js';
import { openRuntimeStarter } from '../runtime-starter.js';
import { waitFor } from './http-helpers.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function gated(): Promise<PlanIR> {
  const loaded = await loadPlan(join(FIXTURES, 'v02-journals', 'plans.orch'), 'gated');
  if (loaded.kind !== 'plan') throw new Error(JSON.stringify(loaded));
  return loaded.plan;
}

describe('a server on a changed file', () => {
  it('keeps a run on its version, reports the loaded one compatible with the diff, and moves the run when asked', async () => {
    const v1 = await gated();
    const v2: PlanIR = { ...v1, steps: v1.steps.map((s) => (s.id === 'ship' ? { ...s, args: { value: { op: 'lit', value: 'fixed' } } } : s)) };
    const starter: RunStarter = await openRuntimeStarter({ backend: await openBackend(join(tempDir('orch-serve-up-'), 'runs.db')), plans: [v2], log: () => {} });
    closers.push(() => starter.close());
    const { runId } = await starter.start(v1, { item: 'crate' }, { trigger: null, context: {} });
    await waitFor(async () => ((await starter.timeline(runId))?.some((e) => e.type === 'execution_paused') ? true : undefined), 30_000, 'the approval');

    const report = await starter.upgrade!(runId, { dryRun: true });
    expect(report).toMatchObject({ compatible: true, applied: false, requested: false, fromHash: irHash(v1), toHash: irHash(v2) });
    expect((report!.diff as { steps: unknown[] }).steps).toEqual([{ step: 'ship', change: 'changed', what: ['arguments'], arguments: { added: [], removed: [], changed: ['value'] } }]);
    expect((await starter.timeline(runId))!.some((e) => e.type === 'plan_upgraded')).toBe(false);

    expect(await starter.upgrade!(runId, { dryRun: false })).toMatchObject({ compatible: true, requested: true });
    await waitFor(async () => ((await starter.timeline(runId))?.some((e) => e.type === 'plan_upgraded') ? true : undefined), 30_000, 'plan_upgraded');
    expect((await starter.decide(runId, 'ask', 'approve', { by: 'ops', comment: null })).ok).toBe(true);
    const view = await waitFor(async () => {
      const v = await starter.get(runId);
      return v?.status === 'completed' ? v : undefined;
    }, 30_000, 'the run to complete');
    expect(view.output).toEqual({ shipped: 'fixed' });
    expect(await starter.upgrade!('nope', { dryRun: true })).toBeNull();
  });

  it('does not offer to move a run back to the version it was upgraded from by `orch upgrade` (issue 47)', async () => {
    const v1 = await gated();
    const v2: PlanIR = { ...v1, steps: v1.steps.map((s) => (s.id === 'ship' ? { ...s, args: { value: { op: 'lit', value: 'fixed' } } } : s)) };
    const db = join(tempDir('orch-serve-back-'), 'runs.db');
    const starter: RunStarter = await openRuntimeStarter({ backend: await openBackend(db), plans: [v1], log: () => {} });
    closers.push(() => starter.close());
    const { runId } = await starter.start(v1, { item: 'crate' }, { trigger: null, context: {} });
    await waitFor(async () => ((await starter.timeline(runId))?.some((e) => e.type === 'execution_paused') ? true : undefined), 30_000, 'the approval');
    // `orch upgrade RUN --to v2` from another process on the same journal.
    const cli = await Runtime.open({ db });
    closers.push(() => cli.close());
    expect(await cli.upgrade(runId, v2)).toMatchObject({ compatible: true });
    await waitFor(async () => ((await starter.timeline(runId))?.some((e) => e.type === 'plan_upgraded') ? true : undefined), 30_000, 'plan_upgraded');
    const report = await starter.upgrade!(runId, { dryRun: true });
    expect(report).toMatchObject({ compatible: false, behind: true, fromHash: irHash(v2), toHash: irHash(v1) });
    expect(report!.reasons[0]!.reason).toMatch(/was upgraded from this version .* it does not go back/);
    expect(await starter.upgrade!(runId, { dryRun: false })).toMatchObject({ compatible: false, applied: false, requested: false });
  });
});
