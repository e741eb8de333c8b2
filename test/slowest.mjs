#!/usr/bin/env node
// Prints the n slowest test files from the JSON test/durations-reporter.ts wrote (ORCH_TEST_DURATIONS).
//   node test/slowest.mjs <durations.json> [n=15]
import { readFileSync } from 'node:fs';

const [file, count = '15'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node test/slowest.mjs <durations.json> [n]\n');
  process.exit(2);
}
const { wallMs, files } = JSON.parse(readFileSync(file, 'utf8'));
const n = Math.min(Number(count), files.length);
const byProject = {};
for (const f of files) byProject[f.project] = (byProject[f.project] ?? 0) + 1;
const projects = Object.entries(byProject).map(([p, k]) => `${k} ${p}`).join(', ');
process.stdout.write(`${files.length} test files (${projects}) in ${(wallMs / 1000).toFixed(0)} s; the ${n} slowest (wall time):\n`);
for (const f of files.slice(0, n)) {
  process.stdout.write(`  ${(f.wallMs / 1000).toFixed(1).padStart(7)} s  ${f.project.padEnd(6)}  ${f.file}${f.state === 'passed' ? '' : `  (${f.state})`}\n`);
}
