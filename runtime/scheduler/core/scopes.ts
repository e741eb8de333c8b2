/**
 * The plan's blocks (LANGUAGE.md §7.1) as the scheduler needs them: for every step the blocks
 * around it and its *dimensions* — the `for each` and `repeat` blocks that multiply it (one
 * instance per item, one per iteration; a `race` adds none). A step instance is a step plus one
 * index per dimension (its path); its key spells the path: `[i]` for an item, `#k` for an
 * iteration (`welcome[1][3]`, `draft#2`, `check[0]#1`). Pure, computed once per plan.
 */
import type { BlockIR, ExprIR, PlanIR } from '../../../compiler/index.js';

export type ForEachBlock = Extract<BlockIR, { type: 'for_each' }>;
export type RepeatBlock = Extract<BlockIR, { type: 'repeat' }>;
export type RaceBlock = Extract<BlockIR, { type: 'race' }>;
export type DimBlock = ForEachBlock | RepeatBlock;

export interface Shape {
  /** The blocks around the step, outermost first. */
  readonly chain: readonly BlockIR[];
  /** The `for each` and `repeat` blocks among them: one path index each. */
  readonly dims: readonly DimBlock[];
  /** The race this step is a branch of. */
  readonly race: RaceBlock | null;
}

/** What a scope (the plan itself, `''`, or a `for each`/`repeat` block) holds directly. */
export interface ScopeContents {
  readonly steps: string[];
  readonly dims: DimBlock[];
  readonly races: RaceBlock[];
}

export interface PlanBlocks {
  readonly byId: ReadonlyMap<string, BlockIR>;
  readonly shapes: ReadonlyMap<string, Shape>;
  /** The dimensions around a block (not the block itself). */
  readonly blockDims: ReadonlyMap<string, readonly DimBlock[]>;
  readonly scopes: ReadonlyMap<string, ScopeContents>;
  /** Every step inside a block, nested blocks included, in plan order. */
  readonly stepsIn: ReadonlyMap<string, readonly string[]>;
  /** The steps a `for each` list reads (it is evaluated once they ended). */
  readonly listReads: ReadonlyMap<string, readonly string[]>;
}

export const ROOT_SCOPE = '';

/** The shape of a step in no block (most steps): one object for all of them. */
const FLAT: Shape = { chain: [], dims: [], race: null };

function isDim(b: BlockIR): b is DimBlock {
  return b.type === 'for_each' || b.type === 'repeat';
}

/** v1 IR has no `blocks`: one level of `for each` groups, read from the steps. */
function blocksOf(plan: PlanIR): readonly BlockIR[] {
  if (plan.blocks) return plan.blocks;
  const out = new Map<string, BlockIR>();
  for (const s of plan.steps)
    if (s.for_each && !out.has(s.for_each.group))
      out.set(s.for_each.group, { type: 'for_each', id: s.for_each.group, parent: null, item: s.for_each.item, list: s.for_each.list, parallel: s.for_each.parallel });
  return [...out.values()];
}

export function planBlocks(plan: PlanIR): PlanBlocks {
  const byId = new Map<string, BlockIR>();
  for (const b of blocksOf(plan)) byId.set(b.id, b);
  const chainOf = (b: BlockIR): BlockIR[] => {
    const out: BlockIR[] = [];
    for (let at: BlockIR | undefined = b; at; at = at.parent === null ? undefined : byId.get(at.parent)) out.unshift(at);
    return out;
  };
  const blockDims = new Map<string, readonly DimBlock[]>();
  const scopes = new Map<string, ScopeContents>([[ROOT_SCOPE, { steps: [], dims: [], races: [] }]]);
  for (const b of byId.values()) if (isDim(b)) scopes.set(b.id, { steps: [], dims: [], races: [] });
  const scopeOfDims = (dims: readonly DimBlock[]) => scopes.get(dims.at(-1)?.id ?? ROOT_SCOPE)!;
  for (const b of byId.values()) {
    const outer = chainOf(b).slice(0, -1).filter(isDim);
    blockDims.set(b.id, outer);
    const scope = scopeOfDims(outer);
    if (isDim(b)) scope.dims.push(b);
    else scope.races.push(b);
  }
  const shapes = new Map<string, Shape>();
  const stepsIn = new Map<string, string[]>();
  for (const b of byId.values()) stepsIn.set(b.id, []);
  for (const s of plan.steps) {
    const ids = s.blocks ?? (s.for_each ? [s.for_each.group] : []);
    if (ids.length === 0) {
      shapes.set(s.id, FLAT);
      scopes.get(ROOT_SCOPE)!.steps.push(s.id);
      continue;
    }
    const chain = ids.map((id) => byId.get(id)).filter((b): b is BlockIR => b !== undefined);
    const dims = chain.filter(isDim);
    const race = (chain.filter((b) => b.type === 'race') as RaceBlock[]).find((r) => r.branches.includes(s.id)) ?? null;
    shapes.set(s.id, { chain, dims, race });
    scopeOfDims(dims).steps.push(s.id);
    for (const b of chain) stepsIn.get(b.id)!.push(s.id);
  }
  const listReads = new Map<string, readonly string[]>();
  for (const b of byId.values()) if (b.type === 'for_each') listReads.set(b.id, stepReads(b.list, byId, stepsIn));
  return { byId, shapes, blockDims, scopes, stepsIn, listReads };
}

