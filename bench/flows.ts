/**
 * What §9.3's flow analysis costs (issue 51). `orch check` of bench/check.ts's 10,000-step plan,
 * in-process with the stage timer: the analysis is its `flows` stage and nothing else, so "off" is
 * the check without that stage's time — as the plan is, and with its input `@untrusted @personal`
 * so every value carries a label (the worst case for the witness paths). And the runtime's
 * throughput on bench/runtime.ts's 10,000-step DAG (journal on) with every step carrying labels,
 * as the compiler writes them (`step_started.data.labels` journaled), against the same IR without.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFiles, StageTimer, type PlanIR } from '../compiler/index.js';
import { generatePlan } from './check.js';
import { median, smoke, type BenchFigure } from './figure.js';
import { layeredPlan, runtimeRate } from './runtime.js';

const STEPS = smoke(10_000, 100);
const ROUNDS = smoke(5, 1);
/** The runtime pairs: an even count, half of them taken in each order. */
const PAIRS = smoke(6, 2);

/** Check time with the flows stage / without it, median of the rounds. */
async function checkRatio(file: string): Promise<number> {
  const ratios: number[] = [];
  for (let i = 0; i < ROUNDS + 1; i++) {
    const timer = new StageTimer();
    await checkFiles([file], undefined, { timer });
    const t = timer.timings();
    const total = t.reduce((s, x) => s + x.ms, 0);
    const flows = t.find((x) => x.name === 'flows')?.ms ?? 0;
    if (i > 0) ratios.push(total / (total - flows)); // the first warms the JIT
  }
  return median(ratios);
}

/**
 * Every step as a labelled compile writes it (what it reads is internal and untrusted, from the
 * input and the steps before), or — `on` false — the same steps with `labels` absent. Both are
 * made the same way, so that the steps have one shape: comparing steps built by a spread with
 * the builder's own made the runtime's scheduler 30–50 % dearer per step with labels even with
 * the journal off and the labels never journaled (a run of the scheduler's code on objects of
 * another shape), which is not what labels cost.
 */
function labelled(p: PlanIR, on: boolean): PlanIR {
  return { ...p, steps: p.steps.map((s) => ({ ...s, labels: on ? { class: 'internal', trusted: false, sources: ['input.root', ...s.deps.slice(0, 2)] } : undefined })) };
}

/**
 * The geometric mean of paired ratios: with as many pairs taken in each order, whatever a run
 * gains or loses by its place in the pair cancels out instead of leaning the figure one way.
 */
function geomean(xs: readonly number[]): number {
  return Math.exp(xs.reduce((sum, x) => sum + Math.log(x), 0) / xs.length);
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-flows-'));
  try {
    const plain = join(dir, 'plain.orch');
    const marked = join(dir, 'marked.orch');
    const text = generatePlan(STEPS);
    writeFileSync(plain, text);
    writeFileSync(marked, generatePlan(STEPS, '@untrusted @personal'));
    const onPlain = await checkRatio(plain);
    const onMarked = await checkRatio(marked);

    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'noop.js'), 'export function noop() { return null; }\n');
    const bare = labelled(layeredPlan(dir), false);
    const withLabels = labelled(bare, true);
    const workers = availableParallelism();
    const ratios: number[] = [];
    /** The scheduler thread's CPU per step, which the box's load moves less than steps/s. */
    const cpuRatios: number[] = [];
    const db = (i: number, k: string) => join(dir, `runs-${k}-${i}.db`);
    for (let round = 0; round < PAIRS; round++) {
      // In turn, the order swapped every round: both see the same machine.
      const first = round % 2 === 0;
      const a = await runtimeRate(first ? withLabels : bare, workers, db(round, 'a'));
      const b = await runtimeRate(first ? bare : withLabels, workers, db(round, 'b'));
      const [on, off] = first ? [a, b] : [b, a];
      if (on.status !== 'completed' || off.status !== 'completed') throw new Error(`a bench run ended ${on.status}/${off.status}`);
      ratios.push(on.rate / off.rate);
      cpuRatios.push(on.mainUs / off.mainUs);
    }
    const cost = (1 - geomean(ratios)) * 100;
    const cpuCost = (geomean(cpuRatios) - 1) * 100;
    const n = STEPS.toLocaleString('en');
    return [
      { name: `orch check, ${n}-step plan: with the flow analysis / without (in-process, median of ${ROUNDS})`, value: onPlain, unit: '×', target: '≤ 1.2×', met: onPlain <= 1.2 },
      { name: `orch check, ${n}-step plan, every value labelled (@untrusted @personal input): with / without`, value: onMarked, unit: '×', target: '≤ 1.2×', met: onMarked <= 1.2 },
      { name: `runtime steps/s, 10,000-step DAG, journal on: cost of every step's labels (geometric mean of ${PAIRS} paired rounds, half in each order)`, value: cost, unit: '%', target: '≤ 5 %', met: cost <= 5 },
      { name: `runtime, same runs: the scheduler thread's CPU per step, more with labels than without`, value: cpuCost, unit: '%', target: '', met: true },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
