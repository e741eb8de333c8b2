/**
 * What an editor's re-check after one keystroke can skip: plans whose text did not change are
 * not checked again — their diagnostics and what they use are taken from the previous check.
 *
 * A plan's diagnostics depend on the plan itself and on its environment: every top-level item
 * that is not a plan (capabilities, resources, policies, guardrails, types, context,
 * simulations, imports), the names of the plans, and the plans it runs. So a plan is reused
 * only when
 * - its node is the previous check's node, or a copy the incremental parser moved
 *   (`ModuleEdit.movedFrom`), and every module of the program is the one the previous check saw, edited
 *   only by `reparse` (so positions map across: `ModuleEdit.move`);
 * - every non-plan item of every module is the previous one (or a moved copy), the plans
 *   have the same names in the same order, and no module's project config has changed;
 * - it runs no sub-plan, no plan checked this time runs a plan of its name, and no `after`
 *   trigger with a `with` starts or watches it (the started plan's flows read the watched plan's
 *   output from the watched plan's check in the same run: a watched plan replayed from the memo
 *   has none, and the started plan's finding would be lost);
 * - no top-level `invariant` exists (those apply across plans);
 * - every position in its diagnostics maps to the new text.
 * Anything else is checked as usual. A property test holds check-with-memo equal to check.
 */
import type { Module, PlanDecl } from '../language/index.js';
import type { Diagnostic, Position, Range } from '../language/index.js';
import type { ModuleEdit } from '../language/index.js';
import type { LoadedModule } from './load.js';
import { projectConfigStamp } from './project-config.js';
import { runTargets } from './check/plan-order.js';

/** What a checked plan contributed to the program's result. */
export interface PlanOutcome {
  /** Everything its check and its assembly reported, wherever located. */
  readonly diagnostics: readonly Diagnostic[];
  /** Uses of top-level declarations (by `symbolKey`), for W0601. */
  /**
   * Uses of top-level declarations, one `symbolKey` per use (a list, not a map of counts: most
   * plans use a capability or two, and a map per plan was most of what the memo kept).
   */
  readonly uses: readonly string[];
  /** Resources placement chose for its steps (W0601 counts them as used). */
  readonly boundResources: readonly string[];
}

interface Entry extends PlanOutcome {
  readonly node: PlanDecl;
  readonly runsPlans: boolean;
}

/** The key of a top-level declaration's symbol across checks. */
export function symbolKey(file: string, kind: string, qualifiedName: string): string {
  return `${file}\u0000${kind}\u0000${qualifiedName}`;
}

/** Kept by the caller (one per entry file) from one check to the next. */
export class PlanMemo {
  private entries = new Map<string, Entry>();
  private modules = new Map<string, Module>();
  private environment: readonly unknown[] = [];
  /** Plans reused and plans checked by the last check. */
  stats = { reused: 0, checked: 0 };

  /**
   * Starts a check of `modules`: decides which plans can be reused. `tracked` are the symbols
   * whose uses W0601 counts (user capabilities, resources, policies and types), by `symbolKey`.
   */
  begin(modules: readonly LoadedModule[], tracked: ReadonlyMap<string, number>): PlanMemoSession {
    const edits = new Map<string, ModuleEdit>();
    let valid = this.modules.size === modules.filter((m) => !m.std).length;
    for (const m of modules) {
      if (m.std) continue;
      const seen = this.modules.get(m.file);
      // A module generated from orch.lock.json has no edit: it is unchanged when its parse is the same one.
      if (m.mcp && seen === m.ast) continue;
      if (!seen || !m.edit || m.edit.previous !== seen) valid = false;
      else edits.set(m.file, m.edit);
    }
    const environment = environmentOf(modules);
    /** The previous check's node a node of this one is a moved copy of (through its file's edit). */
    const movedFrom = <T extends object>(node: T): T | undefined => {
      for (const edit of edits.values()) {
        const origin = edit.movedFrom(node);
        if (origin) return origin;
      }
      return undefined;
    };
    if (valid) valid = sameEnvironment(environment, this.environment, movedFrom);
    if (valid) valid = !modules.some((m) => !m.std && m.ast.declarations.some((d) => d.kind === 'InvariantDecl'));

    const plans = modules.flatMap((m) => (m.std ? [] : m.ast.declarations.filter((d): d is PlanDecl => d.kind === 'PlanDecl')));
    const runTargets = new Set(plans.flatMap(plansRunBy));
    const hits = new Map<PlanDecl, PlanOutcome>();
    if (valid) {
      const candidates = new Map<PlanDecl, Entry>();
      const rechecked: PlanDecl[] = [];
      for (const m of modules) {
        if (m.std) continue;
        for (const d of m.ast.declarations) {
          if (d.kind !== 'PlanDecl') continue;
          const entry = this.entries.get(planKey(m.file, d.name.name));
          if (entry && !entry.runsPlans && (entry.node === d || movedFrom(d) === entry.node)) candidates.set(d, entry);
          else rechecked.push(d);
        }
      }
      const run = new Set(rechecked.flatMap(plansRunBy));
      // A plan an `after` trigger starts with a `with { … }` reads the watched plan's output labels
      // (§9.3): both are checked again, the watched one even when unchanged — its labels come from
      // its check in this run (`assembled`), which a replayed plan does not have.
      for (const name of chainedPlans(modules)) run.add(name);
      for (const [node, entry] of candidates) {
        const diagnostics = run.has(node.name.name) ? undefined : moveAll(entry.diagnostics, edits);
        if (diagnostics) hits.set(node, { diagnostics, uses: entry.uses, boundResources: entry.boundResources });
      }
    }
    return new PlanMemoSession(modules, environment, hits, tracked, runTargets, (entries, seen, env, stats) => {
      this.entries = entries;
      this.modules = seen;
      this.environment = env;
      this.stats = stats;
    });
  }
}

