/**
 * LANGUAGE.md §9.4: what the runtime needs of each context signal — how long a set value stays
 * fresh (`max_age`), the expression of a derived signal and how long its `true` is held (`hold`).
 * A derived expression is checked against the context's type (it reads other signals only); a
 * cycle among derived signals is E0905 with the cycle named in order.
 */
import type { ContextDecl, FieldDecl, Range } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';
import type { ContextSignalIR, ExprIR } from '../ir/types.js';
import { contextReads } from '../ir/nodes.js';
import type { LoadedModule } from '../loaded-module.js';
import type { ModelBuilder } from '../model.js';
import { assignable, formatTy, isLoose, mismatchCode, stripOptional, type Ty } from '../types/ty.js';
import { checkExpr, durationMs, type RootInfo } from './expr.js';

interface Derived {
  readonly field: FieldDecl;
  readonly file: string;
  readonly reads: readonly string[];
}

export function contextSignalsOf(
  modules: readonly LoadedModule[],
  root: RootInfo,
  model: ModelBuilder,
  diags: Diagnostic[],
): { readonly [name: string]: ContextSignalIR } {
  const out: Record<string, ContextSignalIR> = {};
  const derived = new Map<string, Derived>();
  const fields = root.ty.k === 'record' ? root.ty.fields : new Map<string, { readonly ty: Ty }>();
  for (const m of modules) {
    for (const d of m.ast.declarations) {
      if (d.kind !== 'ContextDecl') continue;
      for (const f of (d as ContextDecl).fields) {
        if (out[f.name.name]) continue; // a duplicate: E0102 already
        let expr: ExprIR | null = null;
        if (f.default) {
          const checked = checkExpr(f.default, { file: m.file, model, diags, roots: new Map([['context', root]]) });
          const want = fields.get(f.name.name)?.ty;
          if (want && !assignable(checked.ty, want))
            diags.push(diagnostic(mismatchCode(checked.ty, want), `derived signal "${f.name.name}" is ${formatTy(checked.ty)}, but it is declared ${formatTy(want)}`, m.file, f.default.range));
          expr = checked.ir;
          derived.set(f.name.name, { field: f, file: m.file, reads: contextReads(expr) });
          // `hold` keeps a `true` after the expression turns false: on any other value it would do nothing.
          const held = want && stripOptional(want);
          if (f.hold && held && !isLoose(held) && held.k !== 'bool')
            diags.push(diagnostic('E0201', `'hold' keeps a derived signal's true for a while, but "${f.name.name}" is ${formatTy(want)}, not bool`, m.file, f.hold.range));
        }
        out[f.name.name] = {
          max_age_ms: f.maxAge ? durationMs(f.maxAge.value, f.maxAge.unit) : null,
          derived: expr,
          hold_ms: f.hold ? durationMs(f.hold.value, f.hold.unit) : null,
        };
      }
    }
  }
  reportCycles(derived, diags);
  return withStaleShares(modules, out, (file, id) => referSignal(root, model, file, id), diags);
}

/**
 * A derived signal is computed, never set: E0905 at the name where a source's topic or a test's
 * `context` / `signal` line sets one (`by`: `a source`, `a test`). Null for any other signal.
 */
export function derivedSetDiagnostic(signals: { readonly [name: string]: ContextSignalIR }, name: string, by: string, file: string, range: Range): Diagnostic | null {
  return signals[name]?.derived ? diagnostic('E0905', `"${name}" is a derived signal: it is computed, not set by ${by}`, file, range) : null;
}

/**
 * `simulate context { motion stale 20% }`: each named signal's share of verify's runs in which
 * it goes stale. The signal must be declared (E0101 at its name) and not derived (E0905); out of
 * 0–100 % is E0201 (check/bounds.ts); a signal named in two blocks keeps the first share.
 */
function withStaleShares(
  modules: readonly LoadedModule[],
  signals: Record<string, ContextSignalIR>,
  refer: (file: string, id: { readonly name: string; readonly range: Range }) => void,
  diags: Diagnostic[],
): Record<string, ContextSignalIR> {
  for (const m of modules)
    for (const d of m.ast.declarations) {
      if (d.kind !== 'SimulateContextDecl') continue;
      for (const s of d.signals) {
        const name = s.signal.name;
        const signal = signals[name];
        refer(m.file, s.signal);
        if (!signal) {
          const known = Object.keys(signals);
          diags.push(diagnostic('E0101', `simulate context: unknown context signal "${name}"${known.length > 0 ? ` (declared: ${known.join(', ')})` : ' (no context block declares any)'}`, m.file, s.signal.range));
          continue;
        }
        if (signal.derived) {
          // It goes stale when what it reads does: verify computes it, so a share of its own would do nothing.
          diags.push(diagnostic('E0905', `simulate context: "${name}" is a derived signal: it is unknown when the signals it reads are; simulate those`, m.file, s.signal.range));
          continue;
        }
        if (signal.stale === undefined) signals[name] = { ...signal, stale: Math.min(1, Math.max(0, s.share.value / 100)) };
      }
    }
  return signals;
}

/**
 * A signal named outside an expression (a source's `sets X`, `simulate context { X stale … }`) is
 * a use of its declaration: the editor's references and rename reach it.
 */
export function referSignal(root: RootInfo, model: ModelBuilder, file: string, id: { readonly name: string; readonly range: Range }): void {
  const symbol = root.ty.k === 'record' ? root.ty.fields.get(id.name)?.decl?.symbol : undefined;
  if (symbol !== undefined) model.refer(file, id.range, symbol);
}

/** Each cycle once, at the first signal of it in declaration order: `a -> b -> a`. */
function reportCycles(derived: ReadonlyMap<string, Derived>, diags: Diagnostic[]): void {
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (name: string): void => {
    if (done.has(name)) return;
    const d = derived.get(name);
    if (!d) return;
    stack.push(name);
    onStack.add(name);
    for (const next of d.reads) {
      if (onStack.has(next)) {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        const at = derived.get(next)!;
        diags.push(diagnostic('E0905', `derived signals form a cycle: ${cycle.join(' → ')}`, at.file, at.field.name.range));
      } else visit(next);
    }
    stack.pop();
    onStack.delete(name);
    done.add(name);
  };
  for (const name of derived.keys()) visit(name);
}
