/**
 * Expression checking and lowering in one pass: each expression yields its type (E0201 type
 * mismatch, E0203 unit mismatch, E0101 unknown name), the highest data class it carries and its
 * `ExprIR` tree. References to steps are reported to `onStep` so the plan checker can build
 * dependencies and skip propagation (an output read anywhere inside a `??` chain is "guarded":
 * soft, LANGUAGE.md §7.1). `race` and `repeat` names are read like steps (`reply.winner`,
 * `revise.index`, `revise.previous.x.output`, `revise.iterations`).
 */
import type { Argument, DataClass, Expr, Ident, Range } from '../../language/index.js';
import { DATA_CLASSES, RESOURCE_KINDS, CAPABILITY_KINDS } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';
import type { BinaryOpIR, BuiltinFn, ExprIR } from '../ir/types.js';
import type { ModelBuilder } from '../model.js';
import { unresolvedDiagnostic } from '../scope.js';
import { closest } from '../suggest.js';
import {
  T, assignable, classOfType, comparable, formatTy, isLoose, isStringy, listOf, maxClass, record, field,
  stripOptional, unitOf, optional, widenLiteral, type Ty,
} from '../types/ty.js';

export interface ExprResult {
  readonly ty: Ty;
  readonly data: DataClass;
  readonly ir: ExprIR;
}

export interface RootInfo {
  readonly ty: Ty;
  readonly ir: ExprIR;
}

export interface StepRefInfo {
  readonly id: string;
  readonly symbol: number;
  /** Type of one output (per item for `for each` steps). */
  readonly outputTy: Ty;
  /** `for each` group the step belongs to, if any. */
  readonly group: string | undefined;
  /** The `for each` groups around the step, outermost first (its output nests once per group read from outside). */
  readonly eachPath?: readonly string[];
}

/** A `race` or `repeat` block, read by name like a step. */
export interface BlockRefInfo {
  readonly id: string;
  readonly kind: 'race' | 'repeat';
  readonly symbol: number;
  /** race: its branches; repeat: every step inside it. */
  readonly steps: readonly string[];
  /** What `NAME` is outside the block (race: winner, output…; repeat: iterations, status…). */
  readonly outsideTy: Ty;
  /** repeat, inside: `index` and `previous`. */
  readonly insideTy?: Ty;
  /** The `for each` groups around the block, outermost first. */
  readonly eachPath?: readonly string[];
}

export interface ItemInfo {
  readonly ty: Ty;
  readonly data: DataClass;
  readonly symbol: number;
}

export interface ExprEnv {
  readonly file: string;
  readonly model: ModelBuilder;
  readonly diags: Diagnostic[];
  readonly roots: ReadonlyMap<string, RootInfo>;
  readonly steps?: ReadonlyMap<string, StepRefInfo>;
  /** The `for each` group of the step being checked: same-group steps read per-item outputs. */
  readonly group?: string;
  readonly items?: ReadonlyMap<string, ItemInfo>;
  /** Guardrail conditions: data classes, kinds, tiers and statuses may be written bare. */
  readonly constants?: boolean;
  /** Guardrail conditions: capability names written bare evaluate to their IR name. */
  readonly capabilityConstant?: (name: string) => string | undefined;
  readonly onStep?: (id: string, range: Range, outputRead: boolean, guarded: boolean) => void;
  /** `race` and `repeat` blocks by name. */
  readonly blocks?: ReadonlyMap<string, BlockRefInfo>;
  /** The `repeat` blocks around the expression (their `index` and `previous` are readable). */
  readonly inside?: ReadonlySet<string>;
  /** The `for each` groups around the expression, outermost first. */
  readonly eachPath?: readonly string[];
  /** A block read as a whole from outside it (the reader waits for the block to end). */
  readonly onBlock?: (id: string) => void;
  /** A step read through `NAME.previous.step` (a use, not a dependency). */
  readonly onPrevious?: (id: string) => void;
  /** `a..b` is only valid in `simulate` blocks. */
  readonly allowRange?: boolean;
  /**
   * Diagnostics only (`orch check`): types, data classes and references are worked out as
   * always, but no IR is built — every result's `ir` is one shared placeholder. Only for
   * expressions whose IR nobody reads in that mode (step arguments and conditions).
   */
  readonly typesOnly?: boolean;
  /** Tests (§9.2): what a step reference is, its `input` included; default `stepViewTy(output)`. */
  readonly stepViewOf?: (step: StepRefInfo, output: Ty) => Ty;
  /** Tests (§9.2): `calls(CAP)`, the inputs of every call a capability received, in order. */
  readonly calls?: (args: readonly Expr[], range: Range) => ExprResult;
}

export const STEP_STATUSES = ['pending', 'queued', 'running', 'paused', 'completed', 'failed', 'skipped', 'cancelled', 'timeout'] as const;

const TIERS = ['local', 'edge', 'cloud', 'human'];
const CONSTANT_WORDS = new Set<string>([...RESOURCE_KINDS, ...TIERS, ...CAPABILITY_KINDS, ...STEP_STATUSES]);

/** `build`, computed once per type object (types are immutable and shared). */
function cachedPerTy(build: (t: Ty) => Ty): (t: Ty) => Ty {
  const cache = new WeakMap<Ty, Ty>();
  return (t) => {
    let v = cache.get(t);
    if (!v) {
      v = build(t);
      cache.set(t, v);
    }
    return v;
  };
}

