// `npm run package:vsix`: bundles the extension client and the language server with esbuild,
// copies the std library next to the server, and packages an installable .vsix with vsce.
// CommonJS on purpose: vscode-extension/package.json (the extension manifest) has no "type".
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const esbuild = require('esbuild');

const ext = path.resolve(__dirname, '..');
const repo = path.resolve(ext, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ext, 'package.json'), 'utf8'));
const out = process.argv[2] ? path.resolve(process.argv[2]) : path.join(ext, `${manifest.name}-${manifest.version}.vsix`);
// Everything is built in a staging copy of the extension folder, so that packagings running at
// the same time (tests in parallel) never delete each other's files.
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-vsix-stage-'));

/**
 * The whole `orch` CLI, so Run / Verify / Preview need nothing on PATH: `server/` is laid out
 * like the orch package (`dist/...` next to `package.json`), because the runtime finds its
 * worker script, the built-in handlers and the compiler by those paths. Packages that start
 * their own files (piscina's worker) or are native (better-sqlite3, only for `orch run`'s
 * journal; @node-rs/argon2 and its platform package, only for local users' passwords) stay
 * external and are copied into `server/node_modules`.
 */
async function bundleCli(bundle, esm) {
  const server = path.join(stage, 'server');
  // @node-rs/argon2 (local users' password hashes) loads a native package for this platform.
  const argon2Natives = fs.readdirSync(path.join(repo, 'node_modules', '@node-rs')).filter((n) => n.startsWith('argon2-')).map((n) => `@node-rs/${n}`);
  const external = ['piscina', 'better-sqlite3', '@node-rs/argon2'];
  const opts = { ...esm, external, plugins: [staticImports] };
  await esbuild.build({
    stdin: {
      contents: "import { main } from './cli/index.ts';\nprocess.exitCode = await main(process.argv);\n",
      resolveDir: repo,
      sourcefile: 'orch-cli.ts',
      loader: 'ts',
    },
    outfile: path.join(server, 'dist', 'cli', 'main.js'),
    bundle: true, platform: 'node', target: 'node18', logLevel: 'warning', ...opts,
  });
  // runtime/load-plan.ts imports the compiler at run time from `../compiler/index.js`.
  await bundle(path.join(repo, 'compiler', 'index.ts'), path.join(server, 'dist', 'compiler', 'index.js'), opts);
  await bundle(path.join(repo, 'runtime', 'executor', 'worker.ts'), path.join(server, 'dist', 'runtime', 'executor', 'worker.js'), opts);
  // What piscina loads in each thread: CommonJS that imports worker.js (worker-entry.cts says why);
  // tsc's output has no import but that one, so it is copied as it is.
  const entry = path.join(repo, 'dist', 'runtime', 'executor', 'worker-entry.cjs');
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  fs.copyFileSync(entry, path.join(server, 'dist', 'runtime', 'executor', 'worker-entry.cjs'));
  const handlers = path.join(repo, 'stdlib', 'handlers');
  for (const f of fs.readdirSync(handlers).filter((n) => n.endsWith('.ts'))) {
    await bundle(path.join(handlers, f), path.join(server, 'dist', 'stdlib', 'handlers', f.replace(/\.ts$/, '.js')), opts);
  }
  for (const pkg of [...external, ...argon2Natives, ...dependenciesOf(external)]) {
    const from = path.join(repo, 'node_modules', pkg);
    fs.cpSync(from, path.join(server, 'node_modules', pkg), {
      recursive: true,
      // Sources, tests, docs and build intermediates are not needed at run time.
      filter: (src) => {
        const rel = '/' + path.relative(from, src).split(path.sep).join('/');
        return !/\/(deps|src|test|test-jest|docs|benchmark|scripts|obj|obj\.target|\.deps|test_extension\.node)(\/|$)/.test(rel)
          && !/(\.(map|md|ts|cc|c|h|a|gyp|gypi|mk|yml)|Makefile|\.npmignore)$/.test(rel);
      },
    });
  }
}

/**
 * The CLI loads each command module with `await import('./x.js')` to start fast, and the runtime
 * loads its Postgres and cluster modules the same way so that a SQLite user never loads `pg`.
 * Inside one bundle that buys nothing, and esbuild turns such modules into async initialisers
 * which, with the language layer's top-level await (language/chevrotain.ts) and an import cycle,
 * never settle (the process exits with code 13). So, in the bundle only, the CLI's and the
 * runtime's literal relative `await import(...)`s become static imports.
 */
