/**
 * The scheduler's state: the plan as a graph of logical steps, the step instances made from them
 * (one, or one per item of a `for each`), and what each instance is doing right now.
 */
import type { BlockIR, StepIR, StepStatus } from '../../../compiler/index.js';
import type { StepRecord } from './fold.js';
import type { Lease } from './limits.js';
import type { DimBlock, PlanBlocks, Shape } from './scopes.js';

export const TERMINAL: ReadonlySet<StepStatus> = new Set(['completed', 'failed', 'skipped', 'cancelled', 'timeout']);
export const FAILED: ReadonlySet<StepStatus> = new Set(['failed', 'cancelled', 'timeout']);

/**
 * What an instance is doing while it is in progress. Only `call` has an attempt with the
 * executor; `policy` holds its slot while the preExecution hook decides.
 */
export type Activity =
  | { readonly kind: 'idle' }
  | { readonly kind: 'policy'; readonly token: number }
  | { readonly kind: 'call'; readonly token: number }
  | { readonly kind: 'wait'; readonly token: number }
  | { readonly kind: 'until'; readonly token: number }
  | { readonly kind: 'approval'; readonly token: number; readonly args: { readonly [name: string]: unknown } }
  | { readonly kind: 'subplan'; readonly token: number };

export const IDLE: Activity = { kind: 'idle' };

/** The one timer an instance may have armed: its wait, its timeout, or its retry backoff. */
export type StepTimer =
  | { readonly kind: 'wait'; readonly token: number }
  | { readonly kind: 'timeout'; readonly token: number; readonly what: string; readonly ms: number }
  | { readonly kind: 'backoff'; readonly token: number };

/** Where instances live: the dimensions around them and one index per dimension. */
export interface Frame {
  readonly dims: readonly DimBlock[];
  readonly path: readonly number[];
  /** The `for each` item variables in scope. */
  readonly items: { readonly [name: string]: unknown };
  /** `suffixOf(dims, path)`: what instance and block keys end with. */
  readonly suffix: string;
}

export const ROOT_FRAME: Frame = { dims: [], path: [], items: {}, suffix: '' };

export interface Inst extends Frame {
  readonly key: string;
  readonly logical: Logical;
  /** The journaled facts: changed only by `foldStep` (and once when a resumed run restores it). */
  readonly rec: StepRecord;
  activity: Activity;
  timer: StepTimer | null;
  /** Bumped whenever what the instance waits for changes; stale outcomes and timers carry an old one. */
  token: number;
  lease: Lease | null;
  /** What the journal of the interrupted run says (resume only). */
  readonly restored: StepRecord | null;
  secretsUsed: { [name: string]: string } | null;
  /** The capability cost charged when the current attempt started (replaced by a reported cost). */
  attemptCapCost: number;
  /** A reported cost's difference to the estimate, journaled with the attempt's end event. */
  costDelta: number;
}

/**
 * One block in one frame: a `for each` (its list, once evaluated), a `repeat` (its current
 * iteration) or a `race` (its winner). `whole`: a `for each` that ended without items (its list
 * was empty, could not be evaluated, or what it reads was skipped) — every step inside shares it.
 */
export interface BlockInst {
  readonly key: string;
  readonly block: BlockIR;
  /** The frame the block sits in. */
  readonly frame: Frame;
  status: StepStatus;
  error: string | null;
  list: unknown[] | null;
  whole: { readonly status: StepStatus; readonly error: string | null } | null;
  iteration: number;
  winner: string | null;
}

export interface Logical {
  readonly step: StepIR;
  readonly order: number;
  readonly shape: Shape;
  readonly instances: Inst[];
  /** Logical steps that list this one in `deps`. */
  readonly dependents: Logical[];
  /** Instances created and not yet ready (dependencies still running). */
  readonly waiting: Set<Inst>;
}

/** The plan's steps as logical nodes with their dependents. */
export function buildGraph(steps: readonly StepIR[], blocks: PlanBlocks): Map<string, Logical> {
  const logical = new Map<string, Logical>();
  steps.forEach((step, order) => {
    logical.set(step.id, { step, order, shape: blocks.shapes.get(step.id)!, instances: [], dependents: [], waiting: new Set() });
  });
  for (const l of logical.values())
    for (const d of new Set(l.step.deps)) {
      const dep = logical.get(d);
      if (dep) dep.dependents.push(l);
    }
  return logical;
}

/** Ready-queue order: priority, then plan order, then path (item and iteration order). */
export function readyBefore(a: Inst, b: Inst): boolean {
  const byStep = a.logical.step.priority - b.logical.step.priority || a.logical.order - b.logical.order;
  if (byStep !== 0) return byStep < 0;
  for (let i = 0; i < a.path.length && i < b.path.length; i++) if (a.path[i] !== b.path[i]) return a.path[i]! < b.path[i]!;
  return false;
}
