/**
 * The dependency DAG of a plan: cycles, topological stages and the critical path. Pure: steps
 * in, structure out. Edges run from a dependency to its dependant.
 *
 * Why not @dagrejs/graphlib here: its `topsort`/`tarjan` recurse once per node (a 10,000-step
 * chain overflows the stack) and its string-keyed edges cost ~1 s on a 10k-step plan. Plain
 * adjacency arrays with Kahn's algorithm are iterative and linear. (dagre, which lays out the
 * SVG graph, still uses graphlib internally.)
 */

export interface DagInput {
  readonly id: string;
  readonly deps: readonly string[];
  /** Estimated duration of the step itself (for the critical path). */
  readonly duration: number;
}

export interface Dag {
  readonly preds: ReadonlyMap<string, readonly string[]>;
  readonly succs: ReadonlyMap<string, readonly string[]>;
}

export interface DagResult extends Dag {
  /** Each cycle in data-flow order (a → b → … → back to a), starting at its earliest-declared step. */
  readonly cycles: readonly (readonly string[])[];
  /** Topological order, stage by stage, declaration order within a stage (empty when cyclic). */
  readonly order: readonly string[];
  /** The same order as indexes into the steps given (no names, no maps: a walk of the plan needs only this). */
  readonly orderIndexes: Int32Array;
  /**
   * A topological order that keeps declaration order wherever the dependencies allow (each step
   * after its dependencies, else as declared; empty when cyclic). A walk of the plan's tree in it
   * reads the tree front to back, as the parse laid it out: a 100,000-step plan walked stage by
   * stage jumps across ~150 MB of tree at every step.
   */
  readonly walkIndexes: Int32Array;
  /** A step's index among the steps given (the DAG's own table: a walk need not build another). */
  indexOf(id: string): number | undefined;
  /**
   * The index of step `i`'s dependency named `id`, or -1 when it has none of that name: a scan of
   * its few dependencies, where `indexOf` asks a table of every step (slow to ask at 100,000).
   */
  depIndex(i: number, id: string): number;
  readonly stageOf: ReadonlyMap<string, number>;
  readonly stages: readonly (readonly string[])[];
  readonly criticalPath: readonly string[];
  readonly duration: number;
}

export function buildDag(steps: readonly DagInput[]): DagResult {
  const n = steps.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set(steps[i]!.id, i);
  // Adjacency in flat arrays (compressed rows): two arrays for the whole plan instead of two per
  // step. preds of i: predFlat[predStart[i] .. predStart[i + 1]), in `deps` order without repeats.
  const predStart = new Int32Array(n + 1);
  const predList: number[] = [];
  const succCount = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    predStart[i] = predList.length;
    const deps = steps[i]!.deps;
    // A few dependencies are checked for repeats by scanning; many through a set.
    const seen = deps.length > 8 ? new Set<number>() : undefined;
    for (const d of deps) {
      const j = index.get(d);
      if (j === undefined) continue;
      if (seen) {
        if (seen.has(j)) continue;
        seen.add(j);
      } else if (predList.indexOf(j, predStart[i]) !== -1) continue;
      predList.push(j);
      succCount[j]!++;
    }
  }
  predStart[n] = predList.length;
  if (predList.length === 0) {
    // No dependencies (a file of small plans is mostly these): every step is a stage-0 root and
    // the critical path is the longest step.
    let end = -1;
    for (let i = 0; i < n; i++) if (end === -1 || steps[i]!.duration > steps[end]!.duration) end = i;
    return new BuiltDag(steps, index, undefined, undefined, [], null, end, null, end === -1 ? 0 : 0 + steps[end]!.duration);
  }
  const predFlat = Int32Array.from(predList);
  // succs of j in increasing step order (as dependants are declared)
  const succStart = new Int32Array(n + 1);
  for (let j = 0; j < n; j++) succStart[j + 1] = succStart[j]! + succCount[j]!;
  const succFlat = new Int32Array(predFlat.length);
  const fill = succStart.slice(0, n);
  for (let i = 0; i < n; i++) for (let k = predStart[i]!; k < predStart[i + 1]!; k++) succFlat[fill[predFlat[k]!]!++] = i;
  const preds: Csr = { start: predStart, flat: predFlat };

  // Kahn's algorithm; stage = longest chain of dependencies; finish = longest latency chain.
  const indeg = new Int32Array(n);
  for (let i = 0; i < n; i++) indeg[i] = predStart[i + 1]! - predStart[i]!;
  const stage = new Int32Array(n);
  const finish = new Float64Array(n);
  const via = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue[tail++] = i;
  for (let head = 0; head < tail; head++) {
    const v = queue[head]!;
    finish[v]! += steps[v]!.duration;
    for (let k = succStart[v]!; k < succStart[v + 1]!; k++) {
      const w = succFlat[k]!;
      if (stage[v]! + 1 > stage[w]!) stage[w] = stage[v]! + 1;
      // On equal finish times the deeper predecessor: with zero latencies the path is still the chain.
      if (via[w] === -1 || finish[v]! > finish[w]! || (finish[v] === finish[w] && stage[v]! > stage[via[w]!]!)) {
        finish[w] = finish[v]!;
        via[w] = v;
      }
      if (--indeg[w]! === 0) queue[tail++] = w;
    }
  }

  const succs: Csr = { start: succStart, flat: succFlat };
  if (tail < n) return new BuiltDag(steps, index, preds, succs, findCycles(steps, preds, indeg), null, -1, null, 0);

  let end = -1;
  for (let i = 0; i < n; i++) if (end === -1 || finish[i]! > finish[end]! || (finish[i] === finish[end] && stage[i]! > stage[end]!)) end = i;
  return new BuiltDag(steps, index, preds, succs, [], stage, end, via, end === -1 ? 0 : finish[end]!);
}

