/**
 * Runtime throughput: a 10,000-step layered no-op DAG (width 100) executed by the real runtime
 * (scheduler + piscina workers) with the SQLite journal on and off, against a bare piscina
 * ready-queue running the same DAG with the same worker script in the same process. The shared
 * limits service is measured twice, each time against the same plan with its resource's slots
 * kept in-process (the service's own cost): with a resource whose slots never bind and with one
 * whose slots do (a binding limit slows any runtime, so it is compared with itself). The first
 * was compared with the plain journal-on run while that ran at half the anchor's rate; at twice
 * the rate, the resource's own bookkeeping (in-process too) shows in that comparison, so it is
 * reported beside the target without one.
 *
 * The runtime hands a worker several ready attempts of a fast idempotent handler in one message
 * while the workers are busy (runtime/executor/chunking.ts); the anchor sends one task per step,
 * as piscina is usually used. Both are reported: the runtime as it runs, and with every attempt
 * sent alone, so the anchor's own hand-off cost can be told from the runtime's.
 *
 * Beside the rates, the main thread's CPU time per step (journal on and the anchor, per round),
 * which the box's load moves less than steps/s, and one more journal-on run profiled
 * (step-costs.ts): what each part of the runtime, each optional feature this plan does not use
 * among them, costs that thread a step.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { PlanIR } from '../compiler/index.js';
import { InProcessLimits, Runtime, WorkerExecutor, type LimitsProvider } from '../runtime/index.js';
import { workerScript } from '../runtime/index.js';
import { capability, layeredSteps, plan, resource } from '../runtime/test/ir-builder.js';
import { median, smoke, threadCpuUs, type BenchFigure } from './figure.js';
import { stepCosts } from './step-costs.js';

const WIDTH = 100;
const LAYERS = smoke(100, 2);
/**
 * Even: the pairs taken in turn run one way in even rounds and the other way in odd ones, and a
 * pair's first run is the dearer one (see `inBothOrders`), so each order must come up as often.
 */
const ROUNDS = smoke(10, 1);

/**
 * The same DAG with every step on one resource whose `concurrency` the limits service keeps:
 * `slots` above the DAG's width (100) never binds, so only the service's own cost shows; a few
 * slots bind, and the run is as fast as that many steps in flight allow.
 */
function limitedPlan(p: PlanIR, slots: number): PlanIR {
  return {
    ...p,
    plan: 'bench_limited',
    resources: { pool: resource('pool', { concurrency: slots }) },
    steps: p.steps.map((s) => ({ ...s, resource: 'pool', binding: { ...s.binding, resource: 'pool' } })),
  };
}

/** A no-op DAG of `layers` × 100 steps, each reading two steps of the layer above. */
export function layeredPlan(dir: string, layers = LAYERS): PlanIR {
  const steps = layeredSteps(layers, WIDTH, { capability: 'noop' });
  return plan({
    name: 'bench_layers',
    module: 'bench',
    base_dir: dir,
    source_file: join(dir, 'bench.orch'),
    capabilities: [capability('noop', { handler: { module: './noop.js', export: 'noop' } })],
    steps,
  });
}

/** The baseline: indegree counting and `pool.run` for every ready step, nothing else. */
async function barePiscina(plan: PlanIR, workers: number): Promise<Rate> {
  const pool = new Piscina({ filename: workerScript(), minThreads: workers, maxThreads: workers });
  const module = join(plan.base_dir, 'noop.js');
  // warm the workers up (module load) so both sides are measured hot
  await Promise.all(Array.from({ length: workers * 2 }, () => pool.run(task(module, 'warm'))));
  const indeg = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const s of plan.steps) {
    indeg.set(s.id, s.deps.length);
    for (const d of s.deps) (dependents.get(d) ?? dependents.set(d, []).get(d)!).push(s.id);
  }
  const cpu0 = threadCpuUs();
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    let left = plan.steps.length;
    const start = (id: string) =>
      pool.run(task(module, id)).then(() => {
        for (const d of dependents.get(id) ?? []) {
          const n = indeg.get(d)! - 1;
          indeg.set(d, n);
          if (n === 0) start(d);
        }
        if (--left === 0) resolve();
      }, reject);
    for (const s of plan.steps) if (s.deps.length === 0) start(s.id);
  });
  const secs = (performance.now() - t0) / 1000;
  const mainUs = (threadCpuUs() - cpu0) / plan.steps.length;
  await pool.destroy();
  return { rate: plan.steps.length / secs, status: 'completed', perMessage: 1, mainUs };
}