/** The type of a step reference (`x.output`, `x.status`, …); shared per output type. */
export const stepViewTy = cachedPerTy(buildStepView);

function buildStepView(output: Ty): Ty {
  return record([
    field('output', output),
    field('status', { k: 'enum', values: STEP_STATUSES }),
    field('started', T.bool),
    field('completed', T.bool),
    field('failed', T.bool),
    field('skipped', T.bool),
    field('attempts', T.int),
    field('duration', T.duration),
    field('cost', T.money),
    field('resource', optional(T.string)),
  ]);
}

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function durationMs(value: number, unit: string): number {
  return value * (DURATION_MS[unit] ?? 1);
}

const BUILTINS = new Set<string>(['len', 'contains', 'lower', 'upper', 'min', 'max', 'sum', 'round', 'now', 'format']);

const NO_DATA: DataClass = 'public';

function lit(value: string | number | boolean | null, unit?: 'duration' | 'money' | 'percent' | 'data_class'): ExprIR {
  return unit ? { op: 'lit', value, unit } : { op: 'lit', value };
}

/** The `ir` of every result in `typesOnly` mode. */
const NO_IR: ExprIR = Object.freeze({ op: 'lit', value: null });

export function checkExpr(e: Expr, env: ExprEnv): ExprResult {
  const depth = irDepth(e);
  if (depth > MAX_IR_DEPTH) {
    env.diags.push(
      diagnostic('E0001', `expression too deep for a compiled plan: it nests ${depth} levels in the plan's IR (at most ${MAX_IR_DEPTH}); split a long chain into parenthesised groups, e.g. (a + b + c) + (d + e + f), or over steps`, env.file, e.range),
    );
  }
  return new ExprChecker(env).check(e, false);
}

/**
 * How deep an expression may nest in the compiled plan. The IR is JSON, read and validated by
 * recursive code (JSON.parse, the schema validator) whose stacks hold a few hundred levels;
 * chains (`a + b + …`) nest one level per operator there even though the language checks
 * them in loops.
 */
export const MAX_IR_DEPTH = 200;

/**
 * Nesting depth of `e`'s IR (parentheses add none). An explicit stack: `e` may be a long chain.
 * Runs on every argument of every step: two flat stacks, reused, and no allocation per node.
 */
export function irDepth(e: Expr): number {
  const nodes = depthNodes;
  const depths = depthLevels;
  nodes[0] = e;
  depths[0] = 1;
  let top = 1;
  let high = 1;
  let max = 0;
  while (top > 0) {
    const x = nodes[--top]!;
    const d = depths[top]!;
    if (d > max) max = d;
    const first = top;
    switch (x.kind) {
      case 'ParenExpr':
        nodes[top++] = x.inner;
        break;
      case 'StringLit':
        for (const p of x.parts) if (typeof p !== 'string') nodes[top++] = p;
        break;
      case 'ListLit':
        for (const i of x.items) nodes[top++] = i;
        break;
      case 'RecordLit':
        for (const f of x.fields) nodes[top++] = f.value;
        break;
      case 'MemberExpr':
        nodes[top++] = x.object;
        break;
      case 'IndexExpr':
        nodes[top++] = x.object;
        nodes[top++] = x.index;
        break;
      case 'CallExpr':
        for (const a of x.args) nodes[top++] = a;
        for (const a of x.named ?? []) nodes[top++] = a.value;
        break;
      case 'UnaryExpr':
        nodes[top++] = x.operand;
        break;
      case 'BinaryExpr':
        nodes[top++] = x.left;
        nodes[top++] = x.right;
        break;
      case 'RangeExpr':
        nodes[top++] = x.from;
        nodes[top++] = x.to;
        break;
      default:
        break;
    }
    // Parentheses add no level; everything else nests one deeper.
    const level = x.kind === 'ParenExpr' ? d : d + 1;
    for (let i = first; i < top; i++) depths[i] = level;
    if (top > high) high = top;
  }
  // The stacks outlive the call: drop their references to the tree.
  nodes.fill(undefined, 0, high);
  return max;
}

/** `irDepth`'s stacks, shared by every call. */
const depthNodes: (Expr | undefined)[] = [];
const depthLevels: number[] = [];

class ExprChecker {
  private readonly noIR: boolean;

  constructor(private readonly env: ExprEnv) {
    this.noIR = env.typesOnly === true;
  }

  private error(code: 'E0201' | 'E0203' | 'E0101', message: string, range: Range): void {
    this.env.diags.push(diagnostic(code, message, this.env.file, range));
  }

  check(e: Expr, guarded: boolean): ExprResult {
    if (isChainLink(e) && isChainLink(chainNext(e))) return this.chain(e, guarded);
    return this.checkOne(e, guarded);
  }

