/**
 * Compiler figures: wall time of `orch check` on a generated 10,000-step plan (a fresh Node
 * process, start-up included) and in-process compile throughput for 1k and 10k-step plans.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { compile } from '../compiler/index.js';
import { median, smoke, type BenchFigure } from './figure.js';

/**
 * A plan of `n` steps in lanes of 50: each step reads the previous one of its lane, and every
 * tenth step also waits for a step of the neighbouring lane — a wide, deep, realistic DAG.
 */
export function generatePlan(n: number): string {
  const lines: string[] = [
    'capability fetch { kind tool input { url: string } output { body: string, size: int } cost 0.001usd latency 200ms requires http }',
    'capability score { kind service input { text: string, weight: number = 1 } output { value: number, label: "hi" | "lo" } cost 0.002usd latency 1s requires compute }',
    'resource edge { kind edge_gateway provides http, compute cost 0usd latency 20ms }',
    'resource cloud { kind cloud_region provides http, compute cost 0.001usd latency 100ms }',
    'policy fast { strategy latency budget cost <= 1000usd }',
    'plan big {',
    '  input { root: string }',
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

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));

/** The plan sizes compiled; `orch check` is timed on the larger. */
const SIZES = smoke([1000, 10_000], [50, 100]);
const BIG = SIZES[1]!;

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-check-'));
  const files = new Map<number, string>();
  for (const n of SIZES) {
    const f = join(dir, `plan${n}.orch`);
    writeFileSync(f, generatePlan(n));
    files.set(n, f);
  }
  const walls: number[] = [];
  for (let i = 0; i < smoke(5, 1); i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [BIN, 'check', files.get(BIG)!], { encoding: 'utf8' });
    walls.push((performance.now() - t0) / 1000);
    if (r.status !== 0) throw new Error(`orch check failed on the generated plan: ${r.stdout}${r.stderr}`);
  }
  const wall = median(walls);
  const figures: BenchFigure[] = [
    { name: `orch check, ${BIG.toLocaleString('en')}-step plan (wall, incl. Node start-up, median of 5)`, value: wall, unit: 's', target: '≤ 1.0 s', met: wall <= 1.0 },
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
