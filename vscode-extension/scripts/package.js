// `npm run package:vsix`: bundles the extension client and the language server with esbuild,
// copies the std library next to the server, and packages an installable .vsix with vsce.
// CommonJS on purpose: vscode-extension/package.json (the extension manifest) has no "type".
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const ext = path.resolve(__dirname, '..');
const repo = path.resolve(ext, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ext, 'package.json'), 'utf8'));
const out = process.argv[2] ? path.resolve(process.argv[2]) : path.join(ext, `${manifest.name}-${manifest.version}.vsix`);

async function main() {
  fs.rmSync(path.join(ext, 'dist'), { recursive: true, force: true });
  fs.rmSync(path.join(ext, 'server'), { recursive: true, force: true });

  const bundle = (entry, outfile, options) =>
    esbuild.build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node18', logLevel: 'warning', ...options });
  await bundle(path.join(ext, 'src', 'extension.ts'), path.join(ext, 'dist', 'extension.js'), { format: 'cjs', external: ['vscode'] });
  // The server is ESM (the compiler finds its std library through import.meta.url); bundled
  // CommonJS dependencies still get a `require`.
  const esm = {
    format: 'esm',
    banner: { js: "import { createRequire as __orchRequire } from 'node:module'; const require = __orchRequire(import.meta.url);" },
  };
  await bundle(path.join(repo, 'lsp', 'main.ts'), path.join(ext, 'server', 'server.mjs'), esm);
  // Diagnostics and verification run on worker threads; their scripts sit next to the server.
  await bundle(path.join(repo, 'lsp', 'check-worker.ts'), path.join(ext, 'server', 'check-worker.mjs'), esm);
  await bundle(path.join(repo, 'lsp', 'verify-worker.ts'), path.join(ext, 'server', 'verify-worker.mjs'), esm);
  // The compiler locates shipped files by walking up to a package.json named "orch".
  fs.writeFileSync(path.join(ext, 'server', 'package.json'), JSON.stringify({ name: 'orch', private: true, type: 'module' }, null, 2) + '\n');
  fs.cpSync(path.join(repo, 'stdlib', 'std'), path.join(ext, 'server', 'stdlib', 'std'), { recursive: true });
  fs.cpSync(path.join(repo, 'compiler', 'schema'), path.join(ext, 'server', 'compiler', 'schema'), { recursive: true });

  const vsce = path.join(path.dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--out', out], {
    cwd: ext,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`vsce package failed (exit ${r.status})`);
  console.log(`wrote ${out}`);
}

main().catch((err) => {
  console.error(`package:vsix: ${err && err.message ? err.message : err}`);
  process.exit(1);
});
