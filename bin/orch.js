#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` / `npm ci` (the `prepare` script).
import { Console } from 'node:console';
import { existsSync, statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

// Node 22.1+ can cache compiled bytecode between runs (start-up of every command); Node 20 has no such API.
if (typeof module.enableCompileCache === 'function') {
  try {
    module.enableCompileCache();
  } catch {
    // A read-only cache directory only costs speed.
  }
}

// A reader that stops early (`orch check … | head`) closes the pipe: that ends the output, not the
// command with a stack trace. Any other failure to write is one line and exit code 2.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    if (stream === process.stdout) process.stderr.write(`orch: cannot write the output: ${err.message}\n`);
    process.exit(2);
  });
}

// orch writes its results to stdout itself. What user code loaded into this process prints with
// `console` (orch.config.* and its policy hooks; handlers run in worker threads, whose output is
// their step's log) goes to stderr, so `--json` stays pure JSON and `orch lsp --stdio` keeps its
// protocol stream clean.
globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('orch: the CLI is not built yet; run `npm install` (or `npm run build`) in the orch folder.\n');
  process.exit(2);
}

/**
 * `orch check` runs from one bundled script (built by `npm run build` after tsc) when that bundle
 * is at least as new as the compiled tree: a bare `tsc` rebuild leaves it stale, and then the
 * command goes through the compiled modules like every other one. The bundle is compiled with
 * V8's code cache (check-bundle.js).
 */
function checkBundle() {
  if (process.argv[2] !== 'check') return undefined;
  const bundle = fileURLToPath(new URL('../dist/bundle/check.cjs', import.meta.url));
  try {
    return statSync(bundle).mtimeMs >= statSync(fileURLToPath(main)).mtimeMs ? bundle : undefined;
  } catch {
    return undefined;
  }
}

async function load() {
  const bundle = checkBundle();
  if (bundle !== undefined) {
    try {
      const { loadCheckBundle } = await import('./check-bundle.js');
      const loaded = loadCheckBundle(bundle);
      if (typeof loaded.main === 'function') return loaded;
    } catch {
      // A bundle being rewritten by a build that is running right now: the compiled tree is whole.
    }
  }
  const { main: run } = await import(main.href);
  return { main: run, done() {} };
}

const { main: run, done } = await load();
process.exitCode = await run(process.argv);
done();
