/**
 * The first pass over a plan body: declares its steps, `for each` items and `race`/`repeat`
 * names (E0102 for a duplicate), records each block with the steps inside it, and resolves what
 * each step calls — so output types are known before any expression is checked, and forward
 * references are fine (the DAG orders them).
 */
import type { BlockItem, ForEachDecl, InvariantDecl, RaceDecl, Range, RepeatDecl, StepDecl } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';
import type { ForEachIR } from '../ir/types.js';
import type { LoadedModule } from '../loaded-module.js';
import type { ModelBuilder, OrchSymbol } from '../model.js';
import type { DeclEntry, Scopes } from '../scope.js';
import { SPEND, T, field, formatTy, optional, record, type Ty } from '../types/ty.js';
import type { CapabilityInfo } from './capability.js';
import type { PlanBlock } from './checked-plan.js';
import { STEP_STATUSES, stepViewTy, type BlockRefInfo, type ItemInfo, type StepRefInfo } from './expr.js';

/**
 * A declared step, before its expressions are checked. It is also the step's entry in the plan's
 * step table (`StepRefInfo`: what expressions see of it), so a step is one object here, not two.
 * What surrounds it is its block's, shared by the block's steps (`at`): a slot lives through the
 * whole check of its plan, and a plan of 100,000 steps kept seven more fields a step to its end.
 */
export class StepSlot implements StepRefInfo {
  /** The called capability or run plan, resolved before any expression is checked. */
  capability: CapabilityInfo | undefined = undefined;
  runPlan: DeclEntry<'plan'> | undefined = undefined;
  outputTy: Ty = T.any;

  constructor(
    readonly id: string,
    readonly decl: StepDecl,
    readonly declared: OrchSymbol,
    private readonly at: Around,
  ) {}

  /** The id of `declared`. */
  get symbol(): number {
    return this.declared.id;
  }
  get group(): string | undefined {
    return this.at.group;
  }
  get forEach(): ForEachIR | null {
    return this.at.forEach;
  }
  get items(): Map<string, ItemInfo> {
    return this.at.items;
  }
  get itemCount(): number | null {
    return this.at.itemCount;
  }
  get itemWaves(): number | null {
    return this.at.itemWaves;
  }
  /** Enclosing blocks (outermost first), `for each` groups among them, enclosing loop names. */
  get blocks(): readonly string[] {
    return this.at.blocks;
  }
  get eachPath(): readonly string[] {
    return this.at.eachPath;
  }
  get inside(): ReadonlySet<string> {
    return this.at.inside;
  }
}

/** Where a block is declared, what surrounds it (and the steps declared directly in it). */
interface Around {
  readonly group: string | undefined;
  readonly forEach: ForEachIR | null;
  readonly items: Map<string, ItemInfo>;
  readonly itemCount: number | null;
  readonly itemWaves: number | null;
  readonly blocks: readonly string[];
  readonly eachPath: readonly string[];
  readonly inside: ReadonlySet<string>;
  /** The blocks whose step lists the steps declared here join. */
  readonly open: readonly PlanBlock[];
}

/** A `for each` list, typed in the scope around its block. */
export interface GroupList {
  readonly each: ForEachDecl;
  readonly group: string;
  /** The scope inside the block: its item's type is set once the list is checked. */
  readonly items: Map<string, ItemInfo>;
  /** The scope the list is checked in. */
  readonly outer: Map<string, ItemInfo>;
  readonly eachPath: readonly string[];
  readonly inside: ReadonlySet<string>;
}

/** A loop's `until` is checked in the scope of the loop's body (items around it, the loop's own names). */
export interface UntilScope {
  readonly items: Map<string, ItemInfo>;
  readonly eachPath: readonly string[];
  readonly inside: ReadonlySet<string>;
}

export interface DeclaredBody {
  /** In declaration order. */
  readonly slots: StepSlot[];
  /** The plan's step table, as expressions read it (doubles as the duplicate check). */
  readonly stepInfos: Map<string, StepRefInfo>;
  /** `race`/`repeat` names. */
  readonly blockNames: ReadonlyMap<string, BlockRefInfo & { range: Range }>;
  /** Outer blocks first. */
  readonly blocks: PlanBlock[];
  readonly groupLists: readonly GroupList[];
  readonly untilScopes: ReadonlyMap<PlanBlock, UntilScope> | undefined;
}

