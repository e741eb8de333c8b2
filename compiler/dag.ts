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
  const predFlat = Int32Array.from(predList);
  // succs of j in increasing step order (as dependants are declared)
  const succStart = new Int32Array(n + 1);
  for (let j = 0; j < n; j++) succStart[j + 1] = succStart[j]! + succCount[j]!;
  const succFlat = new Int32Array(predFlat.length);
  const fill = succStart.slice(0, n);
  for (let i = 0; i < n; i++) for (let k = predStart[i]!; k < predStart[i + 1]!; k++) succFlat[fill[predFlat[k]!]!++] = i;
  const preds: Csr = { start: predStart, flat: predFlat };

  // Name-keyed adjacency is only needed by guardrail proofs: build it on first use.
  let named: Dag | undefined;
  const adjacency = (): Dag => {
    if (!named) {
      const p = new Map<string, string[]>();
      const q = new Map<string, string[]>();
      steps.forEach((s, i) => {
        p.set(s.id, [...predFlat.subarray(predStart[i]!, predStart[i + 1]!)].map((j) => steps[j]!.id));
        q.set(s.id, [...succFlat.subarray(succStart[i]!, succStart[i + 1]!)].map((j) => steps[j]!.id));
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

  if (tail < n) {
    return withAdjacency({ cycles: findCycles(steps, preds, indeg), order: [], stageOf: new Map(), stages: [], criticalPath: [], duration: 0 }, lazy);
  }

  let end = -1;
  for (let i = 0; i < n; i++) if (end === -1 || finish[i]! > finish[end]! || (finish[i] === finish[end] && stage[i]! > stage[end]!)) end = i;
  const duration = end === -1 ? 0 : finish[end]!;

  // The stage lists, the order and the critical path are built when first read: `orch check`
  // of a plan without guardrails needs only cycles and the duration.
  let staged: { stages: string[][]; stageOf: Map<string, number>; order: string[] } | undefined;
  const byStage = (): NonNullable<typeof staged> => {
    if (!staged) {
      const stages: string[][] = [];
      const stageOf = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const id = steps[i]!.id;
        stageOf.set(id, stage[i]!);
        (stages[stage[i]!] ??= []).push(id);
      }
      staged = { stages, stageOf, order: stages.flat() };
    }
    return staged;
  };
  let criticalPath: string[] | undefined;
  const critical = (): string[] => {
    if (!criticalPath) {
      criticalPath = [];
      for (let cur = end; cur !== -1; cur = via[cur]!) criticalPath.push(steps[cur]!.id);
      criticalPath.reverse();
    }
    return criticalPath;
  };
  // (keys in the order of the eager result: cycles, order, stageOf, stages, criticalPath, duration)
  const lazyParts = Object.defineProperties(
    { cycles: [] as string[][] },
    {
      order: { get: () => byStage().order, enumerable: true },
      stageOf: { get: () => byStage().stageOf, enumerable: true },
      stages: { get: () => byStage().stages, enumerable: true },
      criticalPath: { get: critical, enumerable: true },
    },
  );
  const result = Object.assign(lazyParts, { duration }) as unknown as Omit<DagResult, keyof Dag>;
  return withAdjacency(result, lazy);
}

/** Compressed rows: the neighbours of i are flat[start[i] .. start[i + 1]). */
interface Csr {
  readonly start: Int32Array;
  readonly flat: Int32Array;
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
