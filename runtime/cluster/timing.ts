/**
 * The clocks of Orch's cluster protocol on Postgres (LANGUAGE.md §7.5): how often owners and
 * workers heartbeat, when a silent owner's run may be taken over, when a silent worker is dead,
 * how often the sweeper and the orphan poll run. One place, so the ratios between them stay
 * right: a take-over or a death sentence only after several missed heartbeats.
 *
 * The defaults are the product's. Two environment variables, read once per process and meant for
 * tests, shorten them, so the chaos, lease and sweeper tests run the same code paths at test
 * speed without waiting out real leases:
 * - `ORCH_CLUSTER_TIME_SCALE`, a number in (0, 1], shrinks every one by the same factor;
 * - `ORCH_CLUSTER_TIMING`, a JSON object of some of the fields below in milliseconds, sets those
 *   (after the scale), for a test that shortens only what it waits on.
 * Anything invalid in them (not a number, out of range, a longer time) leaves the defaults.
 */
export interface ClusterTiming {
  /** How often a run's owner and an `orch worker` write their heartbeat. */
  readonly heartbeatMs: number;
  /** A run's owner silent this long counts as gone (the default `--take-over-after`). */
  readonly ownerStaleMs: number;
  /** The shortest `--take-over-after` accepted: a few heartbeats, so a slow owner keeps its run. */
  readonly minTakeOverMs: number;
  /** A worker silent this long is dead; a job locked this long and still unclaimed was orphaned. */
  readonly workerDeadAfterMs: number;
  /** How often an owner runs the sweeper (workers run it with each heartbeat). */
  readonly sweepMs: number;
  /** How often a server or worker looks for runs to take over. */
  readonly orphanPollMs: number;
  /** How often an owner polls for outcomes its LISTEN connection may have missed. */
  readonly outcomePollMs: number;
  /** How often an idle worker looks for ready attempts its LISTEN connection may have missed. */
  readonly claimPollMs: number;
}

export const DEFAULT_CLUSTER_TIMING: ClusterTiming = {
  heartbeatMs: 1000,
  ownerStaleMs: 10_000,
  minTakeOverMs: 3000,
  workerDeadAfterMs: 5000,
  sweepMs: 1000,
  orphanPollMs: 2000,
  outcomePollMs: 500,
  claimPollMs: 1000,
};

export const CLUSTER_TIME_SCALE_ENV = 'ORCH_CLUSTER_TIME_SCALE';
export const CLUSTER_TIMING_ENV = 'ORCH_CLUSTER_TIMING';

/** The timing scaled by `scale` (in (0, 1]; anything else gives the defaults). */
export function scaledTiming(scale: number): ClusterTiming {
  if (!(scale > 0 && scale <= 1)) return DEFAULT_CLUSTER_TIMING;
  const t = {} as Record<keyof ClusterTiming, number>;
  for (const [k, v] of Object.entries(DEFAULT_CLUSTER_TIMING) as [keyof ClusterTiming, number][]) t[k] = Math.max(1, Math.round(v * scale));
  return t;
}

/** `base` with the fields of `overrides` (JSON) that are positive and no longer than the default. */
export function overriddenTiming(base: ClusterTiming, overrides: string | undefined): ClusterTiming {
  if (!overrides) return base;
  let given: unknown;
  try {
    given = JSON.parse(overrides);
  } catch {
    return base;
  }
  if (typeof given !== 'object' || given === null) return base;
  const t: Record<string, number> = { ...base };
  for (const [k, v] of Object.entries(given as Record<string, unknown>)) {
    const d = DEFAULT_CLUSTER_TIMING[k as keyof ClusterTiming];
    if (d !== undefined && typeof v === 'number' && v >= 1 && v <= d) t[k] = Math.round(v);
  }
  return t as unknown as ClusterTiming;
}

let current: ClusterTiming | null = null;

/** This process's cluster timing: the defaults unless ORCH_CLUSTER_TIME_SCALE or ORCH_CLUSTER_TIMING says otherwise. */
export function clusterTiming(): ClusterTiming {
  current ??= overriddenTiming(scaledTiming(Number(process.env[CLUSTER_TIME_SCALE_ENV] ?? 1)), process.env[CLUSTER_TIMING_ENV]);
  return current;
}
