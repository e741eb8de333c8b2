/**
 * A call's named arguments against the parameters of its capability or plan input: unknown,
 * repeated and missing arguments (E0202, with fixes), values of the wrong type (E0201), record
 * literals with fields their type lacks, defaults filled in.
 */
import type { CapabilityCall, DataClass, Expr, Range, RunAction } from '../../language/index.js';
import { diagnostic, type Diagnostic, type Fix } from '../../language/index.js';
import type { ExprIR } from '../ir/types.js';
import type { DeclEntry } from '../scope.js';
import { closest } from '../suggest.js';
import { assignable, maxClass, stripOptional, type FieldTy, type Ty } from '../types/ty.js';
import { checkExpr, type ExprEnv } from './expr.js';
import { mismatchDiagnostic } from './mismatch.js';

/** The arguments of a call checked for diagnostics only (read-only: shared). */
const NO_ARGS: Record<string, ExprIR> = Object.freeze({});

/** Placeholder source text for a missing argument of type `t` (a quick fix inserts it). */
export function placeholderFor(t: Ty): string {
  switch (t.k) {
    case 'string': case 'secret': return '""';
    case 'int': case 'number': return '0';
    case 'bool': return 'false';
    case 'duration': return '1s';
    case 'money': return `0${t.currency ?? 'usd'}`;
    case 'percent': return '0%';
    case 'enum': return JSON.stringify(t.values[0] ?? '');
    case 'list': return '[]';
    case 'record': case 'map': return '{}';
    case 'optional': return 'null';
    default: return 'null';
  }
}

/**
 * Checks named arguments against a record of parameters: E0202 for an unknown or repeated
 * argument (did-you-mean fix) and for each missing required one (fix inserting it), E0201 for a
 * value of the wrong type. Defaults fill omitted parameters. A call that lost an argument to a
 * syntax error (`argsLost`) has nothing reported missing: that error already says what is wrong.
 * `callee`: the capability or plan called (its name is spelt out only in a diagnostic).
 */
export function checkArgs(
  call: Pick<CapabilityCall | RunAction, 'args' | 'range' | 'argsLost'>,
  params: Ty & { k: 'record' },
  defaults: ReadonlyMap<string, ExprIR>,
  env: ExprEnv,
  callee: DeclEntry<'capability' | 'plan'>,
  nameRange: Range,
): { args: Record<string, ExprIR>; data: DataClass } {
  const { diags, file, model } = env;
  const { args, range: callRange } = call;
  // Diagnostics only: the arguments' IR (all placeholders) is never read, nor is this record.
  const out: Record<string, ExprIR> | undefined = env.typesOnly ? undefined : {};
  let data: DataClass = 'public';
  const given = args.length > 16 ? new Set<string>() : undefined;
  let paramList: string | undefined;
  for (let ai = 0; ai < args.length; ai++) {
    const a = args[ai]!;
    const r = checkExpr(a.value, env);
    const name = a.name.name;
    const p = params.fields.get(name);
    if (!p) {
      const best = closest(name, [...params.fields.keys()].filter((k) => !isGiven(args, ai, k, given)));
      const fixes: Fix[] = best ? [{ title: `Change to "${best}"`, edits: [{ file, range: a.name.range, newText: best }] }] : [];
      // Listed once per call: a call of many unknown arguments would otherwise join it each time.
      paramList ??= [...params.fields.keys()].join(', ') || 'none';
      diags.push(diagnostic('E0202', `unknown argument "${name}" for ${calleeWords(callee)}${best ? `; did you mean "${best}"?` : ''} (parameters: ${paramList})`, file, a.name.range, fixes.length ? { fixes } : {}));
      continue;
    }
    if (isGiven(args, ai, name, given)) {
      diags.push(diagnostic('E0202', `argument "${name}" is given twice`, file, a.name.range));
      continue;
    }
    given?.add(name);
    if (p.decl?.symbol !== undefined) model.refer(file, a.name.range, p.decl.symbol);
    if (!assignable(r.ty, p.ty)) {
      diags.push(mismatchDiagnostic(a.value, r.ty, p.ty, `argument "${name}" of ${calleeWords(callee)}`, name, file));
    } else excessFields(a.value, p.ty, file, diags);
    data = maxClass(data, r.data);
    if (out) out[name] = r.ir;
  }
  // (created at the first missing one: most calls miss none)
  let missing: FieldTy[] | undefined;
  const req = requiredOf(params);
  for (let i = 0; i < req.length; i++) if (!isGiven(args, args.length, req[i]!.name, given)) (missing ??= []).push(req[i]!);
  if (missing && !call.argsLost) {
    // Insert right after the last argument (a trailing comma stays valid), or inside `()`.
    const last = args[args.length - 1];
    const end = callRange.end;
    const at = last ? last.range.end : { line: end.line, column: Math.max(1, end.column - 1), offset: Math.max(0, end.offset - 1) };
    const text = missing.map((f) => `${f.name}: ${placeholderFor(f.ty)}`).join(', ');
    const sep = args.length ? ', ' : '';
    diags.push(
      diagnostic('E0202', `missing required argument${missing.length > 1 ? 's' : ''} ${missing.map((f) => `"${f.name}"`).join(', ')} for ${calleeWords(callee)}`, file, nameRange, {
        fixes: [{ title: `Add ${missing.map((f) => f.name).join(', ')}`, edits: [{ file, range: { start: at, end: at }, newText: sep + text }] }],
      }),
    );
  }
  if (out && defaults.size) {
    const entries = entriesOf(defaults);
    for (let i = 0; i < entries.length; i++) if (!isGiven(args, args.length, entries[i]![0], given)) out[entries[i]![0]] = entries[i]![1];
  }
  return { args: out ?? NO_ARGS, data };
}

