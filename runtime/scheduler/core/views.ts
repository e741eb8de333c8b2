/**
 * How a step looks from somewhere in the plan (LANGUAGE.md §7.1): from inside the blocks it
 * shares with the reader, one instance; beyond them, a list per `for each` (nested n times, in
 * item order) and the last iteration of a `repeat`. Also the views of `race` and `repeat` blocks
 * (`NAME.winner`, `NAME.iterations`, …) and of a loop's previous iteration.
 */
import type { BlockView, StepStatus, StepView } from '../../../compiler/index.js';
import type { RunState } from './run-state.js';
import { type DimBlock, sharedPrefix, suffixOf } from './scopes.js';
import { type BlockInst, FAILED, type Inst, type Logical, TERMINAL } from './state.js';
import { round6 } from '../../../compiler/index.js';

/**
 * What the step and block views read of a run: its steps, instances and blocks, and the `for each`
 * scan memo. The live core has them; `resultFromJournal` rebuilds them from a run's journal.
 */
export type ViewState = Pick<RunState, 'instances' | 'blockInsts' | 'scanned' | 'logical' | 'blocks'>;

/** Where an expression is evaluated: an instance, a block's frame, or the run (null). */
export type Reader = { readonly dims: readonly DimBlock[]; readonly path: readonly number[] } | null;

export function instView(inst: Inst): StepView {
  const r = inst.rec;
  return {
    output: r.status === 'completed' ? r.output : null,
    status: r.status,
    started: r.startedAt !== null,
    completed: r.status === 'completed',
    failed: FAILED.has(r.status),
    skipped: r.status === 'skipped',
    attempts: r.attempts,
    duration: r.startedAt !== null && r.completedAt !== null ? r.completedAt - r.startedAt : 0,
    cost: round6(r.cost),
    resource: r.resource,
  };
}

function plainView(status: StepStatus, output: unknown = null): StepView {
  return {
    output,
    status,
    started: false,
    completed: status === 'completed',
    failed: FAILED.has(status),
    skipped: status === 'skipped',
    attempts: 0,
    duration: 0,
    cost: 0,
    resource: null,
  };
}

const PENDING = plainView('pending');

function blockAt(c: ViewState, dims: readonly DimBlock[], prefix: readonly number[]): BlockInst | undefined {
  return c.blockInsts.get(dims[prefix.length]!.id + suffixOf(dims, prefix));
}

/** The view of step `l` restricted to the instances under `prefix` (indices of its first dimensions). */
export function viewAt(c: ViewState, l: Logical, prefix: readonly number[]): StepView {
  const dims = l.shape.dims;
  if (prefix.length >= dims.length) {
    const inst = c.instances.get(l.step.id + suffixOf(dims, prefix));
    return inst ? instView(inst) : PENDING;
  }
  const bi = blockAt(c, dims, prefix);
  if (!bi) return PENDING;
  if (bi.whole) return plainView(bi.whole.status, bi.whole.status === 'completed' ? [] : null);
  if (bi.block.type === 'repeat') return bi.iteration < 0 ? PENDING : viewAt(c, l, [...prefix, bi.iteration]);
  if (bi.list === null) return PENDING;
  const views = bi.list.map((_, i) => viewAt(c, l, [...prefix, i]));
  const done = terminalAt(c, l, prefix);
  let status: StepStatus;
  if (!done) status = views.some((v) => v.started || v.status === 'running') ? 'running' : 'pending';
  else if (views.some((v) => FAILED.has(v.status))) status = views.find((v) => FAILED.has(v.status))!.status;
  else if (views.length > 0 && views.every((v) => v.status === 'skipped')) status = 'skipped';
  else status = 'completed';
  const durations = views.filter((v) => v.started);
  return {
    output: views.map((v) => v.output),
    status,
    started: durations.length > 0,
    completed: status === 'completed',
    failed: FAILED.has(status),
    skipped: status === 'skipped',
    attempts: views.reduce((a, v) => a + v.attempts, 0),
    duration: durations.reduce((a, v) => Math.max(a, v.duration), 0),
    cost: round6(views.reduce((a, v) => a + v.cost, 0)),
    resource: views.find((v) => v.resource)?.resource ?? null,
  };
}

/** Is `inst` in the last iteration (so far) of every `repeat` around it: part of the step's view from outside? */
export function inLastIterations(c: ViewState, inst: Inst): boolean {
  for (let j = 0; j < inst.dims.length; j++) {
    if (inst.dims[j]!.type !== 'repeat') continue;
    const loop = blockAt(c, inst.dims, inst.path.slice(0, j));
    if (loop && loop.iteration !== inst.path[j]) return false;
  }
  return true;
}

/**
 * Has everything of step `l` under `prefix` ended (a loop: the loop itself ended)? Monotonic, so
 * a `for each` remembers how many leading items it already found ended.
 */
