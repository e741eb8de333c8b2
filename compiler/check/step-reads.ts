/**
 * What the expressions of a plan read of its steps: `StepReads` collects one expression group's
 * step references without repeats; `PlanReads` is what the plan's expressions report their reads to.
 */
import type { Range } from '../../language/index.js';

/** A step that reads no other step (every one of a file of small plans) shares this, frozen: it lives as long as the compile. */
const NO_READS: readonly string[] = Object.freeze([]);

/**
 * Collects the step references of one expression group (a step, a `for each` list) without
 * repeats (their order is not significant): all references, the output reads among them, the
 * unguarded output reads among those (`hard`: outside every `??` chain) and, among those, the ones
 * that skip the reader with the step read (all but a race's branches read through `NAME.output`). Reused for every step of a plan; `take` hands out compact copies.
 */
export class StepReads {
  // Each list is a buffer reused for every step (filled up to its count; setting an array's length
  // to 0 would drop its storage and make every step grow it again).
  private readonly lists: [string[], string[], string[], string[]] = [[], [], [], []];
  private readonly counts = [0, 0, 0, 0];
  /** Membership once a list is long (a step that reads hundreds of steps); a scan before that. */
  private sets: [Set<string>, Set<string>, Set<string>, Set<string>] | undefined;

  add(id: string, out: boolean, guarded: boolean, skips = true): void {
    this.push(0, id);
    if (out) {
      this.push(1, id);
      if (!guarded) {
        this.push(3, id);
        if (skips) this.push(2, id);
      }
    }
  }

  addGroup(g: { readonly refs: readonly string[]; readonly outputReads: readonly string[]; readonly hard: readonly string[]; readonly skip: readonly string[] }): void {
    for (let i = 0; i < g.refs.length; i++) this.push(0, g.refs[i]!);
    for (let i = 0; i < g.outputReads.length; i++) this.push(1, g.outputReads[i]!);
    for (let i = 0; i < g.skip.length; i++) this.push(2, g.skip[i]!);
    for (let i = 0; i < g.hard.length; i++) this.push(3, g.hard[i]!);
  }

  /**
   * The collected lists, and empties the collector. skip ⊆ hard ⊆ outputReads ⊆ refs, and most
   * steps read the output of every step they name: equal lists are handed out as one array
   * (per-step collections are most of what a 10k-step plan keeps alive through garbage collection).
   */
  take(): { refs: readonly string[]; outputReads: readonly string[]; hard: readonly string[]; skip: readonly string[] } {
    const [nr, no, ns, nh] = this.counts as [number, number, number, number];
    const refs = nr === 0 ? NO_READS : this.lists[0].slice(0, nr);
    const outputReads = no === nr ? refs : no === 0 ? NO_READS : this.lists[1].slice(0, no);
    const skip = ns === no ? outputReads : ns === 0 ? NO_READS : this.lists[2].slice(0, ns);
    const hard = nh === ns ? skip : nh === no ? outputReads : this.lists[3].slice(0, nh);
    this.counts[0] = this.counts[1] = this.counts[2] = this.counts[3] = 0;
    this.sets = undefined;
    return { refs, outputReads, hard, skip };
  }

  /** Forgets anything collected (a check that threw midway may have left some). */
  clear(): void {
    this.counts[0] = this.counts[1] = this.counts[2] = this.counts[3] = 0;
    this.sets = undefined;
  }

  /** Appends `id` to list `which` unless present. */
  private push(which: 0 | 1 | 2 | 3, id: string): void {
    const list = this.lists[which];
    const n = this.counts[which]!;
    if (!this.sets && n < 16) {
      for (let i = 0; i < n; i++) if (list[i] === id) return;
    } else {
      this.sets ??= [
        new Set(this.lists[0].slice(0, this.counts[0])),
        new Set(this.lists[1].slice(0, this.counts[1])),
        new Set(this.lists[2].slice(0, this.counts[2])),
        new Set(this.lists[3].slice(0, this.counts[3])),
      ];
      const set = this.sets[which];
      if (set.has(id)) return;
      set.add(id);
    }
    list[n] = id;
    this.counts[which] = n + 1;
  }
}

/**
 * One collector for every plan: a plan is checked to the end before the next begins (checking a
 * step never checks another plan), and each plan starts by emptying it.
 */
const sharedReads = new StepReads();
/** `waitsFor` of a step that reads no block as a whole (replaced by a list at its first). */
const NO_WAITS = Object.freeze([]) as unknown as string[];

/**
 * The callbacks through which the expressions of one plan report what they read
 * (`ExprEnv.onStep`, `onBlock`, `onPrevious`), and what they gather: the step references
 * (`reads`), the blocks the step being checked reads as a whole, the steps loops read, and where
 * a step first read an output unguarded when a rule may report that read (a `join first` step's
 * reads, and reads of race branches: settleBlockReads's E0201s point at the read rather than at
 * the step's name).
 */
export class PlanReads {
  /** Emptied after each `for each` list, `until` and step. */
  readonly reads: StepReads = sharedReads;
  /** Steps read by loop conditions (`until`) and through `NAME.previous` (uses, not dependencies). */
  loopUses: Set<string> | undefined;
  private waited: string[] = NO_WAITS;
  private hardReads: Map<string, Range> | undefined;
  private keepReads = false;
  private readingStep = '';

  constructor(private readonly raceBranches: ReadonlySet<string> | undefined) {
    this.reads.clear();
  }

  readonly onStep = (id: string, range: Range, out: boolean, guarded: boolean, skips = true): void => {
    this.reads.add(id, out, guarded, skips);
    if (out && !guarded && skips && (this.keepReads || this.raceBranches?.has(id))) {
      const key = `${this.readingStep}\u0000${id}`;
      this.hardReads ??= new Map();
      if (!this.hardReads.has(key)) this.hardReads.set(key, range);
    }
  };

  readonly onPrevious = (id: string): void => {
    (this.loopUses ??= new Set()).add(id);
  };

  readonly onBlock = (id: string): void => {
    if (this.waited === NO_WAITS) this.waited = [];
    if (!this.waited.includes(id)) this.waited.push(id);
  };

  /** Step `id`'s expressions come next; `keepReads`: it is a `join first` step. */
  beginStep(id: string, keepReads: boolean): void {
    this.waited = NO_WAITS;
    this.readingStep = id;
    this.keepReads = keepReads;
  }

  /** The blocks the step begun last read as a whole. */
  endStep(): string[] {
    const waited = this.waited;
    this.waited = NO_WAITS;
    this.keepReads = false;
    this.readingStep = '';
    return waited;
  }

  /** Where step `step` first read `id`'s output unguarded (kept only where a rule may report it). */
  readonly readAt = (step: string, id: string): Range | undefined => this.hardReads?.get(`${step}\u0000${id}`);
}