const staticImports = {
  name: 'static-imports',
  setup(build) {
    build.onLoad({ filter: /[\\/](cli|runtime)[\\/].*\.ts$/ }, (args) => {
      let source = fs.readFileSync(args.path, 'utf8');
      const specs = [];
      source = source.replace(/\bawait import\((['"])(\.{1,2}\/[^'"]+)\1\)/g, (_, _q, spec) => {
        let i = specs.indexOf(spec);
        if (i < 0) i = specs.push(spec) - 1;
        return `await Promise.resolve(__static${i})`;
      });
      const head = specs.map((spec, i) => `import * as __static${i} from ${JSON.stringify(spec)};\n`).join('');
      return { contents: head + source, loader: 'ts' };
    });
  },
};

/** The runtime dependencies of `pkgs`, transitively (without optional ones). */
function dependenciesOf(pkgs) {
  const seen = new Set();
  const walk = (name) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'node_modules', name, 'package.json'), 'utf8'));
    for (const dep of Object.keys(manifest.dependencies || {})) {
      // prebuild-install only downloads binaries at install time.
      if (seen.has(dep) || dep === 'prebuild-install') continue;
      seen.add(dep);
      walk(dep);
    }
  };
  pkgs.forEach(walk);
  return [...seen];
}

async function main() {
  // The manifest, media, grammar, icons…: what vsce packages, minus build outputs and packages.
  fs.cpSync(ext, stage, {
    recursive: true,
    filter: (src) => !/^(node_modules|dist|server)(\/|$)|\.vsix$/.test(path.relative(ext, src).split(path.sep).join('/')),
  });

  const bundle = (entry, outfile, options) =>
    esbuild.build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node18', logLevel: 'warning', ...options });
  await bundle(path.join(ext, 'src', 'extension.ts'), path.join(stage, 'dist', 'extension.js'), { format: 'cjs', external: ['vscode'] });
  // The server is ESM (the compiler finds its std library through import.meta.url); bundled
  // CommonJS dependencies still get a `require`.
  const esm = {
    format: 'esm',
    banner: { js: "import { createRequire as __orchRequire } from 'node:module'; const require = __orchRequire(import.meta.url);" },
    plugins: [staticImports],
    // Native, and loaded only to check a password (never by the language server): beside the
    // bundle in server/node_modules, copied with the CLI's packages. piscina too: it starts its
    // own worker file from its folder (bundled, it looks for it beside the bundle, by a
    // `__dirname` ESM has not) — the server runs plan tests' handlers on it (orch.runTest).
    external: ['@node-rs/argon2', 'piscina'],
    // jsonc-parser's `main` is a UMD wrapper whose `require('./impl/…')` esbuild cannot follow.
    alias: { 'jsonc-parser': path.join(path.dirname(require.resolve('jsonc-parser/package.json', { paths: [repo] })), 'lib', 'esm', 'main.js') },
  };
  await bundle(path.join(repo, 'lsp', 'main.ts'), path.join(stage, 'server', 'server.mjs'), esm);
  // Diagnostics and verification run on worker threads; their scripts sit next to the server.
  await bundle(path.join(repo, 'lsp', 'check-worker.ts'), path.join(stage, 'server', 'check-worker.mjs'), esm);
  await bundle(path.join(repo, 'lsp', 'verify-worker.ts'), path.join(stage, 'server', 'verify-worker.mjs'), esm);
  await bundle(path.join(repo, 'lsp', 'estimate-worker.ts'), path.join(stage, 'server', 'estimate-worker.mjs'), esm);
  await bundleCli(bundle, esm);
  // The compiler locates shipped files by walking up to a package.json named "orch".
  fs.writeFileSync(path.join(stage, 'server', 'package.json'), JSON.stringify({ name: 'orch', version: JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).version, private: true, type: 'module' }, null, 2) + '\n');
  fs.cpSync(path.join(repo, 'stdlib', 'std'), path.join(stage, 'server', 'stdlib', 'std'), { recursive: true });
  fs.cpSync(path.join(repo, 'compiler', 'schema'), path.join(stage, 'server', 'compiler', 'schema'), { recursive: true });
  // `orch serve` / `orch ui` from the bundled CLI serve the dashboard built by `npm run build`.
  const ui = path.join(repo, 'dist', 'ui');
  if (!fs.existsSync(path.join(ui, 'app.js'))) throw new Error(`${ui} is missing: run \`npm run build\` first`);
  fs.cpSync(ui, path.join(stage, 'server', 'dist', 'ui'), { recursive: true });
  const vsce = path.join(path.dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--out', out], {
    cwd: stage,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`vsce package failed (exit ${r.status})`);
  console.log(`wrote ${out}`);
}

main()
  .catch((err) => {
    console.error(`package:vsix: ${err && err.message ? err.message : err}`);
    process.exitCode = 1;
  })
  .finally(() => fs.rmSync(stage, { recursive: true, force: true }));