type Commit = (
  entries: Map<string, Entry>, modules: Map<string, Module>, environment: readonly unknown[], stats: { reused: number; checked: number },
) => void;

/**
 * One check's use of the memo. The compiler asks `reuse` for each plan; for the others it
 * brackets checking and assembling with `start`/`end`, so their diagnostics and uses are recorded.
 */
export class PlanMemoSession {
  private readonly entries = new Map<string, Entry>();
  private readonly stats = { reused: 0, checked: 0 };
  /**
   * What each checked plan reported, used and bound. Most plans of a file of many small ones have
   * none of the three: they share the empty ones until their first (one check records every plan).
   */
  private readonly fresh = new Map<PlanDecl, { file: string; diagnostics: Diagnostic[]; uses: string[]; bound: string[] }>();
  private readonly reusedBound: string[] = [];
  private markDiagnostics = 0;
  private markUses = 0;
  /** `tracked` the other way round: symbol id → key. */
  private readonly trackedKey = new Map<number, string>();

  constructor(
    private readonly modules: readonly LoadedModule[],
    private readonly environment: readonly unknown[],
    private readonly hits: ReadonlyMap<PlanDecl, PlanOutcome>,
    private readonly tracked: ReadonlyMap<string, number>,
    private readonly runTargets: ReadonlySet<string>,
    private readonly commit: Commit,
  ) {
    for (const [key, id] of tracked) this.trackedKey.set(id, key);
  }

  /** Adds the previous outcome of `plan` to `diags` and `uses` when it need not be checked again. */
  reuse(file: string, plan: PlanDecl, diags: Diagnostic[], uses: number[]): boolean {
    const hit = this.hits.get(plan);
    if (!hit) return false;
    diags.push(...hit.diagnostics);
    for (const key of hit.uses) {
      const id = this.tracked.get(key);
      if (id !== undefined) uses[id] = (uses[id] ?? 0) + 1;
    }
    this.reusedBound.push(...hit.boundResources);
    this.entries.set(planKey(file, plan.name.name), { ...hit, node: plan, runsPlans: false });
    this.stats.reused++;
    return true;
  }

  /**
   * `plan` is about to be checked or assembled. `useLog`: the symbol id of every use so far, in
   * order (`ModelBuilder.useLog`). Marking where it ends, rather than copying the count of every
   * tracked symbol, keeps a window's cost to the plan's own uses: a file of many capabilities and
   * many plans made it (capabilities × plans).
   */
  start(diags: readonly Diagnostic[], useLog: readonly number[]): void {
    this.markDiagnostics = diags.length;
    this.markUses = useLog.length;
  }

  /** `plan` has been checked or assembled: what it reported and used since `start` is its own. */
  end(file: string, plan: PlanDecl, diags: readonly Diagnostic[], useLog: readonly number[], bound?: ReadonlySet<string>): void {
    let f = this.fresh.get(plan);
    if (!f) this.fresh.set(plan, (f = { file, diagnostics: NO_DIAGNOSTICS, uses: NO_USES, bound: NO_BOUND }));
    // Copies: an in-place re-parse (`consume`) rewrites the positions the AST shares with them.
    for (let i = this.markDiagnostics; i < diags.length; i++) {
      if (f.diagnostics === NO_DIAGNOSTICS) f.diagnostics = [];
      f.diagnostics.push(structuredClone(diags[i]!));
    }
    for (let i = this.markUses; i < useLog.length; i++) {
      const key = this.trackedKey.get(useLog[i]!);
      if (key === undefined) continue;
      if (f.uses === NO_USES) f.uses = [];
      f.uses.push(key);
    }
    if (bound?.size) {
      if (f.bound === NO_BOUND) f.bound = [];
      f.bound.push(...bound);
    }
  }

