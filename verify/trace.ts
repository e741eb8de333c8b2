/**
 * What one simulated run looks like to the verifier: the scheduler's events in order, with the
 * virtual time of each, and — when an invariant breaks — a snapshot of the state that broke it.
 */
import type { StepStatus } from '../compiler/index.js';

export interface TraceEvent {
  /** Virtual milliseconds since the run started. */
  readonly at_ms: number;
  /** The scheduler's event type (`step_started`, `step_failed`, `guardrail_violation` …). */
  readonly type: string;
  /** IR step id (without the item index). */
  readonly step: string | null;
  /** `for each` item index, or null for a plain step. */
  readonly item: number | null;
  readonly attempt: number | null;
  readonly resource: string | null;
  /** Short human text: the error, the guardrail, the approval decision… */
  readonly detail: string | null;
}

export interface StateSnapshot {
  readonly at_ms: number;
  readonly run: { readonly status: string; readonly cost: number; readonly elapsed: number };
  readonly steps: { readonly [stepId: string]: StepStatus };
  /** Instance keys running at that moment (`send[2]`). */
  readonly running: readonly string[];
  /**
   * For a user invariant: the value of each step attribute / signal its condition reads, at that
   * moment (`{"send.started": true, "approve.completed": false}`).
   */
  readonly values?: { readonly [expression: string]: unknown };
}

export interface Violation {
  /** The invariant's name as declared (user) or its built-in name. */
  readonly invariant: string;
  readonly builtin: boolean;
  readonly message: string;
  /** Index into the case's events of the event after which it broke (-1: before any). */
  readonly eventIndex: number;
  readonly state: StateSnapshot;
}

export interface CaseResult {
  readonly violation: Violation | null;
  /** Every violation found, in order (the monitor's `every`: one per broken user invariant). */
  readonly violations: readonly Violation[];
  readonly final: StateSnapshot;
  /** Identifies the sequence of events (types and steps), to count distinct paths. */
  readonly path: string;
  /** The events as a readable trace (built on demand: only counterexamples need it). */
  trace(): TraceEvent[];
}

export function instanceLabel(step: string, item: number | null): string {
  return item === null ? step : `${step}[${item}]`;
}

/** `send[2]` → { step: 'send', item: 2 }. */
export function parseInstance(key: string): { step: string; item: number | null } {
  // `id`, `id[i]` (one `for each`), or a v0.2 path: `id[i][j]`, `id#k`, `id[i]#k` — the item is
  // kept only for the one-level form the per-group checks are written for.
  const m = /^([^[#]*)((?:\[\d+\]|#\d+)*)$/.exec(key);
  if (!m) return { step: key, item: null };
  const one = /^\[(\d+)\]$/.exec(m[2]!);
  return { step: m[1]!, item: one ? Number(one[1]) : null };
}