/** The steps an expression reads (a block read reads the block's steps). */
function stepReads(e: ExprIR, byId: ReadonlyMap<string, BlockIR>, stepsIn: ReadonlyMap<string, readonly string[]>): string[] {
  const out = new Set<string>();
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) return x.forEach(walk);
    if (x === null || typeof x !== 'object') return;
    const o = x as { op?: unknown; id?: unknown };
    if (o.op === 'step' && typeof o.id === 'string') out.add(o.id);
    if (o.op === 'block' && typeof o.id === 'string' && byId.has(o.id)) for (const s of stepsIn.get(o.id) ?? []) out.add(s);
    for (const v of Object.values(x)) walk(v);
  };
  walk(e);
  return [...out];
}

/**
 * Whether `key` can name an instance of step `id` of this shape: the id, then `[i]` per `for each`
 * and `#k` per `repeat` around the step, outermost first (`send[2]`, `draft#1`, `ok[0]#3`). A step
 * in no block has no instance key but its id.
 */
export function keyFitsShape(key: string, id: string, shape: Shape): boolean {
  if (!key.startsWith(id)) return false;
  const pattern = shape.dims.map((d) => (d.type === 'for_each' ? '\\[\\d+\\]' : '#\\d+')).join('');
  return new RegExp(`^${pattern}$`).test(key.slice(id.length));
}

/** Why `key` names no instance of step `id` of this shape, with how its instances are named. */
/**
 * Why `name`, a block's, cannot be cancelled as a step could (`orch cancel --step`): a block ends
 * by the rules of its steps, so those are what is cancelled. Null when `name` is no block.
 */
export function blockNotAStep(blocks: PlanBlocks, name: string): string | null {
  const block = blocks.byId.get(name);
  if (!block) return null;
  const kind = block.type === 'for_each' ? 'for each' : block.type;
  return `${name} is a ${kind} block, not a step: cancel the steps inside it (${(blocks.stepsIn.get(name) ?? []).join(', ')})`;
}

export function noSuchInstance(key: string, id: string, shape: Shape): string {
  if (shape.dims.length === 0) return `step ${id} runs once: it has no instance ${key}, name it ${id}`;
  return `step ${id} has no instance ${key}: its instances are named like ${id}${suffixOf(shape.dims, shape.dims.map(() => 0))}`;
}

/** The key suffix of a path: `[i]` per `for each` item, `#k` per iteration. */
export function suffixOf(dims: readonly DimBlock[], path: readonly number[]): string {
  let out = '';
  for (let i = 0; i < path.length && i < dims.length; i++) out += dims[i]!.type === 'for_each' ? `[${path[i]}]` : `#${path[i]}`;
  return out;
}

/**
 * Which instance of a step with `target` dimensions a reader at (`dims`, `path`) sees: the
 * indices of the dimensions they share. Beyond them the reader sees all items (a list) or the
 * loop's last iteration.
 */
export function sharedPrefix(reader: { readonly dims: readonly DimBlock[]; readonly path: readonly number[] } | null, target: readonly DimBlock[]): number[] {
  const out: number[] = [];
  if (!reader) return out;
  for (let i = 0; i < target.length && i < reader.dims.length; i++) {
    if (target[i]!.id !== reader.dims[i]!.id) break;
    out.push(reader.path[i]!);
  }
  return out;
}
