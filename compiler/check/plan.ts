/**
 * Checks one plan: declares its steps and `for each` variables, resolves and type-checks every
 * step action (capability calls against `input`, E0202 for unknown/missing arguments with a fix
 * that inserts the missing one, defaults applied), `when`, `after`, `on`, `fallback`,
 * `compensate`, success criteria, output and plan-scoped invariants. Produces `CheckedPlan`, the
 * input of the DAG, placement, estimate and guardrail phases.
 */
import { approvalArgWarnings } from './approval-args.js';
import { secretArgsToModel } from './llm.js';
import { channelWarnings } from './channels.js';
import type {
  BlockItem, CapabilityCall, DataClass, Expr, ForEachDecl, InvariantDecl, JoinRule, PlanDecl, QualifiedName, RaceDecl, Range,
  RepeatDecl, RunAction, StepDecl,
} from '../../language/index.js';
import { diagnostic, type Diagnostic, type Fix } from '../../language/index.js';
import type { CallIR, CapabilityKindIR, ExprIR, ForEachIR, RetryIR, StepActionIR } from '../ir/types.js';
import type { LoadedModule } from '../load.js';
import type { ModelBuilder, OrchSymbol } from '../model.js';
import type { DeclEntry, Scopes } from '../scope.js';
import { closest } from '../suggest.js';
import { T, assignable, classOfType, formatTy, maxClass, optional, record, field, stripOptional, type FieldTy, type Ty } from '../types/ty.js';
import type { CapabilityInfo } from './capability.js';
import { checkExpr, STEP_STATUSES, stepViewTy, type BlockRefInfo, type ExprEnv, type ItemInfo, type RootInfo, type StepRefInfo } from './expr.js';
import { NO_RETRY, PRIORITY_INDEX, ms, retryIR } from './lower.js';
import { mismatchDiagnostic } from './mismatch.js';

export interface CheckedStep {
  readonly id: string;
  readonly decl: StepDecl;
  readonly symbol: OrchSymbol;
  readonly capability: CapabilityInfo | undefined;
  readonly runPlan: DeclEntry<'plan'> | undefined;
  readonly action: StepActionIR;
  readonly args: Record<string, ExprIR>;
  /** Data class of the arguments themselves (before taint from other steps' outputs). */
  ownData: DataClass;
  /**
   * Final data class (own ∪ capability `data` ∪ outputs it reads), set after the DAG is known
   * (a check-only compile leaves it at `ownData` in plans without guardrails: nothing reads it).
   */
  data: DataClass;
  /** Steps whose output this step reads (taint sources), without repeats. */
  readonly outputReads: readonly string[];
  /** All step references (data dependencies), without repeats. */
  readonly refs: readonly string[];
  readonly after: string[];
  /** Steps whose output this step reads unguarded (skipped with them), without repeats. */
  readonly skipIfSkipped: readonly string[];
  readonly when: ExprIR | null;
  readonly forEach: ForEachIR | null;
  /** The blocks around the step, outermost first (ids of `CheckedPlan.blocks`). */
  readonly blocks: readonly string[];
  /** The `for each` groups among them (its output nests once per group read from outside). */
  readonly eachPath: readonly string[];
  /** `race`/`repeat` blocks the step waits for as a whole; filled in with the block steps in `refs`. */
  waitsFor: readonly string[];
  readonly fallback: CallIR | null;
  readonly compensate: CallIR | null;
  readonly pinned: DeclEntry<'resource'> | undefined;
  readonly timeout_ms: number | null;
  readonly retry: RetryIR;
  readonly join: JoinRule;
  readonly on_failure: 'abort' | 'continue';
  readonly priority: number;
  readonly kind: CapabilityKindIR | null;
  readonly outputTy: Ty;
  /** Literal duration of a `wait` step, for estimates. */
  readonly waitMs: number | null;
  /** Literal item count of the `for each` lists around the step (their product), when all are list literals. */
  readonly itemCount: number | null;
}

/** A `for each`, `race` or `repeat` block of a plan body, outer blocks first. */
export interface PlanBlock {
  readonly id: string;
  readonly kind: 'for_each' | 'race' | 'repeat';
  readonly parent: string | null;
  readonly decl: ForEachDecl | RaceDecl | RepeatDecl;
  /** Every step inside, nested blocks included, in declaration order. */
  readonly steps: string[];
  /** for_each: filled in once the list is checked. */
  forEach?: ForEachIR;
  /** repeat: */
  readonly max?: number;
  until?: ExprIR;
  readonly onFailure?: 'abort' | 'continue';
  /** race / repeat: the symbol its name declares. */
  readonly symbol?: number;
}

export interface CheckedPlan {
  readonly entry: DeclEntry<'plan'>;
  readonly module: LoadedModule;
  readonly steps: CheckedStep[];
  readonly inputTy: Ty;
  readonly policy: DeclEntry<'policy'> | undefined;
  readonly guardrails: DeclEntry<'guardrail'>[];
  readonly success: { label: string | null; condition: ExprIR }[];
  readonly output: ExprIR | null;
  /** Names read by the plan's success criteria and output (they count as uses). */
  readonly outputUses: ReadonlySet<string>;
  readonly invariants: { name: string; modality: 'always' | 'never' | 'eventually'; condition: ExprIR }[];
  readonly invariantUses: ReadonlySet<string>;
  readonly blocks: readonly PlanBlock[];
  /** Races and loops by name, as expressions read them (top-level invariants read them too). */
  readonly blockRefs: ReadonlyMap<string, BlockRefInfo>;
  /** Steps read by loop conditions (`until`) and through `NAME.previous` (uses, not dependencies). */
  readonly loopUses: ReadonlySet<string>;
}

/*
 * A file of many small plans (issue 34, item 8) is checked in time set by what each plan
 * allocates: most plans have no blocks, loops, invariants or `join first`, so the collections for
 * those are created when a plan has one, and plans without share these empty ones.
 */