  /**
   * A left-nested chain (`a + b + …`, `a ?? b ?? …`, `a.b.c…`, `a[0][1]…`), checked in a loop
   * from its innermost link outwards: a chain thousands of links long must not exhaust the stack.
   */
  private chain(e: Expr, guarded: boolean): ExprResult {
    const links: { e: Expr; guarded: boolean }[] = [];
    let cur: Expr = e;
    let g = guarded;
    while (isChainLink(cur)) {
      // A member of a plain name is the start of the chain: `member` reads the name itself.
      if (cur.kind === 'MemberExpr' && cur.object.kind === 'NameExpr') break;
      links.push({ e: cur, guarded: g });
      if (cur.kind === 'BinaryExpr') {
        if (cur.op === '??') g = true;
        cur = cur.left;
      } else cur = cur.object;
    }
    let r = this.checkOne(cur, g);
    for (let i = links.length - 1; i >= 0; i--) {
      const link = links[i]!;
      const x = link.e;
      if (x.kind === 'BinaryExpr') r = this.binaryWith(x.op, r, x.left, x.right, x.range, link.guarded);
      else if (x.kind === 'MemberExpr') r = this.memberWith(x, r);
      else if (x.kind === 'IndexExpr') r = this.indexWith(x, r, link.guarded);
    }
    return r;
  }

  private checkOne(e: Expr, guarded: boolean): ExprResult {
    switch (e.kind) {
      case 'StringLit': {
        if (e.parts.every((p) => typeof p === 'string')) {
          const text = (e.parts as string[]).join('');
          return { ty: { k: 'string', literal: text }, data: NO_DATA, ir: this.noIR ? NO_IR : lit(text) };
        }
        let data: DataClass = NO_DATA;
        if (this.noIR) {
          for (let i = 0; i < e.parts.length; i++) {
            const p = e.parts[i]!;
            if (typeof p !== 'string') data = maxClass(data, this.check(p, guarded).data);
          }
          return { ty: T.string, data, ir: NO_IR };
        }
        const parts: ExprIR[] = e.parts.map((p) => {
          if (typeof p === 'string') return lit(p);
          const r = this.check(p, guarded);
          data = maxClass(data, r.data);
          return r.ir;
        });
        return { ty: T.string, data, ir: { op: 'concat', parts } };
      }
      case 'NumberLit':
        return { ty: e.integer ? T.int : T.number, data: NO_DATA, ir: this.noIR ? NO_IR : lit(e.value) };
      case 'DurationLit':
        return { ty: T.duration, data: NO_DATA, ir: lit(durationMs(e.value, e.unit), 'duration') };
      case 'MoneyLit':
        return { ty: { k: 'money', currency: e.currency }, data: NO_DATA, ir: lit(e.amount, 'money') };
      case 'PercentLit':
        return { ty: T.percent, data: NO_DATA, ir: lit(e.value / 100, 'percent') };
      case 'BoolLit':
        return { ty: T.bool, data: NO_DATA, ir: lit(e.value) };
      case 'NullLit':
        return { ty: T.null, data: NO_DATA, ir: lit(null) };
      case 'ListLit': {
        let elem: Ty | undefined;
        let data: DataClass = NO_DATA;
        const seen: Ty[] = [];
        let mixed = false;
        const items = e.items.map((i) => {
          const r = this.check(i, guarded);
          data = maxClass(data, r.data);
          seen.push(r.ty);
          if (mixed) return r.ir;
          if (!elem || elem.k === 'null') elem = widenLiteral(r.ty);
          else if (!assignable(r.ty, elem)) {
            if (assignable(elem, r.ty)) elem = widenLiteral(r.ty);
            else mixed = true;
          }
          return r.ir;
        });
        // The items' own types are kept: an enum expected of every item is checked against each
        // (`["a", "c"]` is no `list<"a" | "b">`), and a mismatch is reported at its item.
        const ty: Ty = mixed ? { k: 'list', elem: T.any, mixed: seen } : seen.length ? { k: 'list', elem: elem ?? T.any, items: seen } : listOf(elem ?? T.any);
        return { ty, data, ir: { op: 'list', items } };
      }
      case 'RecordLit': {
        let data: DataClass = NO_DATA;
        const fields = e.fields.map((f) => {
          const r = this.check(f.value, guarded);
          data = maxClass(data, r.data);
          return { key: f.key.name, value: r.ir, ty: r.ty };
        });
        return {
          // Fields keep their literals: `{ t: "zzz" }` is no `{ t: "x" | "y" }`.
          ty: record(fields.map((f) => field(f.key, f.ty))),
          data,
          ir: { op: 'record', fields: fields.map(({ key, value }) => ({ key, value })) },
        };
      }
      case 'ParenExpr':
        return this.check(e.inner, guarded);
      case 'NameExpr':
        return this.name(e.name, e.range, guarded, false);
      case 'MemberExpr':
        return this.member(e, guarded);
      case 'IndexExpr':
        return this.indexWith(e, this.check(e.object, guarded), guarded);
      case 'CallExpr':
        if (e.named) this.namedArguments(e.callee, e.named, guarded);
        return this.call(e.callee, e.args, e.range, guarded);
      case 'UnaryExpr': {
        const r = this.check(e.operand, guarded);
        if (e.op === 'not') {
          if (!isLoose(r.ty) && stripOptional(r.ty).k !== 'bool') this.error('E0201', `"not" needs a bool, not ${formatTy(r.ty)}`, e.operand.range);
          return { ty: T.bool, data: r.data, ir: { op: 'not', arg: r.ir } };
        }
        if (!isLoose(r.ty) && !unitOf(r.ty)) this.error('E0201', `cannot negate a value of type ${formatTy(r.ty)}`, e.operand.range);
        return { ty: r.ty.k === 'int' ? T.int : widenLiteral(r.ty), data: r.data, ir: { op: 'neg', arg: r.ir } };
      }
      case 'BinaryExpr':
        return this.binary(e.op, e.left, e.right, e.range, guarded);
      case 'RangeExpr': {
        const from = this.check(e.from, guarded);
        const to = this.check(e.to, guarded);
        // A range outside a simulate block is the parser's error already (E0001, on both parse
        // paths), and every simulate expression is checked with `allowRange`.
        if (this.env.allowRange && !isLoose(from.ty) && !isLoose(to.ty) && unitOf(from.ty) !== unitOf(to.ty))
          this.error('E0203', `range ends have different units: ${formatTy(from.ty)} and ${formatTy(to.ty)}`, e.range);
        return { ty: widenLiteral(from.ty), data: NO_DATA, ir: { op: 'range', from: from.ir, to: to.ir } };
      }
    }
  }

