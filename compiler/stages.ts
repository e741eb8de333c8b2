/**
 * The compile is a list of named stages over one facts record (as OPA's compiler lists its
 * stages): each stage reads what earlier stages added to the record, adds its own facts and
 * hands on. The program's stages are in `program.ts`, a plan's in `assemble/assemble.ts`;
 * docs/architecture.md has the recipe for adding one. `orch check --explain-stages` times them
 * with a `StageTimer`; without one, running a list costs a loop and a call per stage.
 */

export interface Stage<F> {
  /** Lower case, hyphenated; what `--explain-stages` prints. */
  readonly name: string;
  /** Returns false when the stages after it cannot run (it reported why). */
  readonly run: (facts: F) => void | boolean;
}

/** Runs `stages` in order over `facts`; false when one stopped the list. */
export function runStages<F>(stages: readonly Stage<F>[], facts: F, timer?: StageTimer): boolean {
  if (!timer) {
    for (let i = 0; i < stages.length; i++) if (stages[i]!.run(facts) === false) return false;
    return true;
  }
  for (let i = 0; i < stages.length; i++) {
    const stage = stages[i]!;
    timer.enter(stage.name);
    let go: void | boolean;
    try {
      go = stage.run(facts);
    } finally {
      timer.exit();
    }
    if (go === false) return false;
  }
  return true;
}

export interface StageTiming {
  readonly name: string;
  /** How many stages it runs within, at the least: 0 for a program stage, 1 for a plan's (within `assemble`). */
  readonly depth: number;
  /** Wall time in the stage itself, summed over its runs. */
  readonly ms: number;
  /** How many times it ran: a plan's stages run once per plan. */
  readonly runs: number;
}

/**
 * Wall time per stage name, summed over every run and every compile it is given to. A stage's
 * time excludes the stages run within it (a plan's stages inside `assemble`, a sub-plan's inside
 * its parent's `subplans`): each millisecond is counted once, so the times add up to the whole.
 */
export class StageTimer {
  private readonly totals = new Map<string, { depth: number; ms: number; runs: number }>();
  private readonly open: { name: string; since: number }[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  enter(name: string): void {
    const at = this.now();
    const outer = this.open[this.open.length - 1];
    if (outer) this.add(outer.name, at - outer.since, 0);
    const t = this.totals.get(name);
    if (!t) this.totals.set(name, { depth: this.open.length, ms: 0, runs: 0 });
    else if (this.open.length < t.depth) t.depth = this.open.length;
    this.open.push({ name, since: at });
  }

  exit(): void {
    const at = this.now();
    const done = this.open.pop();
    if (!done) return;
    this.add(done.name, at - done.since, 1);
    const outer = this.open[this.open.length - 1];
    if (outer) outer.since = at;
  }

  /** In the order the stages first ran. */
  timings(): StageTiming[] {
    return [...this.totals].map(([name, t]) => ({ name, depth: t.depth, ms: t.ms, runs: t.runs }));
  }

  private add(name: string, ms: number, runs: number): void {
    const t = this.totals.get(name)!;
    t.ms += ms;
    t.runs += runs;
  }
}
