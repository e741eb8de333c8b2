/**
 * The v0.2 blocks at run time (LANGUAGE.md §7.1): opening a frame into its step instances and
 * blocks, a `for each` list (one frame per item), a `repeat` loop's iterations and its `until`,
 * and a `race` decided by its first completed branch (the others cancelled at once).
 */
import { evaluate, truthy } from '../../evaluate.js';
import { failWith, itemsEnded } from './endings.js';
import { envAt } from './env.js';
import { journalRelabels } from './flow-at-run.js';
import { newRecord } from './fold.js';
import { awaitDeps } from './readiness.js';
import type { RunState } from './run-state.js';
import type { ForEachBlock, RepeatBlock } from './scopes.js';
import { type BlockInst, FAILED, type Frame, Inst, type Logical, addInstance } from './state.js';
import { stepViewFrom, terminalAt } from './views.js';
import type { BlockIR, StepStatus } from '../../../compiler/index.js';

/** Creates what a frame (the plan, an item, an iteration) holds: its races, blocks and step instances. */
export function openFrame(c: RunState, scopeId: string, frame: Frame): void {
  const scope = c.blocks.scopes.get(scopeId)!;
  for (const r of scope.races) newBlock(c, r, frame).status = 'running';
  for (const b of scope.dims) {
    const bi = newBlock(c, b, frame);
    if (b.type === 'for_each') c.waitingLists.add(bi);
    else startIteration(c, bi, 0);
  }
  for (const id of scope.steps) awaitDeps(c, newInst(c, c.logical.get(id)!, frame));
  c.dirtyAll = true;
}

function newBlock(c: RunState, block: BlockIR, frame: Frame): BlockInst {
  const bi: BlockInst = { key: block.id + frame.suffix, block, frame, status: 'pending', error: null, list: null, whole: null, iteration: -1, winner: null };
  c.blockInsts.set(bi.key, bi);
  c.open++;
  return bi;
}

function newInst(c: RunState, l: Logical, frame: Frame): Inst {
  const key = l.step.id + frame.suffix;
  const inst = new Inst(frame, key, l, newRecord(), c.opts.restored?.steps.get(key) ?? c.adoptedRecords.get(key) ?? null);
  c.instances.set(key, inst);
  addInstance(l, inst);
  c.open++;
  return inst;
}

/** The frame of item (or iteration) `index` of `block` inside `frame`. */
export function childFrame(frame: Frame, block: ForEachBlock | RepeatBlock, index: number, item?: unknown): Frame {
  return {
    dims: [...frame.dims, block],
    path: [...frame.path, index],
    items: block.type === 'for_each' ? { ...frame.items, [block.item]: item } : frame.items,
    suffix: frame.suffix + (block.type === 'for_each' ? `[${index}]` : `#${index}`),
  };
}

// ───────────── for each ─────────────

/** The steps a `for each` list reads have ended. */
export function listReady(c: RunState, bi: BlockInst): boolean {
  for (const id of c.blocks.listReads.get(bi.block.id) ?? []) {
    const l = c.logical.get(id);
    if (l && !terminalAt(c, l, sharedPrefixOf(bi.frame, l))) return false;
  }
  return true;
}

function sharedPrefixOf(frame: Frame, l: Logical): number[] {
  const out: number[] = [];
  for (let i = 0; i < l.shape.dims.length && i < frame.dims.length && l.shape.dims[i]!.id === frame.dims[i]!.id; i++) out.push(frame.path[i]!);
  return out;
}

/** Evaluates the list and opens one frame per item (or ends the block as a whole). */
export function openForEach(c: RunState, bi: BlockInst): void {
  const b = bi.block as ForEachBlock;
  const outcome = listOutcome(c, bi);
  if (Array.isArray(outcome)) {
    c.open--;
    bi.list = outcome;
    bi.status = 'running';
    outcome.forEach((item, i) => openFrame(c, b.id, childFrame(bi.frame, b, i, item)));
    return;
  }
  // Without items the block's steps end at once — but not before their other dependencies did.
  if (outsideDepsEnded(c, bi)) return endWhole(c, bi, outcome);
  c.waitingWhole.set(bi, outcome);
}

type Whole = { readonly status: StepStatus; readonly reason: string | null };