  private indexWith(e: Extract<Expr, { kind: 'IndexExpr' }>, obj: ExprResult, guarded: boolean): ExprResult {
    const idx = this.check(e.index, guarded);
    const base = stripOptional(obj.ty);
    let ty: Ty = T.any;
    if (base.k === 'list') {
      ty = optional(base.elem);
      if (!isLoose(idx.ty) && idx.ty.k !== 'int') this.error('E0201', `a list index must be an int, not ${formatTy(idx.ty)}`, e.index.range);
    } else if (base.k === 'map') {
      ty = optional(base.value);
      if (!isLoose(idx.ty) && !isStringy(idx.ty)) this.error('E0201', `a map key must be a string, not ${formatTy(idx.ty)}`, e.index.range);
    } else if (base.k === 'record') ty = T.any;
    else if (!isLoose(base)) this.error('E0201', `cannot index a value of type ${formatTy(obj.ty)}`, e.range);
    return { ty, data: obj.data, ir: { op: 'index', object: obj.ir, index: idx.ir } };
  }

  private name(name: string, range: Range, guarded: boolean, outputNext: boolean): ExprResult {
    const env = this.env;
    const item = env.items?.get(name);
    if (item) {
      env.model.refer(env.file, range, item.symbol);
      if (env.model.recordTypes) env.model.typeAt(env.file, range, () => formatTy(item.ty));
      return { ty: item.ty, data: item.data, ir: this.noIR ? NO_IR : { op: 'item', name } };
    }
    const step = env.steps?.get(name);
    if (step) {
      env.model.refer(env.file, range, step.symbol);
      env.onStep?.(step.id, range, outputNext, guarded);
      const out = step.eachPath ? nestedOutput(step.outputTy, step.eachPath, env.eachPath) : step.group !== undefined && step.group !== env.group ? listOfCached(step.outputTy) : step.outputTy;
      const ty = env.stepViewOf ? env.stepViewOf(step, out) : stepViewTy(out);
      if (env.model.recordTypes) env.model.typeAt(env.file, range, () => `step ${name}: output ${formatTy(out)}`);
      return { ty, data: NO_DATA, ir: this.noIR ? NO_IR : { op: 'step', id: step.id } };
    }
    const block = env.blocks?.get(name);
    if (block) {
      env.model.refer(env.file, range, block.symbol);
      // One race or loop per item: outside its `for each` there is no single one to read (its
      // steps are read there, as lists).
      if (block.eachPath?.length && !block.eachPath.every((g, i) => env.eachPath?.[i] === g)) {
        this.error('E0201', `${block.kind} ${name} is inside a for each, which runs one per item: read ${name} inside that for each, or read its steps here (their values are lists, one per item)`, range);
        return { ty: T.unknown, data: NO_DATA, ir: this.noIR ? NO_IR : { op: 'block', id: block.id } };
      }
      const inside = block.kind === 'repeat' && env.inside?.has(name) === true;
      if (!inside) {
        env.onBlock?.(block.id);
        // A race's value comes from its branches; a loop read from outside waits for all its steps.
        for (const s of block.steps) env.onStep?.(s, range, block.kind === 'race' && outputNext, true);
      }
      const ty = inside ? block.insideTy! : block.outsideTy;
      if (env.model.recordTypes) env.model.typeAt(env.file, range, () => `${block.kind} ${name}`);
      return { ty, data: NO_DATA, ir: this.noIR ? NO_IR : { op: 'block', id: block.id } };
    }
    const root = env.roots.get(name);
    if (root) {
      if (env.model.recordTypes) env.model.typeAt(env.file, range, () => formatTy(root.ty));
      return { ty: root.ty, data: classOfType(root.ty), ir: root.ir };
    }
    if (env.constants) {
      if ((DATA_CLASSES as readonly string[]).includes(name)) return { ty: T.dataClass, data: NO_DATA, ir: lit(name, 'data_class') };
      if (CONSTANT_WORDS.has(name)) return { ty: { k: 'string', literal: name }, data: NO_DATA, ir: lit(name) };
      const cap = env.capabilityConstant?.(name);
      if (cap) return { ty: { k: 'string', literal: cap }, data: NO_DATA, ir: lit(cap) };
    }
    const candidates = [...(env.items?.keys() ?? []), ...(env.steps?.keys() ?? []), ...env.roots.keys()];
    if (env.constants) candidates.push(...DATA_CLASSES, ...CONSTANT_WORDS);
    const what = env.steps ? 'unknown name' : 'unknown name';
    env.diags.push(unresolvedDiagnostic(env.file, name, `${what} "${name}"`, candidates, range));
    return { ty: T.unknown, data: NO_DATA, ir: lit(null) };
  }

