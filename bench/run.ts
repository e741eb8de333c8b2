/**
 * `npm run bench`: runs every bench module, prints a table of figures against their targets and
 * their previous values, writes bench/results.json and appends the run to bench/history.jsonl
 * (history.ts). Figures are measured here, never asserted in tests.
 *
 * Each area runs in a child process of its own, so that one area's memory figures (peak RSS)
 * and JIT/GC state are not inherited from the areas measured before it.
 *
 * `--smoke` (what CI runs): every area once at tiny sizes (`smoke()` in figure.ts), each within
 * SMOKE_LIMIT_S; a line per area with its wall time, no table, no results file; exit 1 when an
 * area failed. It asserts nothing about speed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchFigure, BenchModule } from './figure.js';
import { appendHistory, change, figureKey, loadNow, moved, NOISE, previousValues, readHistory, record } from './history.js';
import { summarize } from './summary.js';

const here = dirname(fileURLToPath(import.meta.url));
/** One smoke area may take this long (a hung bench fails instead of holding CI). */
const SMOKE_LIMIT_S = 120;

if (process.argv[2] === '--child') {
  // One area, in this process: print its figures as JSON on the last line of stdout.
  const mod = (await import(pathToFileURL(join(here, process.argv[3]!)).href)) as BenchModule;
  process.stdout.write(`\n${JSON.stringify(await mod.bench())}\n`);
  process.exit(0);
}

/** Modules of the bench that measure nothing themselves: its runner and what the areas share. */
const HELPERS = ['run.js', 'figure.js', 'history.js', 'summary.js', 'step-costs.js', 'lsp-server.js'];
const areas = readdirSync(here)
  .filter((f) => f.endsWith('.js') && !HELPERS.includes(f))
  .map((f) => f.replace(/\.js$/, ''))
  .sort();
const args = process.argv.slice(2);
const smokeMode = args.includes('--smoke');
const summaryAt = args.indexOf('--summary');
const only = args.filter((a, i) => a !== '--smoke' && i !== summaryAt && !(summaryAt >= 0 && i === summaryAt + 1 && /^\d+$/.test(a)));
if (only.includes('--help') || only.includes('-h')) {
  console.log(`Usage: npm run bench [-- [--smoke] AREA…]
       npm run bench -- --summary [N] [AREA…]

Measures every area (or those whose name starts with an AREA), prints each figure against its
target and its previous value, writes bench/results.json and appends the run (figures, commit,
Node version, load) to bench/history.jsonl.

  --smoke   run each area once at tiny sizes (ORCH_BENCH_SMOKE=1), only to see that it completes:
            one line per area with its wall time, no figures, no results file; exit 1 when an
            area fails or takes over ${SMOKE_LIMIT_S} s. CI runs this.
  --summary [N] [AREA…]
            measure nothing: each figure (of the AREAs given, else every one) as its median
            [lowest–highest] over the last N runs (default 5) in bench/history.jsonl that measured
            its area, with those runs' commits and load.

Areas: ${areas.join(', ')}`);
  process.exit(0);
}
if (summaryAt >= 0) {
  const n = /^\d+$/.test(args[summaryAt + 1] ?? '') ? Math.max(1, Number(args[summaryAt + 1])) : 5;
  const areasGiven = only.filter((o) => !o.startsWith('-'));
  printSummary(join(here, '..', '..', 'bench', 'history.jsonl'), n, (area) => areasGiven.length === 0 || areasGiven.some((o) => area.startsWith(o)));
  process.exit(0);
}
const unknown = only.filter((o) => !areas.some((a) => a.startsWith(o)));
if (unknown.length > 0) {
  console.error(`bench: no area named ${unknown.join(', ')} (areas: ${areas.join(', ')})`);
  process.exit(2);
}
const modules = areas.filter((a) => only.length === 0 || only.some((o) => a.startsWith(o))).map((a) => `${a}.js`);
if (smokeMode) process.exit(smokeRun(modules));

const repo = join(here, '..', '..');
const historyFile = join(repo, 'bench', 'history.jsonl');
const startLoad = loadNow();
const figures: (BenchFigure & { area: string })[] = [];
for (const file of modules) {
  const area = file.replace(/\.js$/, '');
  process.stderr.write(`bench: ${area}…\n`);
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = out.trimEnd().split('\n').pop() ?? '[]';
  for (const f of JSON.parse(last) as BenchFigure[]) figures.push({ area, ...f });
}

