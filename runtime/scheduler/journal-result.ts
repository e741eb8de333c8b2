/**
 * The execution result (LANGUAGE.md §6) of a run read back from its journal: the step instances
 * and blocks the live core held are rebuilt from the journaled records (`replay`), and the core's
 * own `buildResult` and step views turn them into the result — so a finished run reads back
 * (`orch serve`'s `GET /runs/ID`, the dashboard) exactly as `orch run --json` printed it: nested
 * `for each` outputs, a loop's last iteration, cancelled steps counted apart. Pure.
 *
 * The journal does not hold a `for each` list: it is evaluated again, as the core evaluated it,
 * once the steps it reads completed — and is at least as long as the items its steps journaled.
 * (A list that reads `run`, `now()` or a context signal changed later may differ: then only the
 * items the journal shows count.)
 */
import type { BlockIR, PlanIR } from '../../compiler/index.js';
import { evaluate, type EvalEnv } from '../evaluate.js';
import { childFrame } from './core/blocks.js';
import { buildResult, type ResultState } from './core/result.js';
import { planBlocks, sharedPrefix, suffixOf, type DimBlock, type ForEachBlock } from './core/scopes.js';
import { addInstance, baseId, buildGraph, Inst, TERMINAL, type BlockInst, type Frame } from './core/state.js';
import { blockViewFrom, previousFrom, stepViewFrom, terminalAt } from './core/views.js';
import { replay, type RestoredRun } from './replay.js';
import type { ExecutionResult, RunEvent } from './types.js';

export function resultFromJournal(plan: PlanIR, runId: string, events: readonly RunEvent[], now = Date.now()): ExecutionResult {
  const restored = replay(events);
  const blocks = planBlocks(plan);
  const state: ResultState = {
    instances: new Map(),
    blockInsts: new Map(),
    scanned: new Map(),
    logical: buildGraph(plan.steps, blocks),
    blocks,
    runId,
    plan,
    runStatus: 'running',
    startedAt: restored.startedAt ?? events[0]?.ts ?? now,
    completedAt: null,
    totalCost: 0,
    outputValue: null,
    failure: null,
    approvalsWaiting: () => [],
  };
  endOfRun(state, events, restored);
  const rebuild = new Rebuild(plan, state, restored, events, now);
  rebuild.fromRecords();
  // Opening frames can make a list readable that another frame's steps wait on: until nothing moves.
  for (let pass = 0; pass <= blocks.byId.size && rebuild.openFrame('', { dims: [], path: [], items: {}, suffix: '' }); pass++);
  rebuild.dropUnmade();
  state.scanned.clear();
  return buildResult(state, now, restored.startedBy ?? null);
}

/** How the run ended, from its end event (a run still going keeps `running`, or `paused`). */
function endOfRun(state: ResultState, events: readonly RunEvent[], restored: RestoredRun): void {
  let cost: number | null = null;
  let waiting: readonly string[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === 'execution_paused' && restored.paused && !restored.terminal) {
      waiting = e.data.waiting ?? [];
      break;
    }
    if (e.type !== 'execution_completed' && e.type !== 'execution_failed' && e.type !== 'execution_cancelled') continue;
    state.completedAt = e.ts;
    if (e.type === 'execution_completed') {
      state.runStatus = 'completed';
      state.outputValue = e.data.output;
      cost = e.data.cost;
    } else if (e.type === 'execution_failed') {
      state.runStatus = e.data.status;
      state.failure = e.data.error;
      cost = e.data.cost;
    } else {
      state.runStatus = 'cancelled';
      state.failure = e.data.reason;
    }
    break;
  }
  if (!restored.terminal && restored.paused) state.runStatus = 'paused';
  state.approvalsWaiting = () => waiting;
  // The end event's figure; a cancelled run's is what its steps spent.
  state.totalCost = cost ?? [...restored.steps.values()].reduce((a, s) => a + s.cost, 0);
}

class Rebuild {
  private readonly lists = new Map<string, readonly unknown[]>();
  private readonly input: unknown;

  constructor(
    private readonly plan: PlanIR,
    private readonly s: ResultState,
    private readonly restored: RestoredRun,
    private readonly events: readonly RunEvent[],
    private readonly now: number,
  ) {
    const created = events.find((e) => e.type === 'plan_created');
    this.input = created?.type === 'plan_created' ? created.data.input : {};
  }

