import { existsSync, readdirSync, readFileSync } from 'node:fs';

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

/**
 * A thread's CPU time in µs, the main thread's by default (Linux: /proc, in ns where the kernel
 * keeps schedstat, else in 10 ms clock ticks); NaN elsewhere.
 */
export function threadCpuUs(tid: string = String(process.pid)): number {
  const task = `/proc/self/task/${tid}`;
  try {
    return Number(readFileSync(`${task}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    // no schedstat: the stat file's ticks
  }
  if (!existsSync(`${task}/stat`)) return NaN;
  const fields = readFileSync(`${task}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

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

/** Clock ticks of /proc's stat times: USER_HZ, 100 on every Linux Node runs on. */
const TICK_MS = 10;

/** Fields of /proc/PID/stat after the command (which may hold spaces), from `state` on; null when gone. */
function procStat(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  } catch {
    return null;
  }
}

/** A process's CPU time (all its threads, user + system) in ms from /proc, NaN when it is gone. */
export function processCpuMs(pid: number): number {
  const f = procStat(pid);
  return f ? (Number(f[11]) + Number(f[12])) * TICK_MS : NaN;
}

/** A live process's main thread's CPU time in ms, in ns where the kernel keeps schedstat, else in ticks. */
function liveCpuMs(pid: number, stat: readonly string[]): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return (Number(stat[11]) + Number(stat[12])) * TICK_MS;
  }
}

/**
 * The CPU a Postgres cluster spent so far, ms: its postmaster's own, its live children's (backends,
 * WAL writer, checkpointer, autovacuum) and those it has reaped (`cutime` + `cstime`), so that a
 * backend whose connection closed between two readings still counts. Live processes (one thread
 * each) are read in ns from schedstat where the kernel keeps it: in 10 ms ticks a 1,000-step run's
 * ~100 ms would read ±10 %. Linux only (NaN elsewhere).
 */
export function postgresCpuMs(dataDir: string): number {
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
  } catch {
    return NaN;
  }
  const own = procStat(postmaster);
  if (!own) return NaN;
  let ms = liveCpuMs(postmaster, own) + (Number(own[13]) + Number(own[14])) * TICK_MS;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = procStat(Number(entry));
    if (f && Number(f[1]) === postmaster) ms += liveCpuMs(Number(entry), f);
  }
  return ms;
}

/**
 * The CPU seconds (user + system) of this process's waited-for children so far: /proc's cutime +
 * cstime, in clock ticks (100 a second on Linux); NaN elsewhere. Under load a command's CPU moves
 * far less than its wall time.
 */
export function childrenCpuS(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return NaN;
  }
}