const previous = previousValues(readHistory(historyFile));
let movedCount = 0;
const rows = figures.map((f) => {
  const prev = previous.get(figureKey(f.area, f.name));
  const pct = change(prev, f.value);
  const isMove = moved(pct, f.unit === '%' && prev ? f.value - prev.value : null);
  if (isMove) movedCount++;
  const was = prev ? `${round(prev.value)} (${prev.commit})` : '—';
  const by = pct === null ? '—' : `${pct >= 0 ? '+' : ''}${pct.toFixed(1)} %${isMove ? ' *' : ''}`;
  return [f.area, f.name, `${round(f.value)} ${f.unit}`, f.target || '—', f.met ? 'yes' : 'NO', was, by];
});
const head = ['area', 'figure', 'measured', 'target', 'met', 'previous', 'change'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(line(head));
console.log(widths.map((w) => '─'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));

const out = join(repo, 'bench', 'results.json');
writeFileSync(out, JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, figures }, null, 2) + '\n');
const run = record(figures, modules.map((m) => m.replace(/\.js$/, '')), startLoad, repo);
appendHistory(historyFile, run);
console.log(`\nwrote ${out}; appended this run to ${historyFile} (commit ${run.commit}, Node ${run.node}, load ${run.load.start.join(' ')} → ${run.load.end.join(' ')})`);
if (movedCount > 0)
  console.log(`${movedCount} figure(s) moved by more than ${NOISE * 100} % since their previous value (*): commit bench/history.jsonl with the change that moved them.`);

/** Runs each area in smoke mode; the exit code: 1 when one failed. */
function smokeRun(files: readonly string[]): number {
  const failed: string[] = [];
  const t0 = performance.now();
  for (const file of files) {
    const area = file.replace(/\.js$/, '');
    const started = performance.now();
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', file], {
      encoding: 'utf8',
      env: { ...process.env, ORCH_BENCH_SMOKE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      timeout: SMOKE_LIMIT_S * 1000,
      killSignal: 'SIGKILL',
    });
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    let figures = -1;
    try {
      figures = (JSON.parse(r.stdout.trimEnd().split('\n').pop() ?? '') as unknown[]).length;
    } catch {
      // no figures line: the area failed before its end
    }
    if (r.status === 0 && figures > 0) {
      console.log(`bench smoke: ok    ${area}  ${secs}s  (${figures} figures)`);
      continue;
    }
    // An area that says it does not run in smoke mode (package: minutes of npm) is skipped, not failed.
    if (r.status === 0 && figures === 0 && /skipped \(ORCH_BENCH_SMOKE=1/.test(r.stderr ?? '')) {
      console.log(`bench smoke: skip  ${area}  ${secs}s  (${(r.stderr ?? '').trim().split('\n').pop()})`);
      continue;
    }
    failed.push(area);
    const why = r.error ? (r.signal === 'SIGKILL' ? `no end within ${SMOKE_LIMIT_S} s` : r.error.message) : r.status !== 0 ? `exit ${r.status ?? r.signal}` : 'no figures';
    console.log(`bench smoke: FAIL  ${area}  ${secs}s  (${why})`);
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trimEnd().split('\n').slice(-30);
    for (const l of tail) console.log(`bench smoke:   ${l}`);
  }
  const total = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`bench smoke: ${files.length - failed.length} of ${files.length} areas completed in ${total}s${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
  return failed.length ? 1 : 0;
}

function printSummary(file: string, n: number, wanted: (area: string) => boolean): void {
  const s = summarize(readHistory(file), n, wanted);
  const rows = s.figures.map((f) => [f.area, f.name, `${round(f.median)} ${f.unit}`, `${round(f.min)}–${round(f.max)}`, String(f.runs)]);
  const head = ['area', 'figure', 'median', 'spread', 'runs'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log(`\nthe last ${n} runs of each area in ${file}: commits ${s.commits.join(', ') || '—'}; 1-minute load ${s.load ? `${s.load[0]}–${s.load[1]}` : '—'}`);
}

function round(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
}
