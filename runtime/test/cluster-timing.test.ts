/** The cluster's clocks (runtime/cluster/timing.ts): the product's defaults, and a test scale that keeps their ratios. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER_TIMING, overriddenTiming, scaledTiming } from '../cluster/timing.js';

describe('cluster timing', () => {
  it('keeps the product defaults: heartbeat 1 s, take-over after 10 s (at least 3 s), workers dead after 5 s', () => {
    expect(DEFAULT_CLUSTER_TIMING).toMatchObject({ heartbeatMs: 1000, ownerStaleMs: 10_000, minTakeOverMs: 3000, workerDeadAfterMs: 5000 });
    expect(scaledTiming(1)).toEqual(DEFAULT_CLUSTER_TIMING);
  });

  it('shrinks every interval by one factor, so a stale lease is still several missed heartbeats', () => {
    const t = scaledTiming(0.25);
    expect(t.heartbeatMs).toBe(250);
    expect(t.minTakeOverMs).toBe(750);
    expect(t.ownerStaleMs / t.heartbeatMs).toBe(DEFAULT_CLUSTER_TIMING.ownerStaleMs / DEFAULT_CLUSTER_TIMING.heartbeatMs);
    expect(t.workerDeadAfterMs / t.heartbeatMs).toBe(DEFAULT_CLUSTER_TIMING.workerDeadAfterMs / DEFAULT_CLUSTER_TIMING.heartbeatMs);
  });

  it('ignores a scale that would slow the cluster down or make no sense', () => {
    for (const bad of [0, -1, 2, Number.NaN, Number.POSITIVE_INFINITY]) expect(scaledTiming(bad)).toBe(DEFAULT_CLUSTER_TIMING);
  });

  it('sets single intervals from JSON, never longer than the default, ignoring what it does not know', () => {
    const t = overriddenTiming(DEFAULT_CLUSTER_TIMING, JSON.stringify({ heartbeatMs: 300, minTakeOverMs: 1200, workerDeadAfterMs: 60_000, nope: 1 }));
    expect(t).toEqual({ ...DEFAULT_CLUSTER_TIMING, heartbeatMs: 300, minTakeOverMs: 1200 });
    for (const bad of [undefined, '', 'not json', '42', 'null']) expect(overriddenTiming(DEFAULT_CLUSTER_TIMING, bad)).toEqual(DEFAULT_CLUSTER_TIMING);
  });
});
