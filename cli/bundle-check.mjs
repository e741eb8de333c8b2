// Bundles the `orch check` entry (dist/cli/check-main.js, compiled by tsc) into one ESM
// module, dist/bundle/check.js: loading one module instead of some forty is most of what start-up
// spends outside chevrotain. `npm run build` runs this after tsc; bin/orch.js uses the bundle
// while it is newer than the compiled tree. Packages stay external (node_modules as installed).
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = new URL('../', import.meta.url);

export const CHECK_BUNDLE = fileURLToPath(new URL('dist/bundle/check.js', ROOT));

/**
 * Packages known to have no side effects on import: esbuild keeps every import of an external
 * package whose module is in the graph, even when nothing it imports is used. `orch check` never
 * validates against a schema, and loading ajv cost ~30 ms of every check's start-up; nor does it
 * lay out a graph (compiler/graph.ts is in the graph through the compiler's index, dagre with it).
 */
function unusedPackagesDropped(names) {
  const filter = new RegExp(`^(${names.join('|')})(/|$)`);
  return {
    name: 'unused-packages-dropped',
    setup(build) {
      build.onResolve({ filter }, (args) => ({ path: args.path, external: true, sideEffects: false }));
    },
  };
}

/** Writes the bundle to `outfile` (inside the package: it locates the std library from there). */
export async function bundleCheck(outfile = CHECK_BUNDLE) {
  await build({
    entryPoints: [fileURLToPath(new URL('dist/cli/check-main.js', ROOT))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    plugins: [unusedPackagesDropped(['ajv', '@dagrejs/dagre'])],
    logLevel: 'warning',
  });
}

/**
 * Records the grammar once beside each compiled copy of the parser (language/grammar-cache.ts):
 * a module's parser reads `orch-grammar.json` in its own folder instead of recording the grammar
 * in every process. `module` is the bundle or dist/language/index.js; parsing one small text
 * builds its parser, which writes the file (ORCH_WRITE_GRAMMAR_CACHE).
 */
export function writeGrammarCache(module) {
  const dir = mkdtempSync(join(tmpdir(), 'orch-grammar-'));
  try {
    const plan = join(dir, 'g.orch');
    writeFileSync(plan, 'plan p {\n  output { done: true }\n}\n');
    const script = "const m = await import(process.argv[1]); m.parse ? m.parse({ file: process.argv[2], text: 'plan p {}\\n' }) : await m.main(['node', 'orch', 'check', process.argv[2]]);";
    execFileSync(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(module).href, plan], { env: { ...process.env, ORCH_WRITE_GRAMMAR_CACHE: '1', ORCH_VALIDATE_GRAMMAR: '' }, stdio: 'ignore' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bundleCheck();
  writeGrammarCache(CHECK_BUNDLE);
  writeGrammarCache(fileURLToPath(new URL('dist/language/index.js', ROOT)));
}