function listOutcome(c: RunState, bi: BlockInst): unknown[] | Whole {
  const b = bi.block as ForEachBlock;
  for (const id of c.blocks.listReads.get(b.id) ?? []) {
    const v = stepViewFrom(c, bi.frame, id);
    if (v && (v.skipped || FAILED.has(v.status))) return { status: 'skipped', reason: `${id} ${v.status}` };
  }
  let list: unknown;
  try {
    list = evaluate(b.list, envAt(c, bi.frame, null));
  } catch (err) {
    return { status: 'failed', reason: (err as Error).message };
  }
  // An optional list (`list<T>?`, which the compiler accepts) that is absent has no items.
  if (list === null || list === undefined) return { status: 'completed', reason: null };
  if (!Array.isArray(list)) return { status: 'failed', reason: `for each over ${describeType(list)}: a list is needed` };
  if (list.length === 0) return { status: 'completed', reason: null };
  return list;
}

/** Have the dependencies of the block's steps that lie outside the block ended (in its frame)? */
export function outsideDepsEnded(c: RunState, bi: BlockInst): boolean {
  const inside = new Set(c.blocks.stepsIn.get(bi.block.id) ?? []);
  for (const id of inside)
    for (const d of c.logical.get(id)!.step.deps) {
      const l = c.logical.get(d);
      if (l && !inside.has(d) && !terminalAt(c, l, sharedPrefixOf(bi.frame, l))) return false;
    }
  return true;
}

export function endWhole(c: RunState, bi: BlockInst, w: Whole): void {
  c.open--;
  whole(c, bi, w.status, w.reason);
}

/** A `for each` that ends without items: every step inside ends with it, in this frame. */
function whole(c: RunState, bi: BlockInst, status: StepStatus, reason: string | null): void {
  bi.whole = { status, error: status === 'failed' ? reason : null };
  bi.status = status;
  c.dirtyAll = true;
  const steps = c.blocks.stepsIn.get(bi.block.id) ?? [];
  for (const id of steps) {
    const key = id + bi.frame.suffix;
    if (status === 'skipped') c.emit('step_skipped', key, { reason });
    else if (status === 'failed') c.emit('step_failed', key, { error: reason, status, final: true });
    else c.emit('step_completed', key, { output: [], items: 0 });
  }
  itemsEnded(c, bi.frame);
  if (status === 'failed')
    for (const id of steps) {
      const step = c.logical.get(id)!.step;
      failWith(c, step.on_failure, `step ${id + bi.frame.suffix} failed: ${reason ?? 'failed'}`);
    }
}

function describeType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return 'a record';
  return `a ${typeof v}`;
}

// ───────────── repeat ─────────────

function startIteration(c: RunState, bi: BlockInst, k: number): void {
  bi.iteration = k;
  bi.status = 'running';
  c.runningLoops.add(bi);
  // A resumed run re-enters the iterations its journal already started without journaling them again.
  if ((c.opts.restored?.iterations[bi.key] ?? -1) < k) c.emit('loop_iteration', bi.key, { loop: bi.block.id, index: k });
  openFrame(c, bi.block.id, childFrame(bi.frame, bi.block as RepeatBlock, k));
}

/** Loops whose current iteration ended: `until` decides between done, again and exhausted. */
export function checkLoops(c: RunState): boolean {
  let moved = false;
  for (const bi of [...c.runningLoops]) {
    if (c.mode !== 'normal') break;
    const b = bi.block as RepeatBlock;
    const iteration = childFrame(bi.frame, b, bi.iteration);
    const ended = (c.blocks.stepsIn.get(b.id) ?? []).every((id) => terminalAt(c, c.logical.get(id)!, iteration.path));
    if (!ended) continue;
    moved = true;
    let done = false;
    // Its endorse/declassify calls are used each time it is evaluated (§9.3), keyed by the loop, attempt 0 (no step's).
    journalRelabels(c, bi.key, b.until_relabels, undefined, 0);
    try {
      done = truthy(evaluate(b.until, envAt(c, iteration, null)));
    } catch {
      done = false; // a condition that cannot be evaluated does not hold
    }
    if (done) endLoop(c, bi, 'completed', null);
    else if (bi.iteration + 1 < b.max) startIteration(c, bi, bi.iteration + 1);
    else endLoop(c, bi, 'failed', `loop ${b.id} exhausted after ${b.max} iterations`);
  }
  return moved;
}

function endLoop(c: RunState, bi: BlockInst, status: 'completed' | 'failed', error: string | null): void {
  const b = bi.block as RepeatBlock;
  bi.status = status;
  bi.error = error;
  c.runningLoops.delete(bi);
  c.open--;
  c.dirtyAll = true;
  itemsEnded(c, bi.frame);
  if (status === 'failed') {
    c.emit('step_failed', bi.key, { error, status, final: true, loop: b.id, iterations: bi.iteration + 1 });
    failWith(c, b.on_failure, error!);
  }
}

// ───────────── race ─────────────

