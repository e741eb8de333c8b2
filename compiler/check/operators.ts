/**
 * The binary operators' typing rules: which operand types each operator takes, what it yields,
 * units (E0203 for mixed units or currencies), enum literals that can never match, and the
 * capability names guardrails compare as strings.
 */
import { DATA_CLASSES, type Expr, type Range } from '../../language/index.js';
import type { BinaryOpIR, ExprIR } from '../ir/types.js';
import { closest } from '../suggest.js';
import { T, assignable, comparable, formatTy, isLoose, isStringy, maxClass, optional, stripOptional, unitOf, widenLiteral, type Ty } from '../types/ty.js';
import { describe, lit, NO_IR, type ExprChecking, type ExprResult } from './expr-env.js';

/** E0203 when `a` and `b` have different units or currencies. */
export function sameUnit(c: ExprChecking, a: Ty, b: Ty, range: Range, what: string): boolean {
  if (isLoose(a) || isLoose(b)) return true;
  const ua = unitOf(stripOptional(a));
  const ub = unitOf(stripOptional(b));
  if (ua && ub && ua !== ub) {
    c.error('E0203', `${what}: cannot mix ${ua} and ${ub} (${formatTy(a)} and ${formatTy(b)})`, range);
    return false;
  }
  const sa = stripOptional(a);
  const sb = stripOptional(b);
  if (sa.k !== 'money' || sb.k !== 'money') return true;
  // Spend (`run.cost`, `x.cost`) is in the program's currency; a `money` input field has none.
  const ca = sa.currency ?? (sa.spend ? c.env.model.currency : undefined);
  const cb = sb.currency ?? (sb.spend ? c.env.model.currency : undefined);
  if (ca && cb && ca !== cb) {
    c.error('E0203', `${what}: cannot mix currencies ${ca} and ${cb}`, range);
    return false;
  }
  return true;
}

/**
 * E0201 when a value that may be null (`T?`: an optional field, `xs[i]`, `m["k"]`) is used where
 * the evaluator needs a value — arithmetic, `round`, `upper`, … would fail the run on `null`.
 * Comparisons, `len`, `contains`, `in` and concatenation take `null` as it is.
 */
export function notNull(c: ExprChecking, ty: Ty, e: Expr, what: string): boolean {
  if (ty.k !== 'optional' || isLoose(ty.inner)) return true;
  c.error('E0201', `${what} needs a value, but this may be null (${formatTy(ty)}): add ?? and a default`, e.range);
  return false;
}

/** `0`, `0s`, `0usd`, `0%` written as such (a divisor that fails every run). */
function isZeroLiteral(e: Expr): boolean {
  switch (e.kind) {
    case 'NumberLit':
    case 'DurationLit':
    case 'PercentLit':
      return e.value === 0;
    case 'MoneyLit':
      return e.amount === 0;
    default:
      return false;
  }
}

/**
 * `x in text`, `contains(map, x)`: a string holds substrings and a map (or record) string keys, so
 * any other `x` is never found (the run answers false) — E0201 at `x`.
 */
export function stringKey(c: ExprChecking, needle: Ty, hay: Ty, at: Expr, what: string): void {
  const n = stripOptional(needle);
  const h = stripOptional(hay);
  if (isLoose(n) || n.k === 'null' || isStringy(n)) return;
  if (isStringy(h) || h.k === 'map' || h.k === 'record') c.error('E0201', `${what} over a string or map looks for a string, not ${formatTy(n)}`, at.range);
}

/**
 * `step.capability == "wipe"` in a guardrail: the string names a capability as its module
 * sees it, the way the bare name `wipe` does, so it compares as the qualified name the step
 * carries (`main.wipe`). A string naming no capability is left as written.
 */
function capabilityLiteral(c: ExprChecking, e: Expr, other: Expr): ExprIR | undefined {
  if (e.kind !== 'StringLit' || e.parts.length !== 1 || typeof e.parts[0] !== 'string') return undefined;
  if (other.kind !== 'MemberExpr' || other.property.name !== 'capability' || other.object.kind !== 'NameExpr' || other.object.name !== 'step') return undefined;
  const cap = c.env.capabilityConstant!(e.parts[0]);
  return cap === undefined ? undefined : lit(cap);
}

/** The operators whose money result the runtime rounds to a millionth (the IR's `unit: "money"`). */
const ARITHMETIC: ReadonlySet<BinaryOpIR> = new Set(['+', '-', '*', '/', '%']);

