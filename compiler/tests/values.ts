/**
 * A test's values checked against the types they stand for (LANGUAGE.md §9.2): a mock's answer
 * against its capability's output, the input against the plan's, the context against the
 * context's. Unlike an argument, such a value is the whole thing the runtime will see: a field the
 * type does not have is E0201 too, at the field, as is a required one left out.
 */
import type { Expr, RecordLit } from '../../language/index.js';
import { diagnostic } from '../../language/index.js';
import { checkExpr, type ExprEnv, type ExprResult } from '../check/expr.js';
import { mismatchDiagnostic } from '../check/mismatch.js';
import { closest } from '../suggest.js';
import { assignable, formatTy, stripOptional, type Ty } from '../types/ty.js';

export interface ValueCheck {
  /** What the value is, for messages: `the answer of mock charge`. */
  readonly what: string;
  /** Leave out the required-field check (a test's `context` sets only some signals). */
  readonly partial?: boolean;
}

/** Checks `e` against `expected` (E0201 where it goes wrong) and returns what it lowered to. */
export function checkValue(e: Expr, expected: Ty, env: ExprEnv, how: ValueCheck): ExprResult {
  const r = checkExpr(e, env);
  const before = env.diags.length;
  shape(e, expected, env, how, '');
  // A field that is not there or is missing says more than the whole record's mismatch. A partial
  // record literal was checked field by field: the whole of it lacks fields on purpose.
  if (how.partial && unwrapped(e).kind === 'RecordLit' && stripOptional(expected).k === 'record') return r;
  if (env.diags.length === before && !assignable(r.ty, expected)) env.diags.push(mismatchDiagnostic(e, r.ty, expected, how.what, 'value', env.file));
  return r;
}

function unwrapped(e: Expr): Expr {
  let x = e;
  while (x.kind === 'ParenExpr') x = x.inner;
  return x;
}

/** Unknown and missing fields of record literals, at any depth the literal and the type share. */
function shape(e: Expr, expected: Ty, env: ExprEnv, how: ValueCheck, path: string): void {
  const x = unwrapped(e);
  const want = stripOptional(expected);
  if (x.kind === 'RecordLit' && want.k === 'record') return recordShape(x, want, env, how, path);
  if (x.kind === 'ListLit' && want.k === 'list') x.items.forEach((item, i) => shape(item, want.elem, env, how, `${path}[${i}]`));
}

function recordShape(x: RecordLit, want: Ty & { k: 'record' }, env: ExprEnv, how: ValueCheck, path: string): void {
  const { file, diags } = env;
  const given = new Set<string>();
  for (const f of x.fields) {
    given.add(f.key.name);
    const field = want.fields.get(f.key.name);
    if (field) {
      // The key names the field it sets: the editor's references and rename reach it.
      if (field.decl?.symbol !== undefined) env.model.refer(file, f.key.range, field.decl.symbol);
      const before = diags.length;
      shape(f.value, field.ty, env, how, `${path}.${f.key.name}`);
      // A field of the wrong type is reported at it, beside the record's other problems.
      const ty = diags.length === before ? checkExpr(f.value, { ...env, diags: [] }).ty : null;
      if (ty && !assignable(ty, field.ty)) diags.push(mismatchDiagnostic(f.value, ty, field.ty, `${how.what} at ${`${path}.${f.key.name}`.slice(1)}`, 'value', file));
      continue;
    }
    if (want.open) continue;
    const best = closest(f.key.name, [...want.fields.keys()].filter((k) => !given.has(k)));
    diags.push(
      diagnostic('E0201', `${how.what}${path ? ` at ${path.slice(1)}` : ''} has no field "${f.key.name}" (${formatTy(want)})${best ? `; did you mean "${best}"?` : ''}`, file, f.key.range,
        best ? { fixes: [{ title: `Change to "${best}"`, edits: [{ file, range: f.key.range, newText: best }] }] } : {}),
    );
  }
  if (how.partial && path === '') return;
  const missing = [...want.fields.values()].filter((f) => f.required && !given.has(f.name)).map((f) => f.name);
  if (missing.length > 0)
    diags.push(diagnostic('E0201', `${how.what}${path ? ` at ${path.slice(1)}` : ''} misses ${missing.length === 1 ? 'the required field' : 'the required fields'} ${missing.map((m) => `"${m}"`).join(', ')}`, file, x.range));
}