  /** Every journaled instance, and the blocks around it reaching at least as far as it. */
  fromRecords(): void {
    const { logical, blocks } = this.s;
    for (const [key, rec] of this.restored.steps) {
      const at = parseKey(key);
      const l = at && logical.get(at.id);
      if (!at || !l || at.path.length > l.shape.dims.length) continue;
      const dims = l.shape.dims;
      if (suffixOf(dims, at.path) !== key.slice(at.id.length)) continue;
      if (at.path.length < dims.length) continue;
      // A cancel asked for an instance not made yet is journaled at once: no evidence of its item.
      if (!(rec.status === 'cancelled' && rec.attempts === 0)) this.reach(dims, at.path);
      const inst = new Inst(frameOf(dims, at.path, {}), key, l, rec, null);
      this.s.instances.set(key, inst);
      addInstance(l, inst);
    }
    // A `for each` that ended without items journals each of its steps once, in its own frame: the
    // first such end is the block's (a whole-step cancel journaled after it changes nothing).
    for (const e of this.events) {
      if (e.stepId === null || (e.type !== 'step_completed' && e.type !== 'step_skipped' && e.type !== 'step_failed')) continue;
      const at = parseKey(e.stepId);
      const dims = at && logical.get(at.id)?.shape.dims;
      if (!at || !dims || at.path.length >= dims.length || dims[at.path.length]!.type !== 'for_each') continue;
      if (suffixOf(dims, at.path) !== e.stepId.slice(at.id.length)) continue;
      this.reach(dims, at.path);
      const bi = this.blockAt(dims[at.path.length]!, dims.slice(0, at.path.length), at.path);
      if (bi.whole) continue;
      const status = e.type === 'step_completed' ? 'completed' : e.type === 'step_skipped' ? 'skipped' : e.data.status;
      bi.whole = { status, error: e.type === 'step_failed' ? e.data.error : null };
      bi.status = status;
    }
    for (const [key, k] of Object.entries(this.restored.iterations)) {
      const at = parseKey(key);
      const outer = at && blocks.blockDims.get(at.id);
      const block = at && blocks.byId.get(at.id);
      if (!at || !outer || block?.type !== 'repeat' || at.path.length !== outer.length || suffixOf(outer, at.path) !== key.slice(at.id.length)) continue;
      this.reach(outer, at.path);
      const bi = this.blockAt(block, outer, at.path);
      bi.iteration = Math.max(bi.iteration, k);
    }
  }

  /** Drops the instances whose item or iteration the run never reached (a cancel asked ahead of it). */
  dropUnmade(): void {
    for (const l of this.s.logical.values()) {
      const dropped = l.instances.filter((i) => !this.reached(i));
      if (dropped.length === 0) continue;
      for (const i of dropped) this.s.instances.delete(i.key);
      l.instances = l.instances.filter((i) => this.s.instances.get(i.key) === i);
    }
  }

  private reached(inst: Inst): boolean {
    const { dims, path } = inst;
    for (let p = 0; p < dims.length; p++) {
      const bi = this.s.blockInsts.get(dims[p]!.id + suffixOf(dims, path.slice(0, p)));
      if (!bi) return false;
      if (bi.block.type === 'repeat' ? path[p]! > bi.iteration : bi.whole !== null || bi.list === null || path[p]! >= bi.list.length) return false;
    }
    return true;
  }

  /** Settles the blocks of a frame and opens their items and iterations; true when something changed. */
  openFrame(scopeId: string, frame: Frame): boolean {
    const scope = this.s.blocks.scopes.get(scopeId);
    if (!scope) return false;
    let changed = false;
    for (const r of scope.races) {
      const bi = this.blockAt(r, frame.dims, frame.path);
      const winner = this.restored.winners[bi.key];
      const ended = this.restored.steps.get(bi.key);
      if (winner !== undefined) Object.assign(bi, { winner, status: 'completed' });
      else if (ended && TERMINAL.has(ended.status)) Object.assign(bi, { status: ended.status, error: ended.error });
    }
    for (const b of scope.dims) {
      const bi = this.blockAt(b, frame.dims, frame.path);
      if (b.type === 'for_each') {
        if (bi.whole) continue;
        if (!this.lists.has(bi.key)) {
          const list = this.evaluateList(b, frame);
          if (list) {
            this.lists.set(bi.key, list);
            if (list.length > (bi.list?.length ?? 0)) {
              growList(bi, list.length);
              changed = true;
            }
          }
        }
        const items = this.lists.get(bi.key);
        for (let i = 0; i < (bi.list?.length ?? 0); i++) if (this.openFrame(b.id, childFrame(frame, b, i, items?.[i]))) changed = true;
      } else {
        for (let k = 0; k <= bi.iteration; k++) if (this.openFrame(b.id, childFrame(frame, b, k))) changed = true;
        const before = bi.status;
        this.settleLoop(bi);
        if (bi.status !== before) changed = true;
      }
    }
    return changed;
  }

