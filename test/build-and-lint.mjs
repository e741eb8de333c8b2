#!/usr/bin/env node
// `npm test`'s first step: `npm run build` and `npm run lint` at once. ESLint and
// dependency-cruiser read the sources only (dist/ is ignored), so neither waits for the other, and
// on a 2-core machine the two take about the time of the longer one instead of their sum. The
// build's output streams as it comes; the lint's is held and printed whole when it ends, so the
// two never interleave. Exits non-zero when either failed, naming which.
import { spawn } from 'node:child_process';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Runs `npm run SCRIPT`; resolves to its exit status and, when held, what it printed. */
function run(script, hold) {
  return new Promise((resolve) => {
    const child = spawn(npm, ['run', script], { stdio: hold ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    const chunks = [];
    if (hold) {
      child.stdout.on('data', (c) => chunks.push(c));
      child.stderr.on('data', (c) => chunks.push(c));
    }
    child.on('error', (err) => resolve({ script, status: 1, output: Buffer.from(`${err.message}\n`) }));
    child.on('close', (code, signal) => resolve({ script, status: code ?? (signal ? 1 : 0), output: Buffer.concat(chunks) }));
  });
}

const [build, lint] = await Promise.all([run('build', false), run('lint', true)]);
process.stdout.write(lint.output);
const failed = [build, lint].filter((r) => r.status !== 0).map((r) => `npm run ${r.script} (exit ${r.status})`);
if (failed.length > 0) {
  process.stderr.write(`\n${failed.join(' and ')} failed\n`);
  process.exit(1);
}
