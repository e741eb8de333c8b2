/**
 * `npm run bench`: runs every bench module, prints a table of figures against their targets and
 * writes bench/results.json. Figures are measured here, never asserted in tests.
 *
 * Each area runs in a child process of its own, so that one area's memory figures (peak RSS)
 * and JIT/GC state are not inherited from the areas measured before it.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchFigure, BenchModule } from './figure.js';

const here = dirname(fileURLToPath(import.meta.url));

if (process.argv[2] === '--child') {
  // One area, in this process: print its figures as JSON on the last line of stdout.
  const mod = (await import(pathToFileURL(join(here, process.argv[3]!)).href)) as BenchModule;
  process.stdout.write(`\n${JSON.stringify(await mod.bench())}\n`);
  process.exit(0);
}

const areas = readdirSync(here)
  .filter((f) => f.endsWith('.js') && !['run.js', 'figure.js', 'lsp-server.js'].includes(f))
  .map((f) => f.replace(/\.js$/, ''))
  .sort();
const only = process.argv.slice(2);
if (only.includes('--help') || only.includes('-h')) {
  console.log(`Usage: npm run bench [-- AREA…]

Measures every area (or those whose name starts with an AREA), prints each figure against its
target and writes bench/results.json.

Areas: ${areas.join(', ')}`);
  process.exit(0);
}
const unknown = only.filter((o) => !areas.some((a) => a.startsWith(o)));
if (unknown.length > 0) {
  console.error(`bench: no area named ${unknown.join(', ')} (areas: ${areas.join(', ')})`);
  process.exit(2);
}
const modules = areas.filter((a) => only.length === 0 || only.some((o) => a.startsWith(o))).map((a) => `${a}.js`);

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

const rows = figures.map((f) => [f.area, f.name, `${round(f.value)} ${f.unit}`, f.target || '—', f.met ? 'yes' : 'NO']);
const head = ['area', 'figure', 'measured', 'target', 'met'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(line(head));
console.log(widths.map((w) => '─'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));

const out = join(here, '..', '..', 'bench', 'results.json');
writeFileSync(out, JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, figures }, null, 2) + '\n');
console.log(`\nwrote ${out}`);

function round(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
}
