/**
 * Expression checking and lowering in one pass: each expression yields its type (E0201 type
 * mismatch, E0203 unit mismatch, E0101 unknown name), the highest data class it carries and its
 * `ExprIR` tree. References to steps are reported to `onStep` so the plan checker can build
 * dependencies and skip propagation (an output read under the left side of `??` is "guarded").
 */
import type { DataClass, Expr, Ident, Range } from '../../language/ast.js';
import { DATA_CLASSES, RESOURCE_KINDS, CAPABILITY_KINDS } from '../../language/ast.js';
import { diagnostic, type Diagnostic } from '../../language/diagnostic.js';
import type { BinaryOpIR, BuiltinFn, ExprIR } from '../ir/types.js';
import type { ModelBuilder } from '../model.js';
import { unresolvedDiagnostic } from '../scope.js';
import { closest } from '../suggest.js';
import {
  T, assignable, classOfType, comparable, formatTy, isLoose, isNumeric, isStringy, listOf, maxClass, record, field,
  stripOptional, unitOf, optional, type Ty,
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
  /** `a..b` is only valid in `simulate` blocks. */
  readonly allowRange?: boolean;
  /**
   * Diagnostics only (`orch check`): types, data classes and references are worked out as
   * always, but no IR is built — every result's `ir` is one shared placeholder. Only for
   * expressions whose IR nobody reads in that mode (step arguments and conditions).
   */
  readonly typesOnly?: boolean;
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
  return new ExprChecker(env).check(e, false);
}

class ExprChecker {
  private readonly noIR: boolean;

  constructor(private readonly env: ExprEnv) {
    this.noIR = env.typesOnly === true;
  }

  private error(code: 'E0201' | 'E0203' | 'E0101', message: string, range: Range): void {
    this.env.diags.push(diagnostic(code, message, this.env.file, range));
  }

  check(e: Expr, guarded: boolean): ExprResult {
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
        const items = e.items.map((i) => {
          const r = this.check(i, guarded);
          data = maxClass(data, r.data);
          if (!elem || elem.k === 'null') elem = widenLiteral(r.ty);
          else if (!assignable(r.ty, elem)) {
            if (assignable(elem, r.ty)) elem = widenLiteral(r.ty);
            else elem = T.any;
          }
          return r.ir;
        });
        return { ty: listOf(elem ?? T.any), data, ir: { op: 'list', items } };
      }
      case 'RecordLit': {
        let data: DataClass = NO_DATA;
        const fields = e.fields.map((f) => {
          const r = this.check(f.value, guarded);
          data = maxClass(data, r.data);
          return { key: f.key.name, value: r.ir, ty: r.ty };
        });
        return {
          ty: record(fields.map((f) => field(f.key, widenLiteral(f.ty)))),
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
      case 'IndexExpr': {
        const obj = this.check(e.object, guarded);
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
      case 'CallExpr':
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
        if (!this.env.allowRange) this.error('E0201', 'a range a..b is only allowed in simulate blocks', e.range);
        else if (!isLoose(from.ty) && !isLoose(to.ty) && unitOf(from.ty) !== unitOf(to.ty))
          this.error('E0203', `range ends have different units: ${formatTy(from.ty)} and ${formatTy(to.ty)}`, e.range);
        return { ty: widenLiteral(from.ty), data: NO_DATA, ir: { op: 'range', from: from.ir, to: to.ir } };
      }
    }
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
      const out = step.group !== undefined && step.group !== env.group ? listOfCached(step.outputTy) : step.outputTy;
      const ty = stepViewTy(out);
      if (env.model.recordTypes) env.model.typeAt(env.file, range, () => `step ${name}: output ${formatTy(out)}`);
      return { ty, data: NO_DATA, ir: this.noIR ? NO_IR : { op: 'step', id: step.id } };
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
    const obj =
      e.object.kind === 'NameExpr'
        ? this.name(e.object.name, e.object.range, guarded, e.property.name === 'output')
        : this.check(e.object, guarded);
    const key = e.property.name;
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
    const l = this.check(left, op === '??' ? true : guarded);
    const r = this.check(right, guarded);
    const data = maxClass(l.data, r.data);
    const lt = l.ty;
    const rt = r.ty;
    const sl = stripOptional(lt);
    const sr = stripOptional(rt);
    const loose = isLoose(sl) || isLoose(sr);
    // No spread of an options object: this runs for every comparison of a 10k-step plan.
    const out = (ty: Ty, compare?: 'data_class'): ExprResult => ({
      ty,
      data,
      ir: this.noIR ? NO_IR : ((compare ? { op, left: l.ir, right: r.ir, compare } : { op, left: l.ir, right: r.ir }) as ExprIR),
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
        else this.checkEnumLiteral(lt, rt, right) || this.checkEnumLiteral(rt, lt, left);
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

function fieldOwner(object: Expr, base: Ty): string {
  if (object.kind === 'NameExpr' && (object.name === 'context' || object.name === 'input'))
    return `${object.name} (${formatTy(base)})`;
  return base.k === 'record' && base.fields.size === 0 ? 'an empty record' : formatTy(base);
}

const listOfCached = cachedPerTy(listOf);

function widenLiteral(t: Ty): Ty {
  return t.k === 'string' && t.literal !== undefined ? T.string : t;
}

function describe(e: Expr): string {
  switch (e.kind) {
    case 'NameExpr':
      return e.name;
    case 'MemberExpr':
      return `${describe(e.object)}.${e.property.name}`;
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

export { widenLiteral };
