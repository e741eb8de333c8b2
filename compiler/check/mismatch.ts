/**
 * A value that is not of its expected type, reported where it goes wrong: inside a record or
 * list literal, at the innermost field or item that does not fit (`{ t: "zzz" }` where
 * `{ t: "x" | "y" }` is expected is reported at `"zzz"`, naming `q.t`), else at the whole value.
 */
import type { Expr, Range } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';
import { assignable, formatTy, mismatchCode, stripOptional, type Ty } from '../types/ty.js';

interface Leaf {
  readonly e: Expr;
  readonly ty: Ty;
  readonly expected: Ty;
  /** The way from the whole value to the leaf (`.t`, `[1].tier`); empty at the whole value. */
  readonly path: string;
}

/** The innermost part of literal `e` (of type `ty`) that does not fit `expected`. */
export function mismatchLeaf(e: Expr, ty: Ty, expected: Ty): Leaf {
  let leaf: Leaf = { e, ty, expected, path: '' };
  for (let depth = 0; depth < 64; depth++) {
    const next = innerMismatch(leaf);
    if (!next) break;
    leaf = next;
  }
  return leaf;
}

function innerMismatch({ e: outer, ty, expected, path }: Leaf): Leaf | undefined {
  let e = outer;
  while (e.kind === 'ParenExpr') e = e.inner;
  const want = stripOptional(expected);
  if (e.kind === 'RecordLit' && ty.k === 'record' && (want.k === 'record' || want.k === 'map')) {
    for (const f of e.fields) {
      const got = ty.fields.get(f.key.name)?.ty;
      const exp = want.k === 'map' ? want.value : want.fields.get(f.key.name)?.ty;
      if (got && exp && !assignable(got, exp)) return { e: f.value, ty: got, expected: exp, path: `${path}.${f.key.name}` };
    }
    return undefined;
  }
  if (e.kind === 'ListLit' && ty.k === 'list' && want.k === 'list') {
    // A list of no one type (`[1, "a"]`) is reported whole: its message lists the item types.
    const items = ty.items;
    if (!items) return undefined;
    for (let i = 0; i < e.items.length; i++) {
      const got = items[i];
      if (got && !assignable(got, want.elem)) return { e: e.items[i]!, ty: got, expected: want.elem, path: `${path}[${i}]` };
    }
  }
  return undefined;
}

/**
 * The diagnostic for `e` (of type `ty`) where `expected` is expected: `${what} expects T, got U`,
 * with ` at NAME.path` when the mismatch is inside a literal (`name` heads the path).
 */
export function mismatchDiagnostic(e: Expr, ty: Ty, expected: Ty, what: string, name: string, file: string): Diagnostic {
  const leaf = mismatchLeaf(e, ty, expected);
  const at = leaf.path ? ` at ${name}${leaf.path}` : '';
  const got = leaf.path && leaf.ty.k === 'string' && leaf.ty.literal !== undefined ? JSON.stringify(leaf.ty.literal) : formatTy(leaf.ty);
  return diagnostic(mismatchCode(leaf.ty, leaf.expected), `${what} expects ${formatTy(leaf.expected)}${at}, got ${got}`, file, leaf.e.range);
}

/** E0201 (E0203 for a number where a duration belongs) when a condition or value is not of the type its place expects. */
export function expectTy(actual: Ty, expected: Ty, range: Range, what: string, diags: Diagnostic[], file: string): void {
  if (assignable(actual, expected)) return;
  const code = expected.k === 'duration' && (actual.k === 'number' || actual.k === 'int' || actual.k === 'money' || actual.k === 'percent') ? 'E0203' : 'E0201';
  diags.push(diagnostic(code, `${what} expects ${formatTy(expected)}, got ${formatTy(actual)}`, file, range));
}
