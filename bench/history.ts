/**
 * The bench's memory: every `npm run bench` appends one line to bench/history.jsonl — its figures,
 * the commit they were measured on, the Node version, the cores and the load — and each figure is
 * printed against its previous value, so a change that moves a figure is seen the day it lands.
 * A figure "moved" when it differs from its previous value by more than the noise this shared
 * 2-core box shows between two runs of the same code (`NOISE`); the file is committed with the
 * change that moved one, so the repository keeps the figures each change left behind.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import type { BenchFigure } from './figure.js';

export const HISTORY_VERSION = 'orch.bench-history/v1';

/** Two runs of the same code differ by up to this much here (rates ±5–8 % under other tenants). */
export const NOISE = 0.1;

export interface HistoryFigure {
  readonly area: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

/** One line of bench/history.jsonl. */
export interface HistoryRecord {
  readonly history: typeof HISTORY_VERSION;
  /** ISO time the run ended. */
  readonly measuredAt: string;
  /** `git rev-parse --short HEAD`, with `+dirty` when tracked files had changes; `unknown` outside git. */
  readonly commit: string;
  readonly node: string;
  readonly cpus: number;
  /** 1-, 5- and 15-minute load averages as the run started and as it ended. */
  readonly load: { readonly start: readonly number[]; readonly end: readonly number[] };
  /** The areas measured (a run of some areas leaves the others' previous values as they were). */
  readonly areas: readonly string[];
  readonly figures: readonly HistoryFigure[];
}

export const loadNow = (): number[] => loadavg().map((l) => Math.round(l * 100) / 100);

/** The records of `file` in order; a line that is not one (hand-edited, cut short) is skipped. */
export function readHistory(file: string): HistoryRecord[] {
  if (!existsSync(file)) return [];
  const out: HistoryRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as HistoryRecord;
      if (r.history === HISTORY_VERSION && Array.isArray(r.figures)) out.push(r);
    } catch {
      // not a record
    }
  }
  return out;
}

export interface Previous {
  readonly value: number;
  readonly commit: string;
  readonly measuredAt: string;
}

/** The last value each figure (by area and name) had in `records`. */
export function previousValues(records: readonly HistoryRecord[]): Map<string, Previous> {
  const out = new Map<string, Previous>();
  for (const r of records) for (const f of r.figures) out.set(figureKey(f.area, f.name), { value: f.value, commit: r.commit, measuredAt: r.measuredAt });
  return out;
}

export const figureKey = (area: string, name: string): string => `${area}\u0000${name}`;

/** `+12.3 %` against the previous value; null without one (or against 0). */
export function change(previous: Previous | undefined, value: number): number | null {
  if (!previous || previous.value === 0 || !Number.isFinite(previous.value) || !Number.isFinite(value)) return null;
  return ((value - previous.value) / Math.abs(previous.value)) * 100;
}

/**
 * Whether a figure moved beyond the noise: by more than `NOISE` of its value, and — for a figure
 * in % (`points`: its change in percentage points) — by a point or more, as a share of under 1 %
 * is a handful of profiler samples whose count doubles from one run to the next.
 */
export const moved = (pct: number | null, points: number | null = null): boolean =>
  pct !== null && Math.abs(pct) > NOISE * 100 && (points === null || Math.abs(points) >= 1);

export function appendHistory(file: string, record: HistoryRecord): void {
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

export function record(figures: readonly (BenchFigure & { area: string })[], areas: readonly string[], startLoad: readonly number[], repo: string): HistoryRecord {
  return {
    history: HISTORY_VERSION,
    measuredAt: new Date().toISOString(),
    commit: commitOf(repo),
    node: process.version,
    cpus: availableParallelism(),
    load: { start: startLoad, end: loadNow() },
    areas,
    figures: figures.map((f) => ({ area: f.area, name: f.name, value: f.value, unit: f.unit })),
  };
}

function commitOf(repo: string): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const head = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}
