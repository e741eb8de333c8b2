/**
 * LANGUAGE.md §4: `always P` holds in every state, `never P` = `always not P`, `eventually P` holds
 * in the final state; without a `simulate` block a capability returns values of its output type
 * and fails at a default rate. Through the real compiler (fixtures/modalities.orch).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPlansForVerify } from '../load.js';
import { verify } from '../verify.js';
import { DEFAULT_FAIL_RATE } from '../index.js';

const file = fileURLToPath(new URL('./fixtures/modalities.orch', import.meta.url));

async function result() {
  const loaded = loadPlansForVerify(file);
  if (loaded.kind !== 'plans') throw new Error(JSON.stringify(loaded));
  return verify(loaded.plans[0]!.plan, { seed: 11, runs: 150 });
}

describe('invariant modalities and default simulation', () => {
  it('always, never and eventually are judged as specified', async () => {
    const r = await result();
    const status = Object.fromEntries(r.invariants.map((i) => [i.name, i.status]));
    expect(status).toMatchObject({
      labels_from_type: 'holds',
      order: 'holds',
      never_done: 'violated',
      always_not_done: 'violated',
      a_finishes: 'holds',
      b_completes: 'violated',
    });
  });
  it('never P is broken at the state where P became true, as always not P is', async () => {
    const r = await result();
    const never = r.violations.find((v) => v.invariant === 'never_done')!;
    const alwaysNot = r.violations.find((v) => v.invariant === 'always_not_done')!;
    for (const v of [never, alwaysNot]) {
      expect(v.choices).toEqual([]);
      expect(v.trace.at(-1)).toMatchObject({ type: 'step_completed', step: 'a' });
      expect(v.state.values).toEqual({ 'a.completed': true });
    }
  });
  it('eventually is judged on the final state: a simulated failure (default rate) is the counterexample', async () => {
    expect(DEFAULT_FAIL_RATE).toBeGreaterThan(0);
    const r = await result();
    const v = r.violations.find((x) => x.invariant === 'b_completes')!;
    expect(v.choices).toHaveLength(1);
    expect(v.state.run.status).toBe('failed');
    expect(v.trace.some((e) => e.type === 'step_failed')).toBe(true);
  });
});