export function terminalAt(c: ViewState, l: Logical, prefix: readonly number[]): boolean {
  const dims = l.shape.dims;
  if (prefix.length >= dims.length) {
    const inst = c.instances.get(l.step.id + suffixOf(dims, prefix));
    return inst !== undefined && TERMINAL.has(inst.rec.status);
  }
  const bi = blockAt(c, dims, prefix);
  if (!bi) return false;
  if (bi.whole) return true;
  if (bi.block.type === 'repeat') return TERMINAL.has(bi.status);
  if (bi.list === null) return false;
  const memo = `${l.step.id}|${bi.key}`;
  let i = c.scanned.get(memo) ?? 0;
  while (i < bi.list.length && terminalAt(c, l, [...prefix, i])) i++;
  c.scanned.set(memo, i);
  return i === bi.list.length;
}

/** The view of step `id` from `reader`. */
export function stepViewFrom(c: ViewState, reader: Reader, id: string): StepView | undefined {
  const l = c.logical.get(id);
  return l ? viewAt(c, l, sharedPrefix(reader, l.shape.dims)) : undefined;
}

/**
 * The block instance of `blockId` a reader sees: the one on the reader's path, and beyond the
 * loops the reader is outside of, their last iteration (as `viewAt` does for a step). A `for
 * each` the reader is outside of has no one instance to read (the compiler refuses that read).
 */
export function blockFrom(c: ViewState, reader: Reader, blockId: string): BlockInst | undefined {
  const outer = c.blocks.blockDims.get(blockId);
  if (!outer) return undefined;
  const path = sharedPrefix(reader, outer);
  while (path.length < outer.length) {
    const loop = blockAt(c, outer, path);
    if (!loop || loop.block.type !== 'repeat' || loop.iteration < 0) return undefined;
    path.push(loop.iteration);
  }
  return c.blockInsts.get(blockId + suffixOf(outer, path));
}

/** `NAME.…` of a `race` or `repeat` block. */
export function blockViewFrom(c: ViewState, reader: Reader, blockId: string): BlockView | undefined {
  const block = c.blocks.byId.get(blockId);
  if (!block) return undefined;
  const bi = blockFrom(c, reader, blockId);
  const status = bi?.status ?? 'pending';
  const base = {
    status,
    started: status !== 'pending',
    completed: status === 'completed',
    failed: FAILED.has(status),
    skipped: status === 'skipped',
  };
  if (block.type === 'race') {
    const winner = bi?.winner ?? null;
    const output = winner !== null && bi ? (c.instances.get(winner + bi.frame.suffix)?.rec.output ?? null) : null;
    return spanFields(c, bi, blockId, { ...base, winner, output });
  }
  if (block.type === 'repeat') {
    const at = reader ? reader.dims.findIndex((d) => d.id === blockId) : -1;
    const iterations = bi ? bi.iteration + 1 : 0;
    return spanFields(c, bi, blockId, { ...base, index: at >= 0 ? reader!.path[at]! : Math.max(0, iterations - 1), iterations });
  }
  return spanFields(c, bi, blockId, base);
}

/**
 * `NAME.duration` and `NAME.cost` (§4's step attributes, which a block reads like a step): from
 * the first start of a step inside to the last end once the block ended (0 before, like a step),
 * and what every step instance inside cost — losers and earlier iterations included. Getters, so
 * a join rule that reads only `status` does not scan a big block's instances.
 */
function spanFields<V extends object>(c: ViewState, bi: BlockInst | undefined, blockId: string, view: V): V {
  let memo: { duration: number; cost: number } | undefined;
  const span = () => (memo ??= bi ? blockSpan(c, bi, blockId) : { duration: 0, cost: 0 });
  Object.defineProperty(view, 'duration', { enumerable: true, get: () => span().duration });
  Object.defineProperty(view, 'cost', { enumerable: true, get: () => span().cost });
  return view;
}

function blockSpan(c: ViewState, bi: BlockInst, blockId: string): { duration: number; cost: number } {
  const prefix = bi.frame.path;
  let first = Infinity;
  let last = -Infinity;
  let cost = 0;
  for (const id of c.blocks.stepsIn.get(blockId) ?? []) {
    for (const inst of c.logical.get(id)?.instances ?? []) {
      if (!prefix.every((p, i) => inst.path[i] === p)) continue;
      const r = inst.rec;
      cost += r.cost;
      if (r.startedAt !== null) first = Math.min(first, r.startedAt);
      if (r.completedAt !== null) last = Math.max(last, r.completedAt);
    }
  }
  return { duration: TERMINAL.has(bi.status) && first <= last ? last - first : 0, cost: round6(cost) };
}

/** `NAME.previous` inside loop `loopId`: the previous iteration's step views by id, or null. */
export function previousFrom(c: ViewState, reader: Reader, loopId: string): { [id: string]: StepView } | null {
  const at = reader ? reader.dims.findIndex((d) => d.id === loopId) : -1;
  if (at < 0 || reader!.path[at]! === 0) return null;
  const prefix = [...reader!.path.slice(0, at), reader!.path[at]! - 1];
  const out: { [id: string]: StepView } = {};
  for (const id of c.blocks.stepsIn.get(loopId) ?? []) out[id] = viewAt(c, c.logical.get(id)!, prefix);
  return out;
}