  /**
   * The list as the core evaluated it: once every step it reads completed (else it ended the block
   * as a whole, which the journal shows). Null when it cannot be known or has no items.
   */
  private evaluateList(b: ForEachBlock, frame: Frame): readonly unknown[] | null {
    for (const id of this.s.blocks.listReads.get(b.id) ?? []) {
      const l = this.s.logical.get(id);
      if (!l || !terminalAt(this.s, l, sharedPrefix(frame, l.shape.dims))) return null;
      if (stepViewFrom(this.s, frame, id)?.status !== 'completed') return null;
    }
    try {
      const list = evaluate(b.list, this.env(frame));
      return Array.isArray(list) && list.length > 0 ? list : null;
    } catch {
      return null;
    }
  }

  /** A loop ended when the journal says it failed, or once its last iteration's steps all ended. */
  private settleLoop(bi: BlockInst): void {
    const failed = this.restored.steps.get(bi.key);
    if (failed && TERMINAL.has(failed.status)) {
      bi.status = failed.status;
      bi.error = failed.error;
      return;
    }
    const path = [...bi.frame.path, bi.iteration];
    const ended = bi.iteration >= 0 && (this.s.blocks.stepsIn.get(bi.block.id) ?? []).every((id) => terminalAt(this.s, this.s.logical.get(id)!, path));
    bi.status = ended ? 'completed' : 'running';
  }

  /** What a list is evaluated against in `frame` (`core/env.ts`), as of the run's end. */
  private env(frame: Frame): EvalEnv {
    const s = this.s;
    const at = s.completedAt ?? this.now;
    const p = this.plan;
    return {
      vars: {
        input: this.input,
        context: this.restored.context,
        run: { cost: s.totalCost, elapsed: at - s.startedAt, status: s.runStatus, started_by: this.restored.startedBy?.subject ?? null },
        plan: { cost: p.estimates.cost, duration: p.estimates.duration_ms, steps: p.steps.length, local_ratio: p.estimates.local_ratio },
      },
      items: frame.dims.some((d) => d.type === 'for_each') ? frame.items : undefined,
      step: (id) => stepViewFrom(s, frame, id),
      block: (id) => blockViewFrom(s, frame, id),
      previous: (loop) => previousFrom(s, frame, loop),
      now: () => at,
    };
  }

  /** Block `block` in the frame of the dimensions `dims` at `path`, made when first met. */
  private blockAt(block: BlockIR, dims: readonly DimBlock[], path: readonly number[]): BlockInst {
    const frame = frameOf(dims, path, {});
    const key = block.id + frame.suffix;
    let bi = this.s.blockInsts.get(key);
    if (!bi) {
      bi = { key, block, frame, status: 'running', error: null, list: null, whole: null, iteration: -1, winner: null };
      this.s.blockInsts.set(key, bi);
    }
    return bi;
  }

  /** The blocks around the frame `path` leads to, each reaching at least as far as `path`. */
  private reach(dims: readonly DimBlock[], path: readonly number[]): void {
    for (let p = 0; p < path.length; p++) {
      const bi = this.blockAt(dims[p]!, dims.slice(0, p), path.slice(0, p));
      if (bi.block.type === 'for_each') growList(bi, path[p]! + 1);
      else bi.iteration = Math.max(bi.iteration, path[p]!);
    }
  }
}

function frameOf(dims: readonly DimBlock[], path: readonly number[], items: Frame['items']): Frame {
  return { dims, path, items, suffix: suffixOf(dims, path) };
}

/** `id[i][j]#k` → the step (or block) id and its indices; null for a sub-plan's path (`sub/step`). */
function parseKey(key: string): { id: string; path: number[] } | null {
  if (key.includes('/')) return null;
  const id = baseId(key);
  const path: number[] = [];
  for (const m of key.slice(id.length).matchAll(/\[(\d+)\]|#(\d+)/g)) path.push(Number(m[1] ?? m[2]));
  return { id, path };
}

function growList(bi: BlockInst, length: number): void {
  const list = bi.list ?? [];
  while (list.length < length) list.push(null);
  bi.list = list;
}