  private member(e: Extract<Expr, { kind: 'MemberExpr' }>, guarded: boolean): ExprResult {
    const env = this.env;
    const blockRead = e.object.kind === 'NameExpr' && !env.items?.has(e.object.name) && !env.steps?.has(e.object.name) ? env.blocks?.get(e.object.name) : undefined;
    if (blockRead?.kind === 'repeat') {
      const misuse = this.loopMisuse(blockRead, e.object.range, e.property, guarded);
      if (misuse) return misuse;
    }
    const obj =
      e.object.kind === 'NameExpr'
        ? this.name(e.object.name, e.object.range, guarded, e.property.name === 'output')
        : this.check(e.object, guarded);
    return this.memberWith(e, obj);
  }

  /** `e` given the result of its object. */
  private memberWith(e: Extract<Expr, { kind: 'MemberExpr' }>, obj: ExprResult): ExprResult {
    const env = this.env;
    const key = e.property.name;
    if (e.object.kind === 'MemberExpr' && e.object.property.name === 'previous' && e.object.object.kind === 'NameExpr' && env.inside?.has(e.object.object.name))
      env.onPrevious?.(key);
    const ir: ExprIR = this.noIR ? NO_IR : { op: 'get', object: obj.ir, key };
    const base = stripOptional(obj.ty);
    const viaOptional = obj.ty.k === 'optional';
    if (isLoose(base)) return { ty: base, data: obj.data, ir };
    if (base.k === 'record') {
      const f = base.fields.get(key);
      if (f) {
        if (f.decl?.symbol !== undefined) env.model.refer(env.file, e.property.range, f.decl.symbol);
        const ty = viaOptional ? optional(f.ty) : f.ty;
        if (env.model.recordTypes) env.model.typeAt(env.file, e.property.range, () => formatTy(ty));
        let data = obj.data === NO_DATA ? NO_DATA : maxClass(f.dataClass ?? NO_DATA, classOfType(f.ty));
        if (e.object.kind === 'NameExpr' && env.roots.has(e.object.name) && !env.items?.has(e.object.name) && !env.steps?.has(e.object.name))
          data = maxClass(f.dataClass ?? NO_DATA, classOfType(f.ty));
        return { ty, data, ir };
      }
      if (base.open) return { ty: T.any, data: obj.data, ir };
      const best = closest(key, base.fields.keys());
      env.diags.push(
        diagnostic('E0201', `${fieldOwner(e.object, base)} has no field "${key}"${best ? `; did you mean "${best}"?` : ''}`, env.file, e.property.range,
          best ? { fixes: [{ title: `Change to "${best}"`, edits: [{ file: env.file, range: e.property.range, newText: best }] }] } : {}),
      );
      return { ty: T.unknown, data: obj.data, ir };
    }
    if (base.k === 'map') return { ty: optional(base.value), data: obj.data, ir };
    if (base.k === 'list') {
      this.error('E0201', `${describe(e.object)} is a list (${formatTy(base)}); read a field of one item with [i], or use len()`, e.property.range);
      return { ty: T.unknown, data: obj.data, ir };
    }
    this.error('E0201', `a value of type ${formatTy(base)} has no field "${key}"`, e.property.range);
    return { ty: T.unknown, data: obj.data, ir };
  }

  /**
   * `revise.previous…` outside `??`, `revise.index` after the loop, `revise.iterations` inside it:
   * E0201 in the user's words. `previous` lowers to its own IR node (no dependency: it is the
   * iteration before). Undefined when the read is fine and the ordinary member rules apply.
   */
  private loopMisuse(block: BlockRefInfo, nameRange: Range, property: Ident, guarded: boolean): ExprResult | undefined {
    const env = this.env;
    const name = block.id;
    const inside = env.inside?.has(name) === true;
    const key = property.name;
    if ((inside && (key === 'previous' || key === 'iterations')) || (!inside && (key === 'index' || key === 'previous')))
      env.model.refer(env.file, nameRange, block.symbol);
    if (inside && key === 'previous') {
      if (!guarded)
        this.error('E0201', `${name}.previous is null in the first iteration: read it inside a ?? chain (${name}.previous.step.output.field ?? default)`, property.range);
      const ty = (stripOptional(block.insideTy!) as Ty & { k: 'record' }).fields.get('previous')!.ty;
      return { ty, data: NO_DATA, ir: this.noIR ? NO_IR : { op: 'previous', loop: name } };
    }
    if (inside && key === 'iterations') {
      this.error('E0201', `${name}.iterations counts the iterations once the loop has ended; inside the loop use ${name}.index (from 0)`, property.range);
      return { ty: T.int, data: NO_DATA, ir: NO_IR };
    }
    if (!inside && (key === 'index' || key === 'previous')) {
      this.error('E0201', `${name}.${key} is only defined inside the loop "${name}"; after it, ${name}.iterations counts the iterations and its steps hold their last iteration`, property.range);
      return { ty: T.unknown, data: NO_DATA, ir: NO_IR };
    }
    return undefined;
  }