/**
 * A plan's DAG. Only `cycles` and `duration` are computed up front: the stage lists, the order,
 * the critical path and the name-keyed adjacency (guardrail proofs) are built when first read —
 * `orch check` of a plan without guardrails needs none of them. A class with getters on its
 * prototype: a file of 100,000 one-step plans builds 100,000 of these, and an object given
 * getters of its own (closures, `Object.defineProperties`) cost ~4 KB of garbage each.
 */
class BuiltDag implements DagResult {
  private named: Dag | undefined;
  private staged: { stages: string[][]; stageOf: Map<string, number>; order: string[] } | undefined;
  private critical: string[] | undefined;
  private ordered: Int32Array | undefined;
  private walked: Int32Array | undefined;

  constructor(
    private readonly steps: readonly DagInput[],
    private readonly index: ReadonlyMap<string, number>,
    /** Undefined when there are no edges. */
    private readonly predRows: Csr | undefined,
    private readonly succRows: Csr | undefined,
    /** Non-empty: no order, no stages, no critical path. */
    readonly cycles: readonly (readonly string[])[],
    /** Stage of each step; null: every step is at stage 0. */
    private readonly stage: Int32Array | null,
    /** Last step of the critical path, -1 when none. */
    private readonly end: number,
    /** Predecessor of each step on its longest chain (-1: none); null: no step has one. */
    private readonly via: Int32Array | null,
    readonly duration: number,
  ) {}

  get preds(): ReadonlyMap<string, readonly string[]> {
    return this.adjacency().preds;
  }

  get succs(): ReadonlyMap<string, readonly string[]> {
    return this.adjacency().succs;
  }

  get order(): readonly string[] {
    return this.byStage().order;
  }

  get orderIndexes(): Int32Array {
    if (!this.ordered) {
      // A counting sort by stage: stable, so declaration order within a stage, as `order`.
      const n = this.cycles.length === 0 ? this.steps.length : 0;
      const stage = this.stage;
      const out = new Int32Array(n);
      if (!stage) for (let i = 0; i < n; i++) out[i] = i;
      else {
        let top = 0;
        for (let i = 0; i < n; i++) if (stage[i]! > top) top = stage[i]!;
        const at = new Int32Array(top + 2);
        for (let i = 0; i < n; i++) at[stage[i]! + 1]!++;
        for (let k = 1; k <= top + 1; k++) at[k]! += at[k - 1]!;
        for (let i = 0; i < n; i++) out[at[stage[i]!]!++] = i;
      }
      this.ordered = out;
    }
    return this.ordered;
  }

  get walkIndexes(): Int32Array {
    if (!this.walked) {
      const n = this.cycles.length === 0 ? this.steps.length : 0;
      const out = new Int32Array(n);
      const p = this.predRows;
      if (!p) for (let i = 0; i < n; i++) out[i] = i;
      else {
        // Depth first along the dependencies, steps taken in declaration order; a step is placed
        // once all its dependencies are (without forward references: 0, 1, 2, …).
        const done = new Uint8Array(n);
        const stack = new Int32Array(n);
        const at = p.start.slice(0, n);
        let k = 0;
        for (let i = 0; i < n; i++) {
          if (done[i]) continue;
          let top = 0;
          stack[top++] = i;
          while (top > 0) {
            const v = stack[top - 1]!;
            if (at[v]! < p.start[v + 1]!) {
              const u = p.flat[at[v]!++]!;
              if (!done[u]) stack[top++] = u;
            } else {
              top--;
              if (!done[v]) {
                done[v] = 1;
                out[k++] = v;
              }
            }
          }
        }
      }
      this.walked = out;
    }
    return this.walked;
  }

