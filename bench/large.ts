/**
 * Large plans on one machine: `orch check` of 10,000 and 100,000 steps (wall, peak RSS), and
 * `orch run` of a 100,000-step no-op layered DAG with the journal on (wall, peak RSS, journal
 * bytes per step), then kill -9 at half way and `orch resume` (time until the first new step
 * starts). Every figure is a whole `orch` process, start-up included; peak RSS is read by a
 * probe loaded with `--import` into that process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openSqlite, SEQ_SPAN } from '../runtime/index.js';
import { generatePlan, LABELLED } from './check.js';
import { median, smoke, type BenchFigure } from './figure.js';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));
const WIDTH = 100;
/** Processes of each kind measured (#54: medians of five, and the run's bound in every one). */
const RUNS = smoke(5, 1);

/** The runs' spread as one figure: `lowest–highest`, kept apart from the figure #54 judges. */
function spreadFigure(what: string, xs: readonly number[], unit: string): BenchFigure {
  return { name: `${what}: spread of ${xs.length} (highest − lowest)`, value: Math.max(...xs) - Math.min(...xs), unit, target: '', met: true };
}

/** A no-op layered DAG in .orch source: `layers` × 100 steps, each reading two of the layer above. */
export function layeredSource(layers: number): string {
  const lines = [
    'capability noop { kind tool input { n: int } output { n: int } handler "./noop.js#noop" idempotent true }',
    'plan layers {',
  ];
  for (let l = 0; l < layers; l++)
    for (let w = 0; w < WIDTH; w++) {
      const id = `s${l}_${w}`;
      if (l === 0) lines.push(`  step ${id} = noop(n: ${w})`);
      else lines.push(`  step ${id} = noop(n: s${l - 1}_${w}.output.n + s${l - 1}_${(w + 1) % WIDTH}.output.n)`);
    }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

interface Measured {
  readonly wall: number;
  readonly rssMb: number;
  readonly code: number | null;
  readonly output: string;
}

function probe(dir: string): { file: string; args: string[] } {
  const out = join(dir, `rss-${Math.random().toString(36).slice(2)}.txt`);
  const script = join(dir, 'rss-probe.mjs');
  writeFileSync(
    script,
    "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.ORCH_BENCH_RSS, String(process.resourceUsage().maxRSS)));\n",
  );
  return { file: out, args: ['--import', pathToFileURL(script).href] };
}

function orch(dir: string, args: readonly string[]): Measured {
  const p = probe(dir);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...p.args, BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ORCH_BENCH_RSS: p.file, NO_COLOR: '1' },
    maxBuffer: 256 * 1024 * 1024,
  });
  const wall = (performance.now() - t0) / 1000;
  let rssMb = NaN;
  try {
    rssMb = Number(readFileSync(p.file, 'utf8')) / 1024;
  } catch {
    // killed before exit
  }
  return { wall, rssMb, code: r.status, output: `${r.stdout}${r.stderr}`.slice(-2000) };
}

/**
 * Follows a run's journal while another process writes it, reading only the batch rows written
 * since the last look (the `events` view would decode the whole run at every poll).
 */
class JournalTail {
  /** Events seen so far, by type. */
  readonly counts = new Map<string, number>();
  private nextId = 0;

  constructor(
    private readonly db: string,
    private readonly runId: string,
  ) {}

