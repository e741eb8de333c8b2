/**
 * A `simulate` block (LANGUAGE.md §4) against its capability: every output value is a value of
 * its field's type — a range's bounds too (`word_count: 1..800` for an `int`; `1s..3s` there is
 * E0203). That `fail` is from 0 % to 100 % is checked with the other bounds (check/bounds.ts).
 */
import type { Diagnostic, Expr, Range, SimulateDecl } from '../../language/index.js';
import { diagnostic } from '../../language/index.js';
import type { ExprIR, SimulateIR } from '../ir/types.js';
import { assignable, formatTy, isLoose, mismatchCode, unitOf, type Ty } from '../types/ty.js';
import type { LoadedModule } from '../loaded-module.js';
import type { ModelBuilder } from '../model.js';
import type { DeclEntry, Scopes } from '../scope.js';
import type { CapabilityInfo } from './capability.js';
import { checkExpr, type ExprEnv, type RootInfo } from './expr.js';
import { mismatchDiagnostic } from './mismatch.js';

export function checkSimulate(s: SimulateDecl, info: CapabilityInfo, env: ExprEnv): SimulateIR {
  const { file, diags } = env;
  const capName = info.entry.node.name.name;
  let output: Record<string, ExprIR> | null = null;
  if (s.output) {
    output = {};
    const outTy = info.output.k === 'record' ? info.output : undefined;
    for (const f of s.output.fields) {
      const field = outTy?.fields.get(f.key.name);
      if (outTy && !field) diags.push(diagnostic('E0201', `capability ${capName} has no output field "${f.key.name}"`, file, f.key.range));
      const r = checkExpr(f.value, env);
      output[f.key.name] = r.ir;
      reversedRange(r.ir, f.value.range, env);
      if (field) checkValue(f.value, r.ty, field.ty, `simulated output "${f.key.name}" of capability ${capName}`, f.key.name, env);
    }
  }
  const span = (x: SimulateDecl['latency'] | SimulateDecl['cost']): { min: number; max: number } | null => {
    if (!x) return null;
    const v = checkExpr(x, env).ir;
    reversedRange(v, x.range, env);
    const num = (e: typeof v): number => (e.op === 'lit' && typeof e.value === 'number' ? e.value : 0);
    if (v.op === 'range') return { min: num(v.from), max: num(v.to) };
    return { min: num(v), max: num(v) };
  };
  return {
    capability: info.name,
    output,
    // Out of 0–100 % is E0201 (check/bounds.ts); the IR of a program with errors is never run.
    fail: s.fail ? Math.min(1, Math.max(0, s.fail.value / 100)) : null,
    latency_ms: span(s.latency),
    cost: span(s.cost),
  };
}

/**
 * `800..1`, `5s..1s`: a range whose lower bound is above its upper one draws nothing sensible
 * (verify swapped some and clamped others) — almost surely a slip: E0201.
 */
function reversedRange(ir: ExprIR, at: Range, env: ExprEnv): void {
  if (ir.op !== 'range' || ir.from.op !== 'lit' || ir.to.op !== 'lit') return;
  const [lo, hi] = [ir.from.value, ir.to.value];
  if (typeof lo === 'number' && typeof hi === 'number' && lo > hi)
    env.diags.push(diagnostic('E0201', `the range's lower bound is above its upper bound: write the smaller first`, env.file, at));
}

/** A value, or each bound of a range (whose unit mismatch between bounds is reported by checkExpr). */
function checkValue(value: Expr, ty: Ty, expected: Ty, what: string, name: string, env: ExprEnv): void {
  let e = value;
  while (e.kind === 'ParenExpr') e = e.inner;
  if (e.kind !== 'RangeExpr') {
    if (!assignable(ty, expected)) env.diags.push(mismatchDiagnostic(value, ty, expected, what, name, env.file));
    return;
  }
  // The bounds' own types (the range's is its lower bound's): checked again, quietly.
  const quiet: ExprEnv = { ...env, diags: [], typesOnly: true };
  for (const bound of [e.from, e.to]) {
    const b = checkExpr(bound, quiet).ty;
    if (isLoose(b)) continue;
    const quantity = unitOf(b) !== undefined;
    if (!quantity || !assignable(b, expected)) {
      const code = quantity ? mismatchCode(b, expected) : 'E0201';
      env.diags.push(diagnostic(code, `${what} expects ${formatTy(expected)}, got a range of ${formatTy(b)}`, env.file, value.range));
      return;
    }
  }
}

/** Every `simulate` block of the program, by the IR name of its capability. */
export function simulationsOf(
  modules: readonly LoadedModule[],
  scopes: Scopes,
  model: ModelBuilder,
  diags: Diagnostic[],
  capability: (e: DeclEntry<'capability'>) => CapabilityInfo,
): Map<string, SimulateIR> {
  const out = new Map<string, SimulateIR>();
  const firstAt = new Map<string, { file: string; range: Range }>();
  for (const m of modules) {
    for (const d of m.ast.declarations) {
      if (d.kind !== 'SimulateDecl') continue;
      const s = d as SimulateDecl;
      const ce = scopes.resolve(m, s.capability, 'capability');
      if (!ce) continue;
      const info = capability(ce);
      const sim = checkSimulate(s, info, { file: m.file, model, diags, roots: new Map<string, RootInfo>(), allowRange: true });
      // A second model of one capability in one file would silently replace the first: E0102, the
      // first holds. Across files (a scope each) nothing changes: the module read last holds.
      const prior = firstAt.get(info.name);
      if (prior && prior.file === m.file) {
        diags.push(diagnostic('E0102', `duplicate simulate block for capability "${s.capability.parts.map((x) => x.name).join('.')}" (first on line ${prior.range.start.line})`, m.file, s.capability.range, {
          related: [{ message: 'first simulated here', file: prior.file, range: prior.range }],
        }));
        continue;
      }
      firstAt.set(info.name, { file: m.file, range: s.capability.range });
      out.set(info.name, sim);
    }
  }
  return out;
}