function task(module: string, stepId: string) {
  return { module, export: 'noop', input: {}, attempt: 1, runId: 'bare', stepId, secrets: {}, timeoutMs: null, maxOutputBytes: 1024 * 1024 };
}

/** Two measurements, the first one first in even rounds and second in odd ones (warm-up order evens out). */
async function inTurn<K extends string, T>(round: number, runs: Record<K, () => Promise<T>>): Promise<Record<K, T>> {
  const keys = Object.keys(runs) as K[];
  const out = {} as Record<K, T>;
  for (const k of round % 2 === 0 ? keys : [...keys].reverse()) out[k] = await runs[k]();
  return out;
}

/**
 * A pair's ratio, summarised so that a run's place in its pair cancels out: each two rounds (one
 * pair in each order) give the geometric mean of their two ratios, and the figure is the median
 * of those. A pair's first run pays for what the runs before it left (docs/performance.md: the
 * same plan and limits on both sides read 6 % slower first); with nine rounds, five had the same
 * side first, and the median of the rounds leaned against that side.
 */
function inBothOrders(ratios: readonly number[]): number {
  const both: number[] = [];
  for (let i = 0; i + 1 < ratios.length; i += 2) both.push(Math.sqrt(ratios[i]! * ratios[i + 1]!));
  return median(both.length > 0 ? both : ratios);
}

interface Rate {
  readonly rate: number;
  readonly status: string;
  /** Attempts per message to the workers (chunking.ts). */
  readonly perMessage: number;
  /** CPU time of the main thread (the scheduler's) per step, µs; NaN where /proc is not there. */
  readonly mainUs: number;
}

