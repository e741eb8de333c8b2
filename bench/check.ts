/**
 * Compiler figures: wall time of `orch check` on a generated 10,000-step plan (a fresh Node
 * process, start-up included) against its anchor — the CNCF Serverless Workflow SDK
 * deserializing and schema-validating the same plan as a workflow (check-anchor/), a process of
 * its own, the two taken in turn in pairs — and in-process compile throughput for 1k and
 * 10k-step plans.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { compile } from '../compiler/index.js';
import { generateWorkflow } from './check-anchor/serverless-workflow.js';
import { childrenCpuS, median, smoke, type BenchFigure } from './figure.js';

/**
 * A plan of `n` steps in lanes of 50: each step reads the previous one of its lane, and every
 * tenth step also waits for a step of the neighbouring lane — a wide, deep, realistic DAG.
 * `input` names the root's labels (§9.3): the figures of `orch check` are taken on a plan whose
 * root is `@untrusted`, so that every step's value carries a label and the flow analysis walks the
 * whole plan (a plan without labels skips it); it reaches no sink, so the check passes.
 */
export function generatePlan(n: number, input = ''): string {
  const lines: string[] = [
    'capability fetch { kind tool input { url: string } output { body: string, size: int } cost 0.001usd latency 200ms requires http }',
    'capability score { kind service input { text: string, weight: number = 1 } output { value: number, label: "hi" | "lo" } cost 0.002usd latency 1s requires compute }',
    'resource edge { kind edge_gateway provides http, compute cost 0usd latency 20ms }',
    'resource cloud { kind cloud_region provides http, compute cost 0.001usd latency 100ms }',
    'policy fast { strategy latency budget cost <= 1000usd }',
    'plan big {',
    `  input { root: string${input ? ` ${input}` : ''} }`,
    '  policy fast',
  ];
  const lane = 50;
  for (let i = 0; i < n; i++) {
    const prev = i % lane === 0 ? null : i - 1;
    const cross = i % 10 === 9 && i >= lane ? ` { after s${i - lane} }` : '';
    if (i % 2 === 0) lines.push(`  step s${i} = fetch(url: ${prev === null ? 'input.root' : `"\${s${prev}.output.value}"`})${cross}`);
    else lines.push(`  step s${i} = score(text: s${prev ?? i - 1}.output.body) when s${prev ?? i - 1}.output.size > 0${cross}`);
  }
  lines.push('  output { done: true }', '}');
  return `${lines.join('\n')}\n`;
}

/** The root's labels in the plans `orch check` is timed on: enough for the flow analysis to run. */
export const LABELLED = '@untrusted';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));
const ANCHOR = fileURLToPath(new URL('./check-anchor/serverless-workflow.js', import.meta.url));

/** The plan sizes compiled; `orch check` is timed on the larger. */
const SIZES = smoke([1000, 10_000], [50, 100]);
const BIG = SIZES[1]!;
const PAIRS = smoke(5, 1);


