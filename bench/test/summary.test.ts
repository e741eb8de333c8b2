/** `npm run bench -- --summary N`: each figure over the last N runs of its area, as issue #54's acceptance reads it. */
import { describe, expect, it } from 'vitest';
import { HISTORY_VERSION, type HistoryRecord } from '../history.js';
import { median, summarize } from '../summary.js';

const run = (commit: string, areas: string[], figures: [string, string, number][], load = 1): HistoryRecord => ({
  history: HISTORY_VERSION,
  measuredAt: '2026-11-28T00:00:00.000Z',
  commit,
  node: 'v20.20.2',
  cpus: 2,
  load: { start: [load, 0, 0], end: [load + 0.5, 0, 0] },
  areas,
  figures: figures.map(([area, name, value]) => ({ area, name, value, unit: 'ms' })),
});

describe('bench summary', () => {
  it('takes the median and spread of each figure over the last N runs that measured its area', () => {
    const records = [
      run('a', ['check'], [['check', 'wall', 100]]),
      run('b', ['check', 'cluster'], [['check', 'wall', 5], ['cluster', 'cpu', 30]], 2),
      run('c', ['cluster'], [['cluster', 'cpu', 10]]),
      run('d', ['check'], [['check', 'wall', 7]], 3),
      run('e', ['check'], [['check', 'wall', 6]]),
    ];
    const s = summarize(records, 3);
    // check: the last three runs of check are b, d, e (a is older; c measured no check).
    expect(s.figures.find((f) => f.area === 'check')).toEqual({ area: 'check', name: 'wall', unit: 'ms', median: 6, min: 5, max: 7, runs: 3 });
    // cluster: only two runs measured it; both count.
    expect(s.figures.find((f) => f.area === 'cluster')).toMatchObject({ median: 20, min: 10, max: 30, runs: 2 });
    expect(s.commits).toEqual(['b', 'c', 'd', 'e']);
    expect(s.load).toEqual([1, 3.5]);
  });

  it('only the areas asked for, with the commits and load of their own runs', () => {
    const records = [run('a', ['check'], [['check', 'wall', 1]], 9), run('b', ['cluster'], [['cluster', 'cpu', 2]], 1)];
    const s = summarize(records, 5, (area) => area === 'cluster');
    expect(s.figures.map((f) => f.area)).toEqual(['cluster']);
    expect(s.commits).toEqual(['b']);
    expect(s.load).toEqual([1, 1.5]);
  });

  it('an empty history summarizes to nothing, and the median of an even count is the mean of the middle two', () => {
    expect(summarize([], 5)).toEqual({ figures: [], commits: [], load: null });
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([3, 1, 2])).toBe(2);
  });
});
