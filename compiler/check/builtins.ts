/**
 * Calls of the built-in functions (`len`, `contains`, `lower`, `upper`, `round`, `now`, `format`,
 * `sum`, `min`, `max`) and `secret("NAME")`: arity, argument types, the result's type and data
 * class. An unknown function is E0101 with a did-you-mean.
 */
import type { Argument, DataClass, Expr, Ident, Range } from '../../language/index.js';
import { DATA_CLASSES } from '../../language/index.js';
import type { BuiltinFn, ExprIR } from '../ir/types.js';
import { unresolvedDiagnostic } from '../scope.js';
import { T, comparable, formatTy, isLoose, isStringy, listOf, maxClass, mismatchCode, stripOptional, unitOf, widenLiteral, type Ty } from '../types/ty.js';
import { NO_DATA, NO_IR, type ExprChecking, type ExprResult } from './expr-env.js';
import { notNull, sameUnit, stringKey } from './operators.js';

export const BUILTINS = new Set<string>(['len', 'contains', 'lower', 'upper', 'min', 'max', 'sum', 'round', 'now', 'format', 'split', 'lines', 'known', 'age']);

export function checkBuiltinCall(c: ExprChecking, callee: Ident, args: readonly Expr[], range: Range, guarded: boolean, named?: readonly Argument[]): ExprResult {
  const name = callee.name;
  if (name === 'secret') {
    const a = args[0];
    if (args.length !== 1 || !a || a.kind !== 'StringLit' || !a.parts.every((p) => typeof p === 'string')) {
      c.error('E0201', 'secret() takes one string literal: secret("NAME")', range);
      return { ty: T.secret, data: NO_DATA, ir: { op: 'secret', name: '?' } };
    }
    // A secret is a credential, not user data: it does not raise the data class of a step.
    return { ty: T.secret, data: NO_DATA, ir: { op: 'secret', name: (a.parts as string[]).join('') } };
  }
  if (name === 'endorse' || name === 'declassify') return relabelCall(c, name, args, range, guarded, named);
  if (name === 'known' || name === 'age') return signalStateCall(c, name, args, range);
  const rs = args.map((a) => c.check(a, guarded));
  const ir: ExprIR = { op: 'call', fn: name as BuiltinFn, args: rs.map((r) => r.ir) };
  let data: DataClass = rs.reduce<DataClass>((c, r) => maxClass(c, r.data), NO_DATA);
  if (!BUILTINS.has(name)) {
    c.env.diags.push(unresolvedDiagnostic(c.env.file, name, `unknown function "${name}"`, [...BUILTINS, 'secret'], callee.range));
    // Like an unknown name: reported, and lowered to a placeholder the IR schema accepts.
    return { ty: T.unknown, data, ir: NO_IR };
  }
  const arity = (min: number, max = min): boolean => {
    if (rs.length < min || rs.length > max) {
      c.error('E0201', `${name}() takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${rs.length}`, range);
      return false;
    }
    return true;
  };
  const t0 = rs[0] ? stripOptional(rs[0].ty) : T.any;
  switch (name) {
    case 'len':
      data = NO_DATA; // a count does not disclose the items
      if (arity(1) && !isLoose(t0) && !['list', 'map', 'string', 'record', 'enum'].includes(t0.k))
        c.error('E0201', `len() needs a list, map or string, not ${formatTy(t0)}`, args[0]!.range);
      return { ty: T.int, data, ir };
    case 'contains':
      // A record is looked into by key, as `"k" in r` and the run's contains() do.
      if (arity(2) && !isLoose(t0) && !['list', 'map', 'string', 'enum', 'record'].includes(t0.k))
        c.error('E0201', `contains() needs a list, map, record or string first, not ${formatTy(t0)}`, args[0]!.range);
      else if (rs.length === 2 && t0.k === 'list' && !comparable(rs[1]!.ty, t0.elem))
        c.error(mismatchCode(stripOptional(rs[1]!.ty), t0.elem), `contains() looks in a ${formatTy(t0)} for ${formatTy(rs[1]!.ty)}: it is never found`, args[1]!.range);
      else if (rs.length === 2) stringKey(c, rs[1]!.ty, t0, args[1]!, 'contains()');
      return { ty: T.bool, data, ir };
    case 'lower':
    case 'upper':
      if (arity(1) && !isLoose(t0) && !isStringy(t0)) c.error('E0201', `${name}() needs a string, not ${formatTy(t0)}`, args[0]!.range);
      else if (rs.length === 1) notNull(c, rs[0]!.ty, args[0]!, `${name}()`);
      return { ty: T.string, data, ir };
    // A tool's text answer taken apart without a model (issue 47): its data class is the text's.
    case 'split': {
      if (arity(2)) {
        if (!isLoose(t0) && !isStringy(t0)) c.error('E0201', `split() needs a string to split, not ${formatTy(t0)}`, args[0]!.range);
        else notNull(c, rs[0]!.ty, args[0]!, 'split()');
        const t1 = stripOptional(rs[1]!.ty);
        if (!isLoose(t1) && !isStringy(t1)) c.error('E0201', `split() needs a string separator, not ${formatTy(t1)}`, args[1]!.range);
      }
      return { ty: listOf(T.string), data, ir };
    }
    case 'lines':
      if (arity(1) && !isLoose(t0) && !isStringy(t0)) c.error('E0201', `lines() needs a string, not ${formatTy(t0)}`, args[0]!.range);
      else if (rs.length === 1) notNull(c, rs[0]!.ty, args[0]!, 'lines()');
      return { ty: listOf(T.string), data, ir };
    case 'round':
      if (arity(1, 2) && !isLoose(t0) && !unitOf(t0)) c.error('E0201', `round() needs a number, not ${formatTy(t0)}`, args[0]!.range);
      else if (rs.length >= 1) notNull(c, rs[0]!.ty, args[0]!, 'round()');
      // The digits to keep: a whole number (`round(x, 1.5)` rounded to 10^1.5).
      if (rs.length === 2 && !isLoose(rs[1]!.ty) && rs[1]!.ty.k !== 'int')
        c.error('E0201', `round()'s second argument is a whole number of decimals, not ${formatTy(rs[1]!.ty)}`, args[1]!.range);
      // A percentage rounds as it is written (`round(80.4%)` is 80%), not as the fraction the run
      // holds (0.804 → 1, i.e. 100%): the IR says so with `unit: "percent"`.
      return { ty: t0.k === 'number' || t0.k === 'int' ? (rs.length === 1 ? T.int : T.number) : widenLiteral(t0), data, ir: t0.k === 'percent' && ir.op === 'call' ? { ...ir, unit: 'percent' } : ir };
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
        if (t0.k === 'list') {
          elem = t0.elem;
          // A literal list whose items have no one type reads as `list<any>`: judge its items here.
          if (t0.mixed ?? t0.items) sameUnitItems(c, (t0.mixed ?? t0.items)!, args[0]!, name);
          if (elem.k === 'optional' && !isLoose(elem.inner))
            c.error('E0201', `${name}() needs values, but these items may be null (${formatTy(t0)}): add ?? and a default to each`, args[0]!.range);
        }
        else if (!isLoose(t0)) c.error('E0201', `${name}() of one argument needs a list, not ${formatTy(t0)}`, args[0]!.range);
      } else if (rs.length === 0 || name === 'sum') {
        if (name === 'sum' || rs.length === 0) arity(1);
      } else {
        elem = rs[0]!.ty;
        for (let i = 1; i < rs.length; i++) sameUnit(c, elem, rs[i]!.ty, args[i]!.range, name);
        rs.forEach((r, i) => notNull(c, r.ty, args[i]!, `${name}()`));
      }
      if (!isLoose(elem) && !unitOf(stripOptional(elem)))
        c.error('E0201', `${name}() needs numbers, durations, money or percents, not ${formatTy(elem)}`, range);
      const ty = widenLiteral(stripOptional(elem));
      // A sum of money or percents is exact as `a + b` of them is (operators.ts).
      return { ty, data, ir: name === 'sum' && (ty.k === 'money' || ty.k === 'percent') && ir.op === 'call' ? { ...ir, unit: ty.k } : ir };
    }
  }
  return { ty: T.any, data, ir };
}

