// Bundles the `orch check` entry (dist/cli/check-main.js, compiled by tsc) into one CommonJS
// script, dist/bundle/check.cjs: loading one script instead of some forty modules is most of what
// start-up spends. `npm run build` runs this after tsc; bin/orch.js uses the bundle while it is
// newer than the compiled tree. Packages are bundled too (chevrotain's own single-file build among
// them): nothing is resolved or linked at start-up.
//
// CommonJS, not ESM, because only a script can be compiled with V8's code cache on every Node
// version orch supports (vm.Script's cachedData; Node 20 has no module.enableCompileCache):
// bin/check-bundle.js runs it that way. A script has no top-level await and no import.meta, so
// language/chevrotain.js (which awaits its import) becomes a static re-export here, and
// import.meta.url is the bundle's own URL (the grammar cache and the package root are found from it).
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = new URL('../', import.meta.url);

export const CHECK_BUNDLE = fileURLToPath(new URL('dist/bundle/check.cjs', ROOT));
/** Chevrotain's single-file ESM build (language/chevrotain.ts loads the same file at run time). */
const CHEVROTAIN = fileURLToPath(new URL('../chevrotain.mjs', import.meta.resolve('chevrotain')));

/**
 * jsonc-parser's ESM build: its `main` is a UMD wrapper whose `require('./impl/…')` calls esbuild
 * cannot follow (the bundle would look for those files beside itself).
 */
const JSONC_PARSER = fileURLToPath(new URL('lib/esm/main.js', import.meta.resolve('jsonc-parser/package.json')));

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

/** language/chevrotain.js without its top-level await: the same names, imported statically. */
function chevrotainStatic() {
  return {
    name: 'chevrotain-static',
    setup(build) {
      build.onLoad({ filter: /[\\/]dist[\\/]language[\\/]chevrotain\.js$/ }, () => ({ contents: "export * from 'chevrotain';", loader: 'js' }));
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
    format: 'cjs',
    target: 'node20',
    define: { 'import.meta.url': '__orchBundleUrl' },
    alias: { chevrotain: CHEVROTAIN, 'jsonc-parser': JSONC_PARSER },
    plugins: [unusedPackagesDropped(['ajv', '@dagrejs/dagre']), chevrotainStatic()],
    minifyWhitespace: true,
    logLevel: 'warning',
  });
  // Its digest on its first line: the identity its V8 code cache is kept under
  // (bin/check-bundle.js), without hashing a megabyte in every process (~7 ms). Then the bundle's
  // URL (import.meta.url above), after "use strict" — the code is strict like the modules it came
  // from only while that directive comes first (esbuild's banner would go before it).
  const text = `"use strict";\nvar __orchBundleUrl = require('node:url').pathToFileURL(__filename).href;\n${readFileSync(outfile, 'utf8')}`;
  writeFileSync(outfile, `// orch-check-bundle ${createHash('sha256').update(text).digest('hex')}\n${text}`);
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
  // The ESM bundle of earlier builds: nothing runs it any more, and the package would ship it.
  rmSync(fileURLToPath(new URL('dist/bundle/check.js', ROOT)), { force: true });
  await bundleCheck();
  writeGrammarCache(CHECK_BUNDLE);
  writeGrammarCache(fileURLToPath(new URL('dist/language/index.js', ROOT)));
}