export async function runtimeRate(plan: PlanIR, workers: number, db: string | null, limits?: LimitsProvider, chunking = true, measure = (run: () => Promise<void>) => run()): Promise<Rate> {
  const executor = new WorkerExecutor({ workers, chunking });
  const rt = await Runtime.open({ db, executor, ...(limits ? { limits } : {}) });
  // warm-up run on a tiny plan so worker start-up is not measured
  const warm = { ...plan, plan: 'warm', steps: plan.steps.slice(0, WIDTH), stages: [plan.stages[0]!] };
  await (await rt.start(warm, { config: { file: null, hooks: {}, secrets: {} } })).result;
  let status = '';
  const cpu0 = threadCpuUs();
  const t0 = performance.now();
  await measure(async () => {
    const active = await rt.start(plan, { config: { file: null, hooks: {}, secrets: {} } });
    status = (await active.result).status;
  });
  const secs = (performance.now() - t0) / 1000;
  const mainUs = (threadCpuUs() - cpu0) / plan.steps.length;
  await rt.close();
  await executor.close();
  return { rate: plan.steps.length / secs, status, perMessage: executor.handOffs.attempts / executor.handOffs.tasks, mainUs };
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-rt-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'noop.js'), 'export function noop() { return null; }\n');
  const plan = layeredPlan(dir);
  const workers = availableParallelism();
  try {
    // Interleaved, best of ten each: the figures see the same machine conditions. A single run
    // on this shared 2-core box can come in 5–8 % low (other tenants); more rounds see past that
    // more often, and a 10,000-step run now lasts only a quarter of a second.
    let bare = 0;
    /** Journal on / bare piscina of each round: the bare run is the best of ten's outlier more often than ours. */
    const onRatios: number[] = [];
    const best = { off: 0, on: 0, alone: 0, shared: 0, roomyLocal: 0, boundShared: 0, boundLocal: 0 };
    const perMessage: number[] = [];
    /** Main-thread CPU per step: journal on, bare piscina, and their ratio within each round. */
    const onMainUs: number[] = [];
    const bareMainUs: number[] = [];
    const mainRatios: number[] = [];
    /**
     * Each round's pairs, taken in turn: shared limits / the same plan with in-process limits, for
     * the never-binding and the binding resource. The best of five of each side read 92–102 % for
     * the binding pair on one quiet box; a pair measured side by side sees the same conditions,
     * and the median of the pairs sees past the rounds a tenant disturbed.
     */
    const sharedRatios: number[] = [];
    /** Shared limits on the resource plan / journal on, plain plan: the service and the resource's own bookkeeping. */
    const sharedVsOn: number[] = [];
    const boundRatios: number[] = [];
    /** The binding pair's main-thread CPU per step, each side, and shared / in-process per round. */
    const boundSharedUs: number[] = [];
    const boundLocalUs: number[] = [];
    const boundCpuRatios: number[] = [];
    const roomy = limitedPlan(plan, 1000);
    const bound = limitedPlan(plan, workers * 2);
    for (let round = 0; round < ROUNDS; round++) {
      const bareRun = await barePiscina(plan, workers);
      const bareRound = bareRun.rate;
      bare = Math.max(bare, bareRound);
      bareMainUs.push(bareRun.mainUs);
      const runs = {
        off: await runtimeRate(plan, workers, null),
        // Compared with each other, so taken in turn like the binding pair below.
        ...(await inTurn(round, {
          on: () => runtimeRate(plan, workers, join(dir, `runs-${round}.db`)),
          // The same with every attempt handed to a worker alone, as the bare anchor does.
          alone: () => runtimeRate(plan, workers, join(dir, `alone-${round}.db`), undefined, false),
        })),
        ...(await inTurn(round, {
          // Every step leases a slot of the journal database's limits service (shared by processes).
          shared: () => runtimeRate(roomy, workers, join(dir, `roomy-${round}.db`)),
          // The same plan, its resource's slots kept in this process only: the service's own cost.
          roomyLocal: () => runtimeRate(roomy, workers, join(dir, `roomy-local-${round}.db`), new InProcessLimits()),
        })),
        ...(await inTurn(round, {
          boundShared: () => runtimeRate(bound, workers, join(dir, `bound-${round}.db`)),
          // The same bound with the limits kept in this process only: what the service is held to.
          boundLocal: () => runtimeRate(bound, workers, join(dir, `local-${round}.db`), new InProcessLimits()),
        })),
      };
      onRatios.push((runs.on.rate / bareRound) * 100);
      onMainUs.push(runs.on.mainUs);
      mainRatios.push(runs.on.mainUs / bareRun.mainUs);
      perMessage.push(runs.on.perMessage);
      sharedRatios.push((runs.shared.rate / runs.roomyLocal.rate) * 100);
      sharedVsOn.push((runs.shared.rate / runs.on.rate) * 100);
      boundRatios.push((runs.boundShared.rate / runs.boundLocal.rate) * 100);
      boundSharedUs.push(runs.boundShared.mainUs);
      boundLocalUs.push(runs.boundLocal.mainUs);
      boundCpuRatios.push(runs.boundShared.mainUs / runs.boundLocal.mainUs);
      for (const [k, r] of Object.entries(runs)) {
        if (r.status !== 'completed') throw new Error(`bench run ${k} did not complete (${r.status})`);
        best[k as keyof typeof best] = Math.max(best[k as keyof typeof best], r.rate);
      }
    }
    // One more journal-on run, profiled: what each part of the runtime costs the scheduler's thread a step.
    let costs: Awaited<ReturnType<typeof stepCosts>> = [];
    const profiled = await runtimeRate(plan, workers, join(dir, 'profiled.db'), undefined, true, async (run) => {
      costs = await stepCosts(plan.steps.length, run);
    });
    if (profiled.status !== 'completed') throw new Error(`bench run profiled did not complete (${profiled.status})`);
    const peakMb = process.resourceUsage().maxRSS / 1024;
    const ratioOn = (best.on / bare) * 100;
    const ratioOff = (best.off / bare) * 100;
    const ratioShared = (best.shared / bare) * 100;
    const ratioAlone = (best.alone / bare) * 100;
    // Two runs of the same code differ by up to ±3 % on this box even paired: "no lower than
    // without the service" is read within that.
    return [
      { name: `bare piscina ready-queue, 10,000-step DAG (${workers} workers)`, value: bare, unit: 'steps/s', target: '', met: true },
      { name: 'orch runtime, journal off', value: best.off, unit: 'steps/s', target: '', met: true },
      { name: 'orch runtime, journal on (SQLite WAL)', value: best.on, unit: 'steps/s', target: '', met: true },
      { name: 'journal off vs bare piscina', value: ratioOff, unit: '%', target: '≥ 50 %', met: ratioOff >= 50 },
      { name: 'journal on vs bare piscina', value: ratioOn, unit: '%', target: '≥ 70 %', met: ratioOn >= 70 },
      { name: 'journal on vs bare piscina: median of the rounds (each against its own bare run)', value: median(onRatios), unit: '%', target: '', met: true },
      { name: 'journal on: attempts per message to a worker (median of the rounds; the anchor sends one)', value: median(perMessage), unit: '', target: '', met: true },
      { name: 'journal on, every attempt sent alone (chunking off) vs bare piscina', value: ratioAlone, unit: '%', target: '', met: true },
      { name: 'journal on + shared limits (every step leases a slot; 1,000 slots, never binding) vs bare piscina', value: ratioShared, unit: '%', target: '', met: true },
      { name: 'journal on + shared limits vs the same plan with its limits kept in-process (pairs taken in turn, as many in each order: median of the geometric means of two rounds)', value: inBothOrders(sharedRatios), unit: '%', target: '≥ 97 %', met: inBothOrders(sharedRatios) >= 97 },
      { name: 'journal on + shared limits vs journal on without the resource (median of the rounds)', value: median(sharedVsOn), unit: '%', target: '', met: true },
      { name: `journal on, ${workers * 2} slots binding: shared limits service`, value: best.boundShared, unit: 'steps/s', target: '', met: true },
      { name: `journal on, ${workers * 2} slots binding: shared service vs limits kept in-process (pairs taken in turn, as many in each order: median of the geometric means of two rounds)`, value: inBothOrders(boundRatios), unit: '%', target: '≥ 97 %', met: inBothOrders(boundRatios) >= 97 },
      { name: `journal on, ${workers * 2} slots binding, shared limits service: main-thread CPU per step (median of the rounds)`, value: median(boundSharedUs), unit: 'µs', target: '', met: true },
      { name: `journal on, ${workers * 2} slots binding, limits kept in-process: main-thread CPU per step (median of the rounds)`, value: median(boundLocalUs), unit: 'µs', target: '', met: true },
      { name: `journal on, ${workers * 2} slots binding: main-thread CPU per step, shared service / in-process (as the figure above)`, value: inBothOrders(boundCpuRatios), unit: '×', target: '', met: true },
      { name: 'journal on: main-thread CPU per step (median of the rounds)', value: median(onMainUs), unit: 'µs', target: '', met: true },
      { name: 'bare piscina: main-thread CPU per step (median of the rounds)', value: median(bareMainUs), unit: 'µs', target: '', met: true },
      { name: 'journal on vs bare piscina: main-thread CPU per step (median of the rounds, each against its own bare run)', value: median(mainRatios), unit: '×', target: '', met: true },
      { name: 'step cost, journal on, profiled run: main-thread time per step (every part below)', value: costs.reduce((sum, c) => sum + c.us, 0), unit: 'µs', target: '', met: true },
      // Shares move less with the box's load than times do: a part's µs is its share of the line above.
      ...costs.map((c) => ({ name: `step cost, journal on, no optional feature used: ${c.feature} (share of the main thread's time)`, value: c.share, unit: '%', target: '', met: true })),
      { name: 'peak RSS (runtime bench process)', value: peakMb, unit: 'MB', target: '≤ 300 MB', met: peakMb <= 300 },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
