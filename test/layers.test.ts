/**
 * The layer rules (`.dependency-cruiser.cjs`) hold for the repository and would catch a breach:
 * the same rules run over a scratch tree with an upward import, an import of internals, an import
 * cycle inside a layer and a scheduler core that imports people code.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const DEPCRUISE = join(REPO, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = join(REPO, '.dependency-cruiser.cjs');

function cruise(cwd: string, dirs: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [DEPCRUISE, ...dirs, '--config', CONFIG, '--output-type', 'err'], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('layer rules', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'orch-layers-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('hold for the repository', () => {
    const r = cruise(REPO, ['language', 'compiler', 'runtime', 'verify', 'serve', 'lsp', 'cli', 'stdlib', 'bench', 'test']);
    expect(r.out).toMatch(/no dependency violations/);
    expect(r.code).toBe(0);
  });

  it('reject an import from a lower layer to a higher one, and into another layer\'s internals', () => {
    for (const d of ['language', 'compiler', 'runtime', 'cli']) mkdirSync(join(scratch, d), { recursive: true });
    writeFileSync(join(scratch, 'language', 'index.ts'), 'export const parse = 1;\n');
    writeFileSync(join(scratch, 'language', 'lexer.ts'), 'export const lex = 1;\n');
    writeFileSync(join(scratch, 'cli', 'main.ts'), 'export const main = 1;\n');
    writeFileSync(join(scratch, 'runtime', 'index.ts'), "import { main } from '../cli/main.js';\nexport const r = main;\n");
    writeFileSync(join(scratch, 'compiler', 'index.ts'), "import { lex } from '../language/lexer.js';\nimport { parse } from '../language/index.js';\nexport const c = lex + parse;\n");
    writeFileSync(join(scratch, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowJs: false } }));
    const r = cruise(scratch, ['language', 'compiler', 'runtime', 'cli']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/runtime-imports-a-higher-layer: runtime\/index\.ts → cli\/main\.ts/);
    expect(r.out).toMatch(/into-language-internals: compiler\/index\.ts → language\/lexer\.ts/);
    expect(r.out).not.toMatch(/language\/index\.ts/);
  });

  it('reject an import cycle inside a layer, and a scheduler core that imports people, models or a backend', () => {
    const dir = join(scratch, 'cycle');
    mkdirSync(join(dir, 'runtime', 'scheduler', 'core'), { recursive: true });
    mkdirSync(join(dir, 'runtime', 'people'), { recursive: true });
    writeFileSync(join(dir, 'runtime', 'a.ts'), "import { b } from './b.js';\nexport const a = () => b;\n");
    writeFileSync(join(dir, 'runtime', 'b.ts'), "import type { a } from './a.js';\nexport const b = 1 as unknown as typeof a;\n");
    writeFileSync(join(dir, 'runtime', 'people', 'who.ts'), 'export const who = 1;\n');
    writeFileSync(join(dir, 'runtime', 'scheduler', 'core', 'decide.ts'), "import { who } from '../../people/who.js';\nexport const d = who;\n");
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowJs: false } }));
    const r = cruise(dir, ['runtime']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/error no-circular: runtime\/(a|b)\.ts/);
    expect(r.out).toMatch(/scheduler-core-stays-pure: runtime\/scheduler\/core\/decide\.ts → runtime\/people\/who\.ts/);
  });

  it('reject a compiler module that could open a connection (§9.4: checks from the files alone)', () => {
    const dir = join(scratch, 'net');
    mkdirSync(join(dir, 'compiler'), { recursive: true });
    writeFileSync(join(dir, 'compiler', 'probe.ts'), "import { connect } from 'node:net';\nimport * as https from 'https';\nexport const p = [connect, https];\n");
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowJs: false } }));
    const r = cruise(dir, ['compiler']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/compiler-opens-no-connection: compiler\/probe\.ts → (node:)?net/);
    expect(r.out).toMatch(/compiler-opens-no-connection: compiler\/probe\.ts → https/);
  });
});
