#!/usr/bin/env node
// Prints the n slowest test files from the JSON test/durations-reporter.ts wrote (ORCH_TEST_DURATIONS),
// or with --folders the time each top-level folder's test files took.
//   node test/slowest.mjs <durations.json> [n=15]
//   node test/slowest.mjs --folders <durations.json>
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const folders = args[0] === '--folders';
const [file, count = '15'] = folders ? args.slice(1) : args;
if (!file) {
  process.stderr.write('usage: node test/slowest.mjs <durations.json> [n] | --folders <durations.json>\n');
  process.exit(2);
}
const { wallMs, files } = JSON.parse(readFileSync(file, 'utf8'));
const seconds = (ms) => `${(ms / 1000).toFixed(0)} s`;

if (folders) {
  // A folder's wall time is the union of its files' spans: system files run one at a time, unit
  // files side by side (one per core), so the sum of a folder's file times is shown beside it.
  const by = new Map();
  for (const f of files) {
    const folder = f.file.split('/')[0];
    const row = by.get(folder) ?? { files: 0, summed: 0, spans: [] };
    row.files += 1;
    row.summed += f.wallMs;
    if (typeof f.startMs === 'number') row.spans.push([f.startMs, f.startMs + f.wallMs]);
    by.set(folder, row);
  }
  const union = (spans) => {
    let total = 0;
    let end = -Infinity;
    for (const [a, b] of [...spans].sort((x, y) => x[0] - y[0])) {
      if (b <= end) continue;
      total += b - Math.max(a, end);
      end = b;
    }
    return total;
  };
  const rows = [...by.entries()].map(([folder, r]) => ({ folder, ...r, wall: r.spans.length === r.files ? union(r.spans) : r.summed }));
  rows.sort((a, b) => b.wall - a.wall);
  process.stdout.write(`${files.length} test files in ${seconds(wallMs)}; wall time by folder (its files' times summed):\n`);
  for (const r of rows) process.stdout.write(`  ${r.folder.padEnd(18)} ${seconds(r.wall).padStart(6)}  (${r.files} files, ${seconds(r.summed)})\n`);
  process.exit(0);
}

const n = Math.min(Number(count), files.length);
const byProject = {};
for (const f of files) byProject[f.project] = (byProject[f.project] ?? 0) + 1;
const projects = Object.entries(byProject).map(([p, k]) => `${k} ${p}`).join(', ');
process.stdout.write(`${files.length} test files (${projects}) in ${(wallMs / 1000).toFixed(0)} s; the ${n} slowest (wall time):\n`);
for (const f of files.slice(0, n)) {
  process.stdout.write(`  ${(f.wallMs / 1000).toFixed(1).padStart(7)} s  ${f.project.padEnd(6)}  ${f.file}${f.state === 'passed' ? '' : `  (${f.state})`}\n`);
}
