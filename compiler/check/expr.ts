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
import { diagnostic } from '../../language/index.js';
import type { BinaryOpIR, ExprIR } from '../ir/types.js';
import { unresolvedDiagnostic } from '../scope.js';
import { closest } from '../suggest.js';
import { T, assignable, classOfType, formatTy, isLoose, isStringy, listOf, maxClass, record, field, stripOptional, unitOf, optional, widenLiteral, type Ty } from '../types/ty.js';
import { BUILTINS, checkBuiltinCall } from './builtins.js';
import {
  cachedPerTy, describe, durationMs, lit, percentFraction, NO_DATA, NO_IR, STEP_STATUSES, stepViewTy,
  type BlockRefInfo, type ExprChecking, type ExprEnv, type ExprResult,
} from './expr-env.js';
import { irDepth, MAX_IR_DEPTH } from './ir-depth.js';
import { binaryWith } from './operators.js';

export type { BlockRefInfo, ExprEnv, ExprResult, ItemInfo, RootInfo, StepRefInfo } from './expr-env.js';
export { durationMs, STEP_STATUSES, stepViewTy } from './expr-env.js';
export { irDepth, MAX_IR_DEPTH } from './ir-depth.js';

const TIERS = ['local', 'edge', 'cloud', 'human'];
const CONSTANT_WORDS = new Set<string>([...RESOURCE_KINDS, ...TIERS, ...CAPABILITY_KINDS, ...STEP_STATUSES]);

export function checkExpr(e: Expr, env: ExprEnv): ExprResult {
  const depth = irDepth(e);
  if (depth > MAX_IR_DEPTH) {
    env.diags.push(
      diagnostic('E0001', `expression too deep for a compiled plan: it nests ${depth} levels in the plan's IR (at most ${MAX_IR_DEPTH}); split a long chain into parenthesised groups, e.g. (a + b + c) + (d + e + f), or over steps`, env.file, e.range),
    );
  }
  return new ExprChecker(env).check(e, false);
}

class ExprChecker implements ExprChecking {
  readonly noIR: boolean;

  constructor(readonly env: ExprEnv) {
    this.noIR = env.typesOnly === true;
  }

  error(code: 'E0201' | 'E0203' | 'E0101', message: string, range: Range): void {
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
    // The links go on a stack every chain shares (a link's operands may hold chains of their own,
    // which push above this one's and are gone before it resumes): no list or pair per chain.
    const base = chainTop;
    let cur: Expr = e;
    let g = guarded;
    while (isChainLink(cur)) {
      // A member of a plain name is the start of the chain: `member` reads the name itself.
      if (cur.kind === 'MemberExpr' && cur.object.kind === 'NameExpr') break;
      chainLinks[chainTop] = cur;
      chainGuarded[chainTop++] = g;
      if (cur.kind === 'BinaryExpr') {
        if (cur.op === '??') g = true;
        cur = cur.left;
      } else cur = cur.object;
    }
    try {
      const into = chainTop > base ? chainLinks[chainTop - 1]! : null;
      if (into && into.kind !== 'BinaryExpr') this.dereferenced = cur;
      let r = this.checkOne(cur, g);
      for (let i = chainTop - 1; i >= base; i--) {
        const x = chainLinks[i]!;
        const linkGuarded = chainGuarded[i]!;
        if (x.kind === 'BinaryExpr') r = binaryWith(this, x.op, r, x.left, x.right, x.range, linkGuarded);
        else if (x.kind === 'MemberExpr') r = this.memberWith(x, r);
        else if (x.kind === 'IndexExpr') r = this.indexWith(x, r, linkGuarded);
      }
      return r;
    } finally {
      // (the slots are kept for the next chain, their nodes are not)
      for (let i = base; i < chainTop; i++) chainLinks[i] = NO_LINK;
      chainTop = base;
    }
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
        return { ty: T.percent, data: NO_DATA, ir: lit(percentFraction(e.value), 'percent') };
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
        return this.indexWith(e, this.checkReadInto(e.object, guarded), guarded);
      case 'CallExpr':
        if (e.named || e.callee.name === 'endorse' || e.callee.name === 'declassify') this.namedArguments(e.callee, e.named ?? [], guarded);
        if (e.callee.name === 'calls' && this.env.calls) return this.env.calls(e.args, e.range);
        return checkBuiltinCall(this, e.callee, e.args, e.range, guarded, e.named);
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
      const ty = this.env.stepViewOf ? this.env.stepViewOf(step, out) : stepViewTy(out);
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
        // A loser's output is null, so no branch skips the reader; but `NAME.output` read outside
        // `??` is no soft read of them: the reader follows its join rule over the race (§7.1).
        for (const s of block.steps) env.onStep?.(s, range, block.kind === 'race' && outputNext, guarded, false);
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
    // Most plans have no race or loop: then no name needs looking up twice (a step table of 100,000 names is slow to ask).
    const blockRead =
      e.object.kind === 'NameExpr' && env.blocks?.size && !env.items?.has(e.object.name) && !env.steps?.has(e.object.name) ? env.blocks.get(e.object.name) : undefined;
    if (blockRead?.kind === 'repeat') {
      const misuse = this.loopMisuse(blockRead, e.object.range, e.property, guarded || this.dereferenced !== e);
      if (misuse) return misuse;
    }
    const obj =
      e.object.kind === 'NameExpr'
        ? this.name(e.object.name, e.object.range, guarded, e.property.name === 'output')
        : this.checkReadInto(e.object, guarded);
    return this.memberWith(e, obj);
  }

