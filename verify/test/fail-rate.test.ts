/**
 * LANGUAGE.md §4: a capability fails at its `simulate … fail P%`, or else at the default failure
 * rate, per attempt. fast-check biases an integer towards the ends of its range (0 and 999 come far
 * more often than their share), which made `fail 10%` fail about 15% of attempts and `fail 50%`
 * under half: the draw of an attempt must be uniform for P% to mean P%. The same holds for the
 * share of runs in which `simulate context { X stale P% }` makes X go stale (§9.4).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../runtime/index.js';
import { plan, simulatedCapability, step } from '../../runtime/test/ir-builder.js';
import { scenarioArbitrary } from '../scenario.js';

const constant = (e: Parameters<typeof evaluate>[0]) => evaluate(e, { vars: {} });

/** The share of drawn attempts of `call`'s steps that fail or hang, over as many cases as verify explores. */
function failedShare(simulatedFail: number | null, defaultFailRate: number): number {
  const p = plan({
    capabilities: [simulatedCapability('call')],
    steps: [step('a', 'call'), step('b', 'call'), step('c', 'call')],
    over: { simulations: simulatedFail === null ? {} : { call: { capability: 'call', output: null, fail: simulatedFail, latency_ms: null, cost: null } } },
  });
  let failed = 0;
  let total = 0;
  // fc.check, as verify runs the scenarios: it is the runner that biases the draws.
  fc.check(
    fc.property(scenarioArbitrary(p, { failures: true, defaultFailRate, maxListSize: 3 }, constant), (s) => {
      for (const rows of Object.values(s.outcomes))
        for (const row of rows)
          for (const a of row.attempts) {
            total++;
            if (a !== 'ok') failed++;
          }
      return true;
    }),
    { numRuns: 4000, seed: 11 },
  );
  return failed / total;
}

/** The share of cases in which `motion`, declared `stale` at `share`, goes stale. */
function staleShare(share: number): number {
  const p = plan({
    capabilities: [simulatedCapability('call')],
    steps: [step('a', 'call')],
    over: { context_signals: { motion: { max_age_ms: 60_000, derived: null, hold_ms: null, stale: share } } },
  });
  let stale = 0;
  let total = 0;
  fc.check(
    fc.property(scenarioArbitrary(p, { failures: true, defaultFailRate: 0.1, maxListSize: 3 }, constant), (s) => {
      total++;
      if ((s.stale ?? []).length > 0) stale++;
      return true;
    }),
    { numRuns: 4000, seed: 11 },
  );
  return stale / total;
}

describe('failure rates (§4 simulate … fail P%, the default failure rate)', () => {
  it('the default rate of 10% fails about one attempt in ten', () => {
    expect(failedShare(null, 0.1)).toBeGreaterThan(0.085);
    expect(failedShare(null, 0.1)).toBeLessThan(0.115);
  });

  it('a simulate block\'s fail 50% fails about half the attempts', () => {
    const share = failedShare(0.5, 0.1);
    expect(share).toBeGreaterThan(0.48);
    expect(share).toBeLessThan(0.52);
  });

  it('simulate context { motion stale 50% } makes motion go stale in about half the runs', () => {
    const share = staleShare(0.5);
    expect(share).toBeGreaterThan(0.47);
    expect(share).toBeLessThan(0.53);
  });
});
