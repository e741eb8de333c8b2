/**
 * The VS Code extension runs its bundled language server on Electron's Node (20 or 22 today),
 * where no native module built for the user's Node can load. So the server bundles (built here
 * as `vscode-extension/scripts/package.js` builds them) must not contain better-sqlite3, its
 * `bindings` loader, or any `.node` file: the SQLite journal is reached only by the CLI. Local
 * users' password hashing (@node-rs/argon2, native) stays outside the bundle, as package.js
 * leaves it, and is only ever imported on demand — which the language server never asks for.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const REPO = path.join(import.meta.dirname, '..');
const ENTRIES = ['lsp/main.ts', 'lsp/check-worker.ts', 'lsp/verify-worker.ts', 'vscode-extension/src/extension.ts'];

describe('the extension bundles have no native module in them', () => {
  for (const entry of ENTRIES)
    it(entry, async () => {
      const client = entry.startsWith('vscode-extension/');
      const r = await build({
        entryPoints: [path.join(REPO, entry)],
        outfile: path.join(REPO, 'out.mjs'),
        bundle: true,
        platform: 'node',
        target: 'node18',
        format: client ? 'cjs' : 'esm',
        external: client ? ['vscode'] : ['@node-rs/argon2'],
        write: false,
        metafile: true,
        logLevel: 'silent',
        absWorkingDir: REPO,
      });
      const inputs = Object.keys(r.metafile.inputs);
      expect(inputs.length).toBeGreaterThan(10);
      expect(inputs.filter((i) => /node_modules\/(better-sqlite3|bindings|prebuild-install|node-gyp-build)\/|\.node$/.test(i))).toEqual([]);
      const text = r.outputFiles.map((f) => f.text).join('\n');
      expect(text).not.toMatch(/better-sqlite3|better_sqlite3/);
      expect(text).not.toMatch(/require\(\s*["'][^"']*\.node["']\s*\)/);
      // Only a dynamic import of argon2 (at the first password), never a static one at load.
      expect(text).not.toMatch(/^import[^;]*["']@node-rs\/argon2["']/m);
    });
});
