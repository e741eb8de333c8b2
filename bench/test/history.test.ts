/**
 * The bench's history (bench/history.ts): every run appends a line, and each figure is compared
 * with the last value it had — also when the runs in between measured other areas, and past a
 * line that is not a record.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { BenchFigure } from '../figure.js';
import { appendHistory, change, figureKey, HISTORY_VERSION, moved, NOISE, previousValues, readHistory, record } from '../history.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const fig = (area: string, name: string, value: number): BenchFigure & { area: string } => ({ area, name, value, unit: 'steps/s', target: '', met: true });
const repo = fileURLToPath(new URL('../..', import.meta.url));

describe('bench history', () => {
  it('appends one record a run, with the commit, Node version and load, and reads them back in order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-history-'));
    dirs.push(dir);
    const file = join(dir, 'history.jsonl');
    expect(readHistory(file)).toEqual([]);
    const first = record([fig('runtime', 'rate', 100), fig('check', 'wall', 2)], ['check', 'runtime'], [1, 2, 3], repo);
    appendHistory(file, first);
    appendFileSync(file, 'not a record\n{"history":"other/v9","figures":[]}\n\n');
    const second = record([fig('runtime', 'rate', 120)], ['runtime'], [0.5, 0.5, 0.5], repo);
    appendHistory(file, second);

    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(4);
    const records = readHistory(file);
    expect(records).toEqual([first, second]);
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    expect(first.commit.startsWith(head)).toBe(true);
    expect(first).toMatchObject({ history: HISTORY_VERSION, node: process.version, areas: ['check', 'runtime'], load: { start: [1, 2, 3] } });
    expect(first.load.end).toHaveLength(3);

    // The runtime's rate was last measured by the second run, the check's wall by the first.
    const previous = previousValues(records);
    expect(previous.get(figureKey('runtime', 'rate'))).toMatchObject({ value: 120, commit: second.commit });
    expect(previous.get(figureKey('check', 'wall'))).toMatchObject({ value: 2, commit: first.commit });
    expect(previous.get(figureKey('check', 'rate'))).toBeUndefined();
  });

  it('says how far a figure moved, and whether by more than the noise', () => {
    const at = (value: number) => ({ value, commit: 'abc1234', measuredAt: '' });
    expect(change(at(100), 112)).toBeCloseTo(12);
    expect(change(at(-50), -25)).toBeCloseTo(50);
    expect(change(undefined, 5)).toBeNull();
    expect(change(at(0), 5)).toBeNull();
    expect(change(at(Number.NaN), 5)).toBeNull();
    expect(moved(change(at(100), 100 + NOISE * 100 + 1))).toBe(true);
    expect(moved(change(at(100), 100 - NOISE * 100 + 1))).toBe(false);
    expect(moved(null)).toBe(false);
    // A share of the main thread's time: 0.01 % → 0.13 % is +1,000 % but a tenth of a point.
    expect(moved(change(at(0.0115), 0.134), 0.134 - 0.0115)).toBe(false);
    expect(moved(change(at(22.5), 27.3), 27.3 - 22.5)).toBe(true);
  });
});