const NO_NAMES: ReadonlySet<string> = new Set();
const NO_ITEMS: Map<string, ItemInfo> = new Map();
const NO_BLOCK_NAMES: ReadonlyMap<string, BlockRefInfo & { range: Range }> = new Map();
const NO_IDS: readonly string[] = [];
const NO_OPEN: readonly PlanBlock[] = [];

/** The steps of a checked plan by id, built when first asked for (most plans never are). */
const byIdCache = new WeakMap<CheckedPlan, ReadonlyMap<string, CheckedStep>>();
export function stepsById(cp: CheckedPlan): ReadonlyMap<string, CheckedStep> {
  let m = byIdCache.get(cp);
  if (!m) {
    const built = new Map<string, CheckedStep>();
    for (const s of cp.steps) built.set(s.id, s);
    byIdCache.set(cp, built);
    m = built;
  }
  return m;
}

export interface PlanCheckContext {
  readonly scopes: Scopes;
  readonly model: ModelBuilder;
  readonly diags: Diagnostic[];
  readonly contextRoot: RootInfo;
  readonly capability: (e: DeclEntry<'capability'>) => CapabilityInfo;
  readonly planInput: (e: DeclEntry<'plan'>) => Ty;
  /** Diagnostics only: step arguments and conditions are checked without building their IR. */
  readonly typesOnly?: boolean;
}

export const RUN_TY = record([
  field('cost', T.money),
  field('elapsed', T.duration),
  field('status', { k: 'enum', values: ['running', 'completed', 'failed', 'cancelled', 'timeout', 'paused'] }),
  field('steps', T.int),
  // §8.8: the subject of the person who started the run; null when no person did (a trigger, the CLI).
  field('started_by', optional(T.string)),
]);

interface StepSlot {
  decl: StepDecl;
  symbol: OrchSymbol;
  group: string | undefined;
  forEach: ForEachIR | null;
  items: Map<string, ItemInfo>;
  itemCount: number | null;
  /** Enclosing blocks (outermost first), `for each` groups among them, enclosing loop names. */
  blocks: readonly string[];
  eachPath: readonly string[];
  inside: ReadonlySet<string>;
  outputTy: Ty;
  /** The called capability or run plan, resolved before any expression is checked. */
  capability: CapabilityInfo | undefined;
  runPlan: DeclEntry<'plan'> | undefined;
  /** What expressions see of the step (its entry in the plan's step table). */
  info: { readonly id: string; readonly symbol: number; outputTy: Ty; readonly group: string | undefined; readonly eachPath: readonly string[] };
}

/**
 * Collects the step references of one expression group (a step, a `for each` list) without
 * repeats (their order is not significant): all references, the output reads among them and the unguarded output
 * reads among those. Reused for every step of a plan; `take` hands out compact copies.
 */
class StepReads {
  // Each list is a buffer reused for every step (filled up to its count; setting an array's length
  // to 0 would drop its storage and make every step grow it again).
  private readonly lists: [string[], string[], string[]] = [[], [], []];
  private readonly counts = [0, 0, 0];
  /** Membership once a list is long (a step that reads hundreds of steps); a scan before that. */
  private sets: [Set<string>, Set<string>, Set<string>] | undefined;

  add(id: string, out: boolean, guarded: boolean): void {
    this.push(0, id);
    if (out) {
      this.push(1, id);
      if (!guarded) this.push(2, id);
    }
  }

  addGroup(g: { readonly refs: readonly string[]; readonly outputReads: readonly string[]; readonly skip: readonly string[] }): void {
    for (let i = 0; i < g.refs.length; i++) this.push(0, g.refs[i]!);
    for (let i = 0; i < g.outputReads.length; i++) this.push(1, g.outputReads[i]!);
    for (let i = 0; i < g.skip.length; i++) this.push(2, g.skip[i]!);
  }

  /**
   * The collected lists, and empties the collector. skip ⊆ outputReads ⊆ refs, and most steps
   * read the output of every step they name: equal lists are handed out as one array (per-step
   * collections are most of what a 10k-step plan keeps alive through garbage collection).
   */
  take(): { refs: readonly string[]; outputReads: readonly string[]; skip: readonly string[] } {
    const [nr, no, ns] = this.counts as [number, number, number];
    const refs = this.lists[0].slice(0, nr);
    const outputReads = no === nr ? refs : this.lists[1].slice(0, no);
    const skip = ns === no ? outputReads : this.lists[2].slice(0, ns);
    this.counts[0] = this.counts[1] = this.counts[2] = 0;
    this.sets = undefined;
    return { refs, outputReads, skip };
  }

  /** Forgets anything collected (a check that threw midway may have left some). */
  clear(): void {
    this.counts[0] = this.counts[1] = this.counts[2] = 0;
    this.sets = undefined;
  }