  /**
   * The object of a member or index read: the one place `revise.previous` (null in the first
   * iteration) needs `??` — `revise.previous == null` reads no field of it and is fine as it stands.
   */
  private dereferenced: Expr | null = null;
  private checkReadInto(object: Expr, guarded: boolean): ExprResult {
    this.dereferenced = object;
    return this.check(object, guarded);
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
      // Anything else after `to:` was read as internal in silence (an unknown word is E0101 above).
      if (!classWord && callee.name === 'declassify' && a.name.name === 'to' && a.value.kind !== 'NameExpr')
        this.error('E0201', `declassify() takes a class word after to: (${DATA_CLASSES.slice(0, -1).join(', ')} or ${DATA_CLASSES.at(-1)}), not an expression`, a.value.range);
    }
    if (callee.name === 'endorse' || callee.name === 'declassify') {
      const allowed = callee.name === 'endorse' ? ['reason'] : ['reason', 'to'];
      for (const a of named) if (!allowed.includes(a.name.name)) this.error('E0201', `${callee.name}() takes ${allowed.map((n) => `${n}:`).join(' and ')}, not "${a.name.name}:"`, a.range);
      const reason = named.find((a) => a.name.name === 'reason');
      // The author's own words, journaled with every use: a literal that says something (a blank
      // one says nothing; an interpolated one would put the value being vouched for in its place).
      const said = reason?.value.kind === 'StringLit' && reason.value.parts.every((p) => typeof p === 'string') && reason.value.parts.join('').trim() !== '';
      if (!said) this.error('E0201', `${callee.name}() needs a reason: ${callee.name}(value, reason: "…")`, reason?.range ?? callee.range);
    }
    if ((BUILTINS.has(callee.name) || callee.name === 'secret') && named.length > 0)
      this.error('E0201', `${callee.name}() takes no named arguments ("${named[0]!.name.name}:")`, named[0]!.range);
  }


  private binary(op: BinaryOpIR, left: Expr, right: Expr, range: Range, guarded: boolean): ExprResult {
    // Every read inside a `??` chain is soft (§7.1): both sides, not only the left one.
    return binaryWith(this, op, this.check(left, op === '??' ? true : guarded), left, right, range, guarded);
  }

}


type ChainLink = Extract<Expr, { kind: 'BinaryExpr' | 'MemberExpr' | 'IndexExpr' }>;
/**
 * The links of the chains being checked, innermost chain on top (below `chainTop`), and whether
 * each is guarded. The lists are never shortened (that would drop their storage); a free slot
 * holds `NO_LINK`.
 */
const chainLinks: ChainLink[] = [];
const chainGuarded: boolean[] = [];
let chainTop = 0;
const NO_LINK = Object.freeze({ kind: 'IndexExpr' }) as unknown as ChainLink;

/** A link of a left-nested chain: its left operand or object continues the chain. */
function isChainLink(e: Expr): e is Extract<Expr, { kind: 'BinaryExpr' | 'MemberExpr' | 'IndexExpr' }> {
  return e.kind === 'BinaryExpr' || e.kind === 'MemberExpr' || e.kind === 'IndexExpr';
}

function chainNext(e: Extract<Expr, { kind: 'BinaryExpr' | 'MemberExpr' | 'IndexExpr' }>): Expr {
  return e.kind === 'BinaryExpr' ? e.left : e.object;
}

function fieldOwner(object: Expr, base: Ty): string {
  if (object.kind === 'NameExpr' && (object.name === 'context' || object.name === 'input' || object.name === 'event'))
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
