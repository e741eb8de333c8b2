/**
 * `orch worker` also takes over runs whose owner died (LANGUAGE.md §7.5): every few seconds it
 * resumes the runs of its database whose owner's heartbeat went stale, the way `orch serve` does,
 * and advances them here with their steps on the workers. The run lease makes one process —
 * worker, server or `orch resume` — take each.
 */
import { InvalidArgumentError } from 'commander';
import { clusterTiming, DEFAULT_CLUSTER_TIMING, parseAge, Runtime, RunDetached, type ActiveRun, type Backend } from '../../runtime/index.js';

/**
 * An owner heartbeats every second; a take-over sooner than a few beats would seize runs from
 * owners that are merely slow (a GC pause, a busy database), which the lease epoch keeps safe but
 * not cheap. The default floor, in the help; tests that shrink the cluster's clocks
 * (ORCH_CLUSTER_TIME_SCALE, runtime/cluster/timing.ts) shrink it with them.
 */
export const MIN_TAKE_OVER_S = DEFAULT_CLUSTER_TIMING.minTakeOverMs / 1000;

/** `--take-over-after AGE` of `orch resume`, `orch serve` and `orch worker`. */
export function takeOverAge(value: string): number {
  const age = parseAge(value);
  const min = clusterTiming().minTakeOverMs;
  if (age === null || age < min) throw new InvalidArgumentError(`must be an age of at least ${min / 1000}s, such as 3s or 1m`);
  return age;
}

/** The help line of `--take-over-after` for the commands that take over runs on their own. */
export const TAKE_OVER_AFTER_HELP = `on Postgres: take over a run once its owner's heartbeat (written every second) is this old, e.g. 3s (default 10s, at least ${MIN_TAKE_OVER_S}s)`;

export interface TakeOver {
  /** Stops looking and lets go of the runs taken over (another process takes them next). */
  stop(): Promise<void>;
}

export async function takeOverOrphans(backend: Backend, log: (line: string) => void, takeOverAfterMs?: number): Promise<TakeOver> {
  const rt = await Runtime.open({ backend, placement: 'workers' });
  const active = new Map<string, ActiveRun>();
  let stopped = false;
  const poll = async (): Promise<void> => {
    const { resumed, failed } = await rt.resumeOrphans({ skip: (runId) => stopped || active.has(runId), resume: { takeOverAfterMs } });
    for (const a of resumed) {
      active.set(a.runId, a);
      log(`took over run ${a.runId}: its owner stopped answering`);
      a.result.then(
        (r) => log(`run ${a.runId} ${r.status}`),
        (err: unknown) => {
          // Let go at this worker's stop: the next process takes it.
          if (!(err instanceof RunDetached)) log(`run ${a.runId} stopped with an internal error: ${(err as Error).message}`);
        },
      ).finally(() => active.delete(a.runId));
    }
    // Another process taking a run first is no news.
    for (const f of failed) if (!f.lost) log(`cannot take over run ${f.runId}: ${f.error.message}`);
  };
  let polling: Promise<void> | null = null;
  const timer = setInterval(() => {
    polling ??= poll()
      .catch((err: unknown) => log(`looking for runs to take over: ${(err as Error).message}`))
      .finally(() => (polling = null));
  }, clusterTiming().orphanPollMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await polling;
      await rt.close();
    },
  };
}
