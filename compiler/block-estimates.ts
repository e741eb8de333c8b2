/**
 * Duration and cost estimates of a plan with `race` and `repeat` blocks (LANGUAGE.md §7.1), in
 * the best case (every loop runs once) and the worst (every loop runs `max` times). Pure: the
 * topological order, per-step estimates and blocks in, totals and a critical path out.
 *
 * Why a pass of its own and not the DAG's longest path: a race ends when its *first* branch
 * completes (a minimum, not a maximum), and a loop repeats its body. Iterations are sequential,
 * so scaling each body step by `max` scales the body's longest chain by `max` too; everything
 * after the loop waits for all of its steps, so it starts after that scaled chain.
 *
 * Rate limits: calls of a rate-limited capability are given start times in the order steps are
 * visited (stage order), each no earlier than its step is ready and no earlier than `per_ms`
 * after the call `count` places before it started — the earliest the scheduler's sliding window
 * lets it start. A step that waits for its slot ends that much later, and so does what follows.
 */

export interface TimelineStep {
  readonly id: string;
  readonly deps: readonly string[];
  readonly duration: number;
  readonly cost: number;
  /**
   * The policy's `rate_limit` on the step's capability: at most `count` calls start in any
   * window of `per_ms` (a sliding window, as the scheduler keeps it), shared by every step that
   * calls a capability of the same `key`.
   */
  readonly rate?: { readonly key: string; readonly count: number; readonly per_ms: number };
}

/** The policy's rate limit on capability `name` (named plainly or through its module), as a timeline step's `rate`. */
export function rateLimitOf(limits: readonly { readonly capability: string; readonly count: number; readonly per_ms: number }[], name: string): TimelineStep['rate'] {
  const rl = limits.find((r) => r.capability === name || name.endsWith(`.${r.capability}`) || r.capability.endsWith(`.${name}`));
  return rl ? { key: rl.capability, count: rl.count, per_ms: rl.per_ms } : undefined;
}

export interface TimelineBlock {
  readonly kind: 'for_each' | 'race' | 'repeat';
  readonly id: string;
  /** race: its branches; repeat: every step inside it. */
  readonly steps: readonly string[];
  readonly max?: number;
}

export interface Timeline {
  readonly duration: number;
  readonly cost: number;
  readonly criticalPath: readonly string[];
}

export function timeline(order: readonly string[], steps: ReadonlyMap<string, TimelineStep>, blocks: readonly TimelineBlock[], worst: boolean): Timeline {
  // How many times each step runs in this case (nested loops multiply).
  const times = new Map<string, number>();
  const raceOf = new Map<string, TimelineBlock>();
  for (const b of blocks) {
    if (b.kind === 'repeat' && worst) for (const s of b.steps) times.set(s, (times.get(s) ?? 1) * (b.max ?? 1));
    if (b.kind === 'race') for (const s of b.steps) raceOf.set(s, b);
  }
  const finish = new Map<string, number>();
  const via = new Map<string, string | undefined>();
  /** When what `dep` stands for has ended, as seen by `reader`: a race branch read from outside ends with its race. */
  const ended = (dep: string, reader: string): { at: number; through: string } => {
    const race = raceOf.get(dep);
    if (!race || race.steps.includes(reader)) return { at: finish.get(dep) ?? 0, through: dep };
    let best: { at: number; through: string } | undefined;
    for (const b of race.steps) {
      const f = finish.get(b);
      if (f !== undefined && (!best || f < best.at)) best = { at: f, through: b };
    }
    return best ?? { at: finish.get(dep) ?? 0, through: dep };
  };
  /** Start times of the calls of each rate-limited capability so far, in the order given. */
  const callStarts = new Map<string, number[]>();
  /** Steps on the chain ending at each step: with equal finish times, the longer chain is critical. */
  const depth = new Map<string, number>();
  let cost = 0;
  let end: string | undefined;
  for (const id of order) {
    const s = steps.get(id);
    if (!s) continue;
    const n = times.get(id) ?? 1;
    let start = 0;
    let from: string | undefined;
    for (const d of s.deps) {
      if (d === id || !finish.has(d)) continue;
      const e = ended(d, id);
      if (from === undefined || e.at > start) {
        start = e.at;
        from = e.through;
      }
    }
    let f = start + s.duration * n;
    if (s.rate && s.rate.count > 0) {
      // Each run of the step (a loop runs it n times, one after the other) is one call.
      const starts = callStarts.get(s.rate.key) ?? [];
      callStarts.set(s.rate.key, starts);
      let ready = start;
      for (let k = 0; k < n; k++) {
        const slot = starts.length >= s.rate.count ? starts[starts.length - s.rate.count]! + s.rate.per_ms : 0;
        const at = Math.max(ready, slot);
        starts.push(at);
        ready = at + s.duration;
      }
      f = Math.max(f, ready);
    }
    finish.set(id, f);
    depth.set(id, from === undefined ? 1 : (depth.get(from) ?? 0) + 1);
    via.set(id, from);
    cost += s.cost * n;
  }
  // A losing branch is cancelled when its race ends: it ends then too.
  const effective = (id: string): number => {
    const race = raceOf.get(id);
    return race ? Math.min(finish.get(id)!, ended(id, '').at) : finish.get(id)!;
  };
  for (const id of order) {
    if (!finish.has(id)) continue;
    if (end === undefined || effective(id) > effective(end) || (effective(id) === effective(end) && depth.get(id)! > depth.get(end)!)) end = id;
  }
  const path: string[] = [];
  for (let at = end; at !== undefined; at = via.get(at)) path.push(at);
  path.reverse();
  return { duration: end === undefined ? 0 : effective(end), cost, criticalPath: path };
}