  indexOf(id: string): number | undefined {
    return this.index.get(id);
  }

  depIndex(i: number, id: string): number {
    const p = this.predRows;
    if (!p) return -1;
    for (let k = p.start[i]!; k < p.start[i + 1]!; k++) if (this.steps[p.flat[k]!]!.id === id) return p.flat[k]!;
    return -1;
  }

  get stageOf(): ReadonlyMap<string, number> {
    return this.byStage().stageOf;
  }

  get stages(): readonly (readonly string[])[] {
    return this.byStage().stages;
  }

  get criticalPath(): readonly string[] {
    if (!this.critical) {
      const path: string[] = [];
      if (this.cycles.length === 0) for (let cur = this.end; cur !== -1; cur = this.via ? this.via[cur]! : -1) path.push(this.steps[cur]!.id);
      this.critical = path.reverse();
    }
    return this.critical;
  }

  private adjacency(): Dag {
    if (!this.named) {
      const { steps, predRows: p, succRows: q } = this;
      const preds = new Map<string, string[]>();
      const succs = new Map<string, string[]>();
      const row = (r: Csr | undefined, i: number): string[] => (r ? [...r.flat.subarray(r.start[i]!, r.start[i + 1]!)].map((j) => steps[j]!.id) : []);
      steps.forEach((s, i) => {
        preds.set(s.id, row(p, i));
        succs.set(s.id, row(q, i));
      });
      this.named = { preds, succs };
    }
    return this.named;
  }

  private byStage(): { stages: string[][]; stageOf: Map<string, number>; order: string[] } {
    if (!this.staged) {
      const stages: string[][] = [];
      const stageOf = new Map<string, number>();
      const stage = this.stage;
      if (this.cycles.length === 0) {
        for (let i = 0; i < this.steps.length; i++) {
          const id = this.steps[i]!.id;
          const k = stage ? stage[i]! : 0;
          stageOf.set(id, k);
          (stages[k] ??= []).push(id);
        }
      }
      // The one statement of the order is `orderIndexes`; the names follow it.
      this.staged = { stages, stageOf, order: Array.from(this.orderIndexes, (i) => this.steps[i]!.id) };
    }
    return this.staged;
  }
}

/** Compressed rows: the neighbours of i are flat[start[i] .. start[i + 1]). */
interface Csr {
  readonly start: Int32Array;
  readonly flat: Int32Array;
}

/**
 * After Kahn's algorithm every unprocessed step has an unprocessed dependency, so walking
 * dependencies backwards from one must close a loop. Each loop found is one reported cycle.
 */
function findCycles(steps: readonly DagInput[], preds: Csr, indeg: Int32Array): string[][] {
  const n = steps.length;
  const state = new Array<number>(n).fill(0); // 0 unvisited, 1 on current walk, 2 done
  const cycles: string[][] = [];
  for (let start = 0; start < n; start++) {
    if (indeg[start] === 0 || state[start] !== 0) continue;
    const walk: number[] = [];
    let cur = start;
    while (state[cur] === 0) {
      state[cur] = 1;
      walk.push(cur);
      let next = -1;
      for (let k = preds.start[cur]!; k < preds.start[cur + 1]!; k++) {
        const p = preds.flat[k]!;
        if (indeg[p]! > 0 && (next === -1 || p < next)) next = p;
      }
      if (next === -1) break;
      cur = next;
    }
    if (state[cur] === 1 && walk.includes(cur)) {
      const loop = walk.slice(walk.indexOf(cur)).reverse(); // walked against the edges
      let first = 0;
      for (let i = 1; i < loop.length; i++) if (loop[i]! < loop[first]!) first = i;
      cycles.push([...loop.slice(first), ...loop.slice(0, first)].map((i) => steps[i]!.id));
    }
    for (const v of walk) state[v] = 2;
  }
  return cycles;
}

/** Every step reachable backwards from `id` (its transitive dependencies). */
export function ancestors(dag: Dag, id: string): Set<string> {
  return walk(id, (x) => dag.preds.get(x) ?? []);
}

export function descendants(dag: Dag, id: string): Set<string> {
  return walk(id, (x) => dag.succs.get(x) ?? []);
}

function walk(id: string, next: (n: string) => readonly string[]): Set<string> {
  const out = new Set<string>();
  const stack = [...next(id)];
  while (stack.length) {
    const v = stack.pop()!;
    if (out.has(v)) continue;
    out.add(v);
    for (const w of next(v)) if (!out.has(w)) stack.push(w);
  }
  return out;
}
