/**
 * Where a runtime's runs carry out their steps: the caller's executor (tests, benches), this
 * process's worker threads (made on first use), or `orch worker` processes through the step queue
 * of a backend that has `workers` — chosen per run under `auto`. And what a resumed run's executor
 * already holds of the attempts it had in flight (`recoverInFlight`): on a cluster's database, a
 * run resumed in-process adopts what workers finished or still run of them.
 */
import type { PlanIR } from '../compiler/index.js';
import type { ClusterDatabase } from './backend/index.js';
import type { AdoptingExecutor } from './cluster/local-adoption.js';
import type { RemoteExecutor, WorkerCoverage } from './cluster/remote-executor.js';
import { WorkerExecutor } from './executor/worker-executor.js';
import type { Placement, RunPlacement, RuntimeOptions } from './runtime-options.js';
import { replay, type RestoredRun } from './scheduler/replay.js';
import type { Executor, RunEvent } from './scheduler/types.js';
import { RuntimeUsageError } from './usage-error.js';

/** What a runtime closes of the executor it made: its own worker threads, or the remote one. */
interface OwnedExecutor {
  limitOutputs(baseDir: string, maxOutputBytes: number): void;
  close(): Promise<void>;
}

export interface PlacedRun {
  readonly executor: Executor;
  readonly placement: RunPlacement;
  readonly workers: WorkerCoverage | null;
}

export class RunExecutors {
  /** This process's worker threads, made on first use (never under `workers`). */
  private local: (Executor & OwnedExecutor) | null = null;
  /** The threads wrapped to adopt what workers did for a resumed run, opened on first need. */
  private adopting: Promise<AdoptingExecutor> | null = null;
  private readonly outputLimits = new Map<string, number>();

  private constructor(
    /** The caller's executor (tests, benches): every run uses it. */
    private readonly given: Executor | null,
    private readonly remote: RemoteExecutor | null,
    /** The cluster's database (null elsewhere): in-process resumes adopt workers' outcomes there. */
    private readonly cluster: ClusterDatabase | null,
    private readonly placement: Placement,
    private readonly options: RuntimeOptions,
  ) {}

  /** `workers` is refused on a backend without them (`cluster` null); `auto` is then `local`. */
  static async open(opts: RuntimeOptions, cluster: ClusterDatabase | null): Promise<RunExecutors> {
    const placement = opts.executor ? 'local' : (opts.placement ?? 'local');
    if (placement === 'workers' && cluster === null)
      throw new RuntimeUsageError('steps run on `orch worker` processes only with a Postgres journal (--db postgres://…)');
    let remote: RemoteExecutor | null = null;
    if (placement !== 'local' && cluster) {
      const { RemoteExecutor } = await import('./cluster/remote-executor.js');
      remote = await RemoteExecutor.open(cluster, opts.maxOutputBytes ? { maxOutputBytes: opts.maxOutputBytes } : {});
    }
    return new RunExecutors(opts.executor ?? null, remote, cluster, remote ? placement : 'local', opts);
  }

  /** Whether `executor` hands the steps to workers (then no secret value leaves this process). */
  onWorkers(executor: Executor): boolean {
    return executor === this.remote;
  }

  /**
   * The executor of a run about to start or resume. Under `auto` the choice is made per run, so
   * an `orch serve` started before its workers hands them the runs that start once they are up;
   * and only when the live workers take every resource the run's steps are bound to — else a
   * step would wait for a worker nobody is running.
   */
  async forRun(plan: PlanIR): Promise<PlacedRun> {
    if (this.given) return { executor: this.given, placement: 'in-process', workers: null };
    const workers = this.remote && this.placement !== 'local' ? await this.remote.coverage(resourcesOf(plan)) : null;
    if (this.remote && (this.placement === 'workers' || (workers !== null && workers.live > 0 && workers.missing.length === 0)))
      return { executor: this.remote, placement: 'workers', workers };
    if (!this.local) {
      this.local = new WorkerExecutor(this.options);
      for (const [dir, bytes] of this.outputLimits) this.local.limitOutputs(dir, bytes);
    }
    return { executor: this.local, placement: 'in-process', workers };
  }

  /**
   * The executor a resumed run continues on: in this process on a cluster's database, the worker
   * threads wrapped so that what workers finished or still run of its steps in flight is adopted
   * (a run that was on workers and is resumed `--local`, or with no worker live); else `executor`.
   */
  async adoptingFor(executor: Executor, placement: RunPlacement): Promise<Executor> {
    if (this.given || placement !== 'in-process' || this.cluster === null || executor !== this.local) return executor;
    const cluster = this.cluster;
    const inner = executor;
    this.adopting ??= import('./cluster/local-adoption.js').then(({ AdoptingExecutor }) => AdoptingExecutor.open(inner, cluster));
    this.adopting.catch(() => (this.adopting = null));
    return this.adopting;
  }

  /** The project's `maxOutputBytes`, for the runs of the plans in `baseDir`. */
  limitOutputs(baseDir: string, maxOutputBytes: number): void {
    this.outputLimits.set(baseDir, maxOutputBytes);
    this.local?.limitOutputs(baseDir, maxOutputBytes);
    this.remote?.limitOutputs(baseDir, maxOutputBytes);
  }

  async close(phase: (waitingFor: string) => void): Promise<void> {
    phase('the in-process step executor');
    await this.local?.close();
    phase('the adoption of worker outcomes');
    await (await this.adopting?.catch(() => null))?.close();
    phase('the step dispatcher');
    await this.remote?.close();
  }
}

/** The resources a plan's capability calls are bound to (and may be rebound to). */
function resourcesOf(plan: PlanIR): string[] {
  const names = new Set<string>();
  for (const s of plan.steps) {
    if (s.capability === null) continue;
    const bound = s.binding.resource ?? s.resource;
    if (bound !== null) names.add(bound);
    for (const f of s.binding.fallbacks) names.add(f);
  }
  return [...names];
}

/**
 * The call attempts a resumed run had in flight whose outcome the executor holds (on workers: a
 * worker recorded it and the process that died never folded it): their steps are not run again.
 */
export async function recoverInFlight(executor: Executor, runId: string, restored: RestoredRun): Promise<ReadonlySet<string> | undefined> {
  if (!executor.recover) return undefined;
  const inFlight = new Map<string, number>();
  for (const [key, s] of restored.steps) if (s.inFlight) inFlight.set(key, s.attempts);
  return inFlight.size === 0 ? undefined : executor.recover(runId, inFlight);
}

/**
 * `recoverInFlight` for the unfinished sub-plan runs of a resumed run (and theirs), by sub-plan run
 * id: their steps a worker finished or still has are adopted like the run's own.
 */
export async function recoverSubplans(executor: Executor, ids: readonly string[], load: (runId: string) => readonly RunEvent[]): Promise<ReadonlyMap<string, ReadonlySet<string>> | undefined> {
  if (!executor.recover || ids.length === 0) return undefined;
  const found = new Map<string, ReadonlySet<string>>();
  for (const id of ids) {
    const restored = replay(load(id));
    if (restored.terminal) continue;
    const steps = await recoverInFlight(executor, id, restored);
    if (steps?.size) found.set(id, steps);
  }
  return found.size ? found : undefined;
}
