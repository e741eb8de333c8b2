/**
 * The scheduler's state: the plan as a graph of logical steps, the step instances made from them
 * (one, or one per item of a `for each`), and what each instance is doing right now.
 */
import type { BlockIR, StepIR, StepStatus } from '../../../compiler/index.js';
import type { StepRecord } from './fold.js';
import type { Lease } from './limits.js';
import type { DimBlock, PlanBlocks, Shape } from './scopes.js';
import type { AttemptUsage } from '../types.js';

export const TERMINAL: ReadonlySet<StepStatus> = new Set(['completed', 'failed', 'skipped', 'cancelled', 'timeout']);
export const FAILED: ReadonlySet<StepStatus> = new Set(['failed', 'cancelled', 'timeout']);

/**
 * What an instance is doing while it is in progress. Only `call` has an attempt with the
 * executor; `policy` and `tool_check` hold their slot while the hook or the executor answers.
 */
export type Activity =
  | { readonly kind: 'idle' }
  | { readonly kind: 'policy'; readonly token: number }
  /** Holds its slot while the executor compares an MCP tool with the lock (`check_tool`). */
  | { readonly kind: 'tool_check'; readonly token: number }
  | { readonly kind: 'call'; readonly token: number }
  | { readonly kind: 'wait'; readonly token: number }
  | { readonly kind: 'until'; readonly token: number }
  | { readonly kind: 'approval'; readonly token: number; readonly args: { readonly [name: string]: unknown } }
  | { readonly kind: 'subplan'; readonly token: number };

export const IDLE: Activity = { kind: 'idle' };

/** The one timer an instance may have armed: its wait, its timeout (or one held), or its retry backoff. */
export type StepTimer =
  | { readonly kind: 'wait'; readonly token: number }
  /** `waited`: how much of `ms` had passed when it was armed (§9.4 resource waits, a resumed wait). */
  | { readonly kind: 'timeout'; readonly token: number; readonly what: string; readonly ms: number; readonly waited: number }
  /** A call's timeout not counting yet: the attempt waits in the executor's queue for a thread. */
  | { readonly kind: 'held'; readonly token: number; readonly what: string; readonly ms: number; readonly waited: number }
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

/**
 * One step instance. A class, not a literal spread from its frame: a 100,000-step run holds one
 * per step, and spread literals gave each its own hidden class (a map, descriptors and a
 * property array: about 600 bytes an instance). The frame is shared, its fields read through.
 */
export class Inst implements Frame {
  activity: Activity = IDLE;
  timer: StepTimer | null = null;
  /** Bumped whenever what the instance waits for changes; stale outcomes and timers carry an old one. */
  token = 0;
  lease: Lease | null = null;
  secretsUsed: { [name: string]: string } | null = null;
  /** The capability cost charged when the current attempt started (replaced by a reported cost). */
  attemptCapCost = 0;
  /** The launched attempt's whole reservation (null: none launched since the slots were taken). */
  attemptReserved: number | null = null;
  /** A reported cost's difference to the estimate, journaled with the attempt's end event. */
  costDelta = 0;
  /** The usage the current attempt reported, journaled with its end event (§8.1). */
  usage: AttemptUsage | null = null;
  /** What the running attempt has reported so far (`ctx.usage`, as it calls it): counted if it never ends by itself. */
  reportedSoFar: AttemptUsage | null = null;
  /** In its logical step's `waiting` list: created and not yet ready. */
  waiting = false;
  /** §9.4: since when it waits for an available resource; null when it does not. */
  waitingSince: number | null = null;
  /** §9.4: how long its waits for an available resource lasted so far: they count against its timeout. */
  waitedMs = 0;

  constructor(
    readonly frame: Frame,
    readonly key: string,
    readonly logical: Logical,
    /** The journaled facts: changed only by `foldStep` (and once when a resumed run restores it). */
    readonly rec: StepRecord,
    /** What the journal of the interrupted run says (resume only). */
    readonly restored: StepRecord | null,
  ) {}

  get dims(): readonly DimBlock[] {
    return this.frame.dims;
  }

  get path(): readonly number[] {
    return this.frame.path;
  }

  get items(): { readonly [name: string]: unknown } {
    return this.frame.items;
  }

  get suffix(): string {
    return this.frame.suffix;
  }
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
  /** In creation order; most steps have one (allocated exactly: `[inst]`, then grown). */
  instances: Inst[];
  /** Logical steps that list this one in `deps` (set once, by `buildGraph`). */
  dependents: readonly Logical[];
  /**
   * Instances created and not yet ready (dependencies still running), in the order they began to
   * wait; may still hold ones that stopped waiting (`inst.waiting` false) until `waitingOf`
   * drops them. Null when none waits: a Set per step cost about 300 bytes each.
   */
  waiting: Inst[] | null;
  /** How many instances wait. */
  waitingCount: number;
}

const NO_INSTANCES: readonly Inst[] = [];

export function addInstance(l: Logical, inst: Inst): void {
  if (l.instances.length === 0) l.instances = [inst];
  else l.instances.push(inst);
}

export function startWaiting(inst: Inst): void {
  const l = inst.logical;
  if (inst.waiting) return;
  inst.waiting = true;
  l.waitingCount++;
  if (l.waiting === null) l.waiting = [inst];
  else l.waiting.push(inst);
}

export function stopWaiting(inst: Inst): void {
  if (!inst.waiting) return;
  inst.waiting = false;
  const l = inst.logical;
  if (--l.waitingCount === 0) l.waiting = null;
}

/** The instances of `l` that wait, in the order they began to. */
export function waitingOf(l: Logical): readonly Inst[] {
  const w = l.waiting;
  if (w === null) return NO_INSTANCES;
  if (w.length !== l.waitingCount) {
    let j = 0;
    for (const i of w) if (i.waiting) w[j++] = i;
    w.length = j;
  }
  return w;
}

/** The plan's steps as logical nodes with their dependents. */
export function buildGraph(steps: readonly StepIR[], blocks: PlanBlocks): Map<string, Logical> {
  const logical = new Map<string, Logical>();
  steps.forEach((step, order) => {
    logical.set(step.id, { step, order, shape: blocks.shapes.get(step.id)!, instances: [], dependents: [], waiting: null, waitingCount: 0 });
  });
  for (const l of logical.values())
    for (const d of new Set(l.step.deps)) {
      const dep = logical.get(d);
      if (dep) (dep.dependents as Logical[]).push(l);
    }
  // Exactly sized: an array grown by push keeps room for 17.
  for (const l of logical.values()) l.dependents = l.dependents.length > 0 ? l.dependents.slice() : NO_LOGICAL;
  return logical;
}

const NO_LOGICAL: readonly Logical[] = [];

/** Ready-queue order: priority, then plan order, then path (item and iteration order). */
export function readyBefore(a: Inst, b: Inst): boolean {
  const byStep = a.logical.step.priority - b.logical.step.priority || a.logical.order - b.logical.order;
  if (byStep !== 0) return byStep < 0;
  for (let i = 0; i < a.path.length && i < b.path.length; i++) if (a.path[i] !== b.path[i]) return a.path[i]! < b.path[i]!;
  return false;
}

/** The step id of an instance key (`id[i][j]#k` → `id`; a sub-plan's path `id/step` → `id`). */
export function baseId(key: string): string {
  return /^[^[#/]*/.exec(key)![0];
}
