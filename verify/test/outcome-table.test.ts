/**
 * A scenario draws at most 64 attempts a step instance (`retry 9999999999` is a valid plan): an
 * attempt past them succeeds with the row's typed output, so the steps after it read the fields
 * their types promise, not the untyped `{}` a step without a row gets.
 */
import { describe, expect, it } from 'vitest';
import { outcomeOf, type Scenario } from '../scenario.js';

const scenario = {
  input: {},
  context: {},
  contextChanges: [],
  outcomes: { fetch: [{ attempts: ['fail', 'fail'], latency_ms: 7, output: { body: 'x', size: 1 }, cost: null }] },
} as unknown as Scenario;

describe('outcomeOf', () => {
  it('answers the drawn attempts as drawn', () => {
    expect(outcomeOf(scenario, 'fetch', 0, 1)).toEqual({ kind: 'fail', latency_ms: 7, cost: null });
  });

  it('past the drawn attempts, succeeds with the row\'s typed output', () => {
    expect(outcomeOf(scenario, 'fetch', 0, 2)).toEqual({ kind: 'ok', latency_ms: 7, output: { body: 'x', size: 1 }, cost: null });
    expect(outcomeOf(scenario, 'fetch', 0, 10_000)).toMatchObject({ kind: 'ok', output: { body: 'x', size: 1 } });
  });

  it('leaves a step without a row to the caller', () => {
    expect(outcomeOf(scenario, 'other', 0, 0)).toBeUndefined();
  });
});
