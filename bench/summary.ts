/**
 * Issue #54's acceptance reads each figure as "the median of 5 runs with its spread": one bench
 * run on this shared box moves by more than most changes do. `npm run bench -- --summary [N]`
 * reads the history (history.ts) and gives each figure's median, lowest and highest value over
 * the last N runs that measured its area, with those runs' commits and loads, so the figure a
 * note quotes is the one the file holds.
 */
import type { HistoryRecord } from './history.js';

export interface FigureSummary {
  readonly area: string;
  readonly name: string;
  readonly unit: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** How many runs it was measured in (at most N; fewer when the history has fewer). */
  readonly runs: number;
}

export interface Summary {
  readonly figures: readonly FigureSummary[];
  /** The commits of the runs read, oldest first, without repeats. */
  readonly commits: readonly string[];
  /** The lowest and highest 1-minute load seen as those runs started or ended. */
  readonly load: readonly [number, number] | null;
}

/** The median of `values` (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Each figure over the last `n` records whose `areas` include its area (a run of other areas
 * does not count against a figure's N), in the order figures first appear in those runs; only
 * the areas `wanted` accepts (all by default), and the commits and load of their runs alone.
 */
export function summarize(records: readonly HistoryRecord[], n: number, wanted: (area: string) => boolean = () => true): Summary {
  const taken = new Map<string, HistoryRecord[]>();
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    for (const area of r.areas) {
      if (!wanted(area)) continue;
      const list = taken.get(area) ?? [];
      if (list.length < n) list.push(r);
      taken.set(area, list);
    }
  }
  const used = new Set<HistoryRecord>([...taken.values()].flat());
  const values = new Map<string, { area: string; name: string; unit: string; values: number[] }>();
  for (const r of records) {
    if (!used.has(r)) continue;
    for (const f of r.figures) {
      if (!taken.get(f.area)?.includes(r) || !Number.isFinite(f.value)) continue;
      const key = `${f.area}\u0000${f.name}`;
      const entry = values.get(key) ?? { area: f.area, name: f.name, unit: f.unit, values: [] };
      entry.values.push(f.value);
      values.set(key, entry);
    }
  }
  const ordered = records.filter((r) => used.has(r));
  const loads = ordered.flatMap((r) => [r.load.start[0], r.load.end[0]]).filter((l): l is number => typeof l === 'number');
  return {
    figures: [...values.values()].map((e) => ({ area: e.area, name: e.name, unit: e.unit, median: median(e.values), min: Math.min(...e.values), max: Math.max(...e.values), runs: e.values.length })),
    commits: [...new Set(ordered.map((r) => r.commit))],
    load: loads.length ? [Math.min(...loads), Math.max(...loads)] : null,
  };
}