/** The binary operator given the result of its left operand. */
export function binaryWith(c: ExprChecking, op: BinaryOpIR, l: ExprResult, left: Expr, right: Expr, range: Range, guarded: boolean): ExprResult {
  const r = c.check(right, op === '??' ? true : guarded);
  const data = maxClass(l.data, r.data);
  const lt = l.ty;
  const rt = r.ty;
  const sl = stripOptional(lt);
  const sr = stripOptional(rt);
  const loose = isLoose(sl) || isLoose(sr);
  let lir = l.ir;
  let rir = r.ir;
  if (c.env.capabilityConstant && (op === '==' || op === '!=')) {
    lir = capabilityLiteral(c, left, right) ?? lir;
    rir = capabilityLiteral(c, right, left) ?? rir;
  }
  // No spread of an options object: this runs for every comparison of a 10k-step plan.
  const out = (ty: Ty, compare?: 'data_class'): ExprResult => ({
    ty,
    data,
    ir: c.noIR
      ? NO_IR
      : ((compare ? { op, left: lir, right: rir, compare } : (ty.k === 'money' || ty.k === 'percent') && ARITHMETIC.has(op) ? { op, left: lir, right: rir, unit: ty.k } : { op, left: lir, right: rir }) as ExprIR),
  });
  switch (op) {
    case 'and':
    case 'or':
    case 'implies':
      for (const [t, e] of [[sl, left], [sr, right]] as const)
        if (!isLoose(t) && t.k !== 'bool') c.error('E0201', `"${op}" needs bool operands, not ${formatTy(t)}`, e.range);
      return out(T.bool);
    case '==':
    case '!=': {
      if (!comparable(lt, rt) && !percentWithNumber(sl, sr)) mismatch(c, op, lt, rt, range, left, right);
      else if (sl.k === 'money' && sr.k === 'money') sameUnit(c, sl, sr, range, `"${op}"`);
      else if (!checkEnumLiteral(c, lt, rt, right)) checkEnumLiteral(c, rt, lt, left);
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
          c.error('E0201', `cannot compare a data class with ${formatTy(other)}`, range);
        // A string literal is read as a data class at run time: one that names none fails the run.
        const otherExpr = sl.k === 'data_class' ? right : left;
        if (other.k === 'string' && other.literal !== undefined && !(DATA_CLASSES as readonly string[]).includes(other.literal)) {
          const best = closest(other.literal, DATA_CLASSES);
          c.error('E0201', `"${other.literal}" is not a data class (${DATA_CLASSES.join(' < ')})${best ? `; did you mean "${best}"?` : ''}`, otherExpr.range);
        }
        return out(T.bool, 'data_class');
      }
      if (!loose) {
        const ul = unitOf(sl);
        const ur = unitOf(sr);
        if (ul && ur) {
          if (!percentWithNumber(sl, sr)) sameUnit(c, sl, sr, range, `"${op}"`);
        } else if (!(isStringy(sl) && isStringy(sr))) mismatch(c, op, lt, rt, range, left, right);
      }
      return out(T.bool);
    }
    case 'in':
      if (!isLoose(sr) && !['list', 'map', 'string', 'record'].includes(sr.k))
        c.error('E0201', `"in" needs a list, map or string on the right, not ${formatTy(sr)}`, right.range);
      else if (sr.k === 'list' && !comparable(sl, sr.elem) && !percentWithNumber(sl, stripOptional(sr.elem))) mismatch(c, op, lt, rt, range, left, right);
      else if (right.kind === 'ListLit' && sl.k === 'enum') {
        // `label in ["positive", "neutrl"]`: an item that is not one of the enum can never match (as with `==`).
        for (const item of right.items) checkEnumLiteral(c, sl, literalTy(item), item);
      } else stringKey(c, sl, sr, left, '"in"');
      return out(T.bool);
    case '??': {
      // `x ?? null` says "x, or nothing" (the value of a `??` chain whose steps were all skipped).
      // An optional `x` is judged by what it holds: `o ?? "none"` of an `int?` gives an int or a string.
      // Reported once: what the `??` is passed to says nothing more.
      if (!loose && sl.k !== 'null' && sr.k !== 'null' && !assignable(sr, sl) && !assignable(sl, sr)) {
        mismatch(c, op, lt, rt, range, left, right);
        return out(T.unknown);
      }
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
        notNull(c, lt, left, `"${op}"`);
        notNull(c, rt, right, `"${op}"`);
        const ul = unitOf(sl)!;
        const ur = unitOf(sr)!;
        if (ul !== ur) {
          c.error('E0203', `"${op}": cannot mix ${ul} and ${ur} (${formatTy(sl)} ${op} ${formatTy(sr)})`, range);
          return out(T.unknown);
        }
        // Reported once: the sum of two currencies has none, so what it meets says nothing more.
        if (!sameUnit(c, sl, sr, range, `"${op}"`)) return out(T.unknown);
        if (ul === 'number') return out(sl.k === 'int' && sr.k === 'int' ? T.int : T.number);
        return out(widenLiteral(sl));
      }
      mismatch(c, op, lt, rt, range, left, right);
      return out(T.unknown);
    case '*':
    case '/':
    case '%': {
      if (loose) return out(isLoose(sl) ? sr : sl);
      const ul = unitOf(sl);
      const ur = unitOf(sr);
      if (!ul || !ur) {
        mismatch(c, op, lt, rt, range, left, right);
        return out(T.unknown);
      }
      notNull(c, lt, left, `"${op}"`);
      notNull(c, rt, right, `"${op}"`);
      if (op !== '*' && isZeroLiteral(right)) c.error('E0201', `${op === '/' ? 'division' : 'modulo'} by zero: the run would fail here`, right.range);
      if (ul === 'number' && ur === 'number') return out(sl.k === 'int' && sr.k === 'int' && op !== '/' ? T.int : T.number);
      const scalar = (u: string): boolean => u === 'number' || u === 'percent';
      if (op === '*') {
        if (ul !== 'number' && ul !== 'percent' && scalar(ur)) return out(widenLiteral(sl));
        if (ur !== 'number' && ur !== 'percent' && scalar(ul)) return out(widenLiteral(sr));
        if (ul === 'percent' && ur === 'percent') return out(T.percent);
        if (scalar(ul) && scalar(ur)) return out(ul === 'percent' ? sl : sr);
      } else {
        if (ul !== 'number' && ur === 'number') return out(widenLiteral(sl));
        if (ul === ur && sameUnit(c, sl, sr, range, `"${op}"`)) return out(op === '/' ? T.number : widenLiteral(sl));
      }
      c.error('E0203', `"${op}": cannot combine ${formatTy(sl)} and ${formatTy(sr)}`, range);
      return out(T.unknown);
    }
  }
  return out(T.any);
}

