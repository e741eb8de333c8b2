/**
 * Where a plan's invariants are declared, so that what reports on them — `orch verify`'s
 * counterexamples, `orch test`'s failures — points at the source (the IR carries no positions:
 * its hash must not change when a file is reformatted).
 */
import type { InvariantDecl, Module, PlanDecl, Range } from '../language/index.js';

export type InvariantLocator = (invariantName: string) => { file: string; range: Range } | undefined;

/**
 * Finds where an invariant is declared: inside the plan first (plan-scoped ones shadow), then at
 * top level. The range is the invariant's name, where an editor puts the diagnostic.
 */
export function invariantLocator(module: Module, planName: string): InvariantLocator {
  const plan = module.declarations.find((d): d is PlanDecl => d.kind === 'PlanDecl' && d.name.name === planName);
  const candidates: InvariantDecl[] = [
    ...(plan?.body.filter((b): b is InvariantDecl => b.kind === 'InvariantDecl') ?? []),
    ...module.declarations.filter((d): d is InvariantDecl => d.kind === 'InvariantDecl'),
  ];
  return (name) => {
    const decl = candidates.find((d) => invariantName(d) === name);
    return decl ? { file: module.file, range: decl.name.range } : undefined;
  };
}

function invariantName(decl: InvariantDecl): string {
  const n = decl.name;
  return n.kind === 'Ident' ? n.name : n.parts.filter((p): p is string => typeof p === 'string').join('');
}