  /** Resources the reused plans' placements chose. */
  boundResources(): readonly string[] {
    return this.reusedBound;
  }

  /** The check is complete: the next one starts from here. */
  finish(): void {
    for (const [plan, f] of this.fresh) {
      const runsPlans = plansRunBy(plan).length > 0 || this.runTargets.has(plan.name.name);
      this.entries.set(planKey(f.file, plan.name.name), { node: plan, runsPlans, diagnostics: f.diagnostics, uses: f.uses, boundResources: f.bound });
      this.stats.checked++;
    }
    const seen = new Map<string, Module>();
    for (const m of this.modules) if (!m.std) seen.set(m.file, m.ast);
    this.commit(this.entries, seen, this.environment, this.stats);
  }
}

// The shared empty outcomes of `PlanMemoSession.fresh` (frozen: replaced, never written).
const NO_DIAGNOSTICS = Object.freeze([]) as unknown as Diagnostic[];
const NO_BOUND = Object.freeze([]) as unknown as string[];
const NO_USES = Object.freeze([]) as unknown as string[];

function planKey(file: string, name: string): string {
  return `${file}\u0000${name}`;
}

/**
 * Everything but the plans' bodies, in order: module files, the project config each is checked
 * against (a plan's flows, channels, endpoints and prices are judged by it), headers, imports,
 * every non-plan declaration (node identity) and every plan's name.
 */
function environmentOf(modules: readonly LoadedModule[]): unknown[] {
  const out: unknown[] = [];
  for (const m of modules) {
    out.push(m.file, m.std || m.mcp ? null : projectConfigStamp(m.file), m.ast.module, ...m.ast.imports);
    for (const d of m.ast.declarations) out.push(d.kind === 'PlanDecl' ? `plan ${d.name.name}` : d);
  }
  return out;
}

function sameEnvironment(now: readonly unknown[], before: readonly unknown[], movedFrom: (node: object) => object | undefined): boolean {
  if (now.length !== before.length) return false;
  for (let i = 0; i < now.length; i++) {
    const a = now[i];
    const b = before[i];
    if (a === b) continue;
    if (typeof a === 'object' && a !== null && movedFrom(a) === b) continue;
    return false;
  }
  return true;
}

/**
 * The plans (by name) that an `after` trigger with a `with { … }` starts, and the plans such a
 * trigger watches: the started plan's flows read the watched plan's checked output.
 */
function chainedPlans(modules: readonly LoadedModule[]): string[] {
  const out: string[] = [];
  const last = (parts: readonly { readonly name: string }[]): string => parts[parts.length - 1]!.name;
  for (const m of modules) {
    if (m.std) continue;
    for (const d of m.ast.declarations) if (d.kind === 'TriggerDecl' && d.source.kind === 'ChainSource' && d.with) out.push(last(d.plan.parts), last(d.source.plan.parts));
  }
  return out;
}

/** Names of the plans a plan runs as sub-plans (`run x`), at any depth of blocks. */
function plansRunBy(plan: PlanDecl): string[] {
  return runTargets(plan).map((q) => q.parts[q.parts.length - 1]!.name);
}

/** The diagnostics with every range moved to the new texts; undefined if one cannot move. */
function moveAll(diags: readonly Diagnostic[], edits: ReadonlyMap<string, ModuleEdit>): Diagnostic[] | undefined {
  const out: Diagnostic[] = [];
  for (const d of diags) {
    const range = moveRange(d.file, d.range, edits);
    if (!range) return undefined;
    let related: Diagnostic['related'];
    if (d.related) {
      const moved = d.related.map((r) => {
        const rr = moveRange(r.file, r.range, edits);
        return rr && { ...r, range: rr };
      });
      if (moved.some((r) => !r)) return undefined;
      related = moved as NonNullable<Diagnostic['related']>;
    }
    let fixes: Diagnostic['fixes'];
    if (d.fixes) {
      const moved = d.fixes.map((f) => {
        const edited = f.edits.map((e) => {
          const er = moveRange(e.file, e.range, edits);
          return er && { ...e, range: er };
        });
        return edited.some((e) => !e) ? undefined : { ...f, edits: edited as NonNullable<(typeof edited)[number]>[] };
      });
      if (moved.some((f) => !f)) return undefined;
      fixes = moved as NonNullable<Diagnostic['fixes']>;
    }
    out.push({ ...d, range, ...(related ? { related } : {}), ...(fixes ? { fixes } : {}) });
  }
  return out;
}

function moveRange(file: string, range: Range, edits: ReadonlyMap<string, ModuleEdit>): Range | undefined {
  const edit = edits.get(file);
  if (!edit) return undefined;
  const start: Position | undefined = edit.move(range.start);
  const end: Position | undefined = start && edit.move(range.end);
  if (!start || !end) return undefined;
  return start === range.start && end === range.end ? range : { start, end };
}