  /**
   * Named arguments (LANGUAGE.md §9.3: `endorse(v, reason: "…")`): their values are checked as
   * expressions; a built-in that takes none says so. What `endorse` and `declassify` do with
   * theirs is the flow analysis's (not here yet).
   */
  private namedArguments(callee: Ident, named: readonly Argument[], guarded: boolean): void {
    for (const a of named) {
      // `declassify(v, to: internal)`: the class is a word, not a value to look up.
      const classWord = callee.name === 'declassify' && a.name.name === 'to' && a.value.kind === 'NameExpr' && (DATA_CLASSES as readonly string[]).includes(a.value.name);
      if (!classWord) this.check(a.value, guarded);
    }
    if (BUILTINS.has(callee.name) || callee.name === 'secret')
      this.error('E0201', `${callee.name}() takes no named arguments ("${named[0]!.name.name}:")`, named[0]!.range);
  }

  private call(callee: Ident, args: readonly Expr[], range: Range, guarded: boolean): ExprResult {
    const name = callee.name;
    if (name === 'secret') {
      const a = args[0];
      if (args.length !== 1 || !a || a.kind !== 'StringLit' || !a.parts.every((p) => typeof p === 'string')) {
        this.error('E0201', 'secret() takes one string literal: secret("NAME")', range);
        return { ty: T.secret, data: NO_DATA, ir: { op: 'secret', name: '?' } };
      }
      // A secret is a credential, not user data: it does not raise the data class of a step.
      return { ty: T.secret, data: NO_DATA, ir: { op: 'secret', name: (a.parts as string[]).join('') } };
    }
    if (name === 'calls' && this.env.calls) return this.env.calls(args, range);
    const rs = args.map((a) => this.check(a, guarded));
    const ir: ExprIR = { op: 'call', fn: name as BuiltinFn, args: rs.map((r) => r.ir) };
    let data: DataClass = rs.reduce<DataClass>((c, r) => maxClass(c, r.data), NO_DATA);
    if (!BUILTINS.has(name)) {
      this.env.diags.push(unresolvedDiagnostic(this.env.file, name, `unknown function "${name}"`, [...BUILTINS, 'secret'], callee.range));
      // Like an unknown name: reported, and lowered to a placeholder the IR schema accepts.
      return { ty: T.unknown, data, ir: NO_IR };
    }
    const arity = (min: number, max = min): boolean => {
      if (rs.length < min || rs.length > max) {
        this.error('E0201', `${name}() takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${rs.length}`, range);
        return false;
      }
      return true;
    };
    const t0 = rs[0] ? stripOptional(rs[0].ty) : T.any;
    switch (name) {
      case 'len':
        data = NO_DATA; // a count does not disclose the items
        if (arity(1) && !isLoose(t0) && !['list', 'map', 'string', 'record', 'enum'].includes(t0.k))
          this.error('E0201', `len() needs a list, map or string, not ${formatTy(t0)}`, args[0]!.range);
        return { ty: T.int, data, ir };
      case 'contains':
        if (arity(2) && !isLoose(t0) && !['list', 'map', 'string', 'enum'].includes(t0.k))
          this.error('E0201', `contains() needs a list, map or string first, not ${formatTy(t0)}`, args[0]!.range);
        return { ty: T.bool, data, ir };
      case 'lower':
      case 'upper':
        if (arity(1) && !isLoose(t0) && !isStringy(t0)) this.error('E0201', `${name}() needs a string, not ${formatTy(t0)}`, args[0]!.range);
        return { ty: T.string, data, ir };
      case 'round':
        if (arity(1, 2) && !isLoose(t0) && !unitOf(t0)) this.error('E0201', `round() needs a number, not ${formatTy(t0)}`, args[0]!.range);
        return { ty: t0.k === 'number' || t0.k === 'int' ? (rs.length === 1 ? T.int : T.number) : widenLiteral(t0), data, ir };
      case 'now':
        arity(0);
        return { ty: T.number, data, ir };
      case 'format':
        if (rs.length < 1) arity(1, Infinity);
        return { ty: T.string, data, ir };
      case 'sum':
      case 'min':
      case 'max': {
        let elem: Ty = T.any;
        if (rs.length === 1) {
          if (t0.k === 'list') elem = t0.elem;
          else if (!isLoose(t0)) this.error('E0201', `${name}() of one argument needs a list, not ${formatTy(t0)}`, args[0]!.range);
        } else if (rs.length === 0 || name === 'sum') {
          if (name === 'sum' || rs.length === 0) arity(1);
        } else {
          elem = rs[0]!.ty;
          for (let i = 1; i < rs.length; i++) this.sameUnit(elem, rs[i]!.ty, args[i]!.range, name);
        }
        if (!isLoose(elem) && !unitOf(stripOptional(elem)))
          this.error('E0201', `${name}() needs numbers, durations, money or percents, not ${formatTy(elem)}`, range);
        return { ty: widenLiteral(stripOptional(elem)), data, ir };
      }
    }
    return { ty: T.any, data, ir };
  }