  /** Reads what was committed since the last call; false while the journal cannot be read yet. */
  poll(): boolean {
    let d: ReturnType<typeof openSqlite> | undefined;
    try {
      d = openSqlite(this.db, { readonly: true });
      const key = (d.prepare('SELECT key FROM run_keys WHERE run_id = ?').get(this.runId) as { key: number } | undefined)?.key;
      if (key === undefined) return false;
      const names = new Map((d.prepare('SELECT code, name FROM event_types').all() as { code: number; name: string }[]).map((r) => [r.code, r.name]));
      const base = key * SEQ_SPAN;
      const rows = d
        .prepare('SELECT id, events FROM event_batches WHERE id BETWEEN ? AND ? ORDER BY id')
        .all(Math.max(base, this.nextId), base + SEQ_SPAN - 1) as { id: number; events: string }[];
      for (const r of rows) {
        for (const [, code] of JSON.parse(r.events) as [number, number][]) {
          const type = names.get(code) ?? '?';
          this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
        }
        this.nextId = r.id + 1;
      }
      return true;
    } catch {
      return false; // not created yet, or busy: look again
    } finally {
      d?.close();
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Kill -9 of a 100k-step run at half way, then the time `orch resume` takes to start a new step. */
async function resumeFigure(dir: string, file: string, steps: number): Promise<number> {
  const db = join(dir, 'resume.db');
  const runId = 'half';
  const child = spawn(process.execPath, [BIN, 'run', file, '--db', db, '--run-id', runId, '--quiet'], { cwd: dir, stdio: 'ignore' });
  const ended = new Promise<void>((r) => child.once('exit', () => r()));
  const before = new JournalTail(db, runId);
  while ((before.poll(), before.counts.get('step_completed') ?? 0) < steps / 2) await sleep(10);
  child.kill('SIGKILL');
  await ended;
  const after = new JournalTail(db, runId);
  after.poll();
  const startedBefore = after.counts.get('step_started') ?? 0;
  const t0 = performance.now();
  const resume = spawn(process.execPath, [BIN, 'resume', runId, '--db', db, '--quiet'], { cwd: dir, stdio: 'ignore' });
  let resumed = false;
  const resumeEnded = new Promise<void>((r) => resume.once('exit', () => ((resumed = true), r())));
  let first = NaN;
  while (Number.isNaN(first)) {
    after.poll();
    if ((after.counts.get('step_started') ?? 0) > startedBefore) first = (performance.now() - t0) / 1000;
    else if (resumed) throw new Error('orch resume ended without starting a step (the run had ended before it was killed?)');
    else await sleep(20);
  }
  await resumeEnded;
  return first;
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-large-'));
  const figures: BenchFigure[] = [];
  try {
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'noop.js'), 'export function noop(input) { return { n: input.n % 1000 }; }\n');
    // `orch check`: the check bench's own generator (lanes of 50, conditions, string templates),
    // its root labelled so that the flow analysis runs. Five processes of each, as #54 asks.
    for (const n of smoke([10_000, 100_000], [100])) {
      const f = join(dir, `check${n}.orch`);
      writeFileSync(f, generatePlan(n, LABELLED));
      const runs = Array.from({ length: RUNS }, () => orch(dir, ['check', f]));
      const failed = runs.find((r) => r.code !== 0);
      if (failed) throw new Error(`orch check failed: ${failed.output}`);
      const label = n.toLocaleString('en-US');
      const wall = median(runs.map((r) => r.wall));
      const rss = median(runs.map((r) => r.rssMb));
      const big = n === 100_000;
      figures.push({ name: `orch check, ${label} labelled steps (wall, median of ${RUNS})`, value: wall, unit: 's', target: big ? '≤ 1.5 s' : '≤ 0.6 s', met: wall <= (big ? 1.5 : 0.6) });
      figures.push({ name: `orch check, ${label} labelled steps (peak RSS, median of ${RUNS})`, value: rss, unit: 'MB', target: big ? '≤ 350 MB' : '', met: !big || rss <= 350 });
      figures.push(spreadFigure(`orch check, ${label} labelled steps, wall`, runs.map((r) => r.wall), 's'));
      figures.push(spreadFigure(`orch check, ${label} labelled steps, peak RSS`, runs.map((r) => r.rssMb), 'MB'));
    }
    // `orch run`, 100,000 steps, journal on (smoke mode: enough for the kill at half way to land
    // mid-run). #54's bound holds for every one of five runs, so the highest is the figure.
    const steps = smoke(100_000, 5_000);
    const src = join(dir, 'layers.orch');
    writeFileSync(src, layeredSource(steps / WIDTH));
    const runs: Measured[] = [];
    for (let i = 0; i < RUNS; i++) {
      const db = join(dir, `run${i}.db`);
      const run = orch(dir, ['run', src, '--db', db, '--run-id', 'full', '--quiet']);
      if (run.code !== 0) throw new Error(`orch run of ${steps} steps failed: ${run.output}`);
      runs.push(run);
      if (i === 0) {
        const bytes = statSync(db).size + (statSync(`${db}-wal`, { throwIfNoEntry: false })?.size ?? 0);
        figures.push({ name: 'journal size per no-op step', value: bytes / steps, unit: 'bytes', target: '≤ 1024 bytes', met: bytes / steps <= 1024 });
      }
      rmSync(db, { force: true });
      rmSync(`${db}-wal`, { force: true });
    }
    const wall = median(runs.map((r) => r.wall));
    figures.push({ name: 'orch run, 100,000 no-op steps, journal on (wall, whole process)', value: wall, unit: 's', target: '', met: true });
    figures.push({ name: 'orch run, 100,000 no-op steps, journal on (steps/s)', value: steps / wall, unit: 'steps/s', target: '', met: true });
    const peak = Math.max(...runs.map((r) => r.rssMb));
    figures.push({ name: `orch run, 100,000 steps (peak RSS, highest of ${RUNS})`, value: peak, unit: 'MB', target: '≤ 700 MB', met: peak <= 700 });
    figures.push(spreadFigure('orch run, 100,000 steps, peak RSS', runs.map((r) => r.rssMb), 'MB'));
    // Smoke mode's 5,000 steps can all finish between two looks at the journal on a fast machine,
    // so the run it kills is larger than the runs above it.
    const resumeSteps = smoke(steps, 40_000);
    const resumeSrc = resumeSteps === steps ? src : join(dir, 'resume.orch');
    if (resumeSrc !== src) writeFileSync(resumeSrc, layeredSource(resumeSteps / WIDTH));
    const first = await resumeFigure(dir, resumeSrc, resumeSteps);
    figures.push({ name: 'resume of a 100,000-step run killed at 50 %: until the first new step starts', value: first, unit: 's', target: '≤ 5 s', met: first <= 5 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
