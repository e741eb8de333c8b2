/**
 * `orch verify`'s progress line: shown on a terminal (a real pseudo-terminal from util-linux's
 * `script`), redrawn in place and erased before the result; absent when stderr is a pipe.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { orchAsync } from '../../examples/test/cli.js';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));
const PLAN = fileURLToPath(new URL('../../examples/copy_review/copy_review.orch', import.meta.url));
const hasScript = spawnSync('script', ['--version']).status === 0;

/** Erase-line, as the progress line writes it (a string: lint refuses control characters in regexp literals). */
const ERASE = '\r\x1b[2K';
const erased = (rest: string) => new RegExp(ERASE.replace('[', '\\[') + rest, 'g');

const verifyArgs = ['verify', PLAN, '--runs', '600', '--seed', '1'];

describe('orch verify progress', () => {
  it.skipIf(!hasScript)('redraws one line on a terminal and erases it before the result', () => {
    const quoted = [process.execPath, BIN, ...verifyArgs].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = spawnSync('script', ['-qfec', quoted, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
    expect(r.status).toBe(0);
    const drawn = [...r.stdout.matchAll(erased('verifying copy_review: ([\\d,]+)/600 scenarios'))].map((m) => Number(m[1]!.replace(/,/g, '')));
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn).toEqual([...drawn].sort((a, b) => a - b));
    expect(drawn.every((n) => n >= 1 && n <= 600)).toBe(true);
    // The last redraw is erased, and the result follows on a clean line.
    const afterLast = r.stdout.slice(r.stdout.lastIndexOf('verifying copy_review:'));
    expect(afterLast).toMatch(erased('[^\\r]*copy_review'));
  });

  it('prints nothing of it when stderr is not a terminal', async () => {
    const r = await orchAsync(verifyArgs);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/verifying/);
    expect(r.stdout).not.toMatch(/verifying/);
    expect(r.stdout).not.toContain(ERASE);
  });
});