  private sameUnit(a: Ty, b: Ty, range: Range, what: string): boolean {
    if (isLoose(a) || isLoose(b)) return true;
    const ua = unitOf(stripOptional(a));
    const ub = unitOf(stripOptional(b));
    if (ua && ub && ua !== ub) {
      this.error('E0203', `${what}: cannot mix ${ua} and ${ub} (${formatTy(a)} and ${formatTy(b)})`, range);
      return false;
    }
    const sa = stripOptional(a);
    const sb = stripOptional(b);
    if (sa.k === 'money' && sb.k === 'money' && sa.currency && sb.currency && sa.currency !== sb.currency) {
      this.error('E0203', `${what}: cannot mix currencies ${sa.currency} and ${sb.currency}`, range);
      return false;
    }
    return true;
  }

  private binary(op: BinaryOpIR, left: Expr, right: Expr, range: Range, guarded: boolean): ExprResult {
    // Every read inside a `??` chain is soft (§7.1): both sides, not only the left one.
    return this.binaryWith(op, this.check(left, op === '??' ? true : guarded), left, right, range, guarded);
  }

  /**
   * `step.capability == "wipe"` in a guardrail: the string names a capability as its module
   * sees it, the way the bare name `wipe` does, so it compares as the qualified name the step
   * carries (`main.wipe`). A string naming no capability is left as written.
   */
  private capabilityLiteral(e: Expr, other: Expr): ExprIR | undefined {
    if (e.kind !== 'StringLit' || e.parts.length !== 1 || typeof e.parts[0] !== 'string') return undefined;
    if (other.kind !== 'MemberExpr' || other.property.name !== 'capability' || other.object.kind !== 'NameExpr' || other.object.name !== 'step') return undefined;
    const cap = this.env.capabilityConstant!(e.parts[0]);
    return cap === undefined ? undefined : lit(cap);
  }

  /** The binary operator given the result of its left operand. */
  private binaryWith(op: BinaryOpIR, l: ExprResult, left: Expr, right: Expr, range: Range, guarded: boolean): ExprResult {
    const r = this.check(right, op === '??' ? true : guarded);
    const data = maxClass(l.data, r.data);
    const lt = l.ty;
    const rt = r.ty;
    const sl = stripOptional(lt);
    const sr = stripOptional(rt);
    const loose = isLoose(sl) || isLoose(sr);
    let lir = l.ir;
    let rir = r.ir;
    if (this.env.capabilityConstant && (op === '==' || op === '!=')) {
      lir = this.capabilityLiteral(left, right) ?? lir;
      rir = this.capabilityLiteral(right, left) ?? rir;
    }
    // No spread of an options object: this runs for every comparison of a 10k-step plan.
    const out = (ty: Ty, compare?: 'data_class'): ExprResult => ({
      ty,
      data,
      ir: this.noIR ? NO_IR : ((compare ? { op, left: lir, right: rir, compare } : { op, left: lir, right: rir }) as ExprIR),
    });
    switch (op) {
      case 'and':
      case 'or':
      case 'implies':
        for (const [t, e] of [[sl, left], [sr, right]] as const)
          if (!isLoose(t) && t.k !== 'bool') this.error('E0201', `"${op}" needs bool operands, not ${formatTy(t)}`, e.range);
        return out(T.bool);
      case '==':
      case '!=': {
        if (!comparable(lt, rt)) this.mismatch(op, lt, rt, range, left, right);
        else if (!this.checkEnumLiteral(lt, rt, right)) this.checkEnumLiteral(rt, lt, left);
        return out(T.bool, sl.k === 'data_class' || sr.k === 'data_class' ? 'data_class' : undefined);
      }
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const dataClass = sl.k === 'data_class' || sr.k === 'data_class';
        if (dataClass) {
          const other = sl.k === 'data_class' ? sr : sl;
          if (!isLoose(other) && other.k !== 'data_class' && !isStringy(other))
            this.error('E0201', `cannot compare a data class with ${formatTy(other)}`, range);
          return out(T.bool, 'data_class');
        }
        if (!loose) {
          const ul = unitOf(sl);
          const ur = unitOf(sr);
          const percentNumber = (ul === 'percent' && ur === 'number') || (ul === 'number' && ur === 'percent');
          if (ul && ur) {
            if (!percentNumber) this.sameUnit(sl, sr, range, `"${op}"`);
          } else if (!(isStringy(sl) && isStringy(sr))) this.mismatch(op, lt, rt, range, left, right);
        }
        return out(T.bool);
      }
      case 'in':
        if (!isLoose(sr) && !['list', 'map', 'string', 'record'].includes(sr.k))
          this.error('E0201', `"in" needs a list, map or string on the right, not ${formatTy(sr)}`, right.range);
        else if (sr.k === 'list' && !comparable(sl, sr.elem)) this.mismatch(op, lt, rt, range, left, right);
        return out(T.bool);
      case '??': {
        if (lt.k !== 'optional' && !loose && lt.k !== 'null' && !assignable(rt, lt) && !assignable(lt, rt))
          this.mismatch(op, lt, rt, range, left, right);
        const base = sl.k === 'null' ? widenLiteral(sr) : widenLiteral(sl);
        return out(rt.k === 'optional' || rt.k === 'null' ? optional(base) : base);
      }
      case '+':
      case '-':
        if (op === '+' && (sl.k === 'string' || sr.k === 'string') && !(unitOf(sl) && unitOf(sr))) {
          // String concatenation formats the other operand, whatever it is.
          return out(T.string);
        }
        if (loose) return out(isLoose(sl) ? sr : sl);
        if (unitOf(sl) && unitOf(sr)) {
          const ul = unitOf(sl)!;
          const ur = unitOf(sr)!;
          if (ul !== ur) {
            this.error('E0203', `"${op}": cannot mix ${ul} and ${ur} (${formatTy(sl)} ${op} ${formatTy(sr)})`, range);
            return out(T.unknown);
          }
          this.sameUnit(sl, sr, range, `"${op}"`);
          if (ul === 'number') return out(sl.k === 'int' && sr.k === 'int' ? T.int : T.number);
          return out(widenLiteral(sl));
        }
        this.mismatch(op, lt, rt, range, left, right);
        return out(T.unknown);
      case '*':
      case '/':
      case '%': {
        if (loose) return out(isLoose(sl) ? sr : sl);
        const ul = unitOf(sl);
        const ur = unitOf(sr);
        if (!ul || !ur) {
          this.mismatch(op, lt, rt, range, left, right);
          return out(T.unknown);
        }
        if (ul === 'number' && ur === 'number') return out(sl.k === 'int' && sr.k === 'int' && op !== '/' ? T.int : T.number);
        const scalar = (u: string): boolean => u === 'number' || u === 'percent';
        if (op === '*') {
          if (ul !== 'number' && ul !== 'percent' && scalar(ur)) return out(widenLiteral(sl));
          if (ur !== 'number' && ur !== 'percent' && scalar(ul)) return out(widenLiteral(sr));
          if (ul === 'percent' && ur === 'percent') return out(T.percent);
          if (scalar(ul) && scalar(ur)) return out(ul === 'percent' ? sl : sr);
        } else {
          if (ul !== 'number' && ur === 'number') return out(widenLiteral(sl));
          if (ul === ur && this.sameUnit(sl, sr, range, `"${op}"`)) return out(op === '/' ? T.number : widenLiteral(sl));
        }
        this.error('E0203', `"${op}": cannot combine ${formatTy(sl)} and ${formatTy(sr)}`, range);
        return out(T.unknown);
      }
    }
    return out(T.any);
  }

  /** `label == "positve"` where label is `"positive" | "negative"` can never hold. */
  private checkEnumLiteral(a: Ty, b: Ty, bExpr: Expr): boolean {
    const e = stripOptional(a);
    if (e.k === 'enum' && b.k === 'string' && b.literal !== undefined && !e.values.includes(b.literal)) {
      const best = closest(b.literal, e.values);
      this.error('E0201', `"${b.literal}" is not one of ${formatTy(e)}${best ? `; did you mean "${best}"?` : ''}`, bExpr.range);
      return true;
    }
    return false;
  }

  private mismatch(op: string, lt: Ty, rt: Ty, range: Range, left: Expr, right: Expr): void {
    const ul = unitOf(stripOptional(lt));
    const ur = unitOf(stripOptional(rt));
    if (ul && ur && ul !== ur) this.error('E0203', `"${op}": cannot mix ${ul} and ${ur}`, range);
    else this.error('E0201', `"${op}": incompatible types ${formatTy(lt)} (${describe(left)}) and ${formatTy(rt)} (${describe(right)})`, range);
  }
}