/** One whole process, timed: its wall and CPU seconds; throws when it fails. */
function timedProcess(args: readonly string[], what: string): { wall: number; cpu: number } {
  const cpu0 = childrenCpuS();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${what} failed on the generated plan: ${r.stdout}${r.stderr.slice(0, 2000)}`);
  return { wall, cpu: childrenCpuS() - cpu0 };
}

/**
 * bin/orch.js runs `check` from the bundle only while it is at least as new as the compiled tree;
 * a `tsc` rebuild after `npm run build` (a test run's setup does one) silently measures the
 * unbundled path, ~0.1 s slower. Said on stderr, so a figure taken that way is not mistaken.
 */
function warnIfUnbundled(): void {
  const at = (rel: string) => {
    try {
      return statSync(fileURLToPath(new URL(rel, import.meta.url))).mtimeMs;
    } catch {
      return NaN;
    }
  };
  const bundle = at('../bundle/check.cjs');
  const tree = at('../cli/main.js');
  if (!(bundle >= tree)) process.stderr.write('bench: check: dist/bundle/check.cjs is missing or older than dist/cli/main.js, so orch check runs unbundled here; run `npm run build` first\n');
}

export async function bench(): Promise<readonly BenchFigure[]> {
  warnIfUnbundled();
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-check-'));
  const files = new Map<number, string>();
  for (const n of SIZES) {
    const f = join(dir, `plan${n}.orch`);
    writeFileSync(f, generatePlan(n, LABELLED));
    files.set(n, f);
  }
  const workflow = join(dir, `workflow${BIG}.yaml`);
  writeFileSync(workflow, generateWorkflow(BIG));
  // Pairs, each taken in turn (orch first, then the peer first), so that a burst of the box's
  // other load falls on both sides alike; the ratio is each pair's, then their median.
  const orch = { wall: [] as number[], cpu: [] as number[] };
  const peer = { wall: [] as number[], cpu: [] as number[] };
  const wallRatios: number[] = [];
  const cpuRatios: number[] = [];
  const loads: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    loads.push(loadavg()[0]!);
    const runOrch = () => timedProcess([BIN, 'check', files.get(BIG)!], 'orch check');
    const runPeer = () => timedProcess([ANCHOR, workflow], 'the Serverless Workflow SDK');
    const [o, p] = i % 2 === 0 ? [runOrch(), runPeer()] : (([q, r]) => [r, q] as const)([runPeer(), runOrch()]);
    orch.wall.push(o.wall);
    orch.cpu.push(o.cpu);
    peer.wall.push(p.wall);
    peer.cpu.push(p.cpu);
    wallRatios.push(o.wall / p.wall);
    cpuRatios.push(o.cpu / p.cpu);
  }
  loads.push(loadavg()[0]!);
  const wall = median(orch.wall);
  const ratio = median(wallRatios);
  const big = BIG.toLocaleString('en');
  // The plan's root is labelled (LABELLED), so these are figures with the flow analysis on; the
  // names say so, and bench/history.jsonl keeps them apart from the earlier unlabelled plan's.
  // Names stay the same from run to run (bench/history.jsonl keys figures by name): the spread
  // is figures of its own.
  const figures: BenchFigure[] = [
    { name: `machine load while measuring (1-minute load average, median; ${availableParallelism()} cores)`, value: median(loads), unit: '', target: '', met: true },
    { name: `orch check, ${big}-step labelled plan (wall, incl. Node start-up, median of ${PAIRS})`, value: wall, unit: 's', target: '≤ 1.0 s', met: wall <= 1.0 },
    { name: `anchor: Serverless Workflow SDK deserialize + schema-validate of the same plan as ${big} tasks (wall, incl. Node start-up, median)`, value: median(peer.wall), unit: 's', target: '', met: true },
    { name: `orch check (labelled plan) vs the peer, wall time (median of ${PAIRS} pairs)`, value: ratio, unit: '×', target: '≤ 0.5 ×', met: ratio <= 0.5 },
    { name: 'orch check (labelled plan) vs the peer, wall time, lowest pair', value: Math.min(...wallRatios), unit: '×', target: '', met: true },
    { name: 'orch check (labelled plan) vs the peer, wall time, highest pair', value: Math.max(...wallRatios), unit: '×', target: '', met: true },
    { name: `orch check (labelled plan) vs the peer, CPU time (user + sys, median of ${PAIRS} pairs)`, value: median(cpuRatios), unit: '×', target: '', met: true },
    { name: `orch check, ${big}-step labelled plan, CPU (user + sys, median)`, value: median(orch.cpu), unit: 's', target: '', met: true },
    { name: 'anchor, CPU (user + sys, median)', value: median(peer.cpu), unit: 's', target: '', met: true },
  ];
  compile({ entry: files.get(SIZES[0]!)! }); // warm-up: throughput is a steady-state figure
  for (const n of SIZES) {
    const times: number[] = [];
    for (let i = 0; i < smoke(3, 1); i++) {
      const t0 = performance.now();
      const out = compile({ entry: files.get(n)! });
      times.push((performance.now() - t0) / 1000);
      if (out.plans.length !== 1) throw new Error(`compile of the ${n}-step plan failed: ${out.diagnostics[0]?.message}`);
    }
    const t = median(times);
    figures.push({ name: `compile throughput, ${n.toLocaleString('en')}-step plan (parse → IR, in-process)`, value: n / t, unit: 'steps/s', target: '', met: true });
  }
  return figures;
}
