/**
 * The order plans are checked in: a plan after the plans it runs (`run x`), so that a `run`
 * step's output has the type of the sub-plan's `output` (declare-steps.ts). Plans in a cycle of
 * `run`s keep their declaration order; the one reached first sees the other's fields as `any`.
 */
import type { BlockItem, InvariantDecl, PlanDecl, QualifiedName } from '../../language/index.js';
import type { LoadedModule } from '../loaded-module.js';
import type { DeclEntry, Scopes } from '../scope.js';

/** The plans a plan runs as sub-plans (`run x`), as written, at any depth of blocks. */
export function runTargets(plan: PlanDecl): QualifiedName[] {
  const out: QualifiedName[] = [];
  const visit = (items: readonly (BlockItem | InvariantDecl)[]): void => {
    for (const it of items) {
      if (it.kind === 'ForEachDecl' || it.kind === 'RaceDecl' || it.kind === 'RepeatDecl') visit(it.body);
      else if (it.kind === 'StepDecl' && it.action.kind === 'RunAction') out.push(it.action.plan);
    }
  };
  visit(plan.body);
  return out;
}

/** `plans` (in declaration order) with every plan after the plans of `plans` it runs. */
export function subplansFirst(plans: readonly DeclEntry<'plan'>[], scopes: Scopes): DeclEntry<'plan'>[] {
  const among = new Set(plans);
  const out: DeclEntry<'plan'>[] = [];
  const state = new Map<DeclEntry<'plan'>, 'visiting' | 'done'>();
  // Iterative depth-first walk: a chain of thousands of sub-plans must not overflow the stack.
  for (const root of plans) {
    if (state.has(root)) continue;
    const stack: { e: DeclEntry<'plan'>; next: readonly DeclEntry<'plan'>[]; i: number }[] = [{ e: root, next: runsOf(root, scopes, among), i: 0 }];
    state.set(root, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const child = top.next[top.i++];
      if (child === undefined) {
        stack.pop();
        state.set(top.e, 'done');
        out.push(top.e);
      } else if (!state.has(child)) {
        state.set(child, 'visiting');
        stack.push({ e: child, next: runsOf(child, scopes, among), i: 0 });
      }
    }
  }
  return out;
}

function runsOf(e: DeclEntry<'plan'>, scopes: Scopes, among: ReadonlySet<DeclEntry<'plan'>>): DeclEntry<'plan'>[] {
  const mod: LoadedModule = e.module;
  const out: DeclEntry<'plan'>[] = [];
  for (const target of runTargets(e.node)) {
    const sub = scopes.lookup(mod, 'plan', target.parts.map((p) => p.name));
    if (sub && sub !== e && among.has(sub)) out.push(sub);
  }
  return out;
}
