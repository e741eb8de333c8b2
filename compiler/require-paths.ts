/**
 * `require S before O` proved on every path a run can take, not only on the DAG: an ancestor S
 * that may be skipped (`when`, a skipped read), may fail under `on_failure continue`, may lose a
 * race or may have no item (`for each` over an empty list) does not guarantee that S completed
 * when O starts — and the runtime refuses O then. Pure: the plan's shape in, the steps that may
 * start with no subject step completed out.
 */
import type { JoinRule } from '../language/index.js';
import type { Dag } from './dag.js';

/** How one step's start and end follow from its dependencies (the scheduler's join rules). */
export interface StepFlow {
  readonly join: JoinRule;
  /** It has a `when` condition (it may be skipped by it). */
  readonly when: boolean;
  /**
   * The condition's canonical text when it reads only values fixed once read (input, outputs):
   * two steps with the same such condition are skipped together.
   */
  readonly whenKey: string | null;
  /** It may fail while the run goes on (`on_failure continue`: its own, its loop's or the plan's). */
  readonly mayFail: boolean;
  /** It may fail while the run still completes (its own or its loop's `on_failure continue`). */
  readonly continues: boolean;
  /** Dependencies whose output it reads outside every `??` (skipped with them). */
  readonly unguarded: readonly string[];
  /** Dependencies read only inside `??` chains: their status never decides its start. */
  readonly soft: readonly string[];
  /** The `for each` blocks around it. */
  readonly eachBlocks: readonly string[];
  /** The race whose branch it is, if any. */
  readonly race: string | null;
}

/**
 * Why a step may be skipped: a step that did not complete (`failed`: it failed; `skipped`: its own
 * condition or join skipped it). A reader that itself needs that step to have completed never sees
 * the skip — which keeps a skip and its cause from being taken as independent outcomes.
 */
interface Cause {
  readonly id: string;
  readonly how: 'failed' | 'skipped';
}

interface Ends {
  /** Its view may be `completed` (with no subject step completed). */
  readonly completed: boolean;
  readonly failed: boolean;
  /** Each cause alone may skip it (none: it is never skipped). */
  readonly skips: readonly Cause[];
}

const NONE: Ends = { completed: false, failed: false, skips: [] };
const ends0 = (e: Ends) => e.completed || e.failed || e.skips.length > 0;

/**
 * The steps that may start while no step matching `isSubject` has completed. Dependencies are
 * taken one by one (their outcomes assumed independent but for a skip's cause): an
 * over-approximation, so a step not returned surely starts after a subject step completed.
 */
export function startsWithoutSubject(
  ids: readonly string[],
  graph: Dag,
  flow: ReadonlyMap<string, StepFlow>,
  isSubject: (id: string) => boolean,
  /** A `when` taken as true: the object's own, when fixed — where it is false the object never starts. */
  holds: string | null = null,
): Set<string> {
  return walk(ids, graph, flow, isSubject, holds).starts;
}

/**
 * The steps that may end without completing (skipped, failed on, cancelled as a race's loser)
 * in a run that may still complete: `require S after O` needs an S
 * that is not one of them. `holds` as above (the object's own fixed `when`).
 */
export function mayNotComplete(ids: readonly string[], graph: Dag, flow: ReadonlyMap<string, StepFlow>, holds: string | null = null): Set<string> {
  // A failure under the plan's `on_failure continue` alone ends the run failed anyway: only a run
  // that may still complete without the subject breaks the rule.
  const completing = new Map([...flow].map(([id, f]) => [id, { ...f, mayFail: f.continues }]));
  const { ends } = walk(ids, graph, completing, () => false, holds);
  const out = new Set<string>();
  for (const id of ids) {
    const e = ends.get(id) ?? NONE;
    if (!e.completed || e.failed || e.skips.length > 0 || flow.get(id)?.race) out.add(id);
  }
  return out;
}