/*
 * A file of many small plans (issue 34, item 8) is checked in time set by what each plan
 * allocates: most plans have no blocks, so the collections for those are created when a plan has
 * one, and plans without share these empty ones.
 */
const NO_NAMES: ReadonlySet<string> = new Set();
const NO_ITEMS: Map<string, ItemInfo> = new Map();
const NO_BLOCK_NAMES: ReadonlyMap<string, BlockRefInfo & { range: Range }> = new Map();
const NO_IDS: readonly string[] = [];
const NO_OPEN: readonly PlanBlock[] = [];
const NO_BLOCKS = Object.freeze([]) as unknown as PlanBlock[];

/** Declares the steps and blocks of `entry`'s body (its actions are resolved by `resolveActions`). */
export function declarePlanBody(entry: DeclEntry<'plan'>, model: ModelBuilder, diags: Diagnostic[]): DeclaredBody {
  const mod = entry.module;
  const plan = entry.node;
  const file = mod.file;
  const slots: StepSlot[] = [];
  const stepInfos = new Map<string, StepRefInfo>();
  // `race`/`repeat` names, created with the first one.
  let blockNames: ReadonlyMap<string, BlockRefInfo & { range: Range }> = NO_BLOCK_NAMES;
  const blocks: PlanBlock[] = [];
  let groupCounter = 0;
  const groupLists: GroupList[] = [];
  const duplicateName = (name: string, range: Range): boolean => {
    const prior = stepInfos.get(name) ?? blockNames.get(name);
    if (!prior) return false;
    const sym = model.symbols[prior.symbol]!;
    diags.push(diagnostic('E0102', `duplicate step "${name}" in plan ${plan.name.name} (first declared on line ${sym.nameRange.start.line})`, file, range, {
      related: [{ message: 'first declared here', file, range: sym.nameRange }],
    }));
    return true;
  };
  // Expressions read a step, block or item before the roots `input` and `context`: one of those
  // names would make the plan's declared input (the module's context) unreadable.
  // Looked up only for an item named `context`: a scan of the module's declarations for each of
  // thousands of plans in one file made the check quadratic.
  const hasContext = () => mod.ast.declarations.some((d) => d.kind === 'ContextDecl');
  const hidesRoot = (name: string, range: Range, what: string): boolean => {
    const hidden = name === 'input' && plan.input ? `the input of plan ${plan.name.name}` : name === 'context' && hasContext() ? 'the context' : undefined;
    if (!hidden) return false;
    diags.push(diagnostic('E0102', `${what} "${name}" hides ${hidden} (${name}.X would read the ${what}): rename it`, file, range));
    return true;
  };
  const declareBlockName = (node: RaceDecl | RepeatDecl, kind: 'race' | 'repeat'): number | undefined => {
    const name = node.name.name;
    if (duplicateName(name, node.name.range)) return undefined;
    hidesRoot(name, node.name.range, kind);
    const sym = model.declare({
      name, kind: 'step', qualifiedName: `${plan.name.name}.${name}`, file, range: node.range, nameRange: node.name.range,
      detail: kind === 'race' ? `race ${name}` : `repeat ${name} max ${node.kind === 'RepeatDecl' ? node.max?.value ?? '?' : ''}`, std: mod.std,
    });
    return sym.id;
  };

  let untilScopes: Map<PlanBlock, UntilScope> | undefined;
  const declareSteps = (body: readonly (BlockItem | InvariantDecl)[], at: Around): void => {
    for (let bi = 0; bi < body.length; bi++) {
      const node = body[bi]!;
      if (node.kind === 'InvariantDecl') continue;
      if (node.kind === 'ForEachDecl') {
        hidesRoot(node.item.name, node.item.range, 'for each item');
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
        const known = count !== null && !(at.forEach && at.itemCount === null);
        // Each block runs its own items `parallel N` at a time, in every item of the blocks around it.
        const waves = count === null ? 0 : fe.parallel ? Math.ceil(count / fe.parallel) : count > 0 ? 1 : 0;
        const block: PlanBlock = { id: g, kind: 'for_each', parent: at.blocks[at.blocks.length - 1] ?? null, decl: node, steps: [], forEach: fe };
        blocks.push(block);
        declareSteps(node.body, {
          group: g, forEach: fe, items: inner, itemCount: known ? count * (at.forEach ? at.itemCount! : 1) : null,
          itemWaves: known ? waves * (at.forEach ? at.itemWaves! : 1) : null,
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
      hidesRoot(name, node.name.range, 'step');
      const symbol = model.declare({
        name, kind: 'step', qualifiedName: `${plan.name.name}.${name}`, file, range: node.range, nameRange: node.name.range,
        doc: node.doc, detail: model.recordDetails ? `step ${name}` : '', std: mod.std,
      });
      for (let oi = 0; oi < at.open.length; oi++) at.open[oi]!.steps.push(name);
      // The step table doubles as the duplicate check; output types are filled in below.
      const slot = new StepSlot(name, node, symbol, at);
      stepInfos.set(name, slot);
      slots.push(slot);
    }
  };
  declareSteps(plan.body, { group: undefined, forEach: null, items: NO_ITEMS, itemCount: null, itemWaves: null, blocks: NO_IDS, eachPath: NO_IDS, inside: NO_NAMES, open: NO_OPEN });
  // The plan keeps its list of blocks to the end of the compile: one without (most) shares NO_BLOCKS.
  return { slots, stepInfos, blockNames, blocks: blocks.length ? blocks : NO_BLOCKS, groupLists, untilScopes };
}

/**
 * Output types are known from the action before any expression is checked: resolves each step's
 * capability or run plan, then the types the blocks' names have.
 */
export function resolveActions(
  body: DeclaredBody,
  mod: LoadedModule,
  scopes: Scopes,
  capability: (e: DeclEntry<'capability'>) => CapabilityInfo,
  planOutput?: (e: DeclEntry<'plan'>) => Ty | null | undefined,
): void {
  const { slots, blockNames, stepInfos } = body;
  for (let si = 0; si < slots.length; si++) {
    const s = slots[si]!;
    const a = s.decl.action;
    if (a.kind === 'CapabilityCall') {
      const ce = scopes.resolve(mod, a.capability, 'capability');
      const info = ce ? capability(ce) : undefined;
      s.capability = info;
      s.outputTy = info ? info.output : T.unknown;
    } else if (a.kind === 'RunAction') {
      const pe = scopes.resolve(mod, a.plan, 'plan');
      s.runPlan = pe;
      s.outputTy = pe ? runOutputTy(pe, planOutput?.(pe)) : T.unknown;
    } else s.outputTy = T.null;
  }
  if (blockNames.size) for (const b of blockNames.values()) setBlockTypes(b, stepInfos);
}

/**
 * A `run` step's output: the type of the sub-plan's `output` record (a plan without one gives
 * `null`), known once the sub-plan is checked — sub-plans are checked first. Not yet checked (a
 * cycle of `run`s, or replayed from the editor's memo): its fields by name, each `any`. An `after`
 * trigger's `event.output` is typed the same way.
 */
export function runOutputTy(pe: DeclEntry<'plan'>, checked: Ty | null | undefined): Ty {
  const out = pe.node.output;
  if (!out) return T.null;
  return checked ?? record(out.fields.map((f) => field(f.key.name, T.any)));
}

/** The types `NAME` has once its steps' output types are known. */
function setBlockTypes(b: BlockRefInfo & { range: Range }, steps: ReadonlyMap<string, StepRefInfo>): void {
  const common = { status: field('status', { k: 'enum', values: STEP_STATUSES }), started: field('started', T.bool), completed: field('completed', T.bool), failed: field('failed', T.bool), skipped: field('skipped', T.bool), duration: field('duration', T.duration), cost: field('cost', SPEND) };
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
