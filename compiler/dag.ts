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
  readonly stageOf: ReadonlyMap<string, number>;
  readonly stages: readonly (readonly string[])[];
  readonly criticalPath: readonly string[];
  readonly duration: number;
}

export function buildDag(steps: readonly DagInput[]): DagResult {
  const n = steps.length;
  const index = new Map<string, number>();
  steps.forEach((s, i) => index.set(s.id, i));
  const predIdx: number[][] = steps.map(() => []);
  const succIdx: number[][] = steps.map(() => []);
  for (let i = 0; i < n; i++) {
    const seen = new Set<number>();
    for (const d of steps[i]!.deps) {
      const j = index.get(d);
      if (j === undefined || seen.has(j)) continue;
      seen.add(j);
      predIdx[i]!.push(j);
      succIdx[j]!.push(i);
    }
  }
  // Name-keyed adjacency is only needed by guardrail proofs: build it on first use.
  let named: Dag | undefined;
  const adjacency = (): Dag => {
    if (!named) {
      const p = new Map<string, string[]>();
      const q = new Map<string, string[]>();
      steps.forEach((s, i) => {
        p.set(s.id, predIdx[i]!.map((j) => steps[j]!.id));
        q.set(s.id, succIdx[i]!.map((j) => steps[j]!.id));
      });
      named = { preds: p, succs: q };
    }
    return named;
  };
  const lazy = {
    get preds() {
      return adjacency().preds;
    },
    get succs() {
      return adjacency().succs;
    },
  };

  // Kahn's algorithm; stage = longest chain of dependencies; finish = longest latency chain.
  const indeg = predIdx.map((p) => p.length);
  const stage = new Array<number>(n).fill(0);
  const finish = new Array<number>(n).fill(0);
  const via = new Array<number>(n).fill(-1);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
  let processed = 0;
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head]!;
    processed++;
    finish[v]! += steps[v]!.duration;
    for (const w of succIdx[v]!) {
      if (stage[v]! + 1 > stage[w]!) stage[w] = stage[v]! + 1;
      if (via[w] === -1 || finish[v]! > finish[w]!) {
        finish[w] = finish[v]!;
        via[w] = v;
      }
      if (--indeg[w]! === 0) queue.push(w);
    }
  }

  if (processed < n) {
    return withAdjacency({ cycles: findCycles(steps, predIdx, indeg), order: [], stageOf: new Map(), stages: [], criticalPath: [], duration: 0 }, lazy);
  }

  const stages: string[][] = [];
  const stageOf = new Map<string, number>();
  steps.forEach((s, i) => {
    stageOf.set(s.id, stage[i]!);
    (stages[stage[i]!] ??= []).push(s.id);
  });
  let end = -1;
  for (let i = 0; i < n; i++) if (end === -1 || finish[i]! > finish[end]!) end = i;
  const criticalPath: string[] = [];
  for (let cur = end; cur !== -1; cur = via[cur]!) criticalPath.push(steps[cur]!.id);
  criticalPath.reverse();
  return withAdjacency({ cycles: [], order: stages.flat(), stageOf, stages, criticalPath, duration: end === -1 ? 0 : finish[end]! }, lazy);
}

/** Adds `preds`/`succs` as getters (object spread would evaluate them eagerly). */
function withAdjacency(result: Omit<DagResult, keyof Dag>, source: Dag): DagResult {
  return Object.defineProperties(result, {
    preds: { get: () => source.preds, enumerable: true },
    succs: { get: () => source.succs, enumerable: true },
  }) as DagResult;
}

/**
 * After Kahn's algorithm every unprocessed step has an unprocessed dependency, so walking
 * dependencies backwards from one must close a loop. Each loop found is one reported cycle.
 */
function findCycles(steps: readonly DagInput[], predIdx: readonly number[][], indeg: readonly number[]): string[][] {
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
      for (const p of predIdx[cur]!) if (indeg[p]! > 0 && (next === -1 || p < next)) next = p;
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