function walk(
  ids: readonly string[],
  graph: Dag,
  flow: ReadonlyMap<string, StepFlow>,
  isSubject: (id: string) => boolean,
  holds: string | null,
): { starts: Set<string>; ends: Map<string, Ends> } {
  const ends = new Map<string, Ends>();
  const starts = new Set<string>();
  const raceBranches = new Map<string, string[]>();
  for (const id of ids) {
    const r = flow.get(id)?.race;
    if (r) raceBranches.set(r, [...(raceBranches.get(r) ?? []), id]);
  }
  for (const id of topological(ids, graph)) {
    const f = flow.get(id);
    if (!f) {
      ends.set(id, NONE);
      continue;
    }
    const deps = graph.preds.get(id) ?? [];
    const soft = (d: string) => f.join !== 'first' && f.soft.includes(d);
    // A cause the reader's own join answers: it would be skipped too (or never reads the skip).
    const answered = (c: Cause): boolean =>
      deps.includes(c.id) && !soft(c.id) && (f.unguarded.includes(c.id) || f.join === 'all_success' || (c.how === 'failed' && f.join === 'none_failed'));
    const view = (dep: string): Ends => {
      const d = flow.get(dep);
      let e = ends.get(dep) ?? NONE;
      // A reader outside a race sees the race: completed when some branch completed.
      if (d?.race && d.race !== f.race) {
        const branches = (raceBranches.get(d.race) ?? [dep]).map((b) => ends.get(b) ?? NONE);
        e = { completed: branches.some((b) => b.completed), failed: branches.every((b) => ends0(b) && !b.completed), skips: [] };
      }
      // A `for each` the reader is outside of may have no item: its steps end as an empty list.
      if (d && d.eachBlocks.some((b) => !f.eachBlocks.includes(b))) e = { ...e, completed: true };
      return { ...e, skips: e.skips.filter((c) => !answered(c)) };
    };
    const views = deps.map((d) => ({ d, e: view(d), soft: soft(d), hard: f.unguarded.includes(d) }));
    const gating = views.filter((v) => !v.soft);
    const decided = f.join === 'first' ? gating.some((v) => v.e.completed) || views.every((v) => ends0(v.e)) : views.every((v) => ends0(v.e));
    if (!decided) {
      ends.set(id, NONE);
      continue;
    }
    // Each unguarded read must not be skipped; each gating dependency must end as the join wants.
    const readable = views.every((v) => !v.hard || v.e.completed || v.e.failed);
    const skips: Cause[] = [];
    if (f.when && (holds === null || f.whenKey !== holds)) skips.push({ id, how: 'skipped' });
    for (const v of views) if (v.hard) skips.push(...v.e.skips);
    let joinLets: boolean;
    switch (f.join) {
      case 'none_failed':
        joinLets = gating.every((v) => v.e.completed || (!v.hard && v.e.skips.length > 0));
        for (const v of gating) if (v.e.failed) skips.push({ id: v.d, how: 'failed' });
        break;
      case 'all_success':
        joinLets = gating.every((v) => v.e.completed);
        for (const v of gating) {
          if (v.e.failed) skips.push({ id: v.d, how: 'failed' });
          skips.push(...v.e.skips);
        }
        break;
      case 'any_success':
      case 'first':
        joinLets = gating.length === 0 || gating.some((v) => v.e.completed);
        if (gating.length > 0 && gating.every((v) => v.e.failed || v.e.skips.length > 0)) skips.push({ id, how: 'skipped' });
        break;
      case 'all_done':
        joinLets = true;
        break;
    }
    const start = readable && joinLets;
    if (start) starts.add(id);
    ends.set(id, { completed: start && !isSubject(id), failed: start && f.mayFail, skips });
  }
  return { starts, ends };
}

function topological(ids: readonly string[], graph: Dag): string[] {
  const indeg = new Map<string, number>();
  for (const id of ids) indeg.set(id, (graph.preds.get(id) ?? []).length);
  const queue = ids.filter((id) => indeg.get(id) === 0);
  const out: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    out.push(id);
    for (const s of graph.succs.get(id) ?? []) {
      const n = indeg.get(s)! - 1;
      indeg.set(s, n);
      if (n === 0) queue.push(s);
    }
  }
  return out;
}
