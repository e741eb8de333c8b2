/**
 * What the checks of a test's parts (its mocks, its expectations) see of the test being checked:
 * its declaration and file, where diagnostics go, and how it resolves names against its plan.
 * `TestChecker` (check-tests.ts) is the one implementation; the parts depend on this, not on it.
 */
import type { Diagnostic, QualifiedName, Range, TestDecl } from '../../language/index.js';
import type { CapabilityInfo } from '../check/capability.js';
import type { ExprEnv, RootInfo } from '../check/expr.js';
import type { ModelBuilder } from '../model.js';
import type { PlanFacts } from './plan-facts.js';

export interface TestUnderCheck {
  readonly test: TestDecl;
  readonly file: string;
  readonly diags: Diagnostic[];
  readonly cx: { readonly model: ModelBuilder; readonly contextRoot: RootInfo };
  /** An environment for values that read nothing but `roots`: literals and built-ins. */
  valueEnv(roots?: ReadonlyMap<string, RootInfo>): ExprEnv;
  /** Reports a step or capability the plan does not have (E0901, or W0907 in a captured test). */
  missing(name: string, message: string, candidates: Iterable<string>, range: Range, what?: 'step' | 'capability'): void;
  /** A capability as the test's file sees it, among those the plan can call; reported when not. */
  capability(name: QualifiedName, facts: PlanFacts): CapabilityInfo | undefined;
}

/** A qualified name as written: `a.b.c`. */
export function partsOf(q: QualifiedName): string {
  return q.parts.map((p) => p.name).join('.');
}