/** A string literal item's own type (`"neutrl"`), for the enum check of `in`; anything else is `any`. */
function literalTy(e: Expr): Ty {
  return e.kind === 'StringLit' && e.parts.length === 1 && typeof e.parts[0] === 'string' ? { k: 'string', literal: e.parts[0] } : T.any;
}

/** A percentage and a plain number compare (`==` as `<`): both are fractions at run time. */
function percentWithNumber(a: Ty, b: Ty): boolean {
  const ua = unitOf(a);
  const ub = unitOf(b);
  return (ua === 'percent' && ub === 'number') || (ua === 'number' && ub === 'percent');
}

/** `label == "positve"` where label is `"positive" | "negative"` can never hold. */
function checkEnumLiteral(c: ExprChecking, a: Ty, b: Ty, bExpr: Expr): boolean {
  const e = stripOptional(a);
  if (e.k === 'enum' && b.k === 'string' && b.literal !== undefined && !e.values.includes(b.literal)) {
    const best = closest(b.literal, e.values);
    c.error('E0201', `"${b.literal}" is not one of ${formatTy(e)}${best ? `; did you mean "${best}"?` : ''}`, bExpr.range);
    return true;
  }
  return false;
}

function mismatch(c: ExprChecking, op: string, lt: Ty, rt: Ty, range: Range, left: Expr, right: Expr): void {
  const sl = stripOptional(lt);
  const r = stripOptional(rt);
  // `x in xs` is judged against the items' type.
  const sr = op === 'in' && r.k === 'list' ? stripOptional(r.elem) : r;
  const ul = unitOf(sl);
  const ur = unitOf(sr);
  if (ul && ur && ul !== ur) c.error('E0203', `"${op}": cannot mix ${ul} and ${ur}`, range);
  // `1usd == 1eur` is a unit mismatch as `1usd < 1eur` is, not a type mismatch.
  else if (ul === 'money' && ur === 'money' && !sameUnit(c, sl, sr, range, `"${op}"`)) return;
  else c.error('E0201', `"${op}": incompatible types ${formatTy(lt)} (${describe(left)}) and ${formatTy(rt)} (${describe(right)})`, range);
}
