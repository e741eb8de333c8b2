/**
 * Runtime throughput: a 10,000-step layered no-op DAG (width 100) executed by the real runtime
 * (scheduler + piscina workers) with the SQLite journal on and off, against a bare piscina
 * ready-queue running the same DAG with the same worker script in the same process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { PlanIR } from '../compiler/index.js';
import { Runtime } from '../runtime/index.js';
import { workerScript } from '../runtime/index.js';
import { capability, layeredSteps, plan, resource } from '../runtime/test/ir-builder.js';
import type { BenchFigure } from './figure.js';

const WIDTH = 100;
const LAYERS = 100;

/** The same DAG with every step on one resource whose `concurrency` the shared limits service keeps. */
function limitedPlan(p: PlanIR, workers: number): PlanIR {
  return {
    ...p,
    plan: 'bench_limited',
    resources: { pool: resource('pool', { concurrency: workers * 2 }) },
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
async function barePiscina(plan: PlanIR, workers: number): Promise<number> {
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
  await pool.destroy();
  return plan.steps.length / secs;
}

function task(module: string, stepId: string) {
  return { module, export: 'noop', input: {}, attempt: 1, runId: 'bare', stepId, secrets: {}, timeoutMs: null, maxOutputBytes: 1024 * 1024 };
}

async function runtimeRate(plan: PlanIR, workers: number, db: string | null): Promise<{ rate: number; status: string }> {
  const rt = await Runtime.open({ db, workers });
  // warm-up run on a tiny plan so worker start-up is not measured
  const warm = { ...plan, plan: 'warm', steps: plan.steps.slice(0, WIDTH), stages: [plan.stages[0]!] };
  await (await rt.start(warm, { config: { file: null, hooks: {}, secrets: {} } })).result;
  const t0 = performance.now();
  const active = await rt.start(plan, { config: { file: null, hooks: {}, secrets: {} } });
  const result = await active.result;
  const secs = (performance.now() - t0) / 1000;
  await rt.close();
  return { rate: plan.steps.length / secs, status: result.status };
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-rt-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'noop.js'), 'export function noop() { return null; }\n');
  const plan = layeredPlan(dir);
  const workers = availableParallelism();
  try {
    // Interleaved, best of two each: the three figures see the same machine conditions.
    let bare = 0;
    const off = { rate: 0, status: 'completed' };
    const on = { rate: 0, status: 'completed' };
    const shared = { rate: 0, status: 'completed' };
    const limited = limitedPlan(plan, workers);
    for (let round = 0; round < 2; round++) {
      bare = Math.max(bare, await barePiscina(plan, workers));
      const a = await runtimeRate(plan, workers, null);
      const b = await runtimeRate(plan, workers, join(dir, `runs-${round}.db`));
      // Every step takes and gives back a lease in the journal database (shared limits service).
      const c = await runtimeRate(limited, workers, join(dir, `limited-${round}.db`));
      if (a.status !== 'completed' || b.status !== 'completed' || c.status !== 'completed')
        throw new Error(`bench run did not complete (${a.status}/${b.status}/${c.status})`);
      off.rate = Math.max(off.rate, a.rate);
      on.rate = Math.max(on.rate, b.rate);
      shared.rate = Math.max(shared.rate, c.rate);
    }
    const peakMb = process.resourceUsage().maxRSS / 1024;
    const ratioOn = (on.rate / bare) * 100;
    const ratioOff = (off.rate / bare) * 100;
    const ratioShared = (shared.rate / bare) * 100;
    return [
      { name: `bare piscina ready-queue, 10,000-step DAG (${workers} workers)`, value: bare, unit: 'steps/s', target: '', met: true },
      { name: 'orch runtime, journal off', value: off.rate, unit: 'steps/s', target: '', met: true },
      { name: 'orch runtime, journal on (SQLite WAL)', value: on.rate, unit: 'steps/s', target: '', met: true },
      { name: 'journal off vs bare piscina', value: ratioOff, unit: '%', target: '≥ 50 %', met: ratioOff >= 50 },
      { name: 'journal on vs bare piscina', value: ratioOn, unit: '%', target: '≥ 70 %', met: ratioOn >= 70 },
      { name: 'journal on + shared limits (every step leases a resource slot) vs bare piscina', value: ratioShared, unit: '%', target: `≥ journal on (${ratioOn.toFixed(0)} %)`, met: ratioShared >= ratioOn },
      { name: 'peak RSS (runtime bench process)', value: peakMb, unit: 'MB', target: '≤ 300 MB', met: peakMb <= 300 },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