/** `capability fetch`, `plan triage`: the callee in a diagnostic's words. */
function calleeWords(callee: DeclEntry<'capability' | 'plan'>): string {
  return `${callee.kind} ${callee.node.name.name}`;
}

/**
 * Whether parameter `name` was given by one of the first `upTo` arguments. Calls have a handful
 * of arguments, where a scan of them beats a collection per call (a call of thousands, a generated
 * one, keeps `given`, or its check is quadratic). The scan may meet an unknown or repeated
 * argument: only parameter names are asked, and an argument naming one is given or repeats it.
 */
function isGiven(args: readonly { readonly name: { readonly name: string } }[], upTo: number, name: string, given: ReadonlySet<string> | undefined): boolean {
  if (given) return given.has(name);
  for (let j = 0; j < upTo; j++) if (args[j]!.name.name === name) return true;
  return false;
}

/**
 * A record written in a call carries only fields of its parameter's record type: the handler's
 * input schema is closed, and a misspelt optional field would otherwise vanish without a word.
 * A value read from elsewhere (a step's output) may carry more; only literals are held to it.
 */
function excessFields(e: Expr, ty: Ty, file: string, diags: Diagnostic[]): void {
  const t = stripOptional(ty);
  if (e.kind === 'ParenExpr') return excessFields(e.inner, ty, file, diags);
  if (e.kind === 'ListLit' && t.k === 'list') {
    for (const item of e.items) excessFields(item, t.elem, file, diags);
    return;
  }
  if (e.kind !== 'RecordLit' || t.k !== 'record' || t.open) return;
  for (const f of e.fields) {
    const ft = t.fields.get(f.key.name);
    if (ft) {
      excessFields(f.value, ft.ty, file, diags);
      continue;
    }
    const best = closest(f.key.name, [...t.fields.keys()].filter((k) => !e.fields.some((g) => g.key.name === k)));
    diags.push(diagnostic('E0201', `unknown field "${f.key.name}"${best ? `; did you mean "${best}"?` : ''} (fields: ${[...t.fields.keys()].join(', ')})`, file, f.key.range));
  }
}

// Per parameter record (one per capability or plan input, shared by every call of it): its
// required fields and defaults as arrays, so a call does not iterate maps.
const required = new WeakMap<Ty, readonly FieldTy[]>();
function requiredOf(params: Ty & { k: 'record' }): readonly FieldTy[] {
  let r = required.get(params);
  if (!r) {
    r = [...params.fields.values()].filter((f) => f.required);
    required.set(params, r);
  }
  return r;
}

const defaultEntries = new WeakMap<ReadonlyMap<string, ExprIR>, readonly (readonly [string, ExprIR])[]>();
function entriesOf(defaults: ReadonlyMap<string, ExprIR>): readonly (readonly [string, ExprIR])[] {
  let e = defaultEntries.get(defaults);
  if (!e) {
    e = [...defaults];
    defaultEntries.set(defaults, e);
  }
  return e;
}