/** A link of a left-nested chain: its left operand or object continues the chain. */
function isChainLink(e: Expr): e is Extract<Expr, { kind: 'BinaryExpr' | 'MemberExpr' | 'IndexExpr' }> {
  return e.kind === 'BinaryExpr' || e.kind === 'MemberExpr' || e.kind === 'IndexExpr';
}

function chainNext(e: Extract<Expr, { kind: 'BinaryExpr' | 'MemberExpr' | 'IndexExpr' }>): Expr {
  return e.kind === 'BinaryExpr' ? e.left : e.object;
}

function fieldOwner(object: Expr, base: Ty): string {
  if (object.kind === 'NameExpr' && (object.name === 'context' || object.name === 'input'))
    return `${object.name} (${formatTy(base)})`;
  return base.k === 'record' && base.fields.size === 0 ? 'an empty record' : formatTy(base);
}

const listOfCached = cachedPerTy(listOf);

/**
 * The output type of a step in `for each` groups `stepPath` read from groups `readerPath`: a
 * list once per group of the step the reader is not in (`send.output[i][j]` two blocks deep).
 */
function nestedOutput(out: Ty, stepPath: readonly string[], readerPath: readonly string[] | undefined): Ty {
  let shared = 0;
  if (readerPath) while (shared < stepPath.length && shared < readerPath.length && stepPath[shared] === readerPath[shared]) shared++;
  let ty = out;
  for (let i = shared; i < stepPath.length; i++) ty = listOfCached(ty);
  return ty;
}

function describe(e: Expr): string {
  switch (e.kind) {
    case 'NameExpr':
      return e.name;
    case 'MemberExpr': {
      // A loop: member chains may be thousands of links long.
      const path: string[] = [];
      let cur: Expr = e;
      while (cur.kind === 'MemberExpr') {
        path.push(cur.property.name);
        cur = cur.object;
      }
      return `${describe(cur)}.${path.reverse().join('.')}`;
    }
    case 'StringLit':
      return 'a string';
    case 'NumberLit':
      return String(e.value);
    case 'DurationLit':
      return `${e.value}${e.unit}`;
    case 'MoneyLit':
      return `${e.amount}${e.currency}`;
    default:
      return 'expression';
  }
}
