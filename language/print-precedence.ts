/**
 * Operator precedence as the printer needs it: where parentheses must be added so that
 * re-parsing the output gives back the same tree, and the links of left-nested chains it prints
 * in a loop.
 */
import type { BinaryExpr, BinaryOp, Expr } from './ast.js';

export const enum Prec {
  Range = 0,
  Implies = 1,
  Or = 2,
  And = 3,
  Not = 4,
  Compare = 5,
  Coalesce = 6,
  Additive = 7,
  Multiplicative = 8,
  Negate = 9,
  Postfix = 10,
  Primary = 11,
}

const BINARY_PREC: Record<BinaryOp, Prec> = {
  implies: Prec.Implies,
  or: Prec.Or,
  and: Prec.And,
  '==': Prec.Compare,
  '!=': Prec.Compare,
  '<': Prec.Compare,
  '<=': Prec.Compare,
  '>': Prec.Compare,
  '>=': Prec.Compare,
  in: Prec.Compare,
  '??': Prec.Coalesce,
  '+': Prec.Additive,
  '-': Prec.Additive,
  '*': Prec.Multiplicative,
  '/': Prec.Multiplicative,
  '%': Prec.Multiplicative,
};

export function precOf(e: Expr): Prec {
  switch (e.kind) {
    case 'BinaryExpr':
      return BINARY_PREC[e.op];
    case 'UnaryExpr':
      return e.op === 'not' ? Prec.Not : Prec.Negate;
    case 'RangeExpr':
      return Prec.Range;
    case 'MemberExpr':
    case 'IndexExpr':
    case 'CallExpr':
      return Prec.Postfix;
    case 'NumberLit':
      return e.value < 0 ? Prec.Negate : Prec.Primary;
    default:
      return Prec.Primary;
  }
}

export type ChainLink = Extract<Expr, { kind: 'BinaryExpr' | 'MemberExpr' | 'IndexExpr' }>;

/** A link of a left-nested chain: its left operand or object continues the chain. */
export function isChainLink(e: Expr): e is ChainLink {
  return e.kind === 'BinaryExpr' || e.kind === 'MemberExpr' || e.kind === 'IndexExpr';
}

export function chainBase(e: ChainLink): Expr {
  return e.kind === 'BinaryExpr' ? e.left : e.object;
}

/** Minimum precedence of the left operand (or object) of a chain link. */
export function leftPrec(e: ChainLink): Prec {
  return e.kind === 'BinaryExpr' ? operandPrecs(e)[0] : Prec.Postfix;
}

/** Minimum precedence of each operand of a binary operator for the tree to re-parse as written. */
export function operandPrecs(e: BinaryExpr): [Prec, Prec] {
  const p = BINARY_PREC[e.op];
  if (p === Prec.Implies) return [p + 1, p]; // right-associative
  if (p === Prec.Compare) return [p + 1, p + 1]; // comparisons do not chain
  return [p, p + 1];
}

/**
 * The tree the parser builds from `print(e)`: `e` with a `ParenExpr` wherever the printer has to
 * add parentheses for precedence. `parse(print(m))` equals `m` when `m`'s expressions are fixed
 * points of this function (as every parsed tree is).
 */
export function parenthesize(e: Expr): Expr {
  const at = (child: Expr, min: Prec): Expr => {
    const inner = parenthesize(child);
    return precOf(inner) < min ? { kind: 'ParenExpr', inner, range: inner.range } : inner;
  };
  switch (e.kind) {
    case 'BinaryExpr': {
      const [l, r] = operandPrecs(e);
      return { ...e, left: at(e.left, l), right: at(e.right, r) };
    }
    case 'UnaryExpr':
      return { ...e, operand: at(e.operand, e.op === 'not' ? Prec.Not : Prec.Negate) };
    case 'MemberExpr':
      return { ...e, object: at(e.object, Prec.Postfix) };
    case 'IndexExpr':
      return { ...e, object: at(e.object, Prec.Postfix), index: at(e.index, Prec.Range) };
    case 'CallExpr':
      return {
        ...e,
        args: e.args.map((a) => at(a, Prec.Range)),
        ...(e.named ? { named: e.named.map((a) => ({ ...a, value: at(a.value, Prec.Range) })) } : {}),
      };
    case 'ListLit':
      return { ...e, items: e.items.map((a) => at(a, Prec.Range)) };
    case 'RecordLit':
      return { ...e, fields: e.fields.map((f) => ({ ...f, value: at(f.value, Prec.Range) })) };
    case 'StringLit':
      return { ...e, parts: e.parts.map((p) => (typeof p === 'string' ? p : at(p, Prec.Range))) };
    case 'RangeExpr':
      return { ...e, from: at(e.from, Prec.Implies), to: at(e.to, Prec.Implies) };
    case 'ParenExpr':
      return { ...e, inner: at(e.inner, Prec.Range) };
    default:
      return e;
  }
}