  /** Appends `id` to list `which` unless present. */
  private push(which: 0 | 1 | 2, id: string): void {
    const list = this.lists[which];
    const n = this.counts[which]!;
    if (!this.sets && n < 16) {
      for (let i = 0; i < n; i++) if (list[i] === id) return;
    } else {
      this.sets ??= [
        new Set(this.lists[0].slice(0, this.counts[0])),
        new Set(this.lists[1].slice(0, this.counts[1])),
        new Set(this.lists[2].slice(0, this.counts[2])),
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
/** `waited` of a step that reads no block as a whole (replaced by a list at its first). */
const NO_WAITS = Object.freeze([]) as unknown as string[];

export function checkPlan(entry: DeclEntry<'plan'>, cx: PlanCheckContext): CheckedPlan {
  const { scopes, model, diags } = cx;
  const mod = entry.module;
  const plan: PlanDecl = entry.node;
  const file = mod.file;
  const inputTy = cx.planInput(entry);
  const roots = new Map<string, RootInfo>([
    ['input', { ty: inputTy, ir: { op: 'var', name: 'input' } }],
    ['context', cx.contextRoot],
  ]);

  // 1. declare steps and blocks (forward references are fine: the DAG orders them)
  const slots: StepSlot[] = [];
  const stepInfos = new Map<string, StepRefInfo>();
  // `race`/`repeat` names, created with the first one.
  let blockNames: ReadonlyMap<string, BlockRefInfo & { range: Range }> = NO_BLOCK_NAMES;
  const blocks: PlanBlock[] = [];
  let groupCounter = 0;
  const groupLists: { each: ForEachDecl; group: string; items: Map<string, ItemInfo>; outer: Map<string, ItemInfo>; eachPath: readonly string[]; inside: ReadonlySet<string> }[] = [];
  /** Where a block is declared, what surrounds it. */
  interface Around {
    readonly group: string | undefined;
    readonly forEach: ForEachIR | null;
    readonly items: Map<string, ItemInfo>;
    readonly itemCount: number | null;
    readonly blocks: readonly string[];
    readonly eachPath: readonly string[];
    readonly inside: ReadonlySet<string>;
    /** The blocks whose step lists the steps declared here join. */
    readonly open: readonly PlanBlock[];
  }
  const duplicateName = (name: string, range: Range): boolean => {
    const prior = stepInfos.get(name) ?? blockNames.get(name);
    if (!prior) return false;
    const sym = model.symbols[prior.symbol]!;
    diags.push(diagnostic('E0102', `duplicate step "${name}" in plan ${plan.name.name} (first declared on line ${sym.nameRange.start.line})`, file, range, {
      related: [{ message: 'first declared here', file, range: sym.nameRange }],
    }));
    return true;
  };
  const declareBlockName = (node: RaceDecl | RepeatDecl, kind: 'race' | 'repeat'): number | undefined => {
    const name = node.name.name;
    if (duplicateName(name, node.name.range)) return undefined;
    const sym = model.declare({
      name, kind: 'step', qualifiedName: `${plan.name.name}.${name}`, file, range: node.range, nameRange: node.name.range,
      detail: kind === 'race' ? `race ${name}` : `repeat ${name} max ${node.kind === 'RepeatDecl' ? node.max?.value ?? '?' : ''}`, std: mod.std,
    });
    return sym.id;
  };

  let untilScopes: Map<PlanBlock, { items: Map<string, ItemInfo>; eachPath: readonly string[]; inside: ReadonlySet<string> }> | undefined;
  const declareSteps = (body: readonly (BlockItem | InvariantDecl)[], at: Around): void => {
    for (let bi = 0; bi < body.length; bi++) {
      const node = body[bi]!;
      if (node.kind === 'InvariantDecl') continue;
      if (node.kind === 'ForEachDecl') {
        const g = `each_${node.item.name}_${++groupCounter}`;
        const sym = model.declare({
          name: node.item.name, kind: 'item', qualifiedName: `${entry.node.name.name}.${node.item.name}`, file, range: node.range,
          nameRange: node.item.range, detail: `for each ${node.item.name}`, std: mod.std,
        });
        const inner = new Map(at.items);
        const placeholder: ItemInfo = { ty: T.unknown, data: 'public', symbol: sym.id };
        inner.set(node.item.name, placeholder);
        // `parallel 0` is E0201 (check/bounds.ts): the IR of a plan with errors is never run.
        const fe: ForEachIR = { group: g, item: node.item.name, list: { op: 'lit', value: null }, parallel: node.parallel ? Math.max(1, Math.floor(node.parallel.value)) : null };
        const eachPath = [...at.eachPath, g];
        groupLists.push({ each: node, group: g, items: inner, outer: at.items, eachPath: at.eachPath, inside: at.inside });
        const count = node.list.kind === 'ListLit' ? node.list.items.length : null;
        const block: PlanBlock = { id: g, kind: 'for_each', parent: at.blocks[at.blocks.length - 1] ?? null, decl: node, steps: [], forEach: fe };
        blocks.push(block);
        declareSteps(node.body, {
          group: g, forEach: fe, items: inner, itemCount: count === null || (at.forEach && at.itemCount === null) ? null : count * (at.forEach ? at.itemCount! : 1),
          blocks: [...at.blocks, g], eachPath, inside: at.inside, open: [...at.open, block],
        });
        continue;
      }
      if (node.kind === 'RaceDecl' || node.kind === 'RepeatDecl') {
        const kind = node.kind === 'RaceDecl' ? 'race' : 'repeat';
        const symbol = declareBlockName(node, kind);
        const id = node.name.name;
        // A duplicate name is reported; its block still gets checked under a private id.
        const blockId = symbol === undefined ? `${id}#${++groupCounter}` : id;
        const block: PlanBlock = node.kind === 'RaceDecl'
          ? { id: blockId, kind, parent: at.blocks[at.blocks.length - 1] ?? null, decl: node, steps: [], symbol }
          : {
              id: blockId, kind, parent: at.blocks[at.blocks.length - 1] ?? null, decl: node, steps: [], symbol,
              max: node.max ? Math.max(1, Math.min(1000, Math.floor(node.max.value))) : 1, onFailure: node.onFailure ?? 'abort',
            };
        blocks.push(block);
        const inside = kind === 'repeat' && symbol !== undefined ? new Set([...at.inside, id]) : at.inside;
        // `until` is checked in the scope of the loop's body (items around it, the loop's own names).
        (untilScopes ??= new Map()).set(block, { items: at.items, eachPath: at.eachPath, inside });
        declareSteps(node.body, { ...at, blocks: [...at.blocks, blockId], inside, open: [...at.open, block] });
        if (symbol !== undefined) {
          if (blockNames === NO_BLOCK_NAMES) blockNames = new Map();
          (blockNames as Map<string, BlockRefInfo & { range: Range }>).set(id, { id, kind, symbol, steps: block.steps, outsideTy: T.any, range: node.name.range, eachPath: at.eachPath });
        }
        continue;
      }
      const name = node.name.name;
      if (duplicateName(name, node.name.range)) continue;
      const symbol = model.declare({
        name, kind: 'step', qualifiedName: `${plan.name.name}.${name}`, file, range: node.range, nameRange: node.name.range,
        doc: node.doc, detail: `step ${name}`, std: mod.std,
      });
      for (const b of at.open) b.steps.push(name);
      // The step table doubles as the duplicate check; output types are filled in below.
      const info = { id: name, symbol: symbol.id, outputTy: T.any as Ty, group: at.group, eachPath: at.eachPath };
      stepInfos.set(name, info);
      slots.push({
        decl: node, symbol, group: at.group, forEach: at.forEach, items: at.items, itemCount: at.itemCount,
        blocks: at.blocks, eachPath: at.eachPath, inside: at.inside,
        outputTy: T.any, capability: undefined, runPlan: undefined, info,
      });
    }
  };
  declareSteps(plan.body, { group: undefined, forEach: null, items: NO_ITEMS, itemCount: null, blocks: NO_IDS, eachPath: NO_IDS, inside: NO_NAMES, open: NO_OPEN });

  // Output types are known from the action before any expression is checked.
  for (let si = 0; si < slots.length; si++) {
    const s = slots[si]!;
    const a = s.decl.action;
    if (a.kind === 'CapabilityCall') {
      const ce = scopes.resolve(mod, a.capability, 'capability');
      const info = ce ? cx.capability(ce) : undefined;
      s.capability = info;
      s.outputTy = info ? info.output : T.unknown;
    } else if (a.kind === 'RunAction') {
      const pe = scopes.resolve(mod, a.plan, 'plan');
      s.runPlan = pe;
      s.outputTy = pe ? T.any : T.unknown;
    } else s.outputTy = T.null;
    s.info.outputTy = s.outputTy;
  }
  if (blockNames.size) for (const b of blockNames.values()) b_setTypes(b, stepInfos);

  // 2. `for each` lists are typed in the scope around the block; items take the element type.
  // One collector of step references for the whole plan, emptied after each list and step.
  const reads = sharedReads;
  reads.clear();
  // Where the step being checked first reads a step's output unguarded, kept only where a rule
  // may report that read (a `join first` step's reads, and reads of race branches): the E0201s
  // of settleBlockReads point at the read rather than at the step's name.
  let raceBranches: Set<string> | undefined;
  for (const b of blockNames.values()) if (b.kind === 'race') for (const id of b.steps) (raceBranches ??= new Set()).add(id);
  let hardReads: Map<string, Range> | undefined;
  let keepReads = false;
  let readingStep = '';
  const onStep = (id: string, range: Range, out: boolean, guarded: boolean): void => {
    reads.add(id, out, guarded);
    if (out && !guarded && (keepReads || raceBranches?.has(id))) {
      const key = `${readingStep}\u0000${id}`;
      hardReads ??= new Map();
      if (!hardReads.has(key)) hardReads.set(key, range);
    }
  };
  // Blocks read as a whole by the expression being checked (reset per step; most read none).
  let waited: string[] = NO_WAITS;
  let loopUses: Set<string> | undefined;
  const onPrevious = (id: string): void => {
    (loopUses ??= new Set()).add(id);
  };
  const onBlock = (id: string): void => {
    if (waited === NO_WAITS) waited = [];
    if (!waited.includes(id)) waited.push(id);
  };
  let listIR: Map<string, { ir: ExprIR; refs: readonly string[]; outputReads: readonly string[]; skip: readonly string[] }> | undefined;
  for (const g of groupLists) {
    const r = checkExpr(g.each.list, { file, model, diags, roots, steps: stepInfos, items: g.outer, onStep, blocks: blockNames, inside: g.inside, eachPath: g.eachPath });
    const lt = r.ty.k === 'optional' ? r.ty.inner : r.ty;
    let elem: Ty = T.any;
    if (lt.k === 'list') elem = lt.elem;
    else if (lt.k !== 'any' && lt.k !== 'unknown') diags.push(diagnostic('E0201', `"for each" needs a list, not ${formatTy(r.ty)}`, file, g.each.list.range));
    const prev = g.items.get(g.each.item.name)!;
    g.items.set(g.each.item.name, { ty: elem, data: maxClass(r.data, classOfType(elem)), symbol: prev.symbol });
    if (model.recordTypes) model.typeAt(file, g.each.item.range, () => formatTy(elem));
    (listIR ??= new Map()).set(g.group, { ir: r.ir, ...reads.take() });
    const block = blocks.find((b) => b.id === g.group);
    if (block?.forEach) block.forEach = { ...block.forEach, list: r.ir };
  }
  waited = NO_WAITS;

  // `until` is evaluated over one iteration, inside the loop.
  for (const b of blocks) {
    if (b.kind !== 'repeat') continue;
    const d = b.decl as RepeatDecl;
    const { items, eachPath, inside } = untilScopes!.get(b)!;
    const r = checkExpr(d.until, { file, model, diags, roots, steps: stepInfos, items, onStep, onPrevious, blocks: blockNames, inside, eachPath, group: eachPath[eachPath.length - 1] });
    expectTy(r.ty, T.bool, d.until.range, 'until', diags, file);
    b.until = r.ir;
    for (const id of reads.take().refs) (loopUses ??= new Set()).add(id);
  }
  waited = NO_WAITS;

  // 3. check each step
  // (sized up front: a one-step plan's list would otherwise get room for 17)
  const steps: CheckedStep[] = new Array<CheckedStep>(slots.length);
  // Steps of one `for each` block (or of the plan body) share their expression environment.
  // (The last one is kept apart: a plan without blocks has one environment and needs no map.)
  let envs: Map<ReadonlyMap<string, ItemInfo>, ExprEnv> | undefined;
  let lastEnv: ExprEnv | undefined;
  const stepCx: StepContext = { cx, file, mod, plan, stepInfos, reads, blockNames };
  for (let si = 0; si < slots.length; si++) {
    const s = slots[si]!;
    const groupInfo = s.group ? listIR?.get(s.group) : undefined;
    for (const g of s.eachPath) {
      const info = listIR?.get(g);
      if (info) reads.addGroup(info);
    }
    let env = lastEnv?.items === s.items ? lastEnv : envs?.get(s.items);
    if (!env || env.inside !== s.inside) {
      env = { file, model, diags, roots, steps: stepInfos, group: s.group, items: s.items, onStep, typesOnly: cx.typesOnly === true, blocks: blockNames, inside: s.inside, eachPath: s.eachPath, onBlock, onPrevious };
      if (lastEnv && lastEnv.items !== s.items) {
        envs ??= new Map([[lastEnv.items!, lastEnv]]);
      }
      envs?.set(s.items, env);
    }
    lastEnv = env;
    waited = NO_WAITS;
    readingStep = s.info.id;
    keepReads = s.decl.join === 'first';
    const checked = checkStep(s, env, groupInfo?.ir, stepCx);
    for (const a of s.decl.after) {
      const blk = blockNames.get(a.name);
      if (blk && !stepInfos.has(a.name) && !s.inside.has(a.name)) onBlock(blk.id);
    }
    checked.waitsFor = waited;
    steps[si] = checked;
  }
  waited = NO_WAITS;
  keepReads = false;
  readingStep = '';
  settleBlockReads(steps, blocks, blockNames, diags, file, (step, id) => hardReads?.get(`${step}\u0000${id}`));

  // 4. plan-level properties
  const policy = plan.policy ? scopes.resolve(mod, plan.policy, 'policy') : undefined;
  const guardrails: DeclEntry<'guardrail'>[] = [];
  for (const g of plan.guardrails) {
    const ge = scopes.resolve(mod, g, 'guardrail');
    if (ge && !guardrails.includes(ge)) guardrails.push(ge);
  }
  // Guardrails declared in the plan's own module apply to every plan of it (rules are not opt-in).
  for (const ge of scopes.entries(mod, 'guardrail')) if (!guardrails.includes(ge)) guardrails.push(ge);

  let outputUses: Set<string> | undefined;
  const planEnv: ExprEnv = {
    file, model, diags, roots, steps: stepInfos, blocks: blockNames,
    onStep: (id) => void (outputUses ??= new Set()).add(id),
    // The success criteria's and output's IR is read only when the plan's IR is built.
    typesOnly: cx.typesOnly === true,
  };
  const success = plan.success.length === 0 ? [] : plan.success.map((c) => {
    const r = checkExpr(c.condition, planEnv);
    expectTy(r.ty, T.bool, c.condition.range, 'success', diags, file);
    return { label: c.label ? c.label.parts.filter((p) => typeof p === 'string').join('') : null, condition: r.ir };
  });
  const output = plan.output ? checkExpr(plan.output, planEnv).ir : null;

  let invariantUses: Set<string> | undefined;
  let invariants: CheckedPlan['invariants'] = [];
  if (plan.body.some((b) => b.kind === 'InvariantDecl')) {
    const invariantDecls = plan.body.filter((b): b is InvariantDecl => b.kind === 'InvariantDecl');
    const invEnv: ExprEnv = {
      ...planEnv,
      typesOnly: false,
      roots: new Map([...roots, ['run', { ty: RUN_TY, ir: { op: 'var', name: 'run' } }]]),
      onStep: (id) => void (invariantUses ??= new Set()).add(id),
    };
    invariants = invariantDecls.map((inv) => checkInvariant(inv, invEnv, diags, file));
  }

  return {
    entry, module: mod, steps, inputTy, policy, guardrails, success, output, outputUses: outputUses ?? NO_NAMES, invariants,
    invariantUses: invariantUses ?? NO_NAMES, blocks, blockRefs: blockNames, loopUses: loopUses ?? NO_NAMES,
  };
}

/** The types `NAME` has once its steps' output types are known. */
function b_setTypes(b: BlockRefInfo & { range: Range }, steps: ReadonlyMap<string, StepRefInfo>): void {
  const common = { status: field('status', { k: 'enum', values: STEP_STATUSES }), started: field('started', T.bool), completed: field('completed', T.bool), failed: field('failed', T.bool), skipped: field('skipped', T.bool), duration: field('duration', T.duration), cost: field('cost', T.money) };
  const m = b as { -readonly [K in keyof BlockRefInfo]: BlockRefInfo[K] };
  if (b.kind === 'race') {
    const outs = b.steps.map((s) => steps.get(s)?.outputTy ?? T.any);
    const first = outs[0] ?? T.null;
    const same = outs.every((o) => o === first || formatTy(o) === formatTy(first));
    m.outsideTy = record([field('winner', { k: 'enum', values: [...b.steps] }), field('output', same ? first : T.any), ...Object.values(common)]);
    return;
  }
  m.outsideTy = record([field('iterations', T.int), ...Object.values(common)]);
  const previous = record(b.steps.map((s) => field(s, stepViewTy(steps.get(s)?.outputTy ?? T.any))));
  m.insideTy = record([field('index', T.int), field('previous', optional(previous))]);
}

/**
 * Rules that need every step checked: a read of a step of a loop or of a race branch from
 * outside the block waits for the whole block (its steps join the dependencies); a `join first` step, and a reader of a race
 * branch from outside the race, may read those outputs only inside `??` (E0201, §7.1).
 */
function settleBlockReads(
  steps: readonly CheckedStep[],
  blocks: readonly PlanBlock[],
  names: ReadonlyMap<string, BlockRefInfo>,
  diags: Diagnostic[],
  file: string,
  readAt: (step: string, id: string) => Range | undefined,
): void {
  if (blocks.length === 0 && steps.every((s) => s.join !== 'first')) {
    // No race, loop or `for each`, no `join first`: no rule here applies (a plan of plain steps).
    // `waitsFor` only ever names blocks, and there are none.
    for (const s of steps) s.waitsFor = NO_IDS;
    return;
  }
  const loopOf = new Map<string, PlanBlock[]>();
  const raceOf = new Map<string, PlanBlock>();
  for (const b of blocks) {
    if (b.kind === 'repeat') for (const s of b.steps) loopOf.set(s, [...(loopOf.get(s) ?? []), b]);
    if (b.kind === 'race') for (const s of b.steps) raceOf.set(s, b);
  }
  for (const s of steps) {
    const waits = new Set(s.waitsFor);
    for (const r of s.refs) for (const loop of loopOf.get(r) ?? []) if (!s.blocks.includes(loop.id)) waits.add(loop.id);
    for (const a of s.after) for (const loop of loopOf.get(a) ?? []) if (!s.blocks.includes(loop.id)) waits.add(loop.id);
    // A branch read from outside its race is known when the race ends (a loser reads null).
    for (const r of [...s.refs, ...s.after]) {
      const race = raceOf.get(r);
      if (race && !s.blocks.includes(race.id)) waits.add(race.id);
    }
    const extra: string[] = [];
    for (const w of waits) {
      const b = blocks.find((x) => x.id === w);
      if (b) for (const id of b.steps) if (id !== s.id && !s.refs.includes(id) && !extra.includes(id)) extra.push(id);
    }
    if (extra.length) (s as { refs: readonly string[] }).refs = [...s.refs, ...extra];
    s.waitsFor = [...waits].filter((w) => names.has(w) || blocks.some((b) => b.id === w));
    const hard = s.skipIfSkipped.filter((id) => id !== s.id);
    if (s.join === 'first') {
      const deps = new Set([...s.refs, ...s.after]);
      deps.delete(s.id);
      if (deps.size >= 2 && hard.length)
        diags.push(diagnostic('E0201', `step "${s.id}" has "join first": it starts when one dependency completes, while the others may still run, so read ${hard.map((h) => `${h}.output`).join(', ')} inside a ?? chain (${hard[0]}.output.field ?? default)`, file, readAt(s.id, hard[0]!) ?? s.decl.name.range));
    }
    for (const id of hard) {
      const race = raceOf.get(id);
      if (race && !s.blocks.includes(race.id))
        diags.push(diagnostic('E0201', `step "${id}" is a branch of race ${race.id}: when it loses its output is null, so step "${s.id}" must read it inside a ?? chain (${id}.output.field ?? default), or read ${race.id}.output`, file, readAt(s.id, id) ?? s.decl.name.range));
    }
  }
}

/** The arguments of a call checked for diagnostics only (read-only: shared). */
const NO_ARGS: Record<string, ExprIR> = Object.freeze({});

/** The action of every capability-call step (read-only: shared). */
const CALL_ACTION: StepActionIR = Object.freeze({ type: 'call' });

/** What checking one step needs of its plan (one object per plan, not per step). */
interface StepContext {
  readonly cx: PlanCheckContext;
  readonly file: string;
  readonly mod: LoadedModule;
  readonly plan: PlanDecl;
  readonly stepInfos: ReadonlyMap<string, StepRefInfo>;
  readonly reads: StepReads;
  /** `race`/`repeat` names: `after NAME` waits for the block. */
  readonly blockNames: ReadonlyMap<string, BlockRefInfo>;
}

/**
 * Checks one step's action, `when`, `after`, `on`, `fallback` and `compensate`. A function of its
 * own (not the body of checkPlan's loop) so a 10k-step plan runs it optimized after a few calls.
 * `groupList`: the IR of the step's `for each` list, if it is in one.
 */
function checkStep(s: StepSlot, env: ExprEnv, groupList: ExprIR | undefined, sc: StepContext): CheckedStep {
  const { cx, file, mod, plan, stepInfos, reads } = sc;
  const { scopes, model, diags } = cx;
  const d = s.decl;
  const id = d.name.name;
  let ownData: DataClass = 'public';
  let action: StepActionIR = CALL_ACTION;
  let args: Record<string, ExprIR> = {};
  let waitMs: number | null = null;
  const cap = s.capability;
  const runPlan = s.runPlan;
  const a = d.action;
  if (a.kind === 'CapabilityCall') {
    if (cap && !cap.baseless) {
      const r = checkArgs(a, cap.input, cap.defaults, env, `capability ${cap.entry.node.name.name}`, a.capability.range);
      args = r.args;
      ownData = r.data;
      channelWarnings(cap.name, a, file, diags);
      approvalArgWarnings(cap.name, a, file, diags);
      secretArgsToModel(cap.ir, a, file, diags);
    } else for (const arg of a.args) checkExpr(arg.value, env);
  } else if (a.kind === 'WaitAction') {
    // The duration's IR feeds the estimates (a literal wait is its duration): always built.
    const r = checkExpr(a.duration, env.typesOnly ? { ...env, typesOnly: false } : env);
    expectTy(r.ty, T.duration, a.duration.range, 'wait', diags, file);
    action = { type: 'wait', duration_ms: r.ir };
    if (r.ir.op === 'lit' && typeof r.ir.value === 'number') waitMs = r.ir.value;
  } else if (a.kind === 'WaitUntilAction') {
    const r = checkExpr(a.condition, env);
    expectTy(r.ty, T.bool, a.condition.range, 'wait until', diags, file);
    action = { type: 'wait_until', condition: r.ir, timeout_ms: ms(a.timeout) };
  } else {
    let planArgs: Record<string, ExprIR> = {};
    if (runPlan) {
      const inTy = cx.planInput(runPlan);
      if (inTy.k === 'record') {
        const r = checkArgs(a, inTy, new Map(), env, `plan ${runPlan.node.name.name}`, a.plan.range);
        planArgs = r.args;
        ownData = r.data;
      }
    } else for (const arg of a.args) checkExpr(arg.value, env);
    action = { type: 'run', plan: runPlan?.node.name.name ?? partsOf(a.plan), args: planArgs };
  }
  let when: ExprIR | null = null;
  if (d.when) {
    const r = checkExpr(d.when, env);
    expectTy(r.ty, T.bool, d.when.range, 'when', diags, file);
    when = r.ir;
  }
  const after: string[] = [];
  for (let k = 0; k < d.after.length; k++) {
    const ai = d.after[k]!;
    const target = stepInfos.get(ai.name);
    const blockTarget = target ? undefined : sc.blockNames.get(ai.name);
    if (blockTarget) {
      model.refer(file, ai.range, blockTarget.symbol);
      continue;
    }
    if (!target) {
      const best = closest(ai.name, [...stepInfos.keys(), ...sc.blockNames.keys()]);
      diags.push(diagnostic('E0101', `unknown step "${ai.name}" in after${best ? `; did you mean "${best}"?` : ''}`, file, ai.range,
        best ? { fixes: [{ title: `Change to "${best}"`, edits: [{ file, range: ai.range, newText: best }] }] } : {}));
      continue;
    }
    model.refer(file, ai.range, target.symbol);
    if (!after.includes(ai.name)) after.push(ai.name);
  }
  const pinned = d.on ? scopes.resolve(mod, d.on, 'resource') : undefined;
  const fallback = d.fallback ? checkCall(d.fallback, env, cx, mod) : null;
  const compensate = d.compensate ? checkCall(d.compensate, env, cx, mod) : null;
  if (fallback) ownData = maxClass(ownData, fallback.data);
  const kind: CapabilityKindIR | null = cap ? cap.ir.kind : null;
  const capTimeout = cap ? cap.ir.timeout_ms : null;
  const { refs, outputReads, skip } = reads.take();
  const checked: CheckedStep = {
    id, decl: d, symbol: s.symbol, capability: cap, runPlan, action, args, ownData, data: ownData, outputReads, refs,
    after, skipIfSkipped: skip, when,
    forEach: s.forEach && groupList ? { ...s.forEach, list: groupList } : s.forEach,
    blocks: s.blocks, eachPath: s.eachPath, waitsFor: [],
    fallback: fallback?.call ?? null, compensate: compensate?.call ?? null, pinned,
    timeout_ms: ms(d.timeout) ?? capTimeout,
    retry: retryIR(d.retry, cap ? cap.ir.retry : NO_RETRY),
    join: d.join ?? 'none_failed',
    on_failure: d.onFailure ?? 'abort',
    priority: PRIORITY_INDEX[d.priority ?? plan.priority ?? 'normal'],
    kind, outputTy: s.outputTy, waitMs, itemCount: s.itemCount,
  };
  if (model.recordTypes) model.typeAt(file, d.name.range, () => `step ${id}: ${cap ? cap.entry.node.name.name : action.type} → ${formatTy(s.outputTy)}`);
  return checked;
}

export function checkInvariant(inv: InvariantDecl, env: ExprEnv, diags: Diagnostic[], file: string): CheckedPlan['invariants'][number] {
  const r = checkExpr(inv.condition, env);
  expectTy(r.ty, T.bool, inv.condition.range, 'invariant', diags, file);
  const name = inv.name.kind === 'Ident' ? inv.name.name : inv.name.parts.filter((p) => typeof p === 'string').join('');
  return { name, modality: inv.modality, condition: r.ir };
}

function partsOf(q: QualifiedName): string {
  return q.parts.map((p) => p.name).join('.');
}

function expectTy(actual: Ty, expected: Ty, range: Range, what: string, diags: Diagnostic[], file: string): void {
  if (assignable(actual, expected)) return;
  const code = expected.k === 'duration' && (actual.k === 'number' || actual.k === 'int' || actual.k === 'money' || actual.k === 'percent') ? 'E0203' : 'E0201';
  diags.push(diagnostic(code, `${what} expects ${formatTy(expected)}, got ${formatTy(actual)}`, file, range));
}

function checkCall(call: CapabilityCall, env: ExprEnv, cx: PlanCheckContext, mod: LoadedModule): { call: CallIR; data: DataClass } | null {
  const ce = cx.scopes.resolve(mod, call.capability, 'capability');
  if (!ce) {
    for (const a of call.args) checkExpr(a.value, env);
    return null;
  }
  const info = cx.capability(ce);
  if (info.baseless) {
    for (const a of call.args) checkExpr(a.value, env);
    return null;
  }
  const r = checkArgs(call, info.input, info.defaults, env, `capability ${ce.node.name.name}`, call.capability.range);
  secretArgsToModel(info.ir, call, env.file, env.diags);
  return { call: { capability: info.name, args: r.args }, data: r.data };
}

/** Placeholder source text for a missing argument of type `t` (a quick fix inserts it). */
export function placeholderFor(t: Ty): string {
  switch (t.k) {
    case 'string': case 'secret': return '""';
    case 'int': case 'number': return '0';
    case 'bool': return 'false';
    case 'duration': return '1s';
    case 'money': return `0${t.currency ?? 'usd'}`;
    case 'percent': return '0%';
    case 'enum': return JSON.stringify(t.values[0] ?? '');
    case 'list': return '[]';
    case 'record': case 'map': return '{}';
    case 'optional': return 'null';
    default: return 'null';
  }
}

/**
 * Checks named arguments against a record of parameters: E0202 for an unknown or repeated
 * argument (did-you-mean fix) and for each missing required one (fix inserting it), E0201 for a
 * value of the wrong type. Defaults fill omitted parameters. A call that lost an argument to a
 * syntax error (`argsLost`) has nothing reported missing: that error already says what is wrong.
 */
export function checkArgs(
  call: Pick<CapabilityCall | RunAction, 'args' | 'range' | 'argsLost'>,
  params: Ty & { k: 'record' },
  defaults: ReadonlyMap<string, ExprIR>,
  env: ExprEnv,
  what: string,
  nameRange: Range,
): { args: Record<string, ExprIR>; data: DataClass } {
  const { diags, file, model } = env;
  const { args, range: callRange } = call;
  // Diagnostics only: the arguments' IR (all placeholders) is never read, nor is this record.
  const out: Record<string, ExprIR> | undefined = env.typesOnly ? undefined : {};
  let data: DataClass = 'public';
  const given = givenNames(args.length);
  let paramList: string | undefined;
  for (let ai = 0; ai < args.length; ai++) {
    const a = args[ai]!;
    const r = checkExpr(a.value, env);
    const name = a.name.name;
    const p = params.fields.get(name);
    if (!p) {
      const best = closest(name, [...params.fields.keys()].filter((k) => !given.has(k)));
      const fixes: Fix[] = best ? [{ title: `Change to "${best}"`, edits: [{ file, range: a.name.range, newText: best }] }] : [];
      // Listed once per call: a call of many unknown arguments would otherwise join it each time.
      paramList ??= [...params.fields.keys()].join(', ') || 'none';
      diags.push(diagnostic('E0202', `unknown argument "${name}" for ${what}${best ? `; did you mean "${best}"?` : ''} (parameters: ${paramList})`, file, a.name.range, fixes.length ? { fixes } : {}));
      continue;
    }
    if (given.has(name)) {
      diags.push(diagnostic('E0202', `argument "${name}" is given twice`, file, a.name.range));
      continue;
    }
    given.add(name);
    if (p.decl?.symbol !== undefined) model.refer(file, a.name.range, p.decl.symbol);
    if (!assignable(r.ty, p.ty)) {
      diags.push(mismatchDiagnostic(a.value, r.ty, p.ty, `argument "${name}" of ${what}`, name, file));
    } else excessFields(a.value, p.ty, file, diags);
    data = maxClass(data, r.data);
    if (out) out[name] = r.ir;
  }
  const missing: FieldTy[] = [];
  const req = requiredOf(params);
  for (let i = 0; i < req.length; i++) if (!given.has(req[i]!.name)) missing.push(req[i]!);
  if (missing.length && !call.argsLost) {
    // Insert right after the last argument (a trailing comma stays valid), or inside `()`.
    const last = args[args.length - 1];
    const end = callRange.end;
    const at = last ? last.range.end : { line: end.line, column: Math.max(1, end.column - 1), offset: Math.max(0, end.offset - 1) };
    const text = missing.map((f) => `${f.name}: ${placeholderFor(f.ty)}`).join(', ');
    const sep = args.length ? ', ' : '';
    diags.push(
      diagnostic('E0202', `missing required argument${missing.length > 1 ? 's' : ''} ${missing.map((f) => `"${f.name}"`).join(', ')} for ${what}`, file, nameRange, {
        fixes: [{ title: `Add ${missing.map((f) => f.name).join(', ')}`, edits: [{ file, range: { start: at, end: at }, newText: sep + text }] }],
      }),
    );
  }
  if (out && defaults.size) {
    const entries = entriesOf(defaults);
    for (let i = 0; i < entries.length; i++) if (!given.has(entries[i]![0])) out[entries[i]![0]] = entries[i]![1];
  }
  return { args: out ?? NO_ARGS, data };
}

/**
 * The names a call has given so far. Calls have a handful of arguments, where a list scan beats
 * a set per call; a call of thousands (a generated one) gets a set, or its check is quadratic.
 */
function givenNames(count: number): { has(name: string): boolean; add(name: string): void } {
  if (count > 16) return new Set<string>();
  const names: string[] = [];
  return { has: (name) => names.includes(name), add: (name) => void names.push(name) };
}

/**
 * A record written in a call carries only fields of its parameter's record type: the handler's
 * input schema is closed, and a misspelt optional field would otherwise vanish without a word.
 * A value read from elsewhere (a step's output) may carry more; only literals are held to it.
 */
function excessFields(e: Expr, ty: Ty, file: string, diags: Diagnostic[]): void {
  const t = stripOptional(ty);
  if (e.kind === 'ParenExpr') return excessFields(e.inner, ty, file, diags);
  if (e.kind === 'ListLit' && t.k === 'list') {
    for (const item of e.items) excessFields(item, t.elem, file, diags);
    return;
  }
  if (e.kind !== 'RecordLit' || t.k !== 'record' || t.open) return;
  for (const f of e.fields) {
    const ft = t.fields.get(f.key.name);
    if (ft) {
      excessFields(f.value, ft.ty, file, diags);
      continue;
    }
    const best = closest(f.key.name, [...t.fields.keys()].filter((k) => !e.fields.some((g) => g.key.name === k)));
    diags.push(diagnostic('E0201', `unknown field "${f.key.name}"${best ? `; did you mean "${best}"?` : ''} (fields: ${[...t.fields.keys()].join(', ')})`, file, f.key.range));
  }
}

// Per parameter record (one per capability or plan input, shared by every call of it): its
// required fields and defaults as arrays, so a call does not iterate maps.
const required = new WeakMap<Ty, readonly FieldTy[]>();
function requiredOf(params: Ty & { k: 'record' }): readonly FieldTy[] {
  let r = required.get(params);
  if (!r) {
    r = [...params.fields.values()].filter((f) => f.required);
    required.set(params, r);
  }
  return r;
}

const defaultEntries = new WeakMap<ReadonlyMap<string, ExprIR>, readonly (readonly [string, ExprIR])[]>();
function entriesOf(defaults: ReadonlyMap<string, ExprIR>): readonly (readonly [string, ExprIR])[] {
  let e = defaultEntries.get(defaults);
  if (!e) {
    e = [...defaults];
    defaultEntries.set(defaults, e);
  }
  return e;
}
