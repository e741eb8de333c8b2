/**
 * The dependency DAG of a plan (graphlib): cycles, topological stages and the critical path.
 * Pure: steps in, structure out. Edges run from a dependency to its dependant.
 */
import { Graph, alg } from '@dagrejs/graphlib';

export interface DagInput {
  readonly id: string;
  readonly deps: readonly string[];
  /** Estimated duration of the step itself (for the critical path). */
  readonly duration: number;
}

export interface DagResult {
  /** Each cycle in dependency order (a → b → … → back to the first), first step = earliest declared. */
  readonly cycles: readonly (readonly string[])[];
  /** Topological order, stage by stage, declaration order within a stage (empty when cyclic). */
  readonly order: readonly string[];
  readonly stageOf: ReadonlyMap<string, number>;
  readonly stages: readonly (readonly string[])[];
  readonly criticalPath: readonly string[];
  readonly duration: number;
  /** Transitive predecessors / successors, computed on demand. */
  readonly graph: Graph;
}

export function buildDag(steps: readonly DagInput[]): DagResult {
  const g = new Graph({ directed: true });
  const index = new Map<string, number>();
  steps.forEach((s, i) => {
    g.setNode(s.id);
    index.set(s.id, i);
  });
  for (const s of steps) for (const d of s.deps) if (index.has(d)) g.setEdge(d, s.id);

  const components = alg.findCycles(g);
  if (components.length) {
    const cycles = components.map((c) => orderCycle(g, c, index)).sort((a, b) => index.get(a[0]!)! - index.get(b[0]!)!);
    return { cycles, order: [], stageOf: new Map(), stages: [], criticalPath: [], duration: 0, graph: g };
  }

  const topo = alg.topsort(g);
  const stageOf = new Map<string, number>();
  const finish = new Map<string, number>();
  const via = new Map<string, string | undefined>();
  const byId = new Map(steps.map((s) => [s.id, s]));
  for (const id of topo) {
    let stage = 0;
    let start = 0;
    let from: string | undefined;
    for (const p of g.predecessors(id) ?? []) {
      stage = Math.max(stage, stageOf.get(p)! + 1);
      const f = finish.get(p)!;
      if (from === undefined || f > start) {
        start = f;
        from = p;
      }
    }
    stageOf.set(id, stage);
    finish.set(id, start + (byId.get(id)?.duration ?? 0));
    via.set(id, from);
  }
  const stages: string[][] = [];
  for (const s of steps) {
    const k = stageOf.get(s.id)!;
    (stages[k] ??= []).push(s.id);
  }
  let end: string | undefined;
  let duration = 0;
  for (const s of steps) {
    const f = finish.get(s.id)!;
    if (end === undefined || f > duration) {
      end = s.id;
      duration = f;
    }
  }
  const criticalPath: string[] = [];
  for (let cur = end; cur !== undefined; cur = via.get(cur)) criticalPath.unshift(cur);
  return { cycles: [], order: stages.flat(), stageOf, stages, criticalPath, duration, graph: g };
}

/** A simple cycle through the strongly connected component, starting at its earliest step. */
function orderCycle(g: Graph, component: readonly string[], index: ReadonlyMap<string, number>): string[] {
  const members = new Set(component);
  const start = [...component].sort((a, b) => index.get(a)! - index.get(b)!)[0]!;
  // BFS from start's successors back to start, inside the component: shortest cycle through start.
  const prev = new Map<string, string>();
  const queue: string[] = [start];
  const seen = new Set<string>();
  while (queue.length) {
    const cur = queue.shift()!;
    const succ = [...(g.successors(cur) ?? [])].filter((s) => members.has(s)).sort((a, b) => index.get(a)! - index.get(b)!);
    for (const n of succ) {
      if (n === start) {
        const path = [cur];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return path;
      }
      if (!seen.has(n)) {
        seen.add(n);
        prev.set(n, cur);
        queue.push(n);
      }
    }
  }
  return [start];
}

/** Every step reachable backwards from `id` (its transitive dependencies). */
export function ancestors(g: Graph, id: string): Set<string> {
  return walk(g, id, (n) => g.predecessors(n) ?? []);
}

export function descendants(g: Graph, id: string): Set<string> {
  return walk(g, id, (n) => g.successors(n) ?? []);
}

function walk(g: Graph, id: string, next: (n: string) => readonly string[]): Set<string> {
  const out = new Set<string>();
  const stack = [...next(id)];
  while (stack.length) {
    const n = stack.pop()!;
    if (out.has(n)) continue;
    out.add(n);
    stack.push(...next(n));
  }
  return out;
}
