/** One measured figure, as each `bench/<area>.ts` module reports it. */
export interface BenchFigure {
  /** e.g. "orch check, 10,000-step plan (wall, incl. Node start-up)" */
  readonly name: string;
  readonly value: number;
  /** e.g. "s", "ms", "steps/s", "runs/s", "MB", "%" */
  readonly unit: string;
  /** Human-readable target, e.g. "≤ 1.0 s"; empty when the figure has none. */
  readonly target: string;
  /** Whether the target is met (true when there is no target). */
  readonly met: boolean;
}

/** Every bench module exports this; `bench/run.ts` runs them in order. */
export type BenchModule = { readonly bench: () => Promise<readonly BenchFigure[]> };

/** The middle value (the upper one of an even count): a figure the box's outliers move least. */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Smoke mode (`npm run bench -- --smoke`, or `ORCH_BENCH_SMOKE=1`; `.ci/run` runs every area so):
 * each area does its work once at tiny sizes, so that a bench that crashes or hangs fails CI.
 * Its figures measure nothing and meet no target — run.ts prints no table and writes no results.
 * An area sizes each amount of work (inputs, rounds, warm-ups, waits) with `smoke(full, tiny)`,
 * keeping every code path it measures.
 */
export const SMOKE = process.env.ORCH_BENCH_SMOKE === '1';

/** `full` when measuring, `tiny` in smoke mode. */
export function smoke<T>(full: T, tiny: T): T {
  return SMOKE ? tiny : full;
}