/**
 * `sum([1s, 2usd])`, `max([1usd, 2eur])`: a list literal of several units (or of no number at all)
 * is a list of `any`, which the run would add up as bare numbers — E0203 (E0201) at the first item
 * that does not match the first, as `1s + 2usd` is.
 */
function sameUnitItems(c: ExprChecking, items: readonly Ty[], list: Expr, name: string): void {
  const at = (i: number): Range => (list.kind === 'ListLit' ? list.items[i]?.range : undefined) ?? list.range;
  let first: Ty | undefined;
  for (const [i, raw] of items.entries()) {
    const ty = stripOptional(raw);
    if (isLoose(ty) || ty.k === 'null') continue;
    if (!unitOf(ty)) {
      c.error('E0201', `${name}() needs numbers, durations, money or percents, not ${formatTy(ty)}`, at(i));
      return;
    }
    if (!first) first = ty;
    else if (!sameUnit(c, first, ty, at(i), `${name}()`)) return;
  }
}

/**
 * `endorse(V, reason: …)` and `declassify(V, to: CLASS, reason: …)` (LANGUAGE.md §9.3): V's
 * value and type unchanged — the flows stage reads what they do to its labels — so the IR is V's.
 */
function relabelCall(c: ExprChecking, name: string, args: readonly Expr[], range: Range, guarded: boolean, named?: readonly Argument[]): ExprResult {
  if (args.length !== 1) {
    c.error('E0201', `${name}() takes one value and a reason: ${name}(value, ${name === 'declassify' ? 'to: internal, ' : ''}reason: "…")`, range);
    for (const a of args) c.check(a, guarded);
    return { ty: T.unknown, data: NO_DATA, ir: NO_IR };
  }
  const r = c.check(args[0]!, guarded);
  if (name !== 'declassify') return r;
  // Lowered to `to` (default internal), as the flows stage lowers its label: the data class the
  // guardrails read (`step.data`) must not drop below what the value still is.
  const toArg = named?.find((a) => a.name.name === 'to')?.value;
  const to: DataClass = toArg?.kind === 'NameExpr' && (DATA_CLASSES as readonly string[]).includes(toArg.name) ? (toArg.name as DataClass) : 'internal';
  return DATA_CLASSES.indexOf(r.data) > DATA_CLASSES.indexOf(to) ? { ...r, data: to } : r;
}

/**
 * §9.4: `known(context.X)` (bool) and `age(context.X)` (duration) read a signal's state, so their
 * argument must name a context signal. They tell when a sensor last reported, not what it said:
 * the result carries no data class of the signal's.
 */
function signalStateCall(c: ExprChecking, name: 'known' | 'age', args: readonly Expr[], range: Range): ExprResult {
  const a = args[0];
  const ty = name === 'known' ? T.bool : T.duration;
  if (args.length !== 1 || !a || a.kind !== 'MemberExpr' || a.object.kind !== 'NameExpr' || a.object.name !== 'context') {
    for (const x of args) c.check(x, true);
    c.error('E0201', `${name}() takes one context signal: ${name}(context.X)`, range);
    return { ty, data: NO_DATA, ir: NO_IR };
  }
  const r = c.check(a, true);
  return { ty, data: NO_DATA, ir: { op: 'call', fn: name, args: [r.ir] } };
}
